import json
from pathlib import Path

import pytest

from videogen import catalog

SPEC_FILES_WITH_CREATE_BODIES = 143  # distinct model ids in the vendor's video-model files


def test_catalog_holds_every_video_model():
    models = catalog.models()
    assert len(models) == SPEC_FILES_WITH_CREATE_BODIES
    for model_id in ("veo2", "veo2/image-to-video", "google/veo3", "openai/sora-2-t2v", "kling-video/v1/pro/text-to-video"):
        assert model_id in models


def test_veo2_rules():
    veo2 = catalog.get("veo2")
    assert veo2.endpoint == "/v2/video/generations"
    assert veo2.legacy_endpoints == ("/v2/generate/video/google/generation",)
    assert veo2.param("prompt").required
    assert veo2.param("aspect_ratio").enum == ("16:9", "9:16")
    assert veo2.param("aspect_ratio").default == "16:9"
    assert veo2.param("duration").enum == (5, 6, 7, 8)
    assert veo2.param("duration").default == 5  # the vendor file says "5", a string
    assert veo2.param("seed").rules["minimum"] == 0
    assert veo2.param("seed").rules["maximum"] == 4294967295
    assert veo2.param("enhance_prompt").default is True
    assert [p.name for p in veo2.params] == ["prompt", "duration", "aspect_ratio", "negative_prompt", "seed", "enhance_prompt"]


def test_catalog_keeps_facts_not_prose():
    text = Path(catalog.CATALOG_PATH).read_text()
    assert "description" not in text and "example" not in text
    assert json.loads(text)["models"]


def test_legacy_only_models_use_their_vendor_path():
    model = catalog.get("wan/v2.1/1.3b/text-to-video")
    assert model.endpoint == "/v2/generate/video/alibaba/generation"
    assert model.legacy_endpoints == ()


def test_unknown_model():
    with pytest.raises(catalog.UnknownModelError):
        catalog.get("nope")
    assert catalog.validate("nope", {"prompt": "x"}).errors == {"model": "Unknown model 'nope'."}


def test_validate_fills_defaults_and_cleans():
    result = catalog.validate("veo2", {"prompt": "  a fox  ", "negative_prompt": "", "seed": " 42 "})
    assert result.ok
    assert result.body == {
        "model": "veo2",
        "prompt": "a fox",
        "duration": 5,
        "aspect_ratio": "16:9",
        "seed": 42,
        "enhance_prompt": True,
    }


def test_validate_is_idempotent_on_a_clean_body():
    body = catalog.validate("veo2", {"prompt": "x", "duration": 8, "aspect_ratio": "9:16"}).body
    assert catalog.validate("veo2", {k: v for k, v in body.items() if k != "model"}).body == body


@pytest.mark.parametrize(
    "params, field, words",
    [
        ({}, "prompt", "required"),
        ({"prompt": ""}, "prompt", "required"),
        ({"prompt": "   \n\t"}, "prompt", "required"),
        ({"prompt": "x" * 100_000}, "prompt", "100,000 characters"),
        ({"prompt": 12}, "prompt", "text"),
        ({"prompt": "x", "aspect_ratio": "4:3"}, "aspect_ratio", "one of 16:9, 9:16"),
        ({"prompt": "x", "duration": 9}, "duration", "one of 5, 6, 7, 8"),
        ({"prompt": "x", "duration": 4}, "duration", "one of 5, 6, 7, 8"),
        ({"prompt": "x", "duration": "five"}, "duration", "whole number"),
        ({"prompt": "x", "duration": 5.5}, "duration", "whole number"),
        ({"prompt": "x", "duration": True}, "duration", "whole number"),
        ({"prompt": "x", "seed": "abc"}, "seed", "whole number"),
        ({"prompt": "x", "seed": -1}, "seed", "between 0 and 4294967295"),
        ({"prompt": "x", "seed": 4294967296}, "seed", "between 0 and 4294967295"),
        ({"prompt": "x", "enhance_prompt": "maybe"}, "enhance_prompt", "true or false"),
        ({"prompt": "x", "resolution": "4k"}, "resolution", "no parameter"),
        ({"prompt": "x", "model": "google/veo3"}, "model", "not 'google/veo3'"),
    ],
)
def test_validate_errors_are_per_field_and_readable(params, field, words):
    result = catalog.validate("veo2", params)
    assert not result.ok and result.body is None
    assert field in result.errors
    assert words in result.errors[field]


def test_validate_reports_every_bad_field_at_once():
    result = catalog.validate("veo2", {"prompt": "", "duration": 9, "seed": "x"})
    assert set(result.errors) == {"prompt", "duration", "seed"}


def test_prompt_limit_published_by_the_vendor_wins():
    limited = [m for m in catalog.models().values() if any(p.name == "prompt" and "maxLength" in p.rules for p in m.params)]
    model = limited[0]
    limit = model.param("prompt").rules["maxLength"]
    required = {p.name: _valid_value(p) for p in model.params if p.required and p.name != "prompt"}
    assert catalog.validate(model, {**required, "prompt": "x" * limit}).ok
    assert "limit" in catalog.validate(model, {**required, "prompt": "x" * (limit + 1)}).errors["prompt"]


def _valid_value(param):
    if param.enum:
        return param.enum[0]
    return {"string": "https://example.com/a.png", "integer": 1, "number": 1.0, "boolean": True}.get(param.type, "x")


def test_nested_and_array_rules():
    model = catalog.get("runway/act_two")
    character = model.param("character")
    assert "anyOf" in character.rules
    ok = catalog.validate(model, {"character": {"type": "image", "url": "https://x/y.png"}, "reference": {"type": "video", "url": "https://x/y.mp4"}})
    assert "character" not in ok.errors
    bad = catalog.validate(model, {"character": "just a string", "reference": {"type": "video", "url": "https://x"}})
    assert "character" in bad.errors
