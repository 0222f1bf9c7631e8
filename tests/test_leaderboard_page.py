"""The Leaderboard page (AppTest): what it says with no votes, models ranked by the votes, filtered by kind, person
and prompt, the sentence about the top two, its CSV, and one fit per set of votes however often it reruns."""

from __future__ import annotations

import pytest

from components import leaderboard_view
from tests.apptest import run
from tests.votes import ISSUER, KLING, SORA, VEO, WAN_I2V, finished, signed_in
from videogen import leaderboard
from videogen.store import Store

ANA, BEN = f"{ISSUER}#ana-5f1c", f"{ISSUER}#ben-93a0"


def board_page(app):
    app.switch_page("pages/leaderboard.py")
    return run(app)


def cast(store: Store, ids: list[str], wins: list[int], *, by: str = "") -> None:
    """A vote per entry of `wins`: the pair (ids[0], ids[1]) with that index the winner."""
    for winner in wins:
        store.record_vote(ids, ids[winner], by=by)


@pytest.fixture
def voted(data_dir) -> Store:
    """Veo 2 beats Kling 1.6 in 9 votes of 10 (Ana's), Kling beats Sora 2 once (Ben's); two image votes on a tram."""
    store = Store(data_dir)
    veo, kling, sora = finished(store, (VEO, KLING, SORA))
    cast(store, [veo, kling], [0] * 9 + [1], by=ANA)
    cast(store, [kling, sora], [0], by=BEN)
    image = finished(store, (WAN_I2V, WAN_I2V), prompt="A tram at dusk", first=10)
    store.record_vote(image, None, by=BEN)  # one model's two videos: no comparison of models
    return store


def test_with_no_votes_it_says_how_to_vote(app, data_dir):
    finished(Store(data_dir))
    at = board_page(app)
    (info,) = at.info
    assert "No votes yet" in info.value and "**Blind**" in info.value and "**Judge blind**" in info.value
    assert [e.proto.label for e in at.main.get("page_link")] == ["Open Compare"]
    assert not at.dataframe
    assert any("spent with this key" in c.value for c in at.sidebar.caption)  # the page never cuts the run short


def test_the_board_ranks_the_models_with_their_votes_and_exports_them(app, voted):
    at = board_page(app)
    table = at.dataframe[0].value
    expected = leaderboard.fit(voted.votes())
    assert table.equals(leaderboard_view.frame(expected))
    assert table["name"].tolist()[0] == "Veo 2" and table["model"].tolist()[0] == VEO
    assert dict(zip(table["model"], table["votes"], strict=True)) == {VEO: 10, KLING: 11, SORA: 1}
    assert dict(zip(table["model"], table["wins"], strict=True)) == {VEO: 9, KLING: 2, SORA: 0}
    assert all(" to " in i for i in table["interval"])
    (summary,) = [m.value for m in at.markdown if "leads" in m.value or "level" in m.value]
    first, second = expected.standings[:2]
    assert summary.startswith(f"**{first.name}** leads **{second.name.replace('.', chr(92) + '.')}**")
    if expected.votes_to_separate:
        assert f"about **{expected.votes_to_separate:,}** more vote" in summary
    assert any("3 models from 11 votes (1 among one model's videos" in c.value for c in at.caption)
    (export,) = at.download_button
    assert export.label == "Export CSV" and export.proto.deferred_file_id  # built on the click (the browser test reads it)


def test_the_filters_choose_the_votes_counted(app, voted):
    at = board_page(app)
    assert not [s for s in at.selectbox if s.label == "Person"]  # no sign-in: everyone is one person
    at.segmented_control(key="board_kind").set_value("image-to-video")
    at = run(at)
    assert not at.dataframe and any("None of these 1 votes compares two models" in i.value for i in at.info)
    at.segmented_control(key="board_kind").set_value("text-to-video")
    at.text_input(key="board_search").input("LANTERN")
    at = run(at)
    assert set(at.dataframe[0].value["model"]) == {VEO, KLING, SORA}
    at.text_input(key="board_search").input("a submarine")
    at = run(at)
    assert any(i.value == "No votes match these filters." for i in at.info)


def test_signed_in_the_board_filters_by_person(app, voted):
    at = board_page(signed_in(app, "ana-5f1c", "ana@example.com"))
    person = at.selectbox(key="board_person")
    assert person.options[0] == "Everyone" and "ana@example.com" in person.options
    at = person.set_value(ANA).run()
    assert set(at.dataframe[0].value["model"]) == {VEO, KLING} and at.dataframe[0].value["votes"].tolist() == [10, 10]


def test_the_fit_runs_once_per_set_of_votes(app, voted, monkeypatch):
    fits = []
    real = leaderboard.fit
    monkeypatch.setattr(leaderboard, "fit", lambda votes, **kw: fits.append(len(votes)) or real(votes, **kw))
    at = board_page(app)
    for _ in range(3):
        at = run(at)
    assert fits == [12]
    ids = [r.id for r in voted.records() if r.model in (VEO, SORA)]
    voted.record_vote(ids, ids[0])
    at = run(at)
    assert fits == [12, 13] and at.dataframe[0].value.set_index("model").loc[SORA, "votes"] == 2
