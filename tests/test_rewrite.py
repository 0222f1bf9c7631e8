"""Improve prompt against the simulator over real loopback HTTP: the round trip, its cost, the picture, every failure."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
import requests

from tests.helpers import TEST_KEY
from videogen import catalog, rewrite
from videogen.api import CHAT_PATH, Client, InvalidRequestError, OutcomeUnknownError
from videogen.rewrite import ChatModel, Rewrite, RewriteError, Usage
from videogen.simulator import Fault
from videogen.simulator._handler import CHAT_CAMERA, CHAT_CAMERA_PICTURE

PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 400).decode()
FOX = "a red fox trots through fresh snow"


def completion(content, **message) -> dict:
    """A chat answer in OpenAI's shape, with the message's content (and any other message fields) given."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, **message}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


def improve(client, **kw) -> Rewrite:
    return rewrite.rewrite(client, **{"prompt": FOX, "video_model": "veo2", "kind": "text-to-video", **kw})


def chat_requests(sim):
    return [r for r in sim.requests if r.endpoint == "chat"]


# -- the round trip -----------------------------------------------------------------------------------------


def test_a_rewrite_round_trip(sim, client):
    result = improve(client)
    assert result.text == f"{FOX}. {CHAT_CAMERA}"
    assert (result.chat_model, result.video_model, result.kind) == ("gpt-4o-mini", "veo2", "text-to-video")
    assert result.demo  # the simulator's answer says it is one, for the UI to label
    assert result.finish_reason == "stop"
    assert not result.with_image
    (sent,) = chat_requests(sim)
    assert sent.method == "POST" and sent.path == CHAT_PATH and sent.status == 200
    assert sent.headers["Authorization"] == f"Bearer {TEST_KEY}"
    system, user = sent.body["messages"]
    assert system["role"] == "system" and user == {"role": "user", "content": FOX}
    assert "Veo 2" in system["content"] and "text to video" in system["content"]
    assert "Return only the rewritten prompt" in system["content"]
    assert "camera" in system["content"] and "intent" in system["content"]
    assert f"Stay within {catalog.UNPUBLISHED_PROMPT_LIMIT} characters" in system["content"]
    assert sent.body["model"] == "gpt-4o-mini" and sent.body["max_tokens"] >= 1024


