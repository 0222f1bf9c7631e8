"""Variants: sweeping one request into a batch, and sending a batch item by item against the simulator."""

from __future__ import annotations

import pytest

from tests.helpers import wait_until
from videogen import catalog, lineage, seeds, variants
from videogen.api import OutcomeUnknownError, RateLimitError, Status
from videogen.simulator.faults import Fault

BASE = catalog.validate("veo2", {"prompt": "a lighthouse at dusk", "aspect_ratio": "16:9", "duration": 5}).body


def test_seeds_are_distinct_in_range_and_the_rest_of_the_request_stays():
    batch = variants.expand({**BASE, "seed": 7}, "seed", 8)
    seeds = [v.body["seed"] for v in batch]
    assert len(set(seeds)) == 8 and 7 not in seeds
    low, high = variants.seed_range(catalog.get("veo2"))
    assert all(low <= s <= high for s in seeds)
    assert all({**v.body, "seed": None} == {**BASE, "seed": None} for v in batch)
    assert batch[0].label == f"seed {seeds[0]}"


@pytest.mark.parametrize("count", [1, 9])
def test_a_batch_has_two_to_eight_variants(count):
    with pytest.raises(ValueError, match="2 to 8"):
        variants.expand(BASE, "seed", count)
    with pytest.raises(ValueError, match="2 to 8"):
        variants.expand(BASE, "duration", list(range(1, count + 1)))


def test_a_model_without_a_seed_cannot_vary_seeds():
    no_seed = next(m for m in catalog.models().values() if variants.seed_range(m) is None and m.kind == "text-to-video")
    body = catalog.validate(no_seed, {"prompt": "x"}).body
    assert variants.choices(no_seed, "seed") == []
    with pytest.raises(ValueError, match="takes no seed"):
        variants.expand(body, "seed", 3)


def test_ratio_and_duration_sweeps_take_the_models_own_values():
    veo2 = catalog.get("veo2")
    assert variants.choices(veo2, "aspect_ratio") == ["16:9", "9:16"]
    batch = variants.expand(BASE, "duration", [5, 8, 8])
    assert [v.body["duration"] for v in batch] == [5, 8]  # the same value twice would pay twice for one result
    assert [v.label for v in batch] == ["5 s", "8 s"]


def test_a_value_the_model_refuses_is_named_and_the_others_go():
    batch = variants.expand(BASE, "duration", [5, 30])
    assert batch[0].ok
    assert not batch[1].ok and "Duration" in batch[1].problem


def test_a_model_sweep_keeps_the_shared_fields_and_validates_each_model_by_its_own_rules():
    others = [m for m in variants.choices(catalog.get("veo2"), "model") if m != "veo2"]
    assert len(others) > 10 and all(catalog.get(m).kind == "text-to-video" for m in others)
    chosen = ["veo2", *others[:7]]
    batch = variants.expand({**BASE, "negative_prompt": "rain"}, "model", chosen)
    assert [v.body["model"] if v.ok else None for v in batch][0] == "veo2"
    for variant, model_id in zip(batch, chosen, strict=True):
        model = catalog.get(model_id)
        taken = {p.name for p in model.params}
        if variant.ok:
            assert variant.body["prompt"] == BASE["prompt"]
            assert set(variant.body) - {"model"} <= taken
            assert catalog.validate(model, variant.body).ok
        else:
            assert variant.problem
        assert set(variant.dropped) == {k for k in BASE.keys() | {"negative_prompt"} if k != "model" and k not in taken}


def test_differences_name_the_fields_that_vary():
    a, b = {"model": "veo2", "seed": 1, "prompt": "x"}, {"model": "veo2", "seed": 2, "prompt": "x", "duration": 5}
    assert variants.differences([a, b]) == {"seed", "duration"}
    assert variants.varied([a, {**a, "prompt": "y"}]) == {"prompt"}
    assert variants.varied([a, {"model": "other", "seed": 1}]) == {"model"}  # a model that takes no prompt drops it


def test_seed_ranges_are_the_ones_seeds_are_drawn_from():
    seeded = [m for m in catalog.models().values() if seeds.seed_param(m) is not None]
    assert len(seeded) > 10
    assert all(variants.seed_range(m) == seeds.seed_range(seeds.seed_param(m)) for m in seeded)
    assert not hasattr(variants, "SEED_MAX")  # one bound for every drawn seed, in seeds.py


# -- prompts ----------------------------------------------------------------------

FOX, WOLF, HARE = "A red fox in fresh snow", "A grey wolf howling at the moon", "An arctic hare on a frozen lake"


def test_prompts_skip_blank_lines_collapse_repeats_and_keep_the_rest_of_the_request():
    lines = ["", f"  {FOX}  ", "   ", WOLF, FOX, HARE, WOLF]
    assert variants.prompt_lines(lines) == [(2, FOX), (4, WOLF), (6, HARE)]
    batch = variants.expand({**BASE, "seed": 42}, "prompt", lines)
    assert [v.body["prompt"] for v in batch] == [FOX, WOLF, HARE]
    assert all({**v.body, "prompt": None} == {**BASE, "seed": 42, "prompt": None} for v in batch)
    assert [v.label for v in batch] == [FOX, WOLF, HARE]


