"""The client against the simulator over real loopback HTTP: every error class, every fault knob."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import pytest

from tests.helpers import TEST_KEY, client_from_env, minimal_body, wait_until
from videogen import catalog
from videogen.api import Client, Status
from videogen.api import _errors as errors
from videogen.simulator import Fault, JobScript

VEO2 = {"model": "veo2", "prompt": "a red fox in fresh snow", "duration": 5, "aspect_ratio": "16:9"}


def finish(client, generation_id, timeout=20.0, model="veo2"):
    result = {}

    def done():
        result["g"] = client.fetch(generation_id, model=model)
        return result["g"].status.is_final

    assert wait_until(done, timeout=timeout, interval=0.1)
    return result["g"]


def test_create_then_fetch_until_completed(sim, client):
    created = client.create(VEO2)
    assert created.id.endswith(":veo2")
    assert created.status is Status.QUEUED
    assert created.credits_used == 3_900_000  # the cost ($1.95) comes on the create answer, as the real API sends it
    done = finish(client, created.id)
    assert done.status is Status.COMPLETED
    assert done.video_url.startswith(sim.url + "/videos/")
    assert "?sig=" in done.video_url  # signed-URL shape: a query string must survive
    assert done.credits_used is None  # and a completed fetch carries none
    sent = sim.jobs[created.id].body
    assert sent == {**VEO2, "enhance_prompt": True}


def test_legacy_path_is_selectable(sim):
    client = Client(TEST_KEY, base_url=sim.url, legacy_paths=True)
    created = client.create(VEO2)
    assert finish(client, created.id).status is Status.COMPLETED
    paths = {r.path for r in sim.requests if r.endpoint in ("create", "fetch")}
    assert paths == {"/v2/generate/video/google/generation"}


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("wan/v2.1/1.3b/text-to-video", "/v2/generate/video/alibaba/generation"),  # published on its vendor path only
        ("runway-gen3/turbo/image-to-video", "/v2/generate/video/kling/generation"),
        ("openai/sora-2-t2v", "/v2/video/generations"),
    ],
)
def test_each_model_is_created_and_fetched_on_its_catalog_endpoint(sim, client, model, path):
    body = minimal_body(
        catalog.get(model),
        image_url="https://example.com/a.png",
        video_url="https://example.com/a.mp4",
        audio_url="https://example.com/a.mp3",
    )
    created = client.create(body)
    assert finish(client, created.id, model=model).status is Status.COMPLETED
    assert {r.path for r in sim.requests if r.endpoint in ("create", "fetch")} == {path}


def test_ids_with_colons_are_url_encoded(sim, client):
    created = client.create(VEO2)
    client.fetch(created.id)
    fetch = [r for r in sim.requests if r.endpoint == "fetch"][-1]
    assert fetch.generation_id == created.id  # the server decoded exactly the id we hold


def test_alternative_spellings(sim, client):
    sim.spelling = "alternative"
    created = client.create(VEO2)  # answers only {"generation_id": ..., "meta": ...} with 201
    assert created.status is Status.QUEUED and created.id
    assert created.credits_used == 3_900_000  # from meta.usage.tokens_used, the older spelling
    seen = set()

    def done():
        g = client.fetch(created.id)
        seen.add(g.remote_status)
        return g.status.is_final

    assert wait_until(done, interval=0.05)
    final = client.fetch(created.id)
    assert final.status is Status.COMPLETED and final.remote_status == "complete"
    assert seen <= {"waiting", "active", "complete"} and "complete" in seen


def test_failed_job_has_a_readable_message(sim, client):
    sim.faults.script(JobScript(error="Content policy: the prompt was refused."))
    created = client.create(VEO2)
    failed = finish(client, created.id)
    assert failed.status is Status.FAILED
    assert failed.error == "GenerationError: Content policy: the prompt was refused."
    sim.spelling = "alternative"
    assert client.fetch(created.id).error == "Content policy: the prompt was refused."


def test_completed_without_video_url(sim, client):
    sim.faults.script(JobScript(video_url=False))
    done = finish(client, client.create(VEO2).id)
    assert done.status is Status.COMPLETED and done.video_url is None


# -- errors on create ------------------------------------------------------


def test_400_carries_the_servers_field_message(sim, client, monkeypatch):
    # Swap the client's own check for one that lets a bad body through, to see what the server says.
    from videogen import catalog
    from videogen.api import _client as client_module

    lax = SimpleNamespace(get=catalog.get, validate=lambda model, params: catalog.Validation(body={**VEO2, "duration": 9}))
    monkeypatch.setattr(client_module, "catalog", lax)
    with pytest.raises(errors.InvalidRequestError) as info:
        client.create(VEO2)
    assert info.value.status == 400
    assert "duration" in info.value.message and "9" in info.value.message


def test_invalid_body_is_never_sent(sim, client):
    with pytest.raises(errors.InvalidRequestError, match="Not sent"):
        client.create({"model": "veo2", "prompt": "   "})
    assert sim.count("create") == 0


def test_401_without_a_valid_key(sim):
    sim.api_keys = {"the-right-key-0001"}
    with pytest.raises(errors.AuthenticationError) as info:
        Client("the-wrong-key-0002", base_url=sim.url).create(VEO2)
    assert info.value.status == 401
    assert Client("the-right-key-0001", base_url=sim.url).create(VEO2).id


def test_403_when_out_of_credits(sim, client):
    sim.credits_exhausted = True
    with pytest.raises(errors.PermissionDeniedError):
        client.create(VEO2)
    assert not sim.jobs


def test_429_on_create_is_not_retried_and_says_so(sim, client):
    sim.faults.inject("create", Fault.http(429, retry_after=7))
    with pytest.raises(errors.RateLimitError) as info:
        client.create(VEO2)
    assert info.value.retry_after == 7
    assert sim.count("create") == 1 and not sim.jobs


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_on_create_is_outcome_unknown_and_not_repeated(sim, client, status):
    sim.faults.inject("create", Fault.http(status))
    with pytest.raises(errors.OutcomeUnknownError) as info:
        client.create(VEO2)
    assert info.value.status == status
    assert sim.count("create") == 1
    assert len(sim.jobs) == 1  # the server did act: a silent retry would have paid twice


def test_read_timeout_on_create_is_outcome_unknown(sim):
    client = Client(TEST_KEY, base_url=sim.url, read_timeout=0.5)
    sim.faults.inject("create", Fault.slow(1.5))
    with pytest.raises(errors.OutcomeUnknownError):
        client.create(VEO2)
    assert wait_until(lambda: sim.count("create") == 1)
    time.sleep(0.2)
    assert sim.count("create") == 1


def test_dropped_connection_on_create_is_outcome_unknown(sim, client):
    sim.faults.inject("create", Fault.dropped())
    with pytest.raises(errors.OutcomeUnknownError):
        client.create(VEO2)
    assert sim.count("create") == 1


def test_malformed_create_answer_is_outcome_unknown(sim, client):
    sim.faults.inject("create", Fault.malformed())
    with pytest.raises(errors.OutcomeUnknownError, match="could not be read"):
        client.create(VEO2)


def test_unreachable_server_is_a_network_error_and_nothing_was_sent(sim):
    url = sim.url
    sim.stop()
    with pytest.raises(errors.NetworkError, match="nothing was sent"):
        Client(TEST_KEY, base_url=url, retries=0).create(VEO2)


# -- errors and retries on fetch -------------------------------------------


def test_fetch_retries_429_honouring_retry_after(sim, client):
    gen = client.create(VEO2)
    sim.faults.inject("fetch", Fault.http(429, retry_after=1), times=2)
    started = time.monotonic()
    assert client.fetch(gen.id).id == gen.id
    assert sim.count("fetch") == 3
    stamps = [r.at for r in sim.requests if r.endpoint == "fetch"]
    assert stamps[1] - stamps[0] >= 1.0 and stamps[2] - stamps[1] >= 1.0
    assert time.monotonic() - started >= 2.0


def test_long_retry_after_is_handed_back_not_slept(sim, client):
    gen = client.create(VEO2)
    sim.faults.inject("fetch", Fault.http(429, retry_after=120))
    with pytest.raises(errors.RateLimitError) as info:
        client.fetch(gen.id)
    assert info.value.retry_after == 120
    assert sim.count("fetch") == 1


def test_429_without_retry_after_backs_off_and_succeeds(sim, client):
    gen = client.create(VEO2)
    sim.faults.inject("fetch", Fault.http(429), times=2)
    assert client.fetch(gen.id).id == gen.id
    assert sim.count("fetch") == 3


@pytest.mark.parametrize("fault", [Fault.http(502), Fault.http(503), Fault.http(504), Fault.dropped()], ids=["502", "503", "504", "drop"])
def test_transient_fetch_failures_are_retried(sim, client, fault):
    gen = client.create(VEO2)
    sim.faults.inject("fetch", fault, times=2)
    assert client.fetch(gen.id).id == gen.id
    assert sim.count("fetch") == 3


def test_fetch_gives_up_after_its_retries_with_a_typed_error(sim):
    client = Client(TEST_KEY, base_url=sim.url, retries=1)
    gen = client.create(VEO2)
    sim.faults.inject("fetch", Fault.http(503), times=5)
    with pytest.raises(errors.ServerError):
        client.fetch(gen.id)
    sim.faults.clear()
    sim.faults.inject("fetch", Fault.dropped(), times=5)
    with pytest.raises(errors.NetworkError):
        client.fetch(gen.id)


def test_500_on_fetch_is_a_server_error(sim, client):
    gen = client.create(VEO2)
    sim.faults.inject("fetch", Fault.http(500))
    with pytest.raises(errors.ServerError) as info:
        client.fetch(gen.id)
    assert info.value.retryable


def test_fetch_read_timeout_is_a_network_error(sim):
    client = Client(TEST_KEY, base_url=sim.url, read_timeout=0.3, retries=0)
    gen = client.create(VEO2)
    sim.faults.inject("fetch", Fault.slow(1.0))
    with pytest.raises(errors.NetworkError, match="timed out"):
        client.fetch(gen.id)


def test_malformed_fetch_answer(sim, client):
    gen = client.create(VEO2)
    sim.faults.inject("fetch", Fault.malformed())
    with pytest.raises(errors.MalformedResponseError):
        client.fetch(gen.id)
    assert client.fetch(gen.id).id == gen.id


def test_404_for_an_unknown_generation(sim, client):
    gen = client.create(VEO2)
    sim.forget(gen.id)
    with pytest.raises(errors.NotFoundError) as info:
        client.fetch(gen.id)
    assert gen.id in info.value.message


def test_latency_knob(sim, client):
    sim.latency = 0.3
    started = time.monotonic()
    client.create(VEO2)
    assert time.monotonic() - started >= 0.3


# -- configuration and secrecy ---------------------------------------------


def test_client_from_environment(sim, monkeypatch):
    monkeypatch.setenv("AIMLAPI_API_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    client = client_from_env()
    assert client.base_url == sim.url and client.key_hint == TEST_KEY[-4:].join(["…", ""])
    assert client.create(VEO2).id


def test_plain_http_to_a_remote_host_is_refused():
    with pytest.raises(ValueError, match="plain http"):
        Client(TEST_KEY, base_url="http://api.example.com")
    Client(TEST_KEY, base_url="http://localhost:1")


def test_the_key_never_shows(sim, caplog):
    caplog.set_level(logging.DEBUG)
    client = Client(TEST_KEY, base_url=sim.url, retries=1)
    texts = [repr(client), str(client.__dict__.get("base_url"))]
    gen = client.create(VEO2)
    sim.faults.inject("fetch", Fault.http(503), times=10)
    for exc_type, call in [
        (errors.ApiError, lambda: client.fetch(gen.id)),
        (errors.ApiError, lambda: Client(TEST_KEY, base_url=sim.url, read_timeout=0.2, retries=0).fetch("nope")),
    ]:
        with pytest.raises(exc_type) as info:
            call()
        texts += [str(info.value), repr(info.value)]
    texts += [r.getMessage() for r in caplog.records]
    texts += [r.path for r in sim.requests]
    assert TEST_KEY[-4:] in repr(client)
    for text in texts:
        assert TEST_KEY not in text
    # The key only ever travels in the Authorization header.
    assert all(r.headers.get("Authorization") == f"Bearer {TEST_KEY}" for r in sim.requests if r.endpoint != "video")


def test_an_answer_over_the_size_cap_is_not_read_into_memory(sim, client):
    from videogen.api import MAX_ANSWER_BYTES, MalformedResponseError, OutcomeUnknownError

    sim.faults.inject("fetch", Fault.oversized(8 * MAX_ANSWER_BYTES), times=4)  # past urllib3's retries too
    with pytest.raises(MalformedResponseError, match="larger than 1024 KB"):
        client.fetch("some-id")
    sim.faults.inject("create", Fault.oversized(8 * MAX_ANSWER_BYTES))  # the job is made, its answer unreadable
    with pytest.raises(OutcomeUnknownError, match="larger than 1024 KB"):
        client.create(VEO2)
    assert sim.count("create") == 1
    # An answer of an ordinary size is read as before.
    assert client.create(VEO2).status is Status.QUEUED