def test_the_cost_is_the_answers_own_figure(sim, client):
    result = improve(client)
    usage = result.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens == -(-len(result.text) // 4)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    rate_in, rate_out = 0.5, 1.5  # the simulator's own rates
    assert result.cost_source == "answer"
    assert result.cost_usd == pytest.approx((usage.prompt_tokens * rate_in + usage.completion_tokens * rate_out) / 1e6)


def test_without_a_figure_the_cost_is_tokens_at_the_models_prices(sim, client):
    sim.chat_usage_meta = False
    priced = replace(rewrite.chat_model("gpt-4o-mini"), input_usd_per_million=0.15, output_usd_per_million=0.6)
    result = improve(client, chat_model=priced)
    usage = result.usage
    assert result.cost_source == "tokens"
    assert result.cost_usd == pytest.approx((usage.prompt_tokens * 0.15 + usage.completion_tokens * 0.6) / 1e6)


def test_without_a_figure_or_a_price_no_cost_is_known(sim, client):
    sim.chat_usage_meta = False
    result = improve(client, chat_model="openai/gpt-4o")  # only its output price is published
    assert (result.cost_usd, result.cost_source) == (None, None)
    assert result.usage is not None


def test_credits_alone_are_read_as_dollars(sim, client):
    body = completion("a fox in snow") | {"meta": {"usage": {"credits_used": 1200}}}
    sim.faults.inject("chat", Fault.answer(body))
    assert improve(client).cost_usd == pytest.approx(0.0006)


def test_image_to_video_sends_the_picture_in_the_vision_shape(sim, client):
    result = improve(client, video_model="veo2/image-to-video", kind="image-to-video", image=PNG)
    assert result.with_image
    assert result.text == f"{FOX}. {CHAT_CAMERA_PICTURE}"
    assert "the picture" in result.text
    (sent,) = chat_requests(sim)
    system, user = sent.body["messages"]
    text, picture = user["content"]
    assert text == {"type": "text", "text": FOX}
    assert picture["type"] == "image_url"
    assert picture["image_url"]["url"].startswith("data:image/png;base64,")  # cut short in the log, sent whole
    assert f"({len(PNG):,} characters)" in picture["image_url"]["url"]
    assert "attached picture" in system["content"] and "image to video" in system["content"]
    assert result.usage.prompt_tokens > improve(client).usage.prompt_tokens  # the picture is counted


def test_image_to_video_without_the_picture_says_it_is_unseen(sim, client):
    result = improve(client, video_model="veo2/image-to-video", kind="image-to-video")
    assert not result.with_image and "the picture" not in result.text
    system, user = chat_requests(sim)[0].body["messages"]
    assert user["content"] == FOX and "cannot see" in system["content"]


def test_every_chat_model_is_answered_by_its_id(sim, client):
    for model in rewrite.chat_models().values():
        assert improve(client, chat_model=model.id).chat_model == model.id
    assert [r.body["model"] for r in chat_requests(sim)] == list(rewrite.chat_models())


def test_an_alias_resolves_to_its_model(sim, client):
    assert improve(client, chat_model="gpt-4o").chat_model == "openai/gpt-4o"


# -- the length ---------------------------------------------------------------------------------------------


def test_the_limit_is_the_video_models_own_or_the_projects_cap():
    assert rewrite.prompt_limit(catalog.get("gen3a_turbo")) == 1000  # it publishes one
    assert rewrite.prompt_limit(catalog.get("veo2")) == catalog.UNPUBLISHED_PROMPT_LIMIT


def test_too_long_detection(sim, client):
    long = "a fox " * 160  # 960 characters: the simulator's added sentence takes it past 1,000
    result = improve(client, prompt=long, video_model="gen3a_turbo", kind="image-to-video")
    assert result.limit == 1000 and result.max_chars == 1000
    assert result.length > 1000 and result.too_long
    assert not improve(client, video_model="gen3a_turbo", kind="image-to-video").too_long


def test_max_chars_is_asked_for_and_capped_at_the_limit(sim, client):
    assert improve(client, max_chars=300).max_chars == 300
    assert improve(client, video_model="gen3a_turbo", kind="image-to-video", max_chars=5000).max_chars == 1000
    first, second = chat_requests(sim)
    assert "Stay within 300 characters" in first.body["messages"][0]["content"]
    assert "Stay within 1000 characters" in second.body["messages"][0]["content"]


def test_an_answer_cut_at_its_token_cap_says_so(sim, client):
    long = "a fox " * 1500  # past the 2,000 tokens an answer within 4,000 characters may take
    result = improve(client, prompt=long)
    assert chat_requests(sim)[0].body["max_tokens"] == 2000
    assert result.finish_reason == "length" and 7990 < result.length <= 2000 * 4 and result.too_long


# -- the answer's wrapping ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("```\nA fox trots through snow.\n```", "A fox trots through snow."),
        ("```text\nA fox trots through snow.\n```", "A fox trots through snow."),
        ('"A fox trots through snow."', "A fox trots through snow."),
        ("\u201cA fox trots through snow.\u201d", "A fox trots through snow."),
        ("  \n'A fox trots through snow.'\n ", "A fox trots through snow."),
        ('```\n"A fox trots through snow."\n```', "A fox trots through snow."),
        ("**Rewritten prompt:** A fox trots through snow.", "A fox trots through snow."),
        ("Prompt: A fox trots through snow.", "A fox trots through snow."),
        ('"Run," she says, "now."', '"Run," she says, "now."'),  # quotes of its own are kept
        ([{"type": "text", "text": "A fox "}, {"type": "text", "text": "trots."}], "A fox trots."),
    ],
)
def test_fences_quotes_and_labels_are_stripped(sim, client, content, text):
    sim.faults.inject("chat", Fault.answer(completion(content)))
    assert improve(client).text == text


def test_clean_leaves_a_plain_prompt_alone():
    assert rewrite.clean("A fox, in snow; slow pan left.") == "A fox, in snow; slow pan left."


# -- failures: each one RewriteError, with a reason, and the POST sent once --------------------------------------


