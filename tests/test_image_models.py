"""Start frames from image models: the catalog's image models and their forms, the client and the simulator's
images endpoint over real loopback HTTP, its faults, the stills it draws, and keeping a picture as an upload,
hostile answers included."""

from __future__ import annotations

import base64
import io
import json
import socket
import struct
import zlib
from typing import get_args

import pytest
import requests
from PIL import Image

from components import form_builder
from tests.helpers import TEST_KEY
from videogen import catalog, media, start_frames
from videogen.api import (
    FLAGGED_REASON,
    MAX_IMAGE_ANSWER_BYTES,
    AuthenticationError,
    Client,
    ImageResult,
    InvalidRequestError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    RefusedError,
)
from videogen.catalog import Param
from videogen.polling import MAX_IMAGE_BYTES, DownloadLimits
from videogen.simulator import Fault, Simulator
from videogen.simulator._handler import IMAGE_USD_PER_MEGAPIXEL

VIDEO_MODELS = 143  # as tests/test_catalog.py counts them: image models must not change it
IMAGE_MODELS = 62  # distinct text-to-image ids in the vendor's image-model files
FOX = {"model": "flux/schnell", "prompt": "A red fox in fresh snow at dawn", "image_size": "landscape_16_9", "seed": 7}
VEO_I2V_IMAGE = "veo2/image-to-video"


def image_requests(sim):
    return [r for r in sim.requests if r.endpoint == "image"]


def picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def fetch_still(url: str) -> bytes:
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200
    return answer.content


