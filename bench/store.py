"""The store's hot paths: our per-dialect SQL against the same work through SQLAlchemy Core.

One database per backend (SQLite in a data dir; PostgreSQL on a throwaway
server from devtools/postgres_server.py, skipped when its programs are missing)
holds HISTORY_ROWS finished generations and PENDING_ROWS pending ones. On it,
three implementations do the same four things, in turns, in this process:

- ours: `Store` (`videogen/store/`), the plain per-dialect SQL, the baseline;
- SQLAlchemy Core `text()`: the same statements with `:name` parameters, run through an Engine and its pool;
- SQLAlchemy Core expressions: the same statements built from reflected `Table`s, compiled once and cached.

The four: add a generation (a durable transaction, then its Record), update it
from a fetch (`UPDATE ... RETURNING`, a Record), `table_rows()` over every row
(named rows, as History reads them), and the pending query (`pending(server,
account)`: PENDING_ROWS Records). Each SQLAlchemy variant commits each statement
on its own and takes its transaction as ours does, so the rows differ only in
what runs between our code and the driver. The reads come first (median of READS
calls), then the adds and updates, timed one by one (median of OPS).
"""

from __future__ import annotations

import gc
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from videogen.api import Answer, Status
from videogen.store import Record, Store, TableRow

from .common import BODY, fill_history, median
from .report import Row, Section, ratio

HISTORY_ROWS = 10_000
PENDING_ROWS = 200
OPS = 400
READS = 21
SERVER = "bench-store"
WRITES = "bench-store-writes"  # the timed adds: another server's, so the pending query keeps its PENDING_ROWS
PENDING = tuple(s.value for s in Status if s.is_pending)


class _Impl:
    """One implementation of the four operations."""

    label = ""

    def add(self, gen_id: str) -> Record: ...
    def apply(self, gen_id: str) -> Record: ...
    def table_rows(self) -> list[TableRow]: ...
    def pending(self) -> list[Record]: ...
    def close(self) -> None: ...


class _Ours(_Impl):
    label = "ours (plain SQL)"

    def __init__(self, data_dir: Path, url: str) -> None:
        self.store = Store(data_dir, database_url=url)

    def add(self, gen_id: str) -> Record:
        return self.store.add(Answer(gen_id, Status.QUEUED, "queued"), request=BODY, server=WRITES)

    def apply(self, gen_id: str) -> Record:
        return self.store.apply(Answer(gen_id, Status.GENERATING, "generating"))

    def table_rows(self) -> list[TableRow]:
        return self.store.table_rows()

    def pending(self) -> list[Record]:
        return self.store.pending(SERVER, "")

    def close(self) -> None:
        self.store.close()


def _values(gen_id: str) -> dict[str, Any]:
    now = time.time()
    return {
        "id": gen_id,
        "model": BODY["model"],
        "request_json": json.dumps(BODY, ensure_ascii=False),
        "status": Status.QUEUED.value,
        "remote_status": "queued",
        "server": WRITES,
        "account": "",
        "created_at": now,
        "updated_at": now,
        "parent_id": None,
        "batch_id": None,
        "owner": "",
        "credits_held": None,
        "credits_used": None,
        "reserved_credits": None,
    }


def _apply_values(gen_id: str) -> dict[str, Any]:
    now = time.time()
    return {
        "gid": gen_id,
        "new_status": Status.GENERATING.value,
        "new_remote": "generating",
        "new_url": None,
        "new_error": None,
        "failed": False,
        "new_credits": None,
        "final": False,
        "now": now,
        "queued": False,
        "generating": True,
        "polls": 1,
    }


