"""Variants: sweeping one request into a batch, and sending a batch item by item against the simulator."""

from __future__ import annotations

import pytest

from tests.helpers import FAST_JOB_SECONDS, TEST_KEY, wait_until
from videogen import catalog, variants
from videogen.api import OutcomeUnknownError, RateLimitError, Status
from videogen.connection import connect
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


@pytest.fixture
def conn(sim, tmp_path):
    connection = connect(TEST_KEY, base_url=sim.url, data_dir=tmp_path / "data", typical_seconds=FAST_JOB_SECONDS)
    yield connection
    connection.close()


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
