"""Ratings, rejections and blind votes in the store: every test taking `store` runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3

import pytest

from videogen import history
from videogen.api import Answer, Status
from videogen.store import MIGRATIONS, SCHEMA_VERSION, MissingGenerations, Rating, Store

ANA, BEN, CY = "https://id.example.com#ana", "https://id.example.com#ben", "https://id.example.com#cy"
TEXT_MODELS = ("veo2", "alibaba/wan-2-6-t2v")  # text to video, both
IMAGE_MODEL = "alibaba/wan-2-6-i2v"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else ""
    opened = Store(tmp_path / "data", database_url=url)
    yield opened
    opened.close()


def finished(store: Store, gen_id: str, *, model: str = "veo2", prompt: str = "a fox in the snow", owner: str = "") -> str:
    store.add(Answer(gen_id, Status.QUEUED), request={"model": model, "prompt": prompt}, server="sim", owner=owner)
    store.apply(Answer(gen_id, Status.COMPLETED, video_url=f"https://cdn.example/{gen_id}.mp4"))
    return gen_id


def test_each_person_rates_their_own_and_sees_the_teams_average_beside_it(store):
    finished(store, "g1", owner=ANA)
    finished(store, "g2", owner=BEN)
    assert store.set_rating("g1", 5, by=ANA) and store.set_rating("g1", 2, by=BEN) and store.set_rejected("g1", True, by=CY)
    assert store.set_rating("g1", 4, by=ANA)  # one row per person: a second rating replaces the first

    ana, ben, cy = (store.ratings(["g1", "g2"], by=person) for person in (ANA, BEN, CY))
    assert ana["g1"] == Rating("g1", rating=4, rejected=False, team_average=3.0, team_count=2, team_rejections=1)
    assert (ben["g1"].rating, ben["g1"].team_average) == (2, 3.0)
    assert (cy["g1"].rating, cy["g1"].rejected, cy["g1"].team_count) == (None, True, 2)
    assert ana["g2"] == ben["g2"] == Rating("g2")  # nobody rated it


def test_with_sign_in_off_everyone_is_one_person(store):
    finished(store, "g1")
    store.set_rating("g1", 3)
    store.set_rating("g1", 5)
    assert store.ratings(["g1"])["g1"] == Rating("g1", rating=5, team_average=5.0, team_count=1)


def test_a_rating_is_1_to_5_on_a_finished_generation(store):
    finished(store, "done")
    store.add(Answer("running", Status.QUEUED), request={"model": "veo2", "prompt": "p"}, server="sim")
    for bad in (0, 6, -1):
        with pytest.raises(ValueError, match="1 to 5"):
            store.set_rating("done", bad)
    assert not store.set_rating("running", 3) and not store.set_rejected("running", True)
    assert not store.set_rating("no-such-id", 3)
    assert store.ratings(["done", "running", "no-such-id"]) == {i: Rating(i) for i in ("done", "running", "no-such-id")}


def test_a_rejection_and_a_rating_are_taken_back_apart_and_cleared_together(store):
    finished(store, "g1")
    store.set_rejected("g1", True, by=ANA)
    store.set_rating("g1", 2, by=ANA)
    assert store.set_rating("g1", None, by=ANA)
    assert store.ratings(["g1"], by=ANA)["g1"] == Rating("g1", rejected=True, team_rejections=1)
    assert store.set_rejected("g1", False, by=ANA)
    assert store.ratings(["g1"], by=ANA)["g1"] == Rating("g1")  # neither: as if never rated

    store.set_rating("g1", 4, by=ANA)
    store.set_rejected("g1", True, by=ANA)
    store.set_rating("g1", 1, by=BEN)
    store.clear_rating("g1", by=ANA)
    assert store.ratings(["g1"], by=ANA)["g1"] == Rating("g1", team_average=1.0, team_count=1)


def test_thousands_of_ids_are_read_in_one_statement(store, monkeypatch):
    ids = [finished(store, f"g{i}") for i in range(40)]
    for i, gen_id in enumerate(ids):
        store.set_rating(gen_id, 1 + i % 5, by=ANA)
    asked = ids + [f"never-made-{i}" for i in range(33_000)]  # more than SQLite binds in one statement
    statements = []
    tuples = store.db.tuples
    monkeypatch.setattr(store.db, "tuples", lambda sql, params=(): statements.append(sql) or tuples(sql, params))
    found = store.ratings(asked, by=ANA)
    assert len(statements) == 1
    assert list(found) == asked
    assert [found[i].rating for i in ids] == [1 + i % 5 for i in range(40)]
    assert found["never-made-7"] == Rating("never-made-7")


def test_historys_frame_is_kept_until_a_row_or_a_rating_changes_and_is_each_persons_own(store):
    finished(store, "g1")
    finished(store, "g2")
    first = history.rated_frame(store, by=ANA)
    assert history.rated_frame(store, by=ANA) is first  # nothing changed: the same frame, not a rebuild
    assert history.rated_frame(store, by=BEN) is not first

    store.set_rating("g1", 4, by=ANA)
    rated = history.rated_frame(store, by=ANA)
    assert rated is not first and rated.set_index("id").loc["g1", "rating"] == 4
    assert history.rated_frame(store, by=BEN).set_index("id").loc["g1", "team_rating"] == 4.0
    store.clear_rating("g1", by=ANA)  # a deletion changes the count, so it is seen too
    assert history.rated_frame(store, by=ANA).set_index("id")["rating"].isna().all()

    finished(store, "g3")
    assert set(history.rated_frame(store, by=ANA)["id"]) == {"g1", "g2", "g3"}
    store.set_starred("g2", True)
    assert history.rated_frame(store, by=ANA).set_index("id").loc["g2", "starred"]


def test_a_vote_keeps_who_when_the_prompt_the_generations_in_order_and_the_winner(store):
    a, b = finished(store, "a", prompt="A fox at dawn"), finished(store, "b", model="alibaba/wan-2-6-t2v", prompt="A fox at dawn")
    vote = store.record_vote([b, a], a, by=ANA, at=1000.0)
    assert (vote.person, vote.at, vote.prompt, vote.kind) == (ANA, 1000.0, "A fox at dawn", "text-to-video")
    assert (vote.shown, vote.models, vote.winner, vote.winning_model) == (("b", "a"), ("alibaba/wan-2-6-t2v", "veo2"), "a", "veo2")
    tie = store.record_vote([a, b], None, by=BEN, at=2000.0)
    assert tie.winner is None and tie.winning_model is None
    assert store.votes() == [tie, vote]  # newest first, read back as recorded


def test_three_or_four_shown_name_the_best_and_impossible_votes_are_refused(store):
    ids = [finished(store, f"g{i}") for i in range(5)]
    assert store.record_vote(ids[:4], ids[2]).winner == "g2"
    for shown, winner, message in (
        (ids[:3], None, "Only two"),
        (ids[:2], "g4", "not among"),
        (ids[:1], "g0", "2 to 4"),
        (ids, "g0", "2 to 4"),
        (["g0", "g0"], "g0", "twice"),
    ):
        with pytest.raises(ValueError, match=message):
            store.record_vote(shown, winner)
    assert len(store.votes()) == 1


def test_a_vote_on_generations_deleted_meanwhile_is_refused_naming_them(store):
    a, b, c = (finished(store, i) for i in ("a", "b", "c"))
    store.delete(b)
    with pytest.raises(MissingGenerations, match="generation b was deleted meanwhile") as refused:
        store.record_vote([a, b], a)
    assert refused.value.missing == ("b",)
    store.delete(c)
    with pytest.raises(MissingGenerations, match="generations c, b were deleted") as refused:
        store.record_vote([c, a, b], a)
    assert refused.value.missing == ("c", "b")  # in the order shown
    assert store.votes() == []


def test_deleting_a_generation_drops_its_ratings_and_keeps_the_votes_it_was_in(store):
    a, b = finished(store, "a", prompt="the prompt"), finished(store, "b", model="alibaba/wan-2-6-t2v")
    store.set_rating(a, 5, by=ANA)
    store.set_rejected(a, True, by=BEN)
    vote = store.record_vote([a, b], a, by=ANA)
    assert store.delete(a)
    finished(store, "a")  # the same id again (a re-imported row): it starts unrated
    assert store.ratings([a])[a] == Rating(a)
    assert store.votes() == [vote] and vote.prompt == "the prompt" and vote.winning_model == "veo2"


def test_votes_are_filtered_by_kind_person_and_prompt(store):
    t1, t2 = (finished(store, f"t{i}", model=m, prompt="Café at NIGHT") for i, m in enumerate(TEXT_MODELS))
    i1 = finished(store, "i1", model=IMAGE_MODEL, prompt="a tram")
    i2 = finished(store, "i2", model=IMAGE_MODEL, prompt="a tram")
    text = store.record_vote([t1, t2], t2, by=ANA, at=1.0)
    image = store.record_vote([i1, i2], None, by=BEN, at=2.0)
    mixed = store.record_vote([t1, i1], i1, by=ANA, at=3.0)
    assert (text.kind, image.kind, mixed.kind) == ("text-to-video", "image-to-video", "")
    assert store.votes(kind="text-to-video") == [text] and store.votes(kind="image-to-video") == [image]
    assert store.votes(by=ANA) == [mixed, text] and store.votes(by=BEN, kind="text-to-video") == []
    assert store.votes(search="  café at night ") == [mixed, text]  # any case, accents included, on both backends
    assert store.votes(search="TRAM") == [image] and store.votes(search="bus") == []


def test_a_version_8_history_gains_ratings_and_votes(tmp_path):
    """A file written before ratings opens with its rows, and takes ratings and votes."""
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as db:
        for migration in MIGRATIONS[:8]:
            db.executescript(migration.format(float="REAL"))
        db.execute(
            """INSERT INTO generations (id, model, request_json, status, created_at, updated_at)
               VALUES ('old', 'veo2', '{"prompt": "p"}', 'completed', 1.0, 1.0)"""
        )
        db.execute("PRAGMA user_version = 8")
    store = Store(tmp_path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.set_rating("old", 4) and store.record_vote(["old", finished(store, "new")], "old").winner == "old"


def test_two_processes_on_one_database_see_each_others_ratings(postgres_url, tmp_path):
    first, second = (Store(tmp_path / "data", database_url=postgres_url) for _ in range(2))
    finished(first, "g1")
    first.set_rating("g1", 5, by=ANA)
    second.set_rating("g1", 3, by=BEN)
    assert first.ratings(["g1"], by=ANA)["g1"] == Rating("g1", rating=5, team_average=4.0, team_count=2)
    second.record_vote(["g1", finished(second, "g2")], None, by=BEN)
    assert len(first.votes(by=BEN)) == 1
    first.close()
    second.close()