def fails(sim, client, fault: Fault | None = None, **kw) -> RewriteError:
    if fault is not None:
        sim.faults.inject("chat", fault, times=5)  # more than any retry would take
    with pytest.raises(RewriteError) as info:
        improve(client, **kw)
    assert sim.count("chat") == (1 if fault is not None else 0)
    assert info.value.reason and info.value.reason == str(info.value)
    assert "\n" not in info.value.reason and "Traceback" not in info.value.reason
    return info.value


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_not_repeated_and_may_be_charged(sim, client, status):
    error = fails(sim, client, Fault.http(status))
    assert isinstance(error.cause, OutcomeUnknownError) and error.may_be_charged
    assert "Internal error" in error.reason and "charged" in error.reason


def test_a_gateway_page_is_not_repeated(sim, client):
    error = fails(sim, client, Fault.gateway(524))
    assert error.may_be_charged and "A timeout occurred" in error.reason


def test_429_is_not_repeated_and_says_to_wait(sim, client):
    error = fails(sim, client, Fault.http(429, retry_after=7))
    assert error.retryable and not error.may_be_charged
    assert error.reason == "The API is taking too many requests just now: try again in a moment (the server asks for 7 s)."


def test_a_timeout_is_not_repeated(sim, client):
    sim.faults.inject("chat", Fault.slow(1.5))
    with pytest.raises(RewriteError) as info:
        improve(client, timeout=0.5)
    assert sim.count("chat") == 1
    assert info.value.may_be_charged
    assert info.value.reason == "The request was sent but no answer came back in time. It may still have been charged."


def test_a_slow_answer_within_the_timeout_is_read(sim, client):
    sim.faults.inject("chat", Fault.slow(0.3))
    assert improve(client, timeout=5).text.startswith(FOX)


def test_a_dropped_connection_is_not_repeated(sim, client):
    error = fails(sim, client, Fault.dropped())
    assert error.may_be_charged


def test_malformed_json_is_not_repeated(sim, client):
    error = fails(sim, client, Fault.malformed())
    assert error.reason == "The server accepted the request but its answer could not be read. It may still have been charged."


def test_no_choices(sim, client):
    error = fails(sim, client, Fault.no_choices())
    assert error.reason == "GPT-4o mini sent no answer." and error.may_be_charged


@pytest.mark.parametrize("content", ["", "   \n\t ", '""', "```\n\n```", "```json\n' '\n```", None])
def test_an_answer_that_is_empty_after_cleaning(sim, client, content):
    assert fails(sim, client, Fault.answer(completion(content))).reason == "GPT-4o mini's answer was empty."


def test_an_empty_answer_cut_at_its_cap(sim, client):
    body = completion("")
    body["choices"][0]["finish_reason"] = "length"
    assert "used up its answer's length" in fails(sim, client, Fault.answer(body)).reason


def test_a_filtered_answer(sim, client):
    body = completion(None)
    body["choices"][0]["finish_reason"] = "content_filter"
    assert "content filter" in fails(sim, client, Fault.answer(body)).reason


def test_a_refusal(sim, client):
    body = completion(None, refusal="I can't help with that.") | {"meta": {"usage": {"usd_spent": 0.0001}}}
    error = fails(sim, client, Fault.answer(body))
    assert error.reason == "GPT-4o mini declined to rewrite the prompt: I can't help with that."
    assert error.cost_usd == pytest.approx(0.0001)  # what the answer cost, for the spend record


def test_a_refusal_wins_over_content(sim, client):
    assert "declined" in fails(sim, client, Fault.answer(completion("A fox.", refusal="No."))).reason


def test_out_of_credits(sim, client):
    sim.credits_exhausted = True
    with pytest.raises(RewriteError) as info:
        improve(client)
    assert info.value.reason.startswith("The account is out of credits: You've run out of credits.")
    assert sim.count("chat") == 1


def test_a_wrong_key(sim):
    sim.api_keys = {"sk-the-right-one-0000"}
    wrong = Client(TEST_KEY, base_url=sim.url)
    try:
        with pytest.raises(RewriteError) as info:
            improve(wrong)
    finally:
        wrong.close()
    assert info.value.reason.startswith("The API refused the key: Unauthorized")


def test_an_unreachable_server_sends_nothing(sim):
    dead = Client(TEST_KEY, base_url="http://127.0.0.1:9", retries=0)
    try:
        with pytest.raises(RewriteError) as info:
            improve(dead)
    finally:
        dead.close()
    assert info.value.reason == "Could not reach http://127.0.0.1:9; nothing was sent."
    assert not info.value.may_be_charged and info.value.retryable


