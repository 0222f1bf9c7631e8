"""The API as it answers in practice, not as its schema says: each case over loopback HTTP against the simulator.

A 404 soon after a create, a Cloudflare 524 page, `status: "unknown"` with an error, a 403 for one model
while another works, the vendor's out-of-credits 403, and the vendor's measured run times.
"""

from __future__ import annotations

import time

import pytest
import requests

from tests.apptest import run
from tests.apptest import submit as submit_form
from tests.helpers import TEST_KEY, fast_schedule, wait_until
from videogen import catalog
from videogen.api import Answer, Client, Status
from videogen.api import _errors as errors
from videogen.polling import LOST_MESSAGE, NOT_FOUND_WINDOW, Poller, RunTimes, Schedule
from videogen.simulator import Fault, JobScript

SERVER = "sim"
BODY = {"model": "veo2", "prompt": "as the API answers", "duration": 5, "aspect_ratio": "16:9"}
SORA = {"model": "openai/sora-2-t2v", "prompt": "as the API answers", "duration": 4}


def start_poller(store, client, **kw):
    options = dict(server=SERVER, schedule_for=fast_schedule, backoff_base=0.1, backoff_cap=0.5, idle_interval=0.1)
    return Poller(store, client, **{**options, **kw}).start()


def submit(client, store, body=BODY):
    generation = client.create(body)
    store.add(generation, request=body, server=SERVER)
    return generation.id


def answered(sim, gen_id, status):
    return sum(r.status == status for r in sim.requests if r.endpoint == "fetch" and r.generation_id == gen_id)


# -- 404 is not proof of loss -------------------------------------------------------------------


def test_404s_soon_after_the_create_leave_it_pending_and_it_completes(sim, client, store):
    sim.faults.script(JobScript(not_found_seconds=2.0))
    gen_id = submit(client, store)
    poller = start_poller(store, client, not_found_window=60)
    try:
        assert wait_until(lambda: store.get(gen_id).not_found_since is not None)
        assert store.get(gen_id).status.is_pending
        assert wait_until(lambda: store.get(gen_id).video_path is not None, timeout=30)
    finally:
        poller.stop()
    record = store.get(gen_id)
    assert record.status is Status.COMPLETED and record.not_found_since is None
    assert answered(sim, gen_id, 404) >= 3  # more than the old count of 404s that gave up


def test_404s_that_outlast_the_window_mark_it_lost(sim, client, store):
    sim.faults.script(JobScript(not_found_seconds=3600))
    gen_id = submit(client, store)
    poller = start_poller(store, client, not_found_window=0.5)
    try:
        assert wait_until(lambda: store.get(gen_id).status is Status.LOST)
        polls = answered(sim, gen_id, 404)
        time.sleep(1.0)
        assert answered(sim, gen_id, 404) == polls  # polling stopped
    finally:
        poller.stop()
    record = store.get(gen_id)
    assert record.error == LOST_MESSAGE
    assert record.completed_at - record.not_found_since >= poller.lost_window(record) >= 0.5


def test_the_lost_window_is_at_least_15_minutes_and_past_the_models_slow_runs(store, client):
    poller = Poller(store, client, server=SERVER)
    veo2 = store.add(Answer("a:veo2", Status.QUEUED), request=BODY, server=SERVER)
    kling = store.add(
        Answer("b:kling", Status.QUEUED), server=SERVER, request={"model": "klingai/v2-master-text-to-video", "prompt": "p", "duration": 10}
    )
    assert NOT_FOUND_WINDOW == 15 * 60 and poller.lost_window(veo2) == NOT_FOUND_WINDOW
    assert poller.lost_window(kling) > 2 * 750  # 11-14 min for a 10 s clip: twice its slow run


def test_the_card_says_the_server_does_not_know_the_id_yet(app, sim, data_dir):
    from videogen.store import Store

    sim.faults.script(JobScript(not_found_seconds=3600))
    at = submit_form(run(app))
    store = Store(data_dir)
    (gen_id,) = [r.id for r in store.records()]
    assert wait_until(lambda: store.get(gen_id).not_found_since is not None)
    at = run(at)
    header = " ".join(m.value for m in at.markdown)
    assert "the server does not know this id yet (404 for" in header and "still checking" in header
    assert store.get(gen_id).status.is_pending


# -- 524 and HTML error pages ---------------------------------------------------------------------