def test_a_blank_seed_is_drawn_once_for_the_whole_batch():
    assert "seed" not in BASE  # the form's seed was left blank
    for _ in range(3):  # a seed drawn per variant would differ between them
        batch = variants.expand(BASE, "prompt", [FOX, WOLF, HARE])
        (seed,) = {v.body["seed"] for v in batch}
        low, high = seeds.seed_range(seeds.seed_param("veo2"))
        assert isinstance(seed, int) and low <= seed <= high
    # With a shared seed in the body, a create keeps it rather than drawing its own.
    assert seeds.with_seed(batch[1].body) == (batch[1].body, seed)


def test_a_model_without_a_seed_sweeps_prompts_without_one():
    no_seed = next(m for m in catalog.models().values() if variants.seed_range(m) is None and catalog.validate(m, {"prompt": FOX}).ok)
    body = catalog.validate(no_seed, {"prompt": FOX}).body
    batch = variants.expand(body, "prompt", [FOX, WOLF])
    assert [v.body["prompt"] for v in batch] == [FOX, WOLF] and all("seed" not in v.body for v in batch)


def test_a_line_the_model_refuses_names_its_line_and_the_others_go():
    too_long = "snow " * 900  # 4,500 characters: veo2 takes 4,000
    batch = variants.expand(BASE, "prompt", [FOX, "", too_long, WOLF])
    assert [v.ok for v in batch] == [True, False, True]
    assert batch[1].problem.startswith("Line 3: ") and "limit is 4,000" in batch[1].problem
    assert len(batch[1].label) == variants.PROMPT_LABEL_CHARS and batch[1].label.endswith("…")


@pytest.mark.parametrize("lines", [[FOX], [FOX, "", f" {FOX}"], [f"{FOX} {i}" for i in range(9)]])
def test_a_prompt_batch_has_two_to_eight_different_prompts(lines):
    with pytest.raises(ValueError, match="2 to 8"):
        variants.expand(BASE, "prompt", lines)


def test_prompts_are_offered_only_for_a_model_that_takes_one():
    assert "prompt" in variants.offered(catalog.get("veo2"))
    no_prompt = next(m for m in catalog.models().values() if not variants.takes_prompt(m))
    assert "prompt" not in variants.offered(no_prompt)
    body = catalog.validate(no_prompt, {}).body or {"model": no_prompt.id}
    with pytest.raises(ValueError, match="takes no prompt"):
        variants.expand(body, "prompt", [FOX, WOLF])


def test_the_forms_own_prompt_does_not_stop_a_prompt_sweep():
    veo2 = catalog.get("veo2")
    lines = ["", "x" * 4001, WOLF, HARE]
    for form_prompt in ("", "x" * 4001):
        base = variants.base_values(veo2, {"prompt": form_prompt, "seed": "7"}, "prompt", lines)
        assert base == {"prompt": WOLF, "seed": "7"}  # the first line the model takes
        assert catalog.validate(veo2, base).ok
    assert variants.base_values(veo2, {"prompt": ""}, "seed", 4) == {"prompt": ""}  # other sweeps send the form's


def test_each_prompt_of_a_batch_names_the_parent_it_is_a_version_of(conn):
    parent = conn.submit({**BASE, "prompt": FOX})
    batch = variants.expand({**BASE, "prompt": FOX}, "prompt", [FOX, FOX + " at dusk", WOLF])
    bodies = [v.body for v in batch]
    parents = [lineage.parent_for(conn.store, parent.id, body) for body in bodies]
    assert parents == [parent.id, parent.id, None]  # the wolf is a new prompt, not a version of the fox
    batch_id = variants.new_batch_id()
    conn.submit_batch(bodies, batch_id=batch_id, parent_ids=parents)
    recorded = conn.store.batch(batch_id)
    assert [r.parent_id for r in recorded] == parents
    assert len({r.request["seed"] for r in recorded}) == 1
    with pytest.raises(ValueError, match="one each"):
        conn.submit_batch(bodies, batch_id="short", parent_ids=parents[:2])


def test_a_batch_is_recorded_under_one_id_in_its_order_and_completes(conn, sim):
    batch = variants.expand(BASE, "seed", 4)
    batch_id = variants.new_batch_id()
    outcomes = conn.submit_batch([v.body for v in batch], batch_id=batch_id)
    assert sim.count("create") == 4
    recorded = conn.store.batch(batch_id)
    assert [r.request["seed"] for r in recorded] == [v.body["seed"] for v in batch]
    assert [r.id for r in recorded] == [o.id for o in outcomes]
    assert wait_until(lambda: all(r.status is Status.COMPLETED for r in conn.store.batch(batch_id)))


def test_one_items_failure_is_its_own_and_nothing_is_retried(conn, sim):
    # The first create answers 503 after the job was made (outcome unknown), the second is rate limited.
    sim.faults.inject("create", Fault.http(503, acted=True))
    sim.faults.inject("create", Fault.http(429, retry_after=5))
    batch_id = variants.new_batch_id()
    bodies = [v.body for v in variants.expand(BASE, "seed", 5)]
    outcomes = conn.submit_batch(bodies, batch_id=batch_id)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert sorted(type(e).__name__ for e in errors) == ["OutcomeUnknownError", "RateLimitError"]
    assert any(isinstance(e, OutcomeUnknownError) for e in errors) and any(isinstance(e, RateLimitError) for e in errors)
    assert sim.count("create") == 5  # no item was sent twice
    assert len(conn.store.batch(batch_id)) == 3