# -- refused before sending ------------------------------------------------------------------------------------------


def test_a_model_that_cannot_see_is_not_sent_a_picture(sim, client):
    blind = replace(rewrite.chat_model("gpt-4o-mini"), name="Text Only", vision=False)
    error = fails(sim, client, chat_model=blind, video_model="veo2/image-to-video", kind="image-to-video", image=PNG)
    assert error.reason == (
        "Text Only cannot see pictures: choose a chat model that can, such as GPT-4o mini, or improve the prompt without the picture."
    )
    assert improve(client, chat_model=blind, video_model="veo2/image-to-video", kind="image-to-video").text  # without it, fine


def test_an_empty_prompt_is_not_sent(sim, client):
    assert fails(sim, client, prompt="  ").reason == "There is no prompt to improve yet: write one first."


@pytest.mark.parametrize(
    "kw",
    [
        {"kind": "video-to-video"},
        {"chat_model": "no-such-model"},
        {"kind": "text-to-video", "image": PNG},
        {"video_model": "veo2/image-to-video", "kind": "image-to-video", "image": "file:///etc/passwd"},
        {"max_chars": 0},
        {"video_model": "runway/act_two"},  # takes no prompt
    ],
)
def test_a_callers_mistake_is_a_value_error(sim, client, kw):
    with pytest.raises(ValueError):
        improve(client, **kw)
    assert sim.count("chat") == 0


def test_an_unknown_video_model_is_the_catalogs_error(sim, client):
    with pytest.raises(catalog.UnknownModelError):
        improve(client, video_model="no-such-video-model")


# -- the pieces ----------------------------------------------------------------------------------------------------


def test_the_chat_models_as_built_from_the_vendors_files():
    models = rewrite.chat_models()
    assert list(models) == ["google/gemini-2.5-flash", "gpt-4o-mini", "openai/gpt-4.1-mini-2025-04-14", "openai/gpt-4o"]
    assert all(m.vision for m in models.values())  # each one's user message takes image_url parts
    assert rewrite.DEFAULT_CHAT_MODEL in models and models[rewrite.DEFAULT_CHAT_MODEL].vision
    gpt4o = rewrite.chat_model("gpt-4o-2024-08-06")
    assert gpt4o.id == "openai/gpt-4o" and gpt4o.output_usd_per_million == 3.25 and gpt4o.input_usd_per_million is None
    assert gpt4o.label == "GPT-4o · OpenAI · sees pictures"
    with pytest.raises(KeyError):
        rewrite.chat_model("gpt-5")


def test_cost_needs_every_price_its_tokens_use():
    model = ChatModel(id="m", name="M", input_usd_per_million=None, output_usd_per_million=2.0)
    assert model.cost(Usage(prompt_tokens=0, completion_tokens=500_000)) == 1.0
    assert model.cost(Usage(prompt_tokens=10, completion_tokens=500_000)) is None


def test_the_client_refuses_a_chat_body_it_cannot_send(sim, client):
    for body in ({"messages": [{"role": "user", "content": "hi"}]}, {"model": "gpt-4o-mini", "messages": []}):
        with pytest.raises(InvalidRequestError, match="Not sent"):
            client.chat(body)
    with pytest.raises(InvalidRequestError, match="stream"):
        client.chat({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True})
    assert sim.count("chat") == 0


def test_the_simulator_checks_the_chat_body(sim, client):
    with pytest.raises(InvalidRequestError, match="expected one of the chat models"):
        client.chat({"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]})
    with pytest.raises(InvalidRequestError, match="messages"):
        client.chat({"model": "gpt-4o-mini", "messages": [{"role": "wizard", "content": "hi"}]})
    assert sim.count("chat") == 2


def test_the_simulator_answers_on_the_other_path_and_checks_the_key(sim):
    answer = requests.post(
        f"{sim.url}/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "a fox"}]},
        headers={"Authorization": f"Bearer {TEST_KEY}"},
        timeout=5,
    )
    body = answer.json()
    assert answer.status_code == 200 and body["system_fingerprint"] == "simulator" and body["id"].startswith("chatcmpl-sim-")
    assert body["choices"][0]["message"]["content"] == f"a fox. {CHAT_CAMERA}"
    assert requests.post(f"{sim.url}/v1/chat/completions", json={}, timeout=5).status_code == 401  # no key
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