def test_a_524_page_on_fetch_is_a_server_error_and_retried(sim, client):
    gen_id = client.create(BODY).id
    bare = Client(TEST_KEY, base_url=sim.url, retries=0)
    sim.faults.inject("fetch", Fault.gateway(524))
    with pytest.raises(errors.ServerError) as info:
        bare.fetch(gen_id)
    assert info.value.retryable and info.value.status == 524
    assert "524: A timeout occurred" in info.value.message and "<" not in info.value.message
    sim.faults.inject("fetch", Fault.gateway(524), times=2)
    assert client.fetch(gen_id).id == gen_id  # urllib3 retries Cloudflare's statuses inline
    assert answered(sim, gen_id, 524) == 3


def test_any_html_error_page_is_a_server_error_not_the_apis_answer(sim, client):
    gen_id = client.create(BODY).id
    bare = Client(TEST_KEY, base_url=sim.url, retries=0)
    for status in (403, 404):
        sim.faults.inject("fetch", Fault.gateway(status))
        with pytest.raises(errors.ServerError):  # not PermissionDenied or NotFound: a gateway spoke, not the API
            bare.fetch(gen_id)


@pytest.mark.parametrize("status", [524, 403])
def test_an_error_page_on_create_is_outcome_unknown(sim, client, status):
    """A gateway's page says nothing of whether the API took the body: the person decides, nothing is repeated."""
    sim.faults.inject("create", Fault.gateway(status))
    with pytest.raises(errors.OutcomeUnknownError) as info:
        client.create(BODY)
    assert "<" not in str(info.value) and f"{status}: " in str(info.value) and sim.count("create") == 1


def test_the_poller_rides_out_524s_and_the_generation_completes(sim, store):
    client = Client(TEST_KEY, base_url=sim.url, retries=0)
    gen_id = submit(client, store)
    sim.faults.inject("fetch", Fault.gateway(524), times=4)
    poller = start_poller(store, client, not_found_window=0.5)
    try:
        assert wait_until(lambda: store.get(gen_id).video_path is not None, timeout=30)
    finally:
        poller.stop()
    assert store.get(gen_id).status is Status.COMPLETED and answered(sim, gen_id, 524) == 4


# -- status "unknown" with an error ---------------------------------------------------------------


def test_unknown_with_an_error_is_a_failure_with_its_message(sim, client, store):
    gen_id = submit(client, store)
    sim.faults.inject("fetch", Fault.unknown_status())
    poller = start_poller(store, client)
    try:
        assert wait_until(lambda: store.get(gen_id).status.is_final)
    finally:
        poller.stop()
    record = store.get(gen_id)
    assert record.status is Status.FAILED and "task_id cannot by empty" in record.error
    assert record.remote_status == "unknown"


def test_unknown_without_an_error_is_still_pending():
    assert Answer.from_body({"id": "x", "status": "unknown"}).status.is_pending
    failed = Answer.from_body({"id": "", "status": "unknown", "error": {"name": "Error", "message": "bad id"}}, fallback_id="x")
    assert failed.id == "x" and failed.status is Status.FAILED and failed.error == "Error: bad id"


# -- 403: one request's refusal, or the account's credits -------------------------------------------


def test_a_403_for_one_model_backs_off_that_generation_alone(sim, client, store):
    refused, other = submit(client, store, SORA), submit(client, store, BODY)
    sim.refused_models = {SORA["model"]}
    poller = start_poller(store, client, auth_pause=600)
    try:
        assert wait_until(lambda: store.get(other).video_path is not None, timeout=30)
        assert wait_until(lambda: answered(sim, refused, 403) >= 2)  # polled again, not paused for everyone
        assert poller.auth_problem is None and store.get(refused).status.is_pending
        sim.refused_models = set()
        assert wait_until(lambda: store.get(refused).video_path is not None, timeout=30)
    finally:
        poller.stop()


def test_a_403_on_create_for_one_model_is_that_requests_refusal(sim, client):
    sim.refused_models = {SORA["model"]}
    with pytest.raises(errors.PermissionDeniedError) as info:
        client.create(SORA)
    assert not info.value.out_of_credits and info.value.message == "Forbidden resource"
    assert client.create(BODY).status is Status.QUEUED  # another model works on the same key


def test_the_vendors_out_of_credits_body(sim, client):
    sim.credits_exhausted = True
    answer = requests.post(sim.url + "/v2/video/generations", json=BODY, headers={"Authorization": f"Bearer {TEST_KEY}"})
    body = answer.json()
    assert answer.status_code == 403 and body["title"] == "Forbidden" and body["status"] == 403
    assert body["message"].startswith("You've run out of credits. Please top up")
    assert body["instance"] == "/v2/video/generations?" and body["timestamp"]
    assert body["error"]["name"] == "ForbiddenException" and body["error"]["data"] == {"kind": "err_insufficent_credits"}
    with pytest.raises(errors.PermissionDeniedError) as info:
        client.create(BODY)
    assert info.value.out_of_credits and "run out of credits" in info.value.message
    assert not sim.jobs


