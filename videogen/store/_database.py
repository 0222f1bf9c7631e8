"""Where the store's rows live: SQLite in the data directory, or PostgreSQL when `DATABASE_URL` names one.

The store writes its SQL once, in the dialect both share, with `?` for each
parameter. A backend adapts the few places they differ: the parameter mark,
how a field of the request's JSON is read, the column type of a timestamp, and
where the schema version is kept. Neither backend is imported unless used:
psycopg only loads for PostgreSQL.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
    """What the store needs from a backend. `connect()` and `writing()` yield an object with
    `execute(sql, params)` returning a cursor (`fetchone`, `fetchall`, iteration) of mapping rows."""

    description: str  # for logs and the health check; never holds a password
    shared: bool  # several processes may use it at once

    def connect(self) -> Any: ...
    def writing(self) -> Any: ...
    def transaction(self, *, durable: bool = False, lock: str | None = None) -> Any: ...
    def tuples(self, sql: str, params: tuple = ()) -> list[tuple]: ...
    def json_field(self, column: str, key: str) -> str: ...
    def migrate(self, migrations: tuple[str, ...]) -> None: ...
    def schema_version(self) -> int: ...
    def close(self) -> None: ...


class DatabaseError(Exception):
    """The database cannot be used; the message names it without its password."""


def database_url(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get("DATABASE_URL", "").strip()


def open_database(data_dir: Path, url: str = "", *, busy_timeout: float = BUSY_TIMEOUT_S) -> Database:
    if not url:
        return SQLite(data_dir / SQLITE_NAME, busy_timeout=busy_timeout)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgreSQL(url)
    raise DatabaseError("DATABASE_URL must start with postgresql:// (or be empty for SQLite in the data directory).")


def _statements(migration: str) -> list[str]:
    return [s for s in migration.split(";") if s.strip()]


class SQLite:
    shared = False

    def __init__(self, path: Path, *, busy_timeout: float = BUSY_TIMEOUT_S) -> None:
        self.path = path
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
            cursor.row_factory = None  # plain tuples: pandas builds a frame from them far faster than from Rows
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
                    for statement in _statements(migrations[number - 1]):
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


# Any lock id will do, as long as every process of this app uses the same one.
_MIGRATION_LOCK = 727_111_001


class PostgreSQL:
    """psycopg 3 with its connection pool; each statement commits on its own, as with SQLite's autocommit."""

    shared = True

    def __init__(self, url: str) -> None:
        from psycopg_pool import ConnectionPool, PoolTimeout

        self.description = "PostgreSQL " + _without_password(url)
        self._pool = ConnectionPool(
            url, min_size=1, max_size=POOL_SIZE, open=True, name="videogen",
            kwargs={"autocommit": True, "row_factory": _rows},
        )
        try:
            self._pool.wait(timeout=CONNECT_TIMEOUT_S)
        except PoolTimeout:
            self._pool.close()
            raise DatabaseError(f"{self.description} did not answer within {CONNECT_TIMEOUT_S:g} s.") from None

    @contextmanager
    def connect(self) -> Iterator[_Adapter]:
        with self._pool.connection() as db:
            yield _Adapter(db)

    writing = connect  # the server orders concurrent writers itself

    @contextmanager
    def transaction(self, *, durable: bool = False, lock: str | None = None) -> Iterator[_Adapter]:
        # PostgreSQL commits are durable by default (synchronous_commit on); `durable` asks nothing more.
        # `lock`: transactions naming the same thing run one after another (a budget read, then a reservation),
        # across every process on the database; others do not wait for them.
        with self._pool.connection() as db, db.transaction():
            if lock is not None:
                db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (lock,))
            yield _Adapter(db)

    def tuples(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._pool.connection() as db, db.cursor(row_factory=None) as cursor:
            return cursor.execute(_marks(sql), params).fetchall()

    def json_field(self, column: str, key: str) -> str:
        # As text: `->` would hand psycopg JSON to decode for every value, which doubled History's query at 10k
        # rows. The history frame reads numbers from text (some models send a duration as "5" anyway).
        return f"({column}::json ->> '{key}')"

    def migrate(self, migrations: tuple[str, ...]) -> None:
        with self._pool.connection() as db, db.transaction():
            # Several app processes may start at once: one migrates, the others wait and find it done.
            db.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                db.execute("INSERT INTO schema_version VALUES (0)")
            version = row[0] if row else 0
            if version > len(migrations):
                raise RuntimeError(f"{self.description} was written by a newer version (schema {version}).")
            for number in range(version + 1, len(migrations) + 1):
                for statement in _statements(migrations[number - 1]):
                    db.execute(_postgres_types(statement))
                db.execute("UPDATE schema_version SET version = %s", (number,))

    def schema_version(self) -> int:
        with self._pool.connection() as db:
            return db.execute("SELECT version FROM schema_version").fetchone()[0]

    def close(self) -> None:
        self._pool.close()


class Row(tuple):
    """A row read by position or by column name, and `dict(row)`-able: what sqlite3.Row gives the store."""

    names: tuple[str, ...]

    def __new__(cls, values: Any, names: tuple[str, ...]) -> Row:
        row = super().__new__(cls, values)
        row.names = names
        return row

    def keys(self) -> tuple[str, ...]:
        return self.names

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self.names.index(key) if isinstance(key, str) else key)


def _rows(cursor: Any) -> Any:
    names = tuple(column.name for column in cursor.description or ())
    return lambda values: Row(values, names)


class _Adapter:
    """A psycopg connection that takes the store's `?` marks."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self._db.execute(_marks(sql), params)


def _marks(sql: str) -> str:
    # The store's SQL holds no literal '?' or '%', so this swap is exact.
    return sql.replace("?", "%s")


def _postgres_types(statement: str) -> str:
    # SQLite's REAL is an 8-byte float; PostgreSQL's REAL is 4 bytes, too coarse for a Unix time.
    return re.sub(r"\bREAL\b", "DOUBLE PRECISION", statement)


def _without_password(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
