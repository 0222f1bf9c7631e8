"""Where the store's rows live: SQLite in the data directory, or PostgreSQL when `DATABASE_URL` names one.

`Database` is what the store asks of either backend; `_sqlite.py` and
`_postgres.py` are the two. Neither is imported unless used: psycopg only loads
for PostgreSQL.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

SQLITE_NAME = "history.sqlite3"
POOL_SIZE = 8  # connections per process; the poller's workers share them
CONNECT_TIMEOUT_S = 10.0
# How long a SQLite write waits for another process's lock. Writers of this process queue on a lock of
# their own first, so only another process (a second app, the health check) is waited for. Past it a
# create is journaled, not lost (videogen/store/_journal.py), and the page says so instead of hanging.
BUSY_TIMEOUT_S = 5.0


class Database(Protocol):
    """What the store needs from a backend.

    `connect()`, and `writing()` for a write, yield a connection whose `execute(sql, params)` returns a cursor
    (`fetchone`, `fetchall`, iteration) of rows read by position or by column name, and `dict(row)`-able.
    Each statement commits on its own; those run in `transaction()` commit together.

    The store writes each statement once. Where the two dialects spell a thing differently, the backend
    supplies the words: `mark` for each parameter, `json_field()` for one field of a JSON text column,
    `skip_locked` to end a `SELECT ... LIMIT` that must pass over rows another transaction is claiming,
    `json_list` for the texts of one parameter holding a JSON array (`x IN {json_list}`: one statement
    for any number of ids), and `float_type` for `{float}` in a migration.
    """

    description: str  # for logs and the health check; never holds a password
    shared: bool  # several processes may use it at once
    path: Path | None  # the SQLite file; None for a server
    mark: str  # a parameter as the driver takes it
    skip_locked: str
    json_list: str  # a subquery of the texts in one JSON-array parameter
    float_type: str  # an 8-byte float column: a Unix time, credits

    def connect(self) -> AbstractContextManager[Any]: ...
    def writing(self) -> AbstractContextManager[Any]: ...
    def transaction(self, *, durable: bool = False, lock: str | None = None) -> AbstractContextManager[Any]: ...
    def tuples(self, sql: str, params: tuple = ()) -> list[tuple]: ...
    def json_field(self, column: str, key: str) -> str: ...
    def migrate(self, migrations: tuple[str, ...]) -> None: ...
    def schema_version(self) -> int: ...
    def close(self) -> None: ...


class DatabaseError(Exception):
    """The database cannot be used; the message names it without its password."""


def open_database(data_dir: Path, url: str = "", *, busy_timeout: float = BUSY_TIMEOUT_S) -> Database:
    if not url:
        from ._sqlite import SQLite

        return SQLite(data_dir / SQLITE_NAME, busy_timeout=busy_timeout)
    if url.startswith(("postgresql://", "postgres://")):
        from ._postgres import PostgreSQL

        return PostgreSQL(url, connect_timeout=CONNECT_TIMEOUT_S)
    raise DatabaseError("DATABASE_URL must start with postgresql:// (or be empty for SQLite in the data directory).")


def migration_statements(migration: str, *, float_type: str) -> list[str]:
    """One migration's statements in a backend's words."""
    return [s for s in migration.format(float=float_type).split(";") if s.strip()]