def png_header(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes that claims a `width` x `height` canvas: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def answer_with(sim, client, item: dict, **extra) -> ImageResult:
    """An image answer of the test's making, as the client reads it."""
    sim.faults.inject("image", Fault.answer({"data": [item], **extra}))
    return client.generate_image(FOX)


# -- the catalog ---------------------------------------------------------------------------------------


def test_the_catalog_holds_the_text_to_image_models_apart_from_the_video_models():
    images, videos = catalog.image_models(), catalog.models()
    assert len(images) == IMAGE_MODELS
    assert len(videos) == VIDEO_MODELS
    assert not set(images) & set(videos)
    for model_id in ("flux/schnell", "dall-e-3", "openai/gpt-image-1", "google/imagen4/preview", "x-ai/grok-imagine-image"):
        assert model_id in images
    assert {m.kind for m in images.values()} == {catalog.IMAGE_KIND} == {"text-to-image"}
    assert {m.endpoint for m in images.values()} == {catalog.IMAGES_ENDPOINT}
    assert catalog.IMAGE_KIND not in catalog.KINDS  # the video kinds the picker offers stay three
    assert all(m.kind in catalog.KINDS for m in videos.values())


def test_video_lookups_do_not_see_image_models_and_image_lookups_not_video_ones():
    with pytest.raises(catalog.UnknownModelError):
        catalog.get("flux/schnell")
    with pytest.raises(catalog.UnknownModelError):
        catalog.get_image("veo2")
    assert catalog.name_of("flux/schnell") == "FLUX Schnell"  # a start frame names its image model
    assert catalog.name_of("gone/model") == "gone/model"
    assert catalog.validate("flux/schnell", {"prompt": "a fox"}).errors == {"model": "Unknown model 'flux/schnell'."}


def test_only_models_that_draw_from_a_prompt_are_kept():
    for model in catalog.image_models().values():
        assert not any(word in model.id for word in ("edit", "image-to-image", "upscale", "sharpen")), model.id
        assert model.param("prompt").required, model.id
        assert not [p.name for p in model.params if p.media], model.id  # no picture to change, not even an optional one
        assert model.name and model.name != model.id, model.id
    assert "alibaba/qwen-image-edit" not in catalog.image_models()
    assert "flux/dev/image-to-image" not in catalog.image_models()
    schnell = catalog.get_image("flux/schnell")
    assert schnell.label == "FLUX Schnell · text to image"
    assert catalog.get_image("flux/kontext-max/text-to-image").name == "FLUX Kontext Max"


def test_a_size_given_as_preset_or_pixels_is_kept_as_its_presets():
    size = catalog.get_image("flux/schnell").param("image_size")
    assert size.type == "string"
    assert size.enum == ("square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9")
    assert size.default == "landscape_4_3"
    assert "anyOf" not in size.rules
    assert catalog.get_image("bytedance/seedream-5-0-pro").param("image_size").enum == ("1.5K", "2K")
    assert catalog.get_image("dall-e-3").param("size").enum == ("1024x1024", "1024x1792", "1792x1024")
    assert catalog.get_image("google/imagen4/preview").param("aspect_ratio").default == "1:1"


def untouched_form(fields: list[form_builder.Field]) -> dict:
    """The raw values of a form whose widgets all hold their starting values, read as form_builder.raw_values reads
    them (which needs a running page): JSON fields parsed, an untouched toggle with no default left out."""
    values = {}
    for field in fields:
        value = form_builder.default_value(field)
        if field.widget == "json":
            if value:
                values[field.name] = json.loads(value)
        elif not (field.widget == "toggle" and field.param.default is None and not field.param.required and value is False):
            values[field.name] = value
    return values


def test_every_image_models_form_is_built_by_the_form_builder_and_its_defaults_validate():
    widgets = set(get_args(form_builder.Widget))
    for model in catalog.image_models().values():
        fields = [form_builder.Field(p, form_builder.widget_for(p), advanced=False) for p in model.params]
        assert all(f.widget in widgets and f.widget != "media" for f in fields), model.id
        values = {**untouched_form(fields), "prompt": "A lighthouse on a cliff at dusk"}
        checked = catalog.validate(model, values)
        assert checked.ok, (model.id, checked.errors)
        assert checked.body["model"] == model.id
    assert form_builder.widget_for(catalog.get_image("flux/schnell").param("image_size")) == "select"
    assert form_builder.widget_for(catalog.get_image("flux/schnell").param("seed")) == "integer_text"


def test_validation_of_an_image_request_names_the_field():
    schnell = catalog.get_image("flux/schnell")
    checked = catalog.validate(schnell, {"prompt": "a fox", "image_size": {"width": 640, "height": 480}})
    assert set(checked.errors) == {"image_size"}
    assert "must be text" in checked.errors["image_size"]
    too_many = catalog.validate(schnell, {"prompt": "a fox", "num_images": 9})
    assert too_many.errors == {"num_images": "Num images must be between 1 and 4 (got 9)."}
    assert catalog.validate(schnell, {}).errors == {"prompt": "Prompt is required."}


def test_the_simulators_model_list_still_lists_the_video_models_only(sim):
    listed = requests.get(sim.url + "/v1/models", timeout=10).json()["data"]
    names = {n for item in listed for n in (item["id"], *item.get("aliases", ()))}
    assert not names & set(catalog.image_models())
    assert sum(1 for item in listed if "video" in str(item.get("type"))) == VIDEO_MODELS


# -- the client and the simulator -------------------------------------------------------------------


def test_a_picture_comes_back_at_the_size_asked_with_its_seed_and_cost(sim, client):
    result = client.generate_image(FOX)
    (image,) = result.images
    assert image.url.startswith(sim.url + "/images/") and image.url.endswith(".png")
    assert (result.model, result.prompt, result.seed) == ("flux/schnell", FOX["prompt"], 7)
    still = picture(fetch_still(image.url))
    assert (still.format, still.size) == ("PNG", (1024, 576))
    usd = IMAGE_USD_PER_MEGAPIXEL * 1024 * 576 / 1e6
    assert result.credits_used == round(usd * 2_000_000)
    assert result.usd_spent == pytest.approx(usd, rel=1e-3)
    assert result.meta["usage"]["usd_spent"] == pytest.approx(usd, rel=1e-3)
    (sent,) = image_requests(sim)
    assert sent.path == "/v1/images/generations"
    assert sent.body == {**FOX, "num_images": 1, "enable_safety_checker": True}  # the published defaults, filled in
    assert sent.headers["Authorization"] == f"Bearer {TEST_KEY}"


@pytest.mark.parametrize(
    ("body", "size", "kind"),
    [
        ({"model": "flux/schnell", "image_size": "portrait_16_9"}, (576, 1024), "PNG"),
        ({"model": "flux/schnell", "image_size": "square"}, (512, 512), "PNG"),
        ({"model": "dall-e-3", "size": "1792x1024"}, (1792, 1024), "PNG"),
        ({"model": "google/imagen4/preview", "aspect_ratio": "16:9"}, (1024, 576), "PNG"),
        ({"model": "google/nano-banana-pro", "aspect_ratio": "9:16", "resolution": "2K"}, (1152, 2048), "PNG"),
        ({"model": "bytedance/seedream-5-0-pro", "image_size": "1.5K"}, (1536, 1536), "PNG"),
        ({"model": "flux-pro/v1.1-ultra", "aspect_ratio": "21:9", "output_format": "jpeg"}, (1024, 439), "JPEG"),
        ({"model": "openai/gpt-image-1", "size": "1024x1536", "output_format": "webp"}, (1024, 1536), "WEBP"),
    ],
)
def test_the_still_is_drawn_at_the_size_and_in_the_format_asked(sim, client, body, size, kind):
    result = client.generate_image({**body, "prompt": "A harbour at night"})
    image = result.images[0]
    data = base64.b64decode(image.b64_json) if image.b64_json else fetch_still(image.url)
    still = picture(data)
    assert (still.format, still.size) == (kind, size)


def test_a_still_is_drawn_from_prompt_and_seed_and_the_reported_seed_draws_it_again(sim, client):
    first = fetch_still(client.generate_image(FOX).images[0].url)
    assert fetch_still(client.generate_image(FOX).images[0].url) == first
    assert fetch_still(client.generate_image({**FOX, "seed": 8}).images[0].url) != first
    assert fetch_still(client.generate_image({**FOX, "prompt": "A grey wolf"}).images[0].url) != first
    unseeded = {k: v for k, v in FOX.items() if k != "seed"}
    drawn = client.generate_image(unseeded)
    assert isinstance(drawn.seed, int) and drawn.seed >= 1  # flux/schnell's seed starts at 1
    assert fetch_still(client.generate_image({**unseeded, "seed": drawn.seed}).images[0].url) == fetch_still(drawn.images[0].url)
    assert client.generate_image({"model": "dall-e-3", "prompt": "a fox"}).seed is None  # it takes no seed, so says none


def test_several_pictures_are_several_stills(sim, client):
    result = client.generate_image({**FOX, "num_images": 3})
    stills = [fetch_still(image.url) for image in result.images]
    assert len({image.url for image in result.images}) == 3
    assert len(set(stills)) == 3
    assert result.credits_used == round(IMAGE_USD_PER_MEGAPIXEL * 1024 * 576 / 1e6 * 3 * 2_000_000)


def test_base64_and_data_url_answers_as_asked(sim, client):
    b64 = client.generate_image({"model": "dall-e-3", "prompt": "a fox", "response_format": "b64_json"}).images[0]
    assert b64.url is None and picture(base64.b64decode(b64.b64_json)).size == (1024, 1024)
    inline = client.generate_image({"model": "google/imagen4/preview", "prompt": "a fox", "convert_base64_to_url": False}).images[0]
    assert inline.b64_json and inline.url is None
    synced = client.generate_image({"model": "flux/srpo", "prompt": "a fox", "sync_mode": True}).images[0]
    assert synced.url.startswith("data:image/jpeg;base64,") and synced.b64_json is None  # its output_format defaults to jpeg
    assert sim.count("still") == 0  # nothing was linked to, so nothing was fetched


def test_an_invalid_body_is_not_sent(sim, client):
    with pytest.raises(InvalidRequestError, match="^Not sent: image_size"):
        client.generate_image({**FOX, "image_size": "huge"})
    with pytest.raises(InvalidRequestError, match="'veo2' is not one of the image models"):
        client.generate_image({"model": "veo2", "prompt": "a fox"})
    assert sim.count("image") == 0


def test_the_simulator_validates_image_bodies_as_it_does_video_ones(sim):
    def post(path, body):
        return requests.post(sim.url + path, json=body, headers={"Authorization": f"Bearer {TEST_KEY}"}, timeout=10)

    bad = post("/v1/images/generations", {**FOX, "num_images": 9})
    assert bad.status_code == 400 and "num_images" in bad.json()["message"] and bad.json()["statusCode"] == 400
    video = post("/v1/images/generations", {"model": "veo2", "prompt": "a fox"})
    assert video.status_code == 400 and "image models" in video.json()["message"]
    image_on_video_path = post("/v2/video/generations", FOX)
    assert image_on_video_path.status_code == 400 and "video models" in image_on_video_path.json()["message"]
    assert post("/images/generations", FOX).status_code == 200  # the path without /v1, which the vendor also lists
    assert requests.post(sim.url + "/v1/images/generations", json=FOX, timeout=10).status_code == 401


def test_a_wrong_key_is_an_authentication_error(tmp_path):
    with Simulator(api_keys={"the-right-key-0000"}, state_dir=tmp_path / "sim") as sim:
        client = Client("the-wrong-key-0000", base_url=sim.url)
        with pytest.raises(AuthenticationError):
            client.generate_image(FOX)
        assert Client("the-right-key-0000", base_url=sim.url).generate_image(FOX).images


def test_the_cost_is_read_wherever_the_answer_puts_it(sim, client):
    sim.usage_on = "none"
    assert client.generate_image(FOX).credits_used is None
    sim.usage_headers = True
    assert client.generate_image(FOX).credits_used == round(IMAGE_USD_PER_MEGAPIXEL * 1024 * 576 / 1e6 * 2_000_000)
    sim.usage_headers, sim.usage_on, sim.spelling = False, "create", "alternative"
    assert client.generate_image(FOX).credits_used == round(IMAGE_USD_PER_MEGAPIXEL * 1024 * 576 / 1e6 * 2_000_000)


# -- faults -------------------------------------------------------------------------------------------


def test_a_moderation_refusal_raises_refused_with_its_reason_and_is_not_repeated(sim, client):
    sim.faults.inject("image", Fault.moderated("Your prompt was flagged: violence."), times=3)
    with pytest.raises(RefusedError) as info:
        client.generate_image(FOX)
    assert info.value.message == "Your prompt was flagged: violence."
    assert info.value.status == 400 and isinstance(info.value, InvalidRequestError)
    assert sim.count("image") == 1


def test_a_plain_400_is_not_a_refusal(sim, client):
    sim.faults.inject("image", Fault.http(400))
    with pytest.raises(InvalidRequestError) as info:
        client.generate_image(FOX)
    assert not isinstance(info.value, RefusedError)


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        (Fault.http(429, retry_after=3), RateLimitError, "Too many requests"),
        (Fault.http(500), OutcomeUnknownError, "may still have been charged"),
        (Fault.gateway(524), OutcomeUnknownError, "A timeout occurred"),
        (Fault.dropped(), OutcomeUnknownError, "no answer came back"),
        (Fault.malformed(), OutcomeUnknownError, "could not be read"),
        (Fault.html(), OutcomeUnknownError, "could not be read"),
        (Fault.out_of_credits(), PermissionDeniedError, "run out of credits"),
        (Fault.http(403), PermissionDeniedError, "Forbidden"),
    ],
)
def test_faults_raise_the_clients_errors_and_a_paid_request_is_sent_once(sim, client, fault, error, words):
    sim.faults.inject("image", fault, times=5)  # more than any retry would take
    with pytest.raises(error, match=words) as info:
        client.generate_image(FOX)
    assert sim.count("image") == 1
    if error is PermissionDeniedError:
        assert info.value.out_of_credits is (fault.credits_body is True)
    if error is RateLimitError:
        assert info.value.retry_after == 3