class _Core(_Impl):
    """What both SQLAlchemy variants share: an Engine that commits each statement, and our transaction."""

    def __init__(self, sqlalchemy: Any, path: Path | None, url: str) -> None:
        self.sa = sqlalchemy
        self.sqlite = path is not None
        if self.sqlite:
            self.engine = sqlalchemy.create_engine(f"sqlite:///{path}", isolation_level="AUTOCOMMIT", connect_args={"timeout": 5.0})
            sqlalchemy.event.listen(self.engine, "connect", lambda db, _: db.execute("PRAGMA synchronous=NORMAL"))
        else:
            self.engine = sqlalchemy.create_engine(
                url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT", pool_size=8
            )

    def _transaction(self, conn: Any, work: Callable[[], None]) -> None:
        # As `Store.add`: on SQLite, durable (synchronous=FULL) and taking the write lock at once.
        if self.sqlite:
            conn.exec_driver_sql("PRAGMA synchronous=FULL")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
        try:
            work()
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        conn.exec_driver_sql("COMMIT")
        if self.sqlite:
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")

    # The statements, built by each variant: they differ only in how they are written.
    _insert: Any
    _get: Any
    _apply: Any
    _table: Any
    _pending: Any

    def add(self, gen_id: str) -> Record:
        with self.engine.connect() as conn:
            self._transaction(conn, lambda: conn.execute(self._insert, _values(gen_id)))
        with self.engine.connect() as conn:
            return Record.from_row(conn.execute(self._get, {"id": gen_id}).mappings().one())

    def apply(self, gen_id: str) -> Record:
        with self.engine.connect() as conn:
            return Record.from_row(conn.execute(self._apply, _apply_values(gen_id)).mappings().one())

    def table_rows(self) -> list[TableRow]:
        with self.engine.connect() as conn:
            return list(map(TableRow._make, conn.execute(self._table)))

    def pending(self) -> list[Record]:
        with self.engine.connect() as conn:
            rows = conn.execute(self._pending, {"server": SERVER, "account": ""}).mappings()
            return [Record.from_row(r) for r in rows]

    def close(self) -> None:
        self.engine.dispose()


class _CoreText(_Core):
    label = "SQLAlchemy Core text()"

    def __init__(self, sqlalchemy: Any, path: Path | None, url: str) -> None:
        super().__init__(sqlalchemy, path, url)
        text = sqlalchemy.text
        columns = ", ".join(_values("x"))
        self._insert = text(
            f"INSERT INTO generations ({columns}) VALUES ({', '.join(':' + c for c in _values('x'))}) ON CONFLICT (id) DO NOTHING"
        )
        self._get = text("SELECT * FROM generations WHERE id = :id")
        self._apply = text(f"""UPDATE generations SET
              status = CASE WHEN status IN {PENDING} THEN :new_status ELSE status END,
              remote_status = :new_remote,
              video_url = COALESCE(:new_url, video_url),
              error = COALESCE(:new_error, error),
              credits_used = CASE WHEN :failed AND status IN {PENDING} THEN 0 ELSE COALESCE(:new_credits, credits_used) END,
              not_found_since = NULL,
              completed_at = CASE WHEN :final AND completed_at IS NULL THEN :now ELSE completed_at END,
              queued_until = CASE WHEN :queued AND status IN {PENDING} THEN :now ELSE queued_until END,
              started_at = CASE WHEN :generating AND started_at IS NULL THEN :now ELSE started_at END,
              poll_count = poll_count + :polls,
              updated_at = :now
            WHERE id = :gid RETURNING *""")
        field = (lambda key: f"json_extract(request_json, '$.{key}')") if self.sqlite else (lambda key: f"(request_json::json ->> '{key}')")
        self._table = text(f"""SELECT id, created_at, status, {field("prompt")}, {field("aspect_ratio")},
                   {field("duration")}, {field("seed")}, completed_at - created_at, credits_used,
                   status = 'completed' AND (video_path IS NOT NULL OR video_url IS NOT NULL), model, starred, owner
            FROM generations ORDER BY created_at DESC""")
        self._pending = text(
            f"SELECT * FROM generations WHERE status IN {PENDING} AND server = :server AND account = :account ORDER BY created_at DESC"
        )


