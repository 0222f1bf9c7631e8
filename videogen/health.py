"""A health check for a supervisor: `python -m videogen.health` (or `make health`).

It opens the same history the app uses (DATABASE_URL, else SQLite in
PLAYGROUND_DATA_DIR), then prints one JSON object: the database, its schema
version, how many generations are pending, and each poller's last sweep.
Exit status 0 means healthy: the database answers, and if anything is pending,
some poller swept within STALE_SECONDS. It never prints a password or a key.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from os import environ
from typing import Any

from . import settings
from .store import DatabaseError, Store

STALE_SECONDS = 30.0


def report(env: Mapping[str, str] = environ, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    try:
        store = Store(settings.data_dir(env), database_url=settings.database_url(env))
    except (DatabaseError, OSError, RuntimeError) as exc:  # RuntimeError: a schema newer than this code
        return {"healthy": False, "database": {"ok": False, "error": str(exc)}}
    try:
        pending = len(store.pending_ids())
        pollers = [
            {"owner": owner, "server": server, "last_sweep_seconds_ago": round(now - at, 1)} for owner, server, at in store.pollers()
        ]
        database = {"ok": True, "name": store.db.description, "schema": store.schema_version}
    finally:
        store.close()
    recent = any(p["last_sweep_seconds_ago"] <= STALE_SECONDS for p in pollers)
    return {
        "healthy": recent or pending == 0,
        "database": database,
        "pending": pending,
        "pollers": pollers,
        "problem": "" if recent or pending == 0 else f"{pending} pending and no poller swept in the last {STALE_SECONDS:g} s",
    }


def main() -> int:
    result = report()
    print(json.dumps(result, indent=2))
    return 0 if result["healthy"] else 1


if __name__ == "__main__":
    sys.exit(main())
