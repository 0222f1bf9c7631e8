"""Variants and Compare at page level (AppTest, against the test simulator): confirm first, send once, compare by link."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests.apptest import PROMPT, run, submit
from tests.helpers import wait_until
from videogen import catalog, variants
from videogen.api import Answer, Status
from videogen.connection import account_of
from videogen.store import Store


def sweep(at, dimension: str):
    at.toggle(key="variants_on").set_value(True)
    at = run(at)
    at.segmented_control(key="variants_dimension").set_value(dimension)
    return run(at)


def test_a_ratio_sweep_asks_first_then_sends_each_ratio_once(app, sim, data_dir):
    at = sweep(run(app), "aspect_ratio")
    at = submit(at, PROMPT)
    assert sim.count("create") == 0  # nothing goes before the confirmation
    assert any("2 paid generations" in m.value for m in at.markdown)
    at.button(key="confirm-batch").click()
    at = run(at)
    assert sim.count("create") == 2
    (batch_id,) = {r.batch_id for r in Store(data_dir).records()}
    batch = Store(data_dir).batch(batch_id)
    assert [r.request["aspect_ratio"] for r in batch] == ["16:9", "9:16"]
    assert all(r.prompt == PROMPT for r in batch)
    # The batch is one group on the page, with its Compare link once two are finished.
    assert wait_until(lambda: all(r.status is Status.COMPLETED for r in Store(data_dir).batch(batch_id)))
    at = run(at)
    assert any("Batch of 2" in m.value for m in at.markdown)


WOLF, HARE = "A grey wolf howling on a ridge at dusk", "An arctic hare crossing a frozen lake"


def test_a_prompt_sweep_sends_each_prompt_once_with_one_seed_and_compares_them(app, sim, data_dir):
    app.query_params["prompt"] = PROMPT  # the form's prompt, as a link fills it
    at = sweep(run(app), "prompt")
    prompts = at.text_area(key="variants_prompts")
    assert prompts.value == PROMPT  # the form's prompt is the first line
    prompts.input("\n".join([PROMPT, "", WOLF, HARE, ""]))
    at.button(key="generate").click()
    at = run(at)
    assert sim.count("create") == 0  # nothing goes before the confirmation
    assert any("3 paid generations" in m.value for m in at.markdown)
    at.button(key="confirm-batch").click()
    at = run(at)
    assert sim.count("create") == 3
    (batch_id,) = {r.batch_id for r in Store(data_dir).records()}
    batch = Store(data_dir).batch(batch_id)
    assert [r.prompt for r in batch] == [PROMPT, WOLF, HARE]
    (seed,) = {r.request["seed"] for r in batch}
    assert isinstance(seed, int) and {sim.jobs[r.id].body["seed"] for r in batch} == {seed}  # what the server was sent
    assert len({repr({**r.request, "prompt": None}) for r in batch}) == 1  # the prompt is all that differs

    assert wait_until(lambda: all(r.video_path for r in Store(data_dir).batch(batch_id)), timeout=30)
    at = run(at)
    assert any("Batch of 3" in m.value and "varying prompt" in m.value for m in at.markdown)
    link = next(e for e in at.get("page_link") if e.proto.label == "Open in Compare")
    ids = parse_qs(link.proto.query_string)["ids"][0]
    assert ids.split(",") == [r.id for r in batch]
    at = compare(at, ids)
    assert len(at.get("video")) == 3
    headings = [m.value.replace("\\", "") for m in at.markdown if m.value.startswith(("**A**", "**B**", "**C**"))]
    assert headings == [f"**{letter}** :gray[“{variants.label('prompt', p)}”]" for letter, p in zip("ABC", [PROMPT, WOLF, HARE])]


def test_a_prompt_sweep_names_a_refused_line_and_sends_the_others_even_with_the_forms_prompt_blank(app, sim, data_dir):
    at = sweep(run(app), "prompt")
    assert at.text_area(key="variants_prompts").value == ""  # nothing in the form yet
    at.text_area(key="variants_prompts").input("\n".join([WOLF, "snow " * 900, HARE]))
    at.button(key="generate").click()
    at = run(at)
    assert not at.error  # the form's blank prompt is not what goes
    assert any("2 paid generations" in m.value for m in at.markdown)
    refused = [m.value.replace("\\", "") for m in at.markdown if "not sent" in m.value]
    assert len(refused) == 1 and "not sent. Line 2: " in refused[0] and "the limit is 4,000" in refused[0]
    at.button(key="confirm-batch").click()
    at = run(at)
    assert sorted(r.prompt for r in Store(data_dir).records()) == sorted([WOLF, HARE])


def test_cancel_sends_nothing_and_a_stale_confirmation_sends_nothing(app, sim):
    at = submit(sweep(run(app), "seed"), PROMPT)
    at.button(key="cancel-batch").click()
    at = run(at)
    assert sim.count("create") == 0
    assert "variants_draft" not in at.session_state


def test_a_batch_over_the_budget_is_refused_with_both_figures(app, sim, data_dir, monkeypatch):
    store = Store(data_dir)
    body = catalog.validate("veo2", {"prompt": PROMPT}).body
    server = sim.url.rstrip("/")
    for i in range(2):  # two finished generations like it here; the price list's figure wins over their median
        store.add(Answer(f"past-{i}", Status.QUEUED), request=body, server=server, account=account_of("someone"))
        store.apply(Answer(f"past-{i}", Status.COMPLETED, credits_used=1000.0), count_poll=False)
    monkeypatch.setenv("PLAYGROUND_BUDGET_USD", "5")
    at = submit(sweep(run(app), "seed"), PROMPT)  # 4 seeds by default: 4 × $1.95 by the price list
    errors = " ".join(e.value for e in at.error)
    assert "15,600,000 credits ($7.80)" in errors and "10,000,000 credits ($5.00)" in errors
    assert at.button(key="confirm-batch").disabled
    assert sim.count("create") == 0


def test_sweep_choices_follow_the_model():
    veo2 = catalog.get("veo2")
    assert variants.choices(veo2, "duration") == [5, 6, 7, 8]
    assert len(variants.choices(veo2, "model")) == sum(m.kind == "text-to-video" for m in catalog.models().values())


# -- Compare ----------------------------------------------------------------------


@pytest.fixture
def finished(data_dir):
    """Three finished generations with saved videos, differing only by seed, and one still running."""
    store = Store(data_dir)
    for i, seed in enumerate((11, 22, 33)):
        gen_id = f"g{i}:veo2"
        body = catalog.validate("veo2", {"prompt": "A lantern on a lake", "seed": seed}).body
        store.add(Answer(gen_id, Status.QUEUED), request=body, server="elsewhere", created_at=1000 + i)
        store.apply(Answer(gen_id, Status.COMPLETED, video_url="https://cdn.example.com/x.mp4"), count_poll=False)
        video = store.videos_dir / f"{i}.mp4"  # the page plays only files in its own videos folder
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
        store.set_video_path(gen_id, video)
    store.add(Answer("running:veo2", Status.GENERATING), request=body, server="elsewhere")
    return store


def compare(app, ids: str):
    app.switch_page("pages/compare.py")
    app.query_params["ids"] = ids
    return run(app)


def test_compare_shows_prompts_that_differ_word_by_word_against_as(app, finished):
    record = finished.get("g2:veo2")
    edited = {**record.request, "prompt": "A paper lantern drifting on a lake"}
    finished.add(Answer("g3:veo2", Status.QUEUED), request=edited, server="elsewhere", created_at=1003)
    finished.apply(Answer("g3:veo2", Status.COMPLETED, video_url="https://cdn.example.com/x.mp4"), count_poll=False)
    finished.set_video_path("g3:veo2", record.video_path)
    at = compare(app, "g0:veo2,g1:veo2,g3:veo2")
    diffs = [h.proto.body for h in at.get("html") if h.proto.body.startswith('<div class="lineage-diff">')]
    assert len(diffs) == 1 and "<b>C</b>" in diffs[0]  # B's prompt is A's: no diff for it
    assert "<ins>paper </ins>" in diffs[0] and "<del>on</del>" not in diffs[0] and "<ins>drifting </ins>" in diffs[0]
    assert any(c.value == "C: +2 words" for c in at.caption)


def test_compare_names_unknown_and_unfinished_ids_and_compares_the_rest(app, finished):
    at = compare(app, "g0:veo2,nope,running:veo2,g2:veo2")
    warnings = " ".join(w.value for w in at.warning)
    assert "nope" in warnings and "running" in warnings
    assert at.multiselect[0].value == ["g0:veo2", "g2:veo2"]
    assert len(at.get("video")) == 2
    table = at.table[0].value
    assert list(table.columns) == ["A", "B"]
    assert table.loc["Seed"].tolist() == ["11", "33"]


def test_compare_with_fewer_than_two_says_what_to_do(app, finished):
    at = compare(app, "g1:veo2")
    assert any("Pick 2 to 4" in i.value for i in at.info)
    assert not at.get("video")


def test_the_parameter_table_marks_only_parameters_that_differ(finished):
    from components import compare_view

    frame = compare_view.table(finished.find(["g0:veo2", "g1:veo2", "g2:veo2"]))
    assert frame.index[frame["differs"]].tolist() == ["Seed"]
    assert not frame.loc["API id", "differs"]