class _CoreExpressions(_Core):
    label = "SQLAlchemy Core expressions"

    def __init__(self, sqlalchemy: Any, path: Path | None, url: str) -> None:
        super().__init__(sqlalchemy, path, url)
        sa = sqlalchemy
        table = sa.Table("generations", sa.MetaData(), autoload_with=self.engine)
        g = table.c
        # Upserts and a field of JSON kept as TEXT are spelled per dialect here too. SQLAlchemy's own JSON
        # path (`as_string()`) would CAST every value to text, where SQLite's json_extract keeps numbers.
        if self.sqlite:
            from sqlalchemy.dialects.sqlite import insert

            def field(key: str) -> Any:
                return sa.func.json_extract(g.request_json, f"$.{key}")
        else:
            from sqlalchemy.dialects.postgresql import JSON, insert

            def field(key: str) -> Any:
                return sa.cast(g.request_json, JSON)[key].astext

        self._insert = insert(table).on_conflict_do_nothing(index_elements=["id"])
        self._get = sa.select(table).where(g.id == sa.bindparam("id"))
        pending = g.status.in_(PENDING)
        now = sa.bindparam("now", type_=sa.Float)
        flag = lambda name: sa.bindparam(name, type_=sa.Boolean)  # noqa: E731
        self._apply = (
            sa.update(table)
            .where(g.id == sa.bindparam("gid"))
            .values(
                status=sa.case((pending, sa.bindparam("new_status")), else_=g.status),
                remote_status=sa.bindparam("new_remote"),
                video_url=sa.func.coalesce(sa.bindparam("new_url", type_=sa.Text), g.video_url),
                error=sa.func.coalesce(sa.bindparam("new_error", type_=sa.Text), g.error),
                credits_used=sa.case(
                    (sa.and_(flag("failed"), pending), 0),
                    else_=sa.func.coalesce(sa.bindparam("new_credits", type_=sa.Float), g.credits_used),
                ),
                not_found_since=None,
                completed_at=sa.case((sa.and_(flag("final"), g.completed_at.is_(None)), now), else_=g.completed_at),
                queued_until=sa.case((sa.and_(flag("queued"), pending), now), else_=g.queued_until),
                started_at=sa.case((sa.and_(flag("generating"), g.started_at.is_(None)), now), else_=g.started_at),
                poll_count=g.poll_count + sa.bindparam("polls", type_=sa.Integer),
                updated_at=now,
            )
            .returning(*table.c)
        )
        self._table = sa.select(
            g.id,
            g.created_at,
            g.status,
            *(field(key) for key in ("prompt", "aspect_ratio", "duration", "seed")),
            g.completed_at - g.created_at,
            g.credits_used,
            sa.and_(g.status == Status.COMPLETED.value, sa.or_(g.video_path.is_not(None), g.video_url.is_not(None))),
            g.model,
            g.starred,
            g.owner,
        ).order_by(g.created_at.desc())
        self._pending = (
            sa.select(table)
            .where(pending, g.server == sa.bindparam("server"), g.account == sa.bindparam("account"))
            .order_by(g.created_at.desc())
        )


def _fill(data_dir: Path, url: str, rows: int, pending: int, work: Path) -> None:
    fill_history(data_dir, rows, video=work / "store-clip.mp4", database_url=url).close()
    store = Store(data_dir, database_url=url)
    for i in range(pending):
        store.add(Answer(f"pending-{i}", Status.QUEUED, "queued"), request=BODY, server=SERVER, created_at=1000.0 + i)
    store.close()


def _check_same(impls: list[_Impl]) -> None:
    """Every implementation reads the same rows, so the timings compare the same work."""
    base_rows, base_pending = impls[0].table_rows(), [r.id for r in impls[0].pending()]
    for impl in impls[1:]:
        rows = impl.table_rows()
        if len(rows) != len(base_rows) or [r.id for r in rows[:50]] != [r.id for r in base_rows[:50]]:
            raise RuntimeError(f"{impl.label} read other table rows than {impls[0].label}")
        if rows[0] != base_rows[0]:
            raise RuntimeError(f"{impl.label} read {rows[0]}, {impls[0].label} {base_rows[0]}")
        if [r.id for r in impl.pending()] != base_pending:
            raise RuntimeError(f"{impl.label} found other pending rows than {impls[0].label}")


