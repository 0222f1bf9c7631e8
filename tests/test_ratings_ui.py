"""Ratings and triage at page level (AppTest): stars and Reject on cards and in History, its filters, exports,
and each person's own rating beside the team's."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from components import session
from tests.apptest import ISSUER, owned_history, person, run, seed_history, signed_in, table_view
from videogen import history
from videogen.store import Rating, Store

APP = Path(__file__).resolve().parent.parent / "app.py"
ANA, BEN = f"{ISSUER}#ana-5f1c", f"{ISSUER}#ben-93a0"


def shown_ids(at: AppTest) -> list[str]:
    return at.dataframe[0].value["id"].tolist()


def history_page(app, query: dict | None = None) -> AppTest:
    app.switch_page("pages/history.py")
    app.query_params.update(query or {})
    return run(table_view(app))


def markdown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


# -- cards ------------------------------------------------------------------------------------------


def test_four_stars_on_a_finished_card_are_kept_and_a_second_click_takes_them_back(app, data_dir):
    store = seed_history(data_dir)  # a and b finished, c failed, d still generating
    at = run(app)
    at.feedback(key="card-rating-a:veo2").set_value(3)  # the fourth star: st.feedback counts from 0
    at = run(at)
    assert store.ratings(["a:veo2"])["a:veo2"] == Rating("a:veo2", rating=4, team_average=4.0, team_count=1)
    assert at.feedback(key="card-rating-a:veo2").value == 3
    at.feedback(key="card-rating-a:veo2").set_value(None)  # the chosen star clicked again
    at = run(at)
    assert store.ratings(["a:veo2"])["a:veo2"].rating is None


def test_the_stars_show_what_the_store_holds_when_another_tab_rated_meanwhile(app, data_dir):
    store = seed_history(data_dir)
    at = run(app)
    assert at.feedback(key="card-rating-b:veo2").value is None
    store.set_rating("b:veo2", 2)
    assert run(at).feedback(key="card-rating-b:veo2").value == 1


def test_a_running_or_failed_card_has_no_rating_and_no_reject(app, data_dir):
    seed_history(data_dir)
    at = run(app)
    assert {"Ocean waves", "Foxes playing"} <= {t.value for t in at.text}  # their cards are drawn
    assert sorted(f.key for f in at.feedback) == ["card-rating-a:veo2", "card-rating-b:veo2"]
    assert sorted(b.key for b in at.button if "-reject-" in b.key) == ["card-reject-a:veo2", "card-reject-b:veo2"]


def test_a_rejected_card_stays_marked_rejected_and_the_rejection_can_be_taken_back(app, data_dir):
    store = seed_history(data_dir)
    at = run(app)
    at.button(key="card-reject-a:veo2").click()
    at = run(at)
    assert store.ratings(["a:veo2"])["a:veo2"].rejected
    assert "A fox in snow" in [t.value for t in at.text]  # still on the page: nothing is lost
    assert markdown(at).count("Rejected]") == 1 and at.button(key="card-reject-a:veo2").label == "Rejected"
    assert any("Hide rejected" in t.proto.body for t in at.toast)
    at.button(key="card-reject-a:veo2").click()
    at = run(at)
    assert not store.ratings(["a:veo2"])["a:veo2"].rejected and "Rejected]" not in markdown(at)


# -- History ----------------------------------------------------------------------------------------


def test_reject_in_the_details_hides_it_from_history_until_hide_rejected_is_off(app, data_dir):
    store = seed_history(data_dir)
    at = history_page(app, {"gen": "b:veo2"})
    assert at.toggle(key=session.HISTORY_HIDE_REJECTED).value is True  # on from the start
    at.button(key="detail-reject-b:veo2").click()
    at = run(at)
    assert store.ratings(["b:veo2"])["b:veo2"].rejected
    assert shown_ids(at) == ["d:veo2", "c:veo2", "a:veo2"]
    assert store.get("b:veo2") is not None  # set aside, not deleted
    at.toggle(key=session.HISTORY_HIDE_REJECTED).set_value(False)
    at = run(at)
    table = at.dataframe[0].value.set_index("id")
    assert shown_ids(at) == ["d:veo2", "c:veo2", "b:veo2", "a:veo2"]
    assert table["rejected"].to_dict() == {"d:veo2": False, "c:veo2": False, "b:veo2": True, "a:veo2": False}


def test_a_link_to_a_rejected_generation_says_the_filter_hides_it(app, data_dir):
    seed_history(data_dir).set_rejected("a:veo2", True)
    at = history_page(app, {"gen": "a:veo2"})
    assert any("hidden by the filters" in i.value for i in at.info)


def test_the_details_rate_and_the_table_shows_the_rating(app, data_dir):
    store = seed_history(data_dir)
    at = history_page(app, {"gen": "a:veo2"})
    at.feedback(key="detail-rating-a:veo2").set_value(4)
    at = run(at)
    assert store.ratings(["a:veo2"])["a:veo2"].rating == 5
    assert at.dataframe[0].value.set_index("id").loc["a:veo2", "rating"] == 5


def test_the_least_rating_filter_keeps_what_is_rated_that_or_better(app, data_dir):
    store = seed_history(data_dir)
    store.set_rating("a:veo2", 4)
    store.set_rating("b:veo2", 2)
    at = history_page(app)
    assert shown_ids(at) == ["d:veo2", "c:veo2", "b:veo2", "a:veo2"]
    for least, expected in ((3, ["a:veo2"]), (2, ["b:veo2", "a:veo2"]), (5, []), (None, ["d:veo2", "c:veo2", "b:veo2", "a:veo2"])):
        at.segmented_control(key=session.HISTORY_MIN_RATING).set_value(least)
        at = run(at)
        assert (shown_ids(at) if at.dataframe else []) == expected, least


def test_history_reads_every_rating_in_one_query(app, data_dir, monkeypatch):
    store = seed_history(data_dir)
    for i in range(40):
        store.add(_answer(f"more-{i}"), request={"model": "veo2", "prompt": f"p{i}"}, server="elsewhere")
    asked = []
    ratings = Store.ratings
    monkeypatch.setattr(Store, "ratings", lambda self, ids, **kw: asked.append(len(ids)) or ratings(self, ids, **kw))
    history_page(app)
    assert asked == [44]


def _answer(gen_id: str):
    from videogen.api import Answer, Status

    return Answer(gen_id, Status.FAILED, error="no")


# -- exports ----------------------------------------------------------------------------------------


def test_both_exports_carry_the_rating_the_teams_and_the_rejection(data_dir):
    store = seed_history(data_dir)
    store.set_rating("a:veo2", 4, by=ANA)
    store.set_rating("a:veo2", 1, by=BEN)
    store.set_rejected("b:veo2", True, by=ANA)
    ids = [r.id for r in store.records()]
    ratings = store.ratings(ids, by=ANA)

    exported = {r["id"]: r for r in json.loads(history.to_json(store.find(ids), ratings=ratings))}
    assert {k: exported["a:veo2"][k] for k in ("rating", "team_rating", "team_rating_count", "rejected")} == {
        "rating": 4,
        "team_rating": 2.5,
        "team_rating_count": 2,
        "rejected": False,
    }
    assert (exported["b:veo2"]["rating"], exported["b:veo2"]["rejected"]) == (None, True)

    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(history.to_csv(store.find(ids), ratings=ratings).decode()))}
    assert list(rows["a:veo2"])[-5:-1] == ["rating", "team_rating", "team_rating_count", "rejected"]  # after the old ones
    assert (rows["a:veo2"]["rating"], rows["a:veo2"]["team_rating"], rows["a:veo2"]["rejected"]) == ("4", "2.5", "False")
    assert (rows["b:veo2"]["rating"], rows["b:veo2"]["rejected"], rows["d:veo2"]["team_rating_count"]) == ("", "True", "0")


def test_the_columns_before_ratings_keep_their_order_and_no_ratings_read_as_unrated(data_dir):
    assert history.EXPORT_COLUMNS[:16] == [
        "id",
        "model",
        "created",
        "completed",
        "status",
        "prompt",
        "seconds_taken",
        "credits_used",
        "usd",
        "error",
        "video_url",
        "starred",
        "note",
        "parent_id",
        "owner",
        "request",
    ]
    store = seed_history(data_dir)
    store.set_rating("a:veo2", 4)
    (row,) = history.export_rows(store.find(["a:veo2"]))  # no ratings handed in
    assert (row["rating"], row["team_rating"], row["team_rating_count"], row["rejected"]) == (None, None, 0, False)


# -- sign-in: each person's own, beside the team's -------------------------------------------------


def test_signed_in_ana_and_ben_rate_apart_and_each_sees_the_teams_average(app, data_dir):
    store = owned_history(data_dir)
    ana = run(signed_in(app, person("ana-5f1c", "ana@example.com", True)))
    ana.feedback(key="card-rating-ana-1").set_value(4)
    ana = run(ana)

    ben = signed_in(AppTest.from_file(str(APP), default_timeout=30), person("ben-93a0", "ben@example.com", True))
    ben.session_state[session.TEAM_VIEW] = True  # Ben sees Ana's card in the team's view
    ben = run(ben)
    assert ben.feedback(key="card-rating-ana-1").value is None  # Ana's stars are not Ben's
    ben.feedback(key="card-rating-ana-1").set_value(1)
    ben = run(ben)
    assert "team 3.5 from 2" in [c.value for c in ben.caption]

    assert store.ratings(["ana-1"], by=ANA)["ana-1"].rating == 5 and store.ratings(["ana-1"], by=BEN)["ana-1"].rating == 2
    ana = run(ana)
    assert ana.feedback(key="card-rating-ana-1").value == 4
    assert "team 3.5 from 2" in [c.value for c in ana.caption]
    ana.switch_page("pages/history.py")
    ana = run(table_view(ana))
    table = ana.dataframe[0].value.set_index("id")
    assert (table.loc["ana-1", "rating"], table.loc["ana-1", "team_rating"]) == (5, 3.5)


def test_with_sign_in_off_no_team_figure_shows(app, data_dir):
    store = seed_history(data_dir)
    store.set_rating("a:veo2", 3)
    at = run(app)
    assert at.feedback(key="card-rating-a:veo2").value == 2
    assert not [c for c in at.caption if c.value.startswith("team ")]