def test_a_slow_model_times_out_as_an_unknown_outcome(sim, client):
    sim.faults.inject("image", Fault.slow(1.5))
    with pytest.raises(OutcomeUnknownError, match="no answer came back in time"):
        client.generate_image(FOX, read_timeout=0.4)
    assert sim.count("image") == 1


def test_an_account_out_of_credits_and_a_refused_model(sim, client):
    sim.credits_exhausted = True
    with pytest.raises(PermissionDeniedError) as info:
        client.generate_image(FOX)
    assert info.value.out_of_credits
    sim.credits_exhausted = False
    sim.refused_models.add("flux/schnell")
    with pytest.raises(PermissionDeniedError) as info:
        client.generate_image(FOX)
    assert not info.value.out_of_credits
    assert client.generate_image({"model": "dall-e-3", "prompt": "a fox"}).images  # another model still works


def test_answers_without_a_picture(sim, client):
    sim.faults.inject("image", Fault.answer({"data": []}))
    with pytest.raises(OutcomeUnknownError, match="without a picture or a reason"):
        client.generate_image(FOX)
    sim.faults.inject("image", Fault.answer({"data": [], "error": {"name": "Error", "message": "The prompt was flagged."}}))
    with pytest.raises(RefusedError, match="The prompt was flagged."):
        client.generate_image(FOX)
    sim.faults.inject("image", Fault.answer({"data": [{"url": "https://cdn.example.com/black.png"}], "has_nsfw_concepts": [True]}))
    with pytest.raises(RefusedError) as info:
        client.generate_image(FOX)
    assert info.value.message == FLAGGED_REASON