def _backend(label: str, impls: list[_Impl], ops: int, reads: int) -> dict[str, dict[str, float]]:
    """{operation: {implementation: median seconds}}, the implementations taking turns."""
    _check_same(impls)  # untimed, as each implementation's first run: connections opened, statements cached
    times: dict[str, dict[str, list[float]]] = {op: {i.label: [] for i in impls} for op in ("add", "apply", "table", "pending")}
    for _ in range(reads):  # before the writes, which would add rows
        for i in impls:
            for op, read in (("table", i.table_rows), ("pending", i.pending)):
                # Each read starts with the collector's counts at zero: otherwise a full collection of this
                # process's heap falls due on every third call or so, always during the same implementation's.
                gc.collect()
                t0 = time.perf_counter()
                read()
                times[op][i.label].append(time.perf_counter() - t0)
    for i in impls:
        gen_id = f"warm-{uuid.uuid4().hex}"
        i.add(gen_id)
        i.apply(gen_id)
    for _ in range(ops):
        for i in impls:
            gen_id = f"{uuid.uuid4()}:veo2"
            t0 = time.perf_counter()
            record = i.add(gen_id)
            t1 = time.perf_counter()
            updated = i.apply(gen_id)
            t2 = time.perf_counter()
            if record.id != gen_id or updated.status is not Status.GENERATING or updated.poll_count != 1:
                raise RuntimeError(f"{label}, {i.label}: add then apply gave {record}, {updated}")
            times["add"][i.label].append(t1 - t0)
            times["apply"][i.label].append(t2 - t1)
    return {op: {name: median(values) for name, values in by_impl.items()} for op, by_impl in times.items()}


def run(quick: bool, work: Path) -> Section:
    import sqlalchemy

    rows, ops, reads = (1_000, 40, 3) if quick else (HISTORY_ROWS, OPS, READS)
    section = Section("store")
    section.details = {"history_rows": rows, "pending_rows": PENDING_ROWS, "ops": ops, "reads": reads, "sqlalchemy": sqlalchemy.__version__}
    results: dict[str, dict[str, dict[str, float]]] = {}

    sqlite_dir = work / "store-sqlite"
    _fill(sqlite_dir, "", rows, PENDING_ROWS, work)
    ours = _Ours(sqlite_dir, "")
    impls = [ours, _CoreText(sqlalchemy, ours.store.path, ""), _CoreExpressions(sqlalchemy, ours.store.path, "")]
    try:
        results["SQLite"] = _backend("SQLite", impls, ops, reads)
    finally:
        for i in impls:
            i.close()

    from devtools.postgres_server import PostgresServer, bin_dir

    try:
        bin_dir()
    except RuntimeError as exc:
        section.details["postgresql"] = f"skipped: {exc}"
    else:
        with PostgresServer() as postgres:
            url = postgres.new_database()
            _fill(work / "store-pg", url, rows, PENDING_ROWS, work)
            impls = [_Ours(work / "store-pg", url), _CoreText(sqlalchemy, None, url), _CoreExpressions(sqlalchemy, None, url)]
            try:
                results["PostgreSQL"] = _backend("PostgreSQL", impls, ops, reads)
            finally:
                for i in impls:
                    i.close()

    section.details["median_s"] = results
    names = {
        "add": "add a generation (durable)",
        "apply": "update it from a fetch",
        "table": f"table_rows(), {rows + PENDING_ROWS:,} rows",
        "pending": f"pending query, {PENDING_ROWS} rows",
    }
    for backend, by_op in results.items():
        for op, by_impl in by_op.items():
            base = by_impl[_Ours.label]
            section.rows.append(Row("store", f"{backend}: {names[op]}, ours", base * 1000, "ms"))
            for label in (_CoreText.label, _CoreExpressions.label):
                value = by_impl[label]
                section.rows.append(
                    Row("store", f"{backend}: {names[op]}, {label}", value * 1000, "ms", base * 1000, "ours", ratio(value, base), "×ours")
                )
    return section
