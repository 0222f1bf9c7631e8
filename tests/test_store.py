from __future__ import annotations

import json
import sqlite3

import pytest

from videogen.generation import Generation, Status
from videogen.store import SCHEMA_VERSION, Store

BODY = {"model": "veo2", "prompt": "a fox", "duration": 5, "aspect_ratio": "16:9", "enhance_prompt": True}


def queued(gen_id="g1:veo2"):
    return Generation(id=gen_id, status=Status.QUEUED, remote_status="queued")


def test_add_records_the_exact_request(store):
    record = store.add(queued(), request=BODY, server="sim")
    assert record.request == BODY and record.prompt == "a fox"
    assert record.status is Status.QUEUED and record.server == "sim"
    assert record.poll_count == 0 and record.created_at == record.updated_at


def test_wal_and_schema_version(store):
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version == SCHEMA_VERSION


def test_apply_moves_forward_and_never_back(store):
    store.add(queued(), request=BODY, server="sim")
    store.apply(Generation("g1:veo2", Status.GENERATING, "generating"))
    done = store.apply(Generation("g1:veo2", Status.COMPLETED, "completed", video_url="https://cdn/x.mp4", credits_used=120000))
    assert done.status is Status.COMPLETED and done.completed_at and done.seconds_taken >= 0
    assert done.poll_count == 2 and done.credits_used == 120000
    late = store.apply(Generation("g1:veo2", Status.GENERATING, "generating"))
    assert late.status is Status.COMPLETED and late.video_url == "https://cdn/x.mp4"


def test_pending_and_unfinished_are_per_server(store):
    store.add(queued("a"), request=BODY, server="sim")
    store.add(queued("b"), request=BODY, server="https://api.aimlapi.com")
    store.add(queued("c"), request=BODY, server="sim")
    store.apply(Generation("c", Status.COMPLETED, video_url="https://cdn/c.mp4"))
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
    store.apply(Generation("b", Status.COMPLETED, video_url="https://cdn/b.mp4"))
    store.set_video_error("b", "served HTML")
    assert not store.get("b").needs_download
    assert store.unfinished("sim") == []


def test_version_changes_with_every_write(store):
    before = store.version()
    store.add(queued(), request=BODY, server="sim")
    after_add = store.version()
    store.apply(Generation("g1:veo2", Status.GENERATING))
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
    store.delete("g1:veo2")
    assert store.get("g1:veo2") is None and not video.exists()


def test_survives_reopening(tmp_path):
    Store(tmp_path).add(queued(), request=BODY, server="sim")
    assert Store(tmp_path).get("g1:veo2").request == BODY


def test_migrates_a_version_1_database(tmp_path):
    """A file written by the first release opens, keeps its rows and gains the new columns."""
    path = tmp_path / "history.sqlite3"
    from videogen.store import MIGRATIONS

    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0])
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


def test_store_has_no_column_for_a_key(store):
    with sqlite3.connect(store.path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(generations)")}
    assert not any("key" in c or "auth" in c or "token" in c for c in columns)