def test_a_flagged_picture_is_dropped_and_the_others_kept(sim, client):
    items = [{"url": "https://cdn.example.com/a.png"}, {"url": "https://cdn.example.com/b.png"}]
    sim.faults.inject("image", Fault.answer({"data": items, "has_nsfw_concepts": [True, False], "seed": 42}))
    result = client.generate_image(FOX)
    assert [i.url for i in result.images] == ["https://cdn.example.com/b.png"]
    assert result.seed == 42  # the answer's seed before the request's


def test_an_answer_too_large_to_read_is_not_read(sim, client):
    sim.faults.inject("image", Fault.oversized(MAX_IMAGE_ANSWER_BYTES + 1024))
    with pytest.raises(OutcomeUnknownError, match="larger than 48 MB"):
        client.generate_image(FOX)


# -- keeping a picture as an upload -----------------------------------------------------------------


def test_a_picture_is_kept_as_an_upload_by_its_content(sim, client, data_dir):
    result = client.generate_image(FOX)
    param = catalog.get(VEO_I2V_IMAGE).param("image_url")
    frame = start_frames.keep(result, param, data_dir, allow_local=True)
    assert media.is_reference(frame.reference) and frame.reference.endswith(".png")
    assert (frame.upload.width, frame.upload.height) == (1024, 576)
    assert frame.upload.path == media.reference_path(frame.reference, data_dir)
    assert frame.upload.path.read_bytes() == fetch_still(result.images[0].url)
    assert frame.source == "link"
    assert frame.record() == {
        "kind": "image-model",
        "upload": frame.reference,
        "image_model": "flux/schnell",
        "prompt": FOX["prompt"],
        "revised_prompt": None,
        "seed": 7,
        "credits_used": result.credits_used,
        "cost_usd": pytest.approx(result.credits_used / 2_000_000),
    }
    again = start_frames.keep(client.generate_image(FOX), param, data_dir, allow_local=True)
    assert again.reference == frame.reference
    assert len(list((data_dir / "uploads").iterdir())) == 1
    sent = media.expand({"model": VEO_I2V_IMAGE, "prompt": "The fox runs", "image_url": frame.reference}, data_dir)
    assert sent["image_url"].startswith("data:image/png;base64,")
    assert catalog.validate(VEO_I2V_IMAGE, {"prompt": "The fox runs", "image_url": sent["image_url"]}).ok


