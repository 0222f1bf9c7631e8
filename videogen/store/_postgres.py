"""The shared backend: PostgreSQL through psycopg 3 and its connection pool, for several app processes at once.

Only imported when `DATABASE_URL` names a server, so psycopg loads for nobody else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, KeysView
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from psycopg import Connection
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout

from ._database import POOL_SIZE, DatabaseError, migration_statements

# Any lock id will do, as long as every process of this app uses the same one.
_MIGRATION_LOCK = 727_111_001


class PostgreSQL:
    """Each statement commits on its own, as with SQLite's autocommit, except inside `transaction()`."""

    shared = True
    path: Path | None = None
    mark = "%s"
    skip_locked = " FOR UPDATE SKIP LOCKED"  # two processes claiming at once take different rows, neither waits
    json_list = "(SELECT json_array_elements_text(%s::json))"
    float_type = "DOUBLE PRECISION"  # PostgreSQL's REAL is 4 bytes, too coarse for a Unix time

    def __init__(self, url: str, *, connect_timeout: float) -> None:
        self.description = "PostgreSQL " + _without_password(url)
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            open=True,
            name="videogen",
            kwargs={"autocommit": True, "row_factory": _rows},
        )
        try:
            self._pool.wait(timeout=connect_timeout)
        except PoolTimeout:
            self._pool.close()
            raise DatabaseError(f"{self.description} did not answer within {connect_timeout:g} s.") from None

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._pool.connection() as db:
            yield db

    writing = connect  # the server orders concurrent writers itself

    @contextmanager
    def transaction(self, *, durable: bool = False, lock: str | None = None) -> Iterator[Connection]:
        # PostgreSQL commits are durable by default (synchronous_commit on); `durable` asks nothing more.
        # `lock`: transactions naming the same thing run one after another (a budget read, then a reservation),
        # across every process on the database; others do not wait for them.
        with self._pool.connection() as db, db.transaction():
            if lock is not None:
                db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (lock,))
            yield db

    def tuples(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._pool.connection() as db, db.cursor(row_factory=tuple_row) as cursor:
            return cursor.execute(sql, params).fetchall()

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
                for statement in migration_statements(migrations[number - 1], float_type=self.float_type):
                    db.execute(statement)
                db.execute("UPDATE schema_version SET version = %s", (number,))

    def schema_version(self) -> int:
        with self._pool.connection() as db:
            return db.execute("SELECT version FROM schema_version").fetchone()[0]

    def close(self) -> None:
        self._pool.close()


class Row(tuple):
    """A row read by position or by column name, and `dict(row)`-able: what sqlite3.Row gives the store."""

    index: dict[str, int]  # one per statement, shared by its rows

    def __new__(cls, values: Any, index: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row.index = index
        return row

    def keys(self) -> KeysView[str]:
        return self.index.keys()

    def __getitem__(self, key: Any) -> Any:
        # `dict(row)` calls this for every column of every Record read: no searching, no super().
        return _item(self, self.index[key] if isinstance(key, str) else key)


_item = tuple.__getitem__


def _rows(cursor: Any) -> Any:
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: Row(values, index)


def _without_password(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
