"""Creates the server accepted that the history could not record yet: written down first, saved later.

A create that succeeded is paid for. If the store cannot take its row at that
moment (SQLite locked past its timeout, a full disk, PostgreSQL down), the id
must survive anyway. So each accepted create is written here, one fsync'd file
per generation, before the store is asked; the file goes once the row is in.
Every start and every poller sweep replays what is left into the store, which
ignores an id it already has, so a replay racing the original write is harmless.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..api import Answer, Status
from ._store import Record, Reservation, Store

log = logging.getLogger(__name__)

JOURNAL_DIR = "journal"


@dataclass(frozen=True)
class Entry:
    """Everything `Store.add` needs to record one accepted create."""

    id: str
    status: str
    remote_status: str
    video_url: str | None
    error: str | None
    credits_used: float | None
    request: dict[str, Any]
    server: str
    account: str
    created_at: float
    parent_id: str | None = None
    batch_id: str | None = None
    owner: str = ""
    reservation_id: str | None = None
    reservation_credits: float | None = None
    origin: dict[str, Any] | None = None

    @classmethod
    def of(
        cls,
        generation: Answer,
        *,
        request: Mapping[str, Any],
        server: str,
        account: str,
        created_at: float,
        parent_id: str | None = None,
        batch_id: str | None = None,
        owner: str = "",
        reservation: Reservation | None = None,
        origin: Mapping[str, Any] | None = None,
    ) -> Entry:
        return cls(
            id=generation.id,
            status=generation.status.value,
            remote_status=generation.remote_status,
            video_url=generation.video_url,
            error=generation.error,
            credits_used=generation.credits_used,
            request=dict(request),
            server=server,
            account=account,
            created_at=created_at,
            parent_id=parent_id,
            batch_id=batch_id,
            owner=owner,
            reservation_id=reservation.id if reservation else None,
            reservation_credits=reservation.credits if reservation else None,
            origin=dict(origin) if origin else None,
        )

    def save_to(self, store: Store) -> Record:
        generation = Answer(self.id, Status(self.status), self.remote_status, self.video_url, self.error, self.credits_used)
        reservation = Reservation(self.reservation_id, self.reservation_credits) if self.reservation_id else None
        return store.add(
            generation,
            request=self.request,
            server=self.server,
            account=self.account,
            created_at=self.created_at,
            parent_id=self.parent_id,
            batch_id=self.batch_id,
            owner=self.owner,
            reservation=reservation,
            origin=self.origin,
        )


class Journal:
    def __init__(self, data_dir: Path) -> None:
        self.folder = Path(data_dir) / JOURNAL_DIR
        self.folder.mkdir(parents=True, exist_ok=True)
        # Entries this process wrote and is saving right now: a sweep leaves them to their writer, which
        # either removes them (saved) or hands them over (`keep`) when the store refused.
        self._saving: set[str] = set()
        self._lock = threading.Lock()

    def _path(self, generation_id: str) -> Path:
        # Ids hold ':' and '/', and could hold anything a server sends: name the file by a hash. Not
        # `ids.unique_name`: nobody reads these names, so they need no readable part.
        return self.folder / f"{hashlib.sha256(generation_id.encode()).hexdigest()[:32]}.json"

    def write(self, entry: Entry) -> None:
        """On disk before this returns: written aside, flushed, renamed into place, the folder flushed.
        The caller saves it next, then calls `done` (saved) or `keep` (the store refused it)."""
        path = self._path(entry.id)
        with self._lock:
            self._saving.add(path.name)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(asdict(entry), f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        folder = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def done(self, generation_id: str) -> None:
        path = self._path(generation_id)
        path.unlink(missing_ok=True)
        with self._lock:
            self._saving.discard(path.name)

    def keep(self, generation_id: str) -> None:
        """The store could not take it: from now on the sweeps save it."""
        with self._lock:
            self._saving.discard(self._path(generation_id).name)

    def entries(self) -> list[Entry]:
        """The entries left to replay, without those this process is saving at this moment."""
        with self._lock:
            saving = set(self._saving)
        found = []
        for path in sorted(self.folder.glob("*.json")):
            if path.name in saving:
                continue
            try:
                found.append(Entry(**json.loads(path.read_text(encoding="utf-8"))))
            except FileNotFoundError:  # saved and removed since the listing, by another process sharing the folder
                continue
            except (OSError, ValueError, TypeError):
                # Written aside and renamed, an entry is whole or absent; one that is not was not ours to read.
                log.error("unreadable journal entry %s left in place", path)
        return found

    def has_entries(self) -> bool:
        """Whether anything is left to replay. Cheap enough for every sweep: one look at a folder that is
        nearly always empty."""
        with self._lock:
            saving = set(self._saving)
        with os.scandir(self.folder) as items:
            return any(item.name.endswith(".json") and item.name not in saving for item in items)

    def replay(self, store: Store) -> list[Record]:
        """Save every entry the store can take now; stop at the first it cannot (it is still unwritable)."""
        saved = []
        for entry in self.entries():
            try:
                saved.append(entry.save_to(store))
            except Exception as exc:  # any failure of the store: keep the entry and try again next sweep
                log.warning("the history still cannot record %s: %s", entry.id, exc)
                break
            self.done(entry.id)
            log.info("recorded %s from the journal", entry.id)
        return saved
