"""The embedded backend: one SQLite file (WAL) in the data directory, one writer at a time across every process."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ._database import migration_statements


class SQLite:
    shared = False
    mark = "?"
    skip_locked = ""  # one writer at a time: no other transaction can be claiming a row meanwhile
    json_list = "(SELECT value FROM json_each(?))"
    float_type = "REAL"  # SQLite's REAL is an 8-byte float

    def __init__(self, path: Path, *, busy_timeout: float) -> None:
        self.path: Path | None = path
        self.busy_timeout = busy_timeout  # how long a write waits for another process's lock before it fails
        self.description = f"SQLite {path}"
        self._local = threading.local()
        # SQLite takes one writer at a time and makes the others sleep and retry (1, 2, 5, 10 ms...).
        # With a hundred poller threads writing at once those sleeps add up; queueing on a lock does not.
        self._write_lock = threading.Lock()
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        # One connection per thread, kept: opening is cheap, but closing the last
        # connection to a WAL database checkpoints it, ~1 ms on every call.
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA synchronous=NORMAL")
        yield db

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock, self.connect() as db:
            yield db

    @contextmanager
    def transaction(self, *, durable: bool = False, lock: str | None = None) -> Iterator[sqlite3.Connection]:
        """Several statements as one, taking the write lock at once, so a read-then-write inside cannot race.

        `lock` names what the transaction decides on; SQLite has one writer at a time anyway, across processes.

        `durable`: the commit is on disk before this returns. WAL with synchronous=NORMAL, the default
        here, may lose the last commits to a power cut; a paid generation's row must not be among them.
        """
        with self.writing() as db:
            if durable:
                db.execute("PRAGMA synchronous=FULL")
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            finally:
                if durable:
                    db.execute("PRAGMA synchronous=NORMAL")

    def tuples(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.connect() as db:
            cursor = db.cursor()
            cursor.row_factory = None  # plain tuples: the caller names them at less cost than sqlite3.Row takes
            return cursor.execute(sql, params).fetchall()

    def json_field(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"

    def migrate(self, migrations: tuple[str, ...]) -> None:
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > len(migrations):
                    raise RuntimeError(f"{self.path} was written by a newer version (schema {version}).")
                for number in range(version + 1, len(migrations) + 1):
                    for statement in migration_statements(migrations[number - 1], float_type=self.float_type):
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {number}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def schema_version(self) -> int:
        with self.connect() as db:
            return db.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
