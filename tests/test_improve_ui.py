"""Improve prompt on the Generate page: the rewrite is shown as a word diff, reviewed, edited, used or discarded,
and nothing reaches a video model until Generate is pressed."""

from __future__ import annotations

from components import session
from tests.apptest import run
from videogen import catalog
from videogen.simulator import Fault
from videogen.simulator._handler import CHAT_CAMERA
from videogen.store import Store

DRAFT = "a lighthouse in a storm"


def click(at, label: str):
    next(b for b in at.button if b.label == label).click()
    return run(at)


def improve(at, text: str = DRAFT):
    at.text_area(key="gen_prompt").set_value(text)  # typed, not sent: the form's own button carries it
    return click(at, "Improve prompt")


def diffs(at) -> list[str]:
    return [h.proto.body for h in at.get("html") if "improve-diff" in h.proto.body]


def test_a_rewrite_is_reviewed_as_a_diff_used_and_recorded_as_a_version_of_ones_text(app, sim, data_dir):
    at = improve(run(app))
    rewritten = f"{DRAFT}. {CHAT_CAMERA}"
    assert at.text_area(key=session.IMPROVE_TEXT).value == rewritten
    (diff,) = diffs(at)
    assert "<ins>" in diff and DRAFT in diff
    assert any("demo" in c.value for c in at.caption)  # the simulator's text is labelled as a demo's
    assert at.text_area(key="gen_prompt").value == DRAFT  # only a proposal so far
    assert sim.count("chat") == 1 and sim.count("create") == 0

    at = click(at, "Use this prompt")
    assert at.text_area(key="gen_prompt").value == rewritten
    assert any("went to Improve prompt" in c.value for c in at.sidebar.caption)  # its cost counts in spend
    assert not diffs(at) and sim.count("create") == 0  # nothing sent to a video model yet
    at.button(key="generate").click()
    at = run(at)
    assert sim.count("create") == 1 and sim.count("chat") == 1
    store = Store(data_dir)
    (record,) = store.records()
    assert record.request["prompt"] == rewritten
    assert record.origin == {"kind": "rewrite", "from_prompt": DRAFT, "chat_model": "gpt-4o-mini", "cost_usd": record.origin["cost_usd"]}
    assert record.origin["cost_usd"] > 0
    (call,) = store.chat_calls(record.server, record.account)
    assert call.accepted and call.answer == rewritten and call.prompt == DRAFT


def test_an_edited_rewrite_is_what_goes_into_the_form(app, sim):
    at = improve(run(app))
    at.text_area(key=session.IMPROVE_TEXT).set_value("A lighthouse in a storm at night, waves breaking").run()
    (diff,) = diffs(at)
    assert "<ins>" in diff and "night" in diff
    at = click(at, "Use this prompt")
    assert at.text_area(key="gen_prompt").value == "A lighthouse in a storm at night, waves breaking"


def test_discard_leaves_the_prompt_as_it_was(app, sim):
    at = click(improve(run(app)), "Discard")
    assert not diffs(at) and at.text_area(key="gen_prompt").value == DRAFT
    assert sim.count("create") == 0


def test_a_rewrite_over_the_models_limit_cannot_be_used_until_shortened(app, sim):
    at = improve(run(app))
    limit = catalog.UNPUBLISHED_PROMPT_LIMIT  # veo2 publishes none
    at.text_area(key=session.IMPROVE_TEXT).set_value("x" * (limit + 25)).run()
    use = next(b for b in at.button if b.label == "Use this prompt")
    assert use.disabled
    assert any(f"{limit + 25:,} characters: 25 more than veo2 takes" in e.value.replace("\\", "") for e in at.error)
    at.text_area(key=session.IMPROVE_TEXT).set_value("x" * limit).run()
    assert not next(b for b in at.button if b.label == "Use this prompt").disabled


def test_a_failed_chat_model_leaves_the_prompt_with_one_sentence_why(app, sim):
    sim.faults.inject("chat", Fault.http(500), times=5)
    at = improve(run(app))
    (warning,) = [w for w in at.warning if "left as it was" in w.value]
    assert "charged" in warning.value
    assert at.text_area(key="gen_prompt").value == DRAFT and not diffs(at)
    at = click(at, "Dismiss")
    assert not [w for w in at.warning if "left as it was" in w.value]


def test_an_empty_prompt_asks_nothing(app, sim):
    at = improve(run(app), "")
    assert any("no prompt to improve" in w.value for w in at.warning) and sim.count("chat") == 0