def test_out_of_credits_on_fetch_pauses_every_poll(sim, client, store):
    ids = [submit(client, store) for _ in range(4)]
    sim.faults.inject("fetch", Fault.out_of_credits(), times=1000)
    poller = start_poller(store, client, auth_pause=600)
    try:
        assert wait_until(lambda: poller.auth_problem is not None)
        assert poller.auth_problem.out_of_credits
        assert wait_until(lambda: not poller._in_flight)
        settled = sim.count("fetch")
        time.sleep(1.0)
        assert sim.count("fetch") == settled <= len(ids)
    finally:
        poller.stop()


def test_the_page_names_a_models_refusal_in_the_servers_words_and_no_credits(app, sim):
    sim.refused_models = {"veo2"}
    at = submit_form(run(app))
    shown = [e.value.replace("\\", "") for e in at.error]  # server words are escaped for markdown
    assert any("refused this request (403): Forbidden resource" in text for text in shown)
    assert not any("credits" in text for text in shown)


def test_the_page_speaks_of_credits_when_the_account_is_out_of_them(app, sim):
    sim.credits_exhausted = True
    at = submit_form(run(app))
    assert sum("credits are used up" in e.value for e in at.error) == 1


# -- run times from the vendor's measurements -----------------------------------------------------

# Every catalog id a measured figure reaches, with its typical run time for a request of the default length.
MEASURED = {
    "veo2": 45,
    "veo2/image-to-video": 45,  # 40-50 s
    "google/veo3": 120,
    "google/veo-3.0-i2v": 120,  # about 2 min
    "openai/sora-2-t2v": 70,
    "openai/sora-2-i2v": 70,  # 50-90 s
    **{
        f"klingai/video-v3-{tier}-{kind}-to-video": 330  # 4-7 min
        for tier in ("standard", "pro", "omni-720p", "omni-1080p")
        for kind in ("text", "image")
    },
    **{
        f"klingai/{version}-master-{kind}-to-video": 330  # 5-6 min for 5 s (11-14 min for 10 s)
        for version in ("v2", "v2.1")
        for kind in ("text", "image")
    },
    "alibaba/wan-2-7-t2v": 510,
    "alibaba/wan-2-7-i2v": 510,
    "alibaba/wan-2-7-r2v": 510,  # about 8.5 min
    "minimax/hailuo-02": 306,  # 8-9 min for 10 s; a request without a duration gets 6 s
}


def test_the_vendors_figures_reach_exactly_these_catalog_ids():
    from scripts.build_catalog import MEASURED_RUN_TIMES

    reached = {m for m in catalog.models() if any(p.fullmatch(m) for p, _ in MEASURED_RUN_TIMES)}
    assert reached == set(MEASURED)
    assert {m: catalog.get(m).typical_seconds for m in MEASURED} == MEASURED
    assert catalog.get("klingai/video-v3-turbo-pro-text-to-video").typical_seconds == 30  # unmeasured: its tier


@pytest.mark.parametrize(
    "model, duration, seconds",
    [
        ("klingai/v2-master-text-to-video", 5, 330),
        ("klingai/v2-master-text-to-video", 10, 750),
        ("klingai/v2.1-master-image-to-video", "10", 750),
        ("minimax/hailuo-02", 10, 510),
        ("minimax/hailuo-02", 6, 306),
        ("veo2", 8, 45),
        ("google/veo3", 4, 120),  # figures given without a length hold for every length
    ],
)
def test_run_times_scale_with_the_clip_where_the_vendors_figures_do(model, duration, seconds):
    assert Schedule.for_model(model, duration=duration).typical == pytest.approx(seconds)


def test_the_poller_and_the_card_plan_with_the_duration_scaled_figure(store, client):
    poller = Poller(store, client, server=SERVER, run_times=RunTimes(store))
    bare = Poller(store, client, server=SERVER)
    for gen_id, duration, seconds in (("short", 5, 330), ("long", 10, 750)):
        request = {"model": "klingai/v2-master-text-to-video", "prompt": "p", "duration": duration}
        record = store.add(Answer(gen_id, Status.QUEUED), request=request, server=SERVER)
        assert poller.poll_plan(record).schedule.typical == seconds and poller.poll_plan(record).estimate.is_guess
        assert bare.poll_plan(record).schedule.typical == seconds
    # A schedule of the model alone (the demo's set job length) is used as it is.
    demo = Poller(store, client, server=SERVER, schedule_for=lambda model: Schedule.scaled(10))
    assert demo.poll_plan(store.get("long")).schedule.typical == 10
