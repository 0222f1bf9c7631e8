"""Seeds are always recorded: a blank seed is drawn in the model's range, a given one is kept, and the body still validates."""

from __future__ import annotations

import random

import pytest

from tests.helpers import minimal_body
from videogen import catalog, seeds
from videogen.catalog import Param

LINKS = {"image_url": "https://example.com/i.png", "video_url": "https://example.com/v.mp4", "audio_url": "https://example.com/a.mp3"}
SEEDED = sorted(m.id for m in catalog.models().values() if seeds.seed_param(m) is not None)
UNSEEDED = sorted(m.id for m in catalog.models().values() if seeds.seed_param(m) is None)


def validated(model_id: str, **params: object) -> dict:
    model = catalog.get(model_id)
    checked = catalog.validate(model, minimal_body(model, **LINKS) | params)
    assert checked.ok, checked.errors
    return checked.body


def test_every_seed_field_of_the_catalog_is_found():
    with_a_seed_field = {m.id for m in catalog.models().values() if any("seed" in p.name for p in m.params)}
    assert SEEDED and set(SEEDED) == with_a_seed_field
    assert "veo2" in SEEDED and UNSEEDED


@pytest.mark.parametrize("model_id", SEEDED)
def test_a_blank_seed_is_drawn_in_range_and_the_body_still_validates(model_id):
    body = validated(model_id)
    low, high = seeds.seed_range(seeds.seed_param(model_id))
    out, seed = seeds.with_seed(body, rng=random.Random(model_id))
    assert type(seed) is int and low <= seed <= high
    assert out == {**body, "seed": seed}
    assert catalog.validate(model_id, out).body == out
    # Both ends of the range are seeds the model's own schema accepts.
    for end in (low, high):
        assert catalog.validate(model_id, {**out, "seed": end}).ok


@pytest.mark.parametrize("model_id", SEEDED)
def test_a_given_seed_is_kept_zero_included(model_id):
    for given in (0, 1, 123_456):
        body = validated(model_id, seed=given)
        assert seeds.with_seed(body) == (body, given)


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_form_values_that_leave_the_seed_blank_get_one(blank):
    out, seed = seeds.with_seed({"model": "veo2", "prompt": "a fox", "seed": blank}, rng=random.Random(1))
    assert isinstance(seed, int) and out["seed"] == seed
    assert catalog.validate("veo2", out).body["seed"] == seed


def test_a_seed_given_as_text_is_left_as_it_is_and_read_as_validation_reads_it():
    body = {"model": "veo2", "prompt": "a fox", "seed": " 42 "}
    assert seeds.with_seed(body) == (body, 42)
    assert catalog.validate("veo2", body).body["seed"] == 42


@pytest.mark.parametrize("value", ["abc", 1.5, True, [3]])
def test_a_seed_that_is_not_a_whole_number_is_left_for_validation_to_refuse(value):
    body = {"model": "veo2", "prompt": "a fox", "seed": value}
    assert seeds.with_seed(body) == (body, None)
    assert not catalog.validate("veo2", body).ok


def test_a_choose_one_default_is_replaced_by_a_drawn_seed():
    sentinel = [m for m in SEEDED if isinstance(d := seeds.seed_param(m).default, int) and d < 0]
    assert sentinel  # bytedance/seedance-1-5-pro publishes -1
    for model_id in sentinel:
        body = validated(model_id)
        assert body["seed"] < 0  # validation filled the default in
        out, seed = seeds.with_seed(body, rng=random.Random(5))
        assert seed is not None and seed >= 0 and out["seed"] == seed
        assert catalog.validate(model_id, out).ok


def test_a_model_without_a_seed_gets_no_seed_key():
    for model_id in UNSEEDED:
        body = validated(model_id)
        out, seed = seeds.with_seed(body, rng=random.Random(0))
        assert (out, seed) == (body, None) and "seed" not in out
        assert out is not body


def test_an_unknown_model_is_left_for_validation():
    body = {"model": "no/such-model", "prompt": "a fox"}
    assert seeds.with_seed(body) == (body, None)
    assert seeds.with_seed({"prompt": "a fox"}) == ({"prompt": "a fox"}, None)
    with pytest.raises(catalog.UnknownModelError):
        seeds.seed_param("no/such-model")


def test_the_body_given_is_not_changed():
    body = {"model": "veo2", "prompt": "a fox"}
    out, seed = seeds.with_seed(body)
    assert body == {"model": "veo2", "prompt": "a fox"} and out["seed"] == seed


def test_a_seeded_rng_draws_the_same_seeds():
    body = validated("veo2")
    first = [seeds.with_seed(body, rng=random.Random(7))[1] for _ in range(3)]
    assert len(set(first)) == 1
    rng_a, rng_b = random.Random(11), random.Random(11)
    run_a = [seeds.with_seed(body, rng=rng_a)[1] for _ in range(20)]
    run_b = [seeds.with_seed(body, rng=rng_b)[1] for _ in range(20)]
    assert run_a == run_b and len(set(run_a)) > 1


def test_without_an_rng_seeds_still_vary():
    body = validated("veo2")
    assert len({seeds.with_seed(body)[1] for _ in range(20)}) > 1


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({"type": "integer", "minimum": 0, "maximum": 4294967295}, (0, 4294967295)),
        ({"type": "integer"}, (0, seeds.SEED_MAX)),
        ({"type": "integer", "maximum": 2147483647}, (0, 2147483647)),
        ({"type": "integer", "minimum": 10}, (10, seeds.SEED_MAX)),
        ({"type": "integer", "minimum": -1, "maximum": 99}, (0, 99)),
        ({"type": "integer", "default": -1}, (0, seeds.SEED_MAX)),
    ],
)
def test_seed_range(rules, expected):
    assert seeds.seed_range(Param("seed", rules)) == expected


def test_the_published_bounds_are_used():
    assert seeds.seed_range(seeds.seed_param("veo2")) == (0, 2**32 - 1)
    assert seeds.SEED_MAX == 4_294_967_295
