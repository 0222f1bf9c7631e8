import json
from pathlib import Path

import pytest

from tests.helpers import minimal_body
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


def test_catalog_keeps_rules_and_help_but_not_examples():
    text = Path(catalog.CATALOG_PATH).read_text()
    assert '"example":' not in text and "x-codeSamples" not in text
    assert json.loads(text)["models"]
    assert "first frame" in catalog.get("veo2/image-to-video").param("image_url").description


def test_every_model_has_a_name_and_one_of_three_kinds():
    models = catalog.models().values()
    kinds = {kind: sum(m.kind == kind for m in models) for kind in catalog.KINDS}
    # The vendor's list: about 69 text, 53 image and 21 video models; ours are judged by id and required inputs.
    assert kinds == {"text-to-video": 64, "image-to-video": 56, "video-to-video": 23}
    assert all(m.name and m.name != m.id for m in models if "/" in m.id)
    kling = catalog.get("kling-video/v1.6/standard/text-to-video")
    assert kling.option_label == "Kling 1.6 Standard · text to video — kling-video/v1.6/standard/text-to-video"
    assert catalog.get("alibaba/wan-2-6-i2v").name == "Wan 2.6"
    assert catalog.get("veo2").label == "Veo 2 · text to video"
    assert catalog.get("google/veo3-1-extend-video").kind == "video-to-video"
    assert catalog.get("bytedance/omnihuman").kind == "image-to-video"  # image and audio in, video out
    assert catalog.get("runway/act_two").kind == "video-to-video"  # the build script's override
    assert catalog.get("kling-video/v1.6/pro/text-to-video").param("cfg_scale").label == "CFG scale"


def test_media_fields_and_the_limits_their_descriptions_state():
    veo_i2v = catalog.get("veo2/image-to-video").param("image_url")
    assert veo_i2v.media == "image" and veo_i2v.accepts_base64 and veo_i2v.max_bytes is None
    hailuo = catalog.get("minimax/hailuo-02").param("image_url")
    assert hailuo.max_bytes == 20 * 2**20 and hailuo.min_side == 300 and hailuo.aspect_range == (0.4, 2.5)
    assert set(hailuo.formats) == {"jpg", "jpeg", "png"}
    # "The URL of the image ..." says nothing of Base64: a public link is needed.
    assert not catalog.get("blackforestlabs/flux-3-video-i2v").param("image_url").accepts_base64
    multi = catalog.get("kling-video/v1.6/standard/multi-image-to-video").param("image_list")
    assert multi.media == "image" and multi.is_list
    assert catalog.get("google/veo3-1-extend-video").param("video_url").media == "video"
    assert catalog.get("klingai/avatar-pro").param("audio_url").media == "audio"
    assert catalog.get("alibaba/wan2.2-vace-fun-a14b-inpainting").param("mask_video_url").media == "video"
    assert catalog.get("minimax/hailuo-02").param("prompt").media is None


def test_typical_run_times_differ_by_tier():
    seconds = {m.id: m.typical_seconds for m in catalog.models().values()}
    assert seconds["veo2"] == 45
    assert seconds["google/veo-3.1-t2v-fast"] < seconds["google/veo-3.1-t2v"] < seconds["openai/sora-2-pro-t2v"]


def test_the_published_schema_is_the_final_gate():
    """A rule our readable checks do not know is still enforced, through jsonschema, with a plain message."""
    veo2 = catalog.get("veo2")
    strict = catalog.Model(
        id="strict",
        endpoint=veo2.endpoint,
        vendor="Test",
        params=(catalog.Param("prompt", {"type": "string", "pattern": "^[a-z ]+$"}, required=True),),
    )
    assert catalog.validate(strict, {"prompt": "a fox"}).ok
    refused = catalog.validate(strict, {"prompt": "A FOX"})
    assert list(refused.errors) == ["prompt"] and refused.errors["prompt"].startswith("Prompt: ")


def test_openapi_nullable_becomes_a_null_type():
    schema = catalog.to_json_schema({"type": "array", "nullable": True, "items": {"type": "string"}, "x-media": "image"})
    assert schema == {"type": ["array", "null"], "items": {"type": "string"}}
    assert catalog.to_json_schema({"type": "string", "enum": ["a"], "nullable": True})["enum"] == ["a", None]
    # Luma's keyframes: a frame may be given as null.
    luma = catalog.get("luma/ray-2")
    assert catalog.validate(luma, {"prompt": "a fox", "keyframes": {"frame0": None}}).ok


def test_a_minimal_body_is_valid_for_every_model():
    for model in catalog.models().values():
        body = minimal_body(
            model, image_url="https://example.com/a.png", video_url="https://example.com/a.mp4", audio_url="https://example.com/a.mp3"
        )
        result = catalog.validate(model, {k: v for k, v in body.items() if k != "model"})
        assert result.ok, (model.id, result.errors)
        assert not list(model.validator.iter_errors(result.body)), model.id


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
    ok = catalog.validate(
        model, {"character": {"type": "image", "url": "https://x/y.png"}, "reference": {"type": "video", "url": "https://x/y.mp4"}}
    )
    assert "character" not in ok.errors
    bad = catalog.validate(model, {"character": "just a string", "reference": {"type": "video", "url": "https://x"}})
    assert "character" in bad.errors