def test_inline_pictures_are_kept_without_any_download(sim, client, data_dir):
    b64 = client.generate_image({"model": "dall-e-3", "prompt": "a fox", "response_format": "b64_json"})
    synced = client.generate_image({"model": "flux/srpo", "prompt": "a fox", "sync_mode": True})
    for result in (b64, synced):
        frame = start_frames.keep(result, None, data_dir)  # no allow_local: nothing is fetched
        assert frame.source == "inline" and media.is_reference(frame.reference)
    assert sim.count("still") == 0


def test_a_picture_is_converted_to_what_the_field_takes(sim, client, data_dir):
    result = client.generate_image({**FOX, "image_size": "square_hd"})
    only_jpeg = Param("image_url", {"type": "string", "x-media": "image", "x-formats": ["jpg"]})
    frame = start_frames.keep(result, only_jpeg, data_dir, allow_local=True)
    assert frame.reference.endswith(".jpg") and picture(frame.upload.path.read_bytes()).size == (1024, 1024)
    original = len(fetch_still(result.images[0].url))
    small = Param("image_url", {"type": "string", "x-media": "image", "x-max-bytes": original // 2})
    frame = start_frames.keep(result, small, data_dir, allow_local=True)
    assert frame.upload.size <= original // 2


def test_the_fields_own_rules_still_refuse(sim, client, data_dir):
    result = client.generate_image({**FOX, "image_size": "square"})  # 512 x 512
    needs_more = Param("image_url", {"type": "string", "x-media": "image", "x-min-side": 720})
    with pytest.raises(media.MediaError, match="at least 720 pixels"):
        start_frames.keep(result, needs_more, data_dir, allow_local=True)
    with pytest.raises(start_frames.StartFrameError, match="no picture 2"):
        start_frames.keep(result, None, data_dir, index=1, allow_local=True)


# -- hostile answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allow_local", "words"),
    [
        ("https://10.0.0.1/frame.png", True, "10.0.0.1, a private address"),
        ("https://169.254.169.254/latest/meta-data/", True, "a link-local address"),
        ("http://169.254.169.254/latest/meta-data/", True, "not https"),
        ("https://[::ffff:127.0.0.1]/frame.png", False, "a loopback address"),
        ("file:///etc/passwd", True, "not https"),
    ],
)
def test_a_link_to_an_inside_address_is_refused_before_connecting(sim, client, data_dir, url, allow_local, words):
    result = answer_with(sim, client, {"url": url})
    with pytest.raises(start_frames.StartFrameError, match=words) as info:
        start_frames.keep(result, None, data_dir, allow_local=allow_local)
    assert info.value.permanent
    assert not (data_dir / "uploads").exists()


def test_a_public_name_that_resolves_inside_is_refused(sim, client, data_dir):
    def resolve(host, port, **kw):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.20", port))]

    result = answer_with(sim, client, {"url": "https://cdn.example.com/frame.png"})
    with pytest.raises(start_frames.StartFrameError, match=r"cdn\.example\.com \(192\.168\.1\.20\), a private address"):
        start_frames.keep(result, None, data_dir, resolve=resolve)


def test_the_simulators_own_link_is_plain_http_and_needs_allow_local(sim, client, data_dir):
    with pytest.raises(start_frames.StartFrameError, match="not https"):
        start_frames.keep(client.generate_image(FOX), None, data_dir)
    assert sim.count("still") == 0


def test_a_redirect_to_an_inside_address_is_refused(sim, client, data_dir):
    result = client.generate_image(FOX)
    sim.faults.inject("still", Fault.redirects(2, to="https://10.0.0.1/frame.png"))
    with pytest.raises(start_frames.StartFrameError, match="redirected to 10.0.0.1, a private address"):
        start_frames.keep(result, None, data_dir, allow_local=True)
    assert (sim.count("still"), sim.count("redirect")) == (1, 1)  # the still's own 302, then one hop; never the last


def test_a_huge_claimed_image_is_refused_before_it_is_read(sim, client, data_dir):
    result = client.generate_image(FOX)
    sim.faults.inject("still", Fault.oversized(MAX_IMAGE_BYTES * 4))
    with pytest.raises(start_frames.StartFrameError, match="larger than 50 MB"):
        start_frames.keep(result, None, data_dir, allow_local=True)
    sim.faults.inject("still", Fault.oversized(400_000))  # within the cap it claims, over the one given here
    with pytest.raises(start_frames.StartFrameError, match="larger than 0 MB"):
        start_frames.keep(result, None, data_dir, allow_local=True, limits=DownloadLimits(max_bytes=300_000))
    assert not (data_dir / "uploads").exists()


def test_a_picture_that_claims_a_huge_canvas_is_refused_undecoded(sim, client, data_dir):
    bomb = png_header(60_000, 60_000)
    for item in ({"b64_json": base64.b64encode(bomb).decode()}, {"url": "data:image/png;base64," + base64.b64encode(bomb).decode()}):
        result = answer_with(sim, client, item)
        with pytest.raises(media.MediaError, match="megapixels"):
            start_frames.keep(result, None, data_dir)
        only_jpeg = Param("image_url", {"type": "string", "x-media": "image", "x-formats": ["jpg"]})
        with pytest.raises(media.MediaError, match="megapixels"):  # not decoded to be converted either
            start_frames.keep(result, only_jpeg, data_dir)
    assert not (data_dir / "uploads").exists()


def test_inline_base64_past_the_cap_is_not_decoded(sim, client, data_dir):
    result = answer_with(sim, client, {"b64_json": "A" * 4_000_000})
    with pytest.raises(start_frames.StartFrameError, match="larger than 1 MB"):
        start_frames.keep(result, None, data_dir, limits=DownloadLimits(max_bytes=2**20))


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ({"b64_json": "not base64 at all!"}, "could not be read"),
        ({"b64_json": base64.b64encode(b"<html>Sign in</html>").decode()}, "not a picture"),
        ({"url": "data:text/plain,hello"}, "not base64"),
    ],
)
def test_inline_answers_that_are_no_picture_are_refused(sim, client, data_dir, item, words):
    with pytest.raises(start_frames.StartFrameError, match=words):
        start_frames.keep(answer_with(sim, client, item), None, data_dir)


@pytest.mark.parametrize(
    ("fault", "words", "permanent"),
    [
        (Fault.html(), "served text/html, not an image", True),
        (Fault.http(404), "answered 404", True),
        (Fault.http(503), "answered 503", False),
    ],
)
def test_a_link_that_serves_no_picture_is_refused(sim, client, data_dir, fault, words, permanent):
    result = client.generate_image(FOX)
    sim.faults.inject("still", fault)
    with pytest.raises(start_frames.StartFrameError, match=words) as info:
        start_frames.keep(result, None, data_dir, allow_local=True)
    assert info.value.permanent is permanent
    assert start_frames.keep(result, None, data_dir, allow_local=True).reference  # the fault passed: the link works
