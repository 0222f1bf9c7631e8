"""The store, on both backends: every test taking `store` runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest

from videogen import history
from videogen.api import Answer, Status
from videogen.posters import poster_files
from videogen.store import MIGRATIONS, SCHEMA_VERSION, Store

BODY = {"model": "veo2", "prompt": "a fox", "duration": 5, "aspect_ratio": "16:9", "enhance_prompt": True}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else ""
    opened = Store(tmp_path / "data", database_url=url)
    yield opened
    opened.close()


@pytest.fixture
def pg_stores(postgres_url, tmp_path):
    """Two stores on one PostgreSQL database, as two app processes would have."""
    both = [Store(tmp_path / "shared-data", database_url=postgres_url) for _ in range(2)]
    yield both
    for s in both:
        s.close()


def queued(gen_id="g1:veo2"):
    return Answer(id=gen_id, status=Status.QUEUED, remote_status="queued")


def test_add_records_the_exact_request(store):
    record = store.add(queued(), request=BODY, server="sim")
    assert record.request == BODY and record.prompt == "a fox"
    assert record.status is Status.QUEUED and record.server == "sim"
    assert record.poll_count == 0 and record.created_at == record.updated_at


def test_wal_and_schema_version(tmp_path):
    store = Store(tmp_path)
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version == SCHEMA_VERSION


def test_schema_version(store):
    assert store.schema_version == SCHEMA_VERSION
    assert store.shared is (store.path is None)  # PostgreSQL is the shared one


def test_apply_moves_forward_and_never_back(store):
    store.add(queued(), request=BODY, server="sim")
    store.apply(Answer("g1:veo2", Status.GENERATING, "generating"))
    done = store.apply(Answer("g1:veo2", Status.COMPLETED, "completed", video_url="https://cdn/x.mp4", credits_used=120000))
    assert done.status is Status.COMPLETED and done.completed_at and done.seconds_taken >= 0
    assert done.poll_count == 2 and done.credits_used == 120000
    late = store.apply(Answer("g1:veo2", Status.GENERATING, "generating"))
    assert late.status is Status.COMPLETED and late.video_url == "https://cdn/x.mp4"


def test_pending_and_unfinished_are_per_server(store):
    store.add(queued("a"), request=BODY, server="sim")
    store.add(queued("b"), request=BODY, server="https://api.aimlapi.com")
    store.add(queued("c"), request=BODY, server="sim")
    store.apply(Answer("c", Status.COMPLETED, video_url="https://cdn/c.mp4"))
    assert [r.id for r in store.pending("sim")] == ["a"]
    assert {r.id for r in store.pending()} == {"a", "b"}
    assert {r.id for r in store.unfinished("sim")} == {"a", "c"}  # c still needs its download
    store.set_video_path("c", store.videos_dir / "c.mp4")
    assert {r.id for r in store.unfinished("sim")} == {"a"}


def test_unfinished_is_per_key(store):
    store.add(queued("mine"), request=BODY, server="api", account="k1")
    store.add(queued("theirs"), request=BODY, server="api", account="k2")
    assert [r.id for r in store.unfinished("api", "k1")] == ["mine"]
    assert [r.id for r in store.pending("api", "k2")] == ["theirs"]


def test_lost_and_video_errors(store):
    store.add(queued("a"), request=BODY, server="sim")
    store.mark_lost("a", "gone")
    lost = store.get("a")
    assert lost.status is Status.LOST and lost.error == "gone" and lost.status.is_final
    store.add(queued("b"), request=BODY, server="sim")
    store.apply(Answer("b", Status.COMPLETED, video_url="https://cdn/b.mp4"))
    store.set_video_error("b", "served HTML")
    assert not store.get("b").needs_download
    assert store.unfinished("sim") == []


def test_version_changes_with_every_write(store):
    before = store.version()
    store.add(queued(), request=BODY, server="sim")
    after_add = store.version()
    store.apply(Answer("g1:veo2", Status.GENERATING))
    assert before != after_add != store.version()


def test_records_newest_first_and_find(store):
    for i in range(3):
        store.add(queued(f"g{i}"), request=BODY, server="sim", created_at=1000 + i)
    assert [r.id for r in store.records()] == ["g2", "g1", "g0"]
    assert [r.id for r in store.records(limit=1)] == ["g2"]
    assert [r.id for r in store.find(["g0", "g2", "nope"])] == ["g2", "g0"]


def test_delete_removes_row_and_video(store):
    store.add(queued(), request=BODY, server="sim")
    video = store.videos_dir / "g1.mp4"
    video.write_bytes(b"x")
    store.set_video_path("g1:veo2", video)
    made = poster_files(video)
    for path in (made.poster, made.strip, made.reason_file):
        path.write_bytes(b"x")
    store.delete("g1:veo2")
    assert store.get("g1:veo2") is None and not video.exists()
    assert not [p for p in (made.poster, made.strip, made.reason_file) if p.exists()]


def test_survives_reopening(store, tmp_path):
    store.add(queued(), request=BODY, server="sim")
    again = Store(tmp_path / "data", database_url=_url_of(store))
    assert again.get("g1:veo2").request == BODY and again.schema_version == SCHEMA_VERSION
    again.close()


def _url_of(store: Store) -> str:
    return "" if store.path else store.db._pool.conninfo


def test_an_id_recorded_twice_keeps_the_first_request(store):
    store.add(queued(), request=BODY, server="sim")
    store.add(queued(), request={**BODY, "prompt": "other"}, server="sim")
    assert store.get("g1:veo2").prompt == "a fox" and len(store.records()) == 1


def test_table_rows_read_the_same_on_both_backends(store):
    store.add(queued(), request={**BODY, "seed": 7}, server="sim", created_at=100.0)
    store.apply(Answer("g1:veo2", Status.COMPLETED, video_url="https://cdn/x.mp4", credits_used=5.0))
    (row,) = history.frame(store.table_rows()).to_dict("records")  # what the History page reads, on either backend
    assert (row["id"], row["status"], row["prompt"], row["aspect_ratio"]) == ("g1:veo2", "completed", "a fox", "16:9")
    assert (row["duration"], row["seed"], row["credits"], row["starred"], row["owner"]) == (5, 7, 5.0, False, "")
    assert row["created"].timestamp() == 100.0 and row["seconds_taken"] > 0


def test_table_rows_are_named_by_their_columns(store):
    store.add(queued(), request=BODY, server="sim", created_at=100.0, owner="ana@example.com")
    (row,) = store.table_rows()
    assert (row.id, row.created, row.status, row.prompt, row.model, row.owner) == (
        "g1:veo2",
        100.0,
        "queued",
        "a fox",
        "veo2",
        "ana@example.com",
    )
    assert row.seconds_taken is None and row.credits is None and not row.has_video and not row.starred


def test_each_generation_keeps_who_made_it_and_only_they_delete_it(store):
    store.add(queued("ana-1"), request=BODY, server="sim", owner="ana@example.com")
    store.add(queued("ben-1"), request=BODY, server="sim", owner="ben@example.com")
    assert store.get("ana-1").owner == "ana@example.com"
    assert store.pending_ids("sim", owner="ana@example.com") == {"ana-1"}
    assert [r.id for r in store.pending(owner="ben@example.com")] == ["ben-1"]
    assert store.pending_ids("sim") == {"ana-1", "ben-1"}
    assert not store.delete("ana-1", by="ben@example.com") and store.get("ana-1") is not None
    assert store.delete("ana-1", by="ana@example.com") and store.get("ana-1") is None
    assert not store.delete("no-such-id")


def test_only_the_maker_stars_or_annotates_and_the_store_checks_it(store):
    ana, ben = "https://id.example.com#ana-5f1c", "https://id.example.com#ben-93a0"
    store.add(queued("ana-1"), request=BODY, server="sim", owner=ana, created_at=1.0)
    store.add(queued("ben-1"), request=BODY, server="sim", owner=ben, created_at=2.0)
    assert not store.set_starred("ana-1", True, by=ben) and not store.set_note("ana-1", "mine now", by=ben)
    assert (store.get("ana-1").starred, store.get("ana-1").note) == (False, "")
    assert store.set_starred("ana-1", True, by=ana) and store.set_note("ana-1", "keep", by=ana)
    assert (store.get("ana-1").starred, store.get("ana-1").note) == (True, "keep")
    assert store.set_note("ben-1", "with sign-in off, anyone") and store.get("ben-1").note == "with sign-in off, anyone"
    assert not store.set_starred("no-such-id", True)
    # A person's own generations, newest first (Compare's and the media picker's choices).
    assert [r.id for r in store.records(owner=ana)] == ["ana-1"]
    assert [r.id for r in store.records(limit=1)] == ["ben-1"] and len(store.records()) == 2


def test_run_times_and_batches(store):
    for i in range(3):
        store.add(queued(f"b{i}"), request={**BODY, "seed": i}, server="sim", created_at=200.0 + i * 1e-3, batch_id="B")
        store.apply(Answer(f"b{i}", Status.COMPLETED, video_url="https://cdn/x.mp4"))
    assert [r.id for r in store.batch("B")] == ["b0", "b1", "b2"]
    times = store.run_times(recent=2)
    assert len(times) == 2 and all(model == "veo2" and request["duration"] == 5 for model, request, *_ in times)
    assert store.costs("veo2", "sim") == [] and store.credits_spent("sim", "") == 0.0


def test_a_lease_is_held_renewed_and_handed_on_when_it_runs_out(store):
    store.add(queued("a"), request=BODY, server="sim")
    store.add(queued("b"), request=BODY, server="sim")
    assert {r.id for r in store.claim("sim", "", "p1", seconds=10, now=1000)} == {"a", "b"}
    assert store.claim("sim", "", "p2", seconds=10, now=1005) == []  # p1 holds both
    assert {r.id for r in store.claim("sim", "", "p1", seconds=10, now=1006)} == {"a", "b"}  # renewed to 1016
    assert store.claim("sim", "", "p2", seconds=10, now=1012) == []
    # p1 stops renewing: its leases run out and p2 takes them.
    assert {r.id for r in store.claim("sim", "", "p2", seconds=10, now=1017)} == {"a", "b"}
    assert store.claim("sim", "", "p1", seconds=10, now=1018) == []
    store.release("p2")
    assert {r.id for r in store.claim("sim", "", "p1", seconds=10, now=1019)} == {"a", "b"}


def test_the_work_is_shared_among_the_pollers_alive(store):
    for i in range(10):
        store.add(queued(f"g{i}"), request=BODY, server="sim", created_at=100 + i)
    store.heartbeat("p1", "sim", 1000)
    assert len(store.claim("sim", "", "p1", seconds=10, now=1000)) == 10  # alone: everything
    store.heartbeat("p2", "sim", 1001)  # a second process starts
    assert store.claim("sim", "", "p2", seconds=10, now=1001) == []  # nothing free yet
    first = {r.id for r in store.claim("sim", "", "p1", seconds=10, now=1002)}  # p1 hands back what is over its share
    second = {r.id for r in store.claim("sim", "", "p2", seconds=10, now=1002)}
    assert len(first) == len(second) == 5 and not first & second
    # p2 stops: its heartbeat and leases run out, and p1 takes everything again.
    store.heartbeat("p1", "sim", 1014)
    assert len(store.claim("sim", "", "p1", seconds=10, now=1014)) == 10


def test_a_finished_generation_is_not_claimed(store):
    store.add(queued("done"), request=BODY, server="sim")
    store.apply(Answer("done", Status.FAILED, error="no"))
    store.add(queued("other-server"), request=BODY, server="elsewhere")
    assert store.claim("sim", "", "p1", seconds=10) == []


def test_two_processes_claiming_at_once_never_share_a_generation(pg_stores):
    first, second = pg_stores
    for i in range(200):
        first.add(queued(f"g{i}"), request=BODY, server="sim")
    claimed: dict[str, list[set[str]]] = {"p1": [], "p2": []}
    start = threading.Barrier(2)

    def claim(store, owner):
        start.wait()
        for _ in range(20):
            claimed[owner].append({r.id for r in store.claim("sim", "", owner, seconds=30)})

    threads = [threading.Thread(target=claim, args=pair) for pair in ((first, "p1"), (second, "p2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held_1, held_2 = set().union(*claimed["p1"]), set().union(*claimed["p2"])
    assert not held_1 & held_2
    assert held_1 | held_2 == {f"g{i}" for i in range(200)}


def test_postgres_migrations_run_once_when_processes_start_together(postgres_url, tmp_path):
    opened: list[Store] = []
    errors: list[BaseException] = []

    def open_one():
        try:
            opened.append(Store(tmp_path / "data", database_url=postgres_url))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(opened) == 4
    assert all(s.schema_version == SCHEMA_VERSION for s in opened)
    with opened[0].db.connect() as db:
        assert db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1
        types = {
            r["column_name"]: r["data_type"]
            for r in db.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'generations'")
        }
    assert types["created_at"] == "double precision"  # a Unix time needs 8 bytes
    assert not any("key" in c or "auth" in c or "token" in c for c in types)
    for s in opened:
        s.close()


def test_postgres_refuses_a_newer_schema(postgres_url, tmp_path):
    Store(tmp_path, database_url=postgres_url).close()
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(RuntimeError, match="newer version"):
        Store(tmp_path, database_url=postgres_url)


def test_the_url_shown_hides_the_password(tmp_path):
    from videogen.store._postgres import _without_password

    assert _without_password("postgresql://app:s3cret@db:5432/videos") == "postgresql://app:***@db:5432/videos"


def test_migrates_a_version_1_database(tmp_path):
    """A file written by the first release opens, keeps its rows and gains the new columns."""
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0].format(float="REAL"))  # as the first release wrote it
        db.execute(
            "INSERT INTO generations (id, model, request_json, status, created_at, updated_at, poll_count) VALUES (?,?,?,?,?,?,?)",
            ("old:veo2", "veo2", json.dumps(BODY), "generating", 100.0, 100.0, 4),
        )
        db.execute("PRAGMA user_version = 1")
    store = Store(tmp_path)
    assert store.schema_version == SCHEMA_VERSION
    old = store.get("old:veo2")
    assert old.request == BODY and old.poll_count == 4 and old.server == "" and old.account == "" and old.video_error is None
    with sqlite3.connect(path) as db:
        indexes = {row[1] for row in db.execute("PRAGMA index_list(generations)")}
    assert "generations_by_scope" in indexes and "generations_by_status" not in indexes


def test_refuses_a_newer_schema(tmp_path):
    Store(tmp_path)
    with sqlite3.connect(tmp_path / "history.sqlite3") as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer version"):
        Store(tmp_path)


def test_sqlite_declares_times_and_credits_real_as_shipped(tmp_path):
    store = Store(tmp_path)
    with sqlite3.connect(store.path) as db:
        types = {row[1]: row[2] for row in db.execute("PRAGMA table_info(generations)")}
        sweeps = {row[1]: row[2] for row in db.execute("PRAGMA table_info(pollers)")}
    assert types["created_at"] == types["credits_used"] == types["not_found_since"] == sweeps["last_sweep"] == "REAL"


def test_store_has_no_column_for_a_key(tmp_path):
    store = Store(tmp_path)
    with sqlite3.connect(store.path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(generations)")}
    assert not any("key" in c or "auth" in c or "token" in c for c in columns)


def test_start_frames_and_cuts_are_recorded_per_key_and_a_start_frame_counts_in_spend(store):
    before = store.spending("sim", "acct")
    image = store.add_image(
        server="sim", account="acct", owner="ann", model="flux/schnell", request={"model": "flux/schnell", "prompt": "a red door"},
        upload_ref="upload:abc.png", seed=7, credits_used=3150.0,
    )  # fmt: skip
    store.add_image(
        server="other",
        account="acct",
        owner="ann",
        model="m",
        request={"prompt": "x"},
        upload_ref="upload:d.png",
        seed=None,
        credits_used=None,
    )
    (kept,) = store.images("sim", "acct")
    assert kept == image and kept.prompt == "a red door" and kept.request["model"] == "flux/schnell"
    after = store.spending("sim", "acct")
    assert after.reported - before.reported == 3150.0 and after.images == 3150.0
    assert store.spending("sim", "acct", owner="bob").images == 0

    recipe = {"shots": [{"id": "a:veo2", "in": 0, "out": 120}]}
    cut = store.add_cut(
        server="sim", account="acct", owner="ann", title="Two shots", video_path="cuts/c.mp4", recipe=recipe, duration=9.5,
        method="copy", size_bytes=1234,
    )  # fmt: skip
    assert store.cuts("sim", "acct") == [cut] and store.get_cut(cut.id).recipe == recipe
    assert store.cuts("sim", "acct", owner="bob") == [] and store.get_cut("nope") is None
