"""Compare's Blind mode and Judge blind at page level (AppTest): nothing names a model before the vote, the order
holds, the vote is recorded once with its winner and then revealed, and a vote on a deleted generation is refused."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from components import blind_vote, judge_queue, session
from tests.apptest import run
from tests.votes import ISSUER, KLING, MODELS, PROMPT, SORA, VEO, finished, page_text, signed_in
from videogen import catalog
from videogen.store import Record, Store


def open_compare(app, ids: list[str], *, blind: bool = True):
    app.switch_page("pages/compare.py")
    app.query_params["ids"] = ",".join(ids)
    if blind:
        app.query_params["blind"] = "1"
    return run(app)


def order(at, ids: list[str]) -> list[str]:
    """The ids in the order this tab shows them blind (A, B, ...)."""
    return at.session_state[session.BLIND_ORDERS][blind_vote.comparison_key(ids)]


def headings(at) -> list[str]:
    return [m.value for m in at.main.markdown if m.value.startswith("**") and m.value[2] in "ABCD" and m.value[3] == "*"]


def click(at, label: str):
    (button,) = [b for b in at.button if b.label == label]
    button.click()
    return run(at)


def leaks(at, store: Store, ids: list[str]) -> list[str]:
    """What on the page would tell the models apart: a model's id or name, a generation's id or its short form."""
    models = [r.model for r in store.find(ids)]
    telling = [*models, *(catalog.name_of(m) for m in models), *ids, *(i.split(":")[0][:8] for i in ids)]
    shown = page_text(at)
    return [word for word in telling if word in shown]


def test_the_blind_switch_hides_every_model_name_parameter_and_id_until_the_vote(app, data_dir):
    ids = finished(Store(data_dir), MODELS[:2])
    at = open_compare(app, ids, blind=False)
    assert any(catalog.name_of(VEO) in o for o in at.multiselect[0].options)  # the picker names them
    at.toggle(key=session.COMPARE_BLIND).set_value(True)
    at = run(at)
    assert at.query_params["blind"] == "1"  # a reload stays blind
    assert leaks(at, Store(data_dir), ids) == []
    assert not at.multiselect and not at.table and "Parameters" not in [s.value for s in at.subheader]
    assert headings(at) == ["**A**", "**B**"] and len(at.get("video")) == 2
    assert [b.label for b in at.button] == ["A is better", "Tie", "B is better"]

    at = click(at, "B is better")
    b = order(at, ids)[1]
    (vote,) = Store(data_dir).votes()
    assert (vote.winner, vote.shown, vote.person, vote.prompt, vote.kind) == (b, tuple(order(at, ids)), "", PROMPT, "text-to-video")
    names = [catalog.name_of(Store(data_dir).get(i).model) for i in order(at, ids)]
    winner = ":green-badge[:material/trophy: your pick]"
    assert [h.replace("\\", "") for h in headings(at)] == [f"**A** · {names[0]}", f"**B** · {names[1]} {winner}"]
    assert any(f"**B** ({names[1]}) is better" in s.value.replace("\\", "") for s in at.success)
    assert list(at.table[0].value.columns) == ["A", "B"]  # the parameters, now with their letters
    assert at.table[0].value.loc["Model"].tolist() == [Store(data_dir).get(i).model for i in order(at, ids)]
    assert not [b for b in at.button if b.label.endswith("is better")]
    assert leaks(at, Store(data_dir), ids)  # the check sees names where there are some


def test_the_order_is_drawn_once_and_kept_across_reruns_and_the_vote_names_what_was_shown(app, data_dir):
    ids = finished(Store(data_dir), (*MODELS, "google/veo3"))
    at = open_compare(app, ids)
    first, videos = order(at, ids), [v.proto.url for v in at.get("video")]
    assert sorted(first) == sorted(ids)
    for _ in range(3):
        at = run(at)
        assert order(at, ids) == first and [v.proto.url for v in at.get("video")] == videos
    at.query_params["ids"] = ",".join(reversed(ids))  # the same comparison from another link
    at = run(at)
    assert order(at, ids) == first and [v.proto.url for v in at.get("video")] == videos
    assert [b.label for b in at.button] == ["A is best", "B is best", "C is best", "D is best"]
    at = click(at, "C is best")
    assert Store(data_dir).votes()[0].winner == first[2]


def test_the_shuffle_is_not_the_links_order():
    ids = [f"g{i}" for i in range(4)]
    assert len({tuple(blind_vote.shuffled(ids)) for _ in range(60)}) > 1
    assert sorted(blind_vote.shuffled(ids)) == ids


def test_a_tie_is_recorded_and_shown(app, data_dir):
    ids = finished(Store(data_dir), MODELS[:2])
    at = click(open_compare(app, ids), "Tie")
    (vote,) = Store(data_dir).votes()
    assert vote.winner is None and set(vote.shown) == set(ids)
    assert any("A and B tie" in s.value for s in at.success)
    assert all(h.endswith(":gray-badge[tie]") for h in headings(at))


def test_with_three_it_asks_for_the_best_one_and_offers_no_tie(app, data_dir):
    ids = finished(Store(data_dir))
    at = open_compare(app, ids)
    assert any(m.value == "**Which is the best of these 3?**" for m in at.markdown)
    assert [b.label for b in at.button] == ["A is best", "B is best", "C is best"]
    at = click(at, "A is best")
    (vote,) = Store(data_dir).votes()
    assert vote.winner == order(at, ids)[0] and len(vote.shown) == 3
    assert any("is the best" in s.value for s in at.success)


def test_one_vote_per_comparison_in_a_tab(app, data_dir):
    ids = finished(Store(data_dir), MODELS[:2])
    at = click(open_compare(app, ids), "A is better")
    at.toggle(key=session.COMPARE_BLIND).set_value(False)
    at = run(at)
    at.toggle(key=session.COMPARE_BLIND).set_value(True)
    at.query_params["ids"] = ",".join(reversed(ids))
    at = run(at)
    assert not [b for b in at.button if "better" in b.label] and at.success  # shown as voted, not asked again
    assert len(Store(data_dir).votes()) == 1


def test_a_vote_on_a_generation_deleted_meanwhile_is_refused_with_its_letter(app, data_dir):
    store = Store(data_dir)
    ids = finished(store)
    at = open_compare(app, ids)
    shown = order(at, ids)
    assert store.delete(shown[1])  # B, from History in another tab
    at = click(at, "A is best")
    assert [e.value for e in at.error] == ["The vote was not recorded: video B was deleted meanwhile. Nothing was counted."]
    assert store.votes() == []
    assert len(at.get("video")) == 2  # the two left, a new comparison, still blind
    assert headings(at) == ["**A**", "**B**"]


def test_the_voter_is_the_signed_in_person(app, data_dir):
    ids = finished(Store(data_dir), MODELS[:2], owner=f"{ISSUER}#ana-5f1c")
    at = click(open_compare(signed_in(app, "ana-5f1c", "ana@example.com"), ids), "A is better")
    assert Store(data_dir).votes()[0].person == f"{ISSUER}#ana-5f1c"
    assert any("as `ana@example.com`" in s.value for s in at.success)


# -- Judge blind --------------------------------------------------------------------------------


def judge_link(at) -> str | None:
    links = [e for e in at.get("page_link") if e.proto.label == "Judge blind"]
    return parse_qs(links[0].proto.query_string)["judge"][0] if links else None


def test_a_models_batch_offers_judge_blind_and_a_seed_batch_does_not(app, data_dir):
    store = Store(data_dir)
    ids = finished(store, batch_id="models-batch")
    at = run(app)
    assert judge_link(at) == ",".join(ids)
    assert not next(e for e in at.get("page_link") if e.proto.label == "Judge blind").proto.disabled

    finished(store, (VEO, VEO), batch_id="seed-batch", first=10)  # a batch of one model, beside it
    at = run(app)
    judged = [parse_qs(e.proto.query_string)["judge"][0] for e in at.get("page_link") if e.proto.label == "Judge blind"]
    assert judged == [",".join(ids)]


def test_history_rows_of_different_models_open_judge_blind(app, data_dir):
    ids = finished(Store(data_dir))
    app.switch_page("pages/history.py")
    app.session_state[session.HISTORY_SELECTION] = ids[:2]
    at = run(app)
    assert judge_link(at) is not None and set(judge_link(at).split(",")) == set(ids[:2])


def test_judge_blind_steps_through_every_pair_of_different_models(app, data_dir):
    store = Store(data_dir)
    ids = finished(store, (*MODELS, VEO))  # two of Veo 2: they are never a pair
    app.switch_page("pages/compare.py")
    app.query_params["judge"] = ",".join(ids)
    at = run(app)
    assert not at.toggle and not at.multiselect  # always blind
    assert at.get("progress")[0].proto.text == "Pair 1 of 5 · 0 voted"
    assert leaks(at, store, ids) == []

    at = click(at, "A is better")
    assert at.get("progress")[0].proto.text == "Pair 1 of 5 · 1 voted" and at.success
    at = click(at, "Next pair")
    assert at.get("progress")[0].proto.text == "Pair 2 of 5 · 1 voted"
    at = click(at, "Skip this pair")
    for pair in (3, 4, 5):
        assert at.get("progress")[0].proto.text == f"Pair {pair} of 5 · {pair - 2} voted"
        at = click(at, "Tie")
        at = click(at, "Finish" if pair == 5 else "Next pair")
    assert any("All 5 pairs seen: 4 votes recorded, 1 skipped." in s.value for s in at.success)
    votes = store.votes()
    assert len(votes) == 4 and all(len(set(v.models)) == 2 for v in votes)
    assert len({frozenset(v.shown) for v in votes}) == 4  # four different pairs
    at = run(at)  # a rerun stays where it was
    assert any("All 5 pairs seen" in s.value for s in at.success)
    assert any("spent with this key" in c.value for c in at.sidebar.caption)  # the sidebar is whole


def test_the_pairs_go_round_by_round():
    records = [Record(f"g{i}", m, {}, None, "", 0, 0) for i, m in enumerate((VEO, KLING, SORA, "google/veo3"))]
    pairs = judge_queue.pairs(records)
    assert len(pairs) == 6 and len({frozenset(p) for p in pairs}) == 6
    for start in (0, 2, 4):  # each round shows each generation once
        assert len(set(pairs[start]) | set(pairs[start + 1])) == 4
    assert judge_queue.pairs(records[:1]) == [] and len(judge_queue.pairs(records[:3])) == 3


@pytest.mark.parametrize("count", [1, 2])
def test_judge_blind_with_one_model_says_what_it_needs(app, data_dir, count):
    ids = finished(Store(data_dir), (VEO,) * count)
    app.switch_page("pages/compare.py")
    app.query_params["judge"] = ",".join(ids)
    at = run(app)
    assert any("at least two different models" in i.value for i in at.info) and not at.get("video")


def test_a_generation_deleted_during_judging_leaves_its_pairs_to_be_skipped(app, data_dir):
    store = Store(data_dir)
    ids = finished(store)
    app.switch_page("pages/compare.py")
    app.query_params["judge"] = ",".join(ids)
    at = click(run(app), "A is better")
    queue = at.session_state[session.JUDGE_QUEUES][blind_vote.comparison_key(ids)]
    (gone,) = set(queue.pairs[1]) - set(queue.pairs[0])  # in the next pair, not in this one
    assert store.delete(gone)
    at = click(at, "Next pair")
    assert at.get("progress")[0].proto.text == "Pair 2 of 3 · 1 voted"  # the same queue, not a new one
    assert any("no longer here" in i.value for i in at.info) and not at.get("video")
    at = click(at, "Next pair")
    assert at.get("progress")[0].proto.text == "Pair 3 of 3 · 1 voted"
    assert len(store.votes()) == 1
