"""The simulator itself: contract shapes, video serving, persistence, and the standalone CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import requests

from tests.helpers import TEST_KEY, minimal_body, wait_until
from videogen.simulator import Fault, JobScript, Simulator
from videogen.simulator.render import probe

FETCH_SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "fetch-response.schema.json").read_text())
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def api(sim, method, body=None, generation_id=None, path="/v2/video/generations"):
    params = {"generation_id": generation_id} if generation_id else None
    return requests.request(method, sim.url + path, json=body, params=params, headers=AUTH, timeout=10)


def run_to_end(sim, body, path="/v2/video/generations"):
    created = api(sim, "POST", body, path=path)
    assert created.status_code in (200, 201), created.text
    gen_id = created.json().get("id") or created.json()["generation_id"]
    answers = []

    def done():
        answers.append(api(sim, "GET", generation_id=gen_id, path=path).json())
        return answers[-1]["status"] in ("completed", "complete", "error", "failed")

    assert wait_until(done)
    return created.json(), answers


def test_every_answer_validates_against_the_vendors_fetch_schema(sim):
    sim.faults.script(JobScript(error="Refused by the safety filter."))
    for body in ({"model": "veo2", "prompt": "ok"}, {"model": "veo2", "prompt": "fails"}):
        created, answers = run_to_end(sim, body)
        for answer in [created, *answers]:
            jsonschema.validate(answer, FETCH_SCHEMA)
        assert [a["status"] for a in answers][-1] in ("completed", "error")
        statuses = [a["status"] for a in [created, *answers]]
        assert statuses == sorted(statuses, key=["queued", "generating", "completed", "error"].index)


def test_status_moves_through_queued_and_generating(rendered_videos):
    with Simulator(job_seconds=1.5, videos_dir=rendered_videos) as sim:
        created, answers = run_to_end(sim, {"model": "veo2", "prompt": "slow enough to watch"})
    seen = {created["status"], *(a["status"] for a in answers)}
    assert seen == {"queued", "generating", "completed"}


def test_legacy_path_serves_veo2_but_not_other_models(sim):
    legacy = "/v2/generate/video/google/generation"
    _, answers = run_to_end(sim, {"model": "veo2", "prompt": "legacy"}, path=legacy)
    assert answers[-1]["status"] == "completed"
    refused = api(sim, "POST", {"model": "google/veo3", "prompt": "x"}, path=legacy)
    assert refused.status_code == 400


def test_errors_use_the_vendors_shape(sim):
    answer = api(sim, "POST", {"model": "veo2", "prompt": "x", "aspect_ratio": "4:3"})
    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == {"message", "path", "requestId", "statusCode", "timestamp"}
    assert "aspect_ratio" in body["message"] and "4:3" in body["message"]
    assert body["statusCode"] == 400
    sim.spelling = "alternative"
    assert api(sim, "POST", {"model": "veo2"}).json()["statusCode"] == "400"


def test_bearer_auth_is_required(sim):
    bare = requests.post(sim.url + "/v2/video/generations", json={"model": "veo2", "prompt": "x"}, timeout=5)
    assert bare.status_code == 401
    assert not sim.jobs


def test_unknown_generation_is_404(sim):
    assert api(sim, "GET", generation_id="nope:veo2").status_code == 404


def test_video_is_a_real_mp4_with_range_support(sim, tmp_path):
    _, answers = run_to_end(sim, {"model": "veo2", "prompt": "a tall city at dusk", "aspect_ratio": "9:16", "duration": 6})
    url = answers[-1]["video"]["url"]
    whole = requests.get(url, timeout=10)
    assert whole.status_code == 200
    assert whole.headers["Content-Type"] == "video/mp4"
    assert whole.headers["Accept-Ranges"] == "bytes"
    size = len(whole.content)
    part = requests.get(url, headers={"Range": "bytes=100-199"}, timeout=10)
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{size}"
    assert part.content == whole.content[100:200]
    tail = requests.get(url, headers={"Range": "bytes=-10"}, timeout=10)
    assert tail.content == whole.content[-10:]
    assert requests.get(url, headers={"Range": f"bytes={size}-"}, timeout=10).status_code == 416
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(whole.content)
    info = probe(clip)
    assert (info.width, info.height, info.codec) == (720, 1280, "h264")
    assert info.duration == pytest.approx(6, abs=0.1)


def test_video_faults(sim):
    _, answers = run_to_end(sim, {"model": "veo2", "prompt": "faults"})
    url = answers[-1]["video"]["url"]
    sim.faults.inject("video", Fault.http(404))
    assert requests.get(url, timeout=5).status_code == 404
    sim.faults.inject("video", Fault.html())
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert requests.get(url, timeout=5).headers["Content-Type"] == "video/mp4"


def test_a_job_can_end_without_a_video_url(sim):
    sim.faults.script(JobScript(video_url=False))
    _, answers = run_to_end(sim, {"model": "veo2", "prompt": "no link"})
    assert answers[-1]["status"] == "completed" and answers[-1]["video"] is None
    jsonschema.validate(answers[-1], FETCH_SCHEMA)


def test_state_dir_keeps_jobs_across_a_restart(tmp_path, rendered_videos):
    with Simulator(job_seconds=30, state_dir=tmp_path, videos_dir=rendered_videos) as first:
        gen_id = api(first, "POST", {"model": "veo2", "prompt": "remember me"}).json()["id"]
        other = api(first, "POST", {"model": "veo2", "prompt": "and me"}).json()["id"]
    with (tmp_path / "jobs.jsonl").open("a") as journal:
        journal.write('{"id": "cut-short-by-a-kil')  # a process killed mid-write leaves a torn last line
    with Simulator(job_seconds=30, state_dir=tmp_path, videos_dir=rendered_videos) as second:
        for kept in (gen_id, other):
            assert api(second, "GET", generation_id=kept).json()["status"] in ("queued", "generating")
        after = api(second, "POST", {"model": "veo2", "prompt": "made after the tear"}).json()["id"]
    with Simulator(job_seconds=30, state_dir=tmp_path, videos_dir=rendered_videos) as third:
        assert api(third, "GET", generation_id=after).json()["status"] in ("queued", "generating")
    with Simulator(job_seconds=30, videos_dir=rendered_videos) as forgetful:
        assert api(forgetful, "GET", generation_id=gen_id).status_code == 404


def test_forget(sim):
    gen_id = api(sim, "POST", {"model": "veo2", "prompt": "x"}).json()["id"]
    sim.forget(gen_id)
    assert api(sim, "GET", generation_id=gen_id).status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_standalone_with_curl(tmp_path):
    """`python -m videogen.simulator` plus plain curl completes a veo2 generation."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "videogen.simulator", "--port", str(port), "--job-seconds", "1"],
        cwd=Path(__file__).parent.parent,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    base = f"http://127.0.0.1:{port}"

    def curl(*args: str) -> str:
        return subprocess.run(["curl", "-sS", "--fail-with-body", *args], capture_output=True, text=True, check=True, timeout=30).stdout

    try:
        assert wait_until(lambda: _is_up(base), timeout=20)
        created = json.loads(
            curl(
                "-H",
                "Authorization: Bearer demo-key",
                "-H",
                "Content-Type: application/json",
                "-d",
                json.dumps({"model": "veo2", "prompt": "a lighthouse in a storm", "aspect_ratio": "9:16", "duration": 8}),
                f"{base}/v2/video/generations",
            )
        )
        state = {}

        def done():
            state.update(
                json.loads(
                    curl(
                        "-H",
                        "Authorization: Bearer demo-key",
                        "-G",
                        "--data-urlencode",
                        f"generation_id={created['id']}",
                        f"{base}/v2/video/generations",
                    )
                )
            )
            return state["status"] == "completed"

        assert wait_until(done, timeout=30, interval=0.25)
        clip = tmp_path / "out.mp4"
        curl("-o", str(clip), state["video"]["url"])
        info = probe(clip)
        assert (info.width, info.height) == (720, 1280)
        assert info.duration == pytest.approx(8, abs=0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _is_up(base: str) -> bool:
    try:
        return requests.get(base + "/health", timeout=1).ok
    except requests.RequestException:
        return False


def test_many_concurrent_connections(sim):
    """The poller opens hundreds of connections at once; the listen backlog must take them."""
    from concurrent.futures import ThreadPoolExecutor

    gen_id = api(sim, "POST", {"model": "veo2", "prompt": "x"}).json()["id"]
    sim.latency = 0.2
    with ThreadPoolExecutor(200) as pool:
        codes = list(pool.map(lambda _: api(sim, "GET", generation_id=gen_id).status_code, range(200)))
    assert codes == [200] * 200


# -- every model, and the inputs a clip starts from ---------------------------------------

LINKS = {"image_url": "https://example.com/a.png", "video_url": "https://example.com/a.mp4", "audio_url": "https://example.com/a.mp3"}


def test_every_catalog_model_accepts_its_minimal_body_on_its_own_endpoint(tmp_path):
    from videogen import catalog

    # Long jobs: only acceptance is checked here, and stop() cancels the queued renders.
    with Simulator(job_seconds=600, videos_dir=tmp_path) as sim:
        for model in catalog.models().values():
            body = minimal_body(model, **LINKS)
            created = api(sim, "POST", body, path=model.endpoint)
            assert created.status_code == 200, (model.id, created.text)
            fetched = api(sim, "GET", generation_id=created.json()["id"], path=model.endpoint)
            assert fetched.status_code == 200 and fetched.json()["status"] == "queued", model.id
            refused = api(sim, "POST", {**body, "not_a_parameter": 1}, path=model.endpoint)
            assert refused.status_code == 400 and "not_a_parameter" in refused.text, model.id


def _png(tmp_path: Path):
    """A PNG with a red square in one corner, as bytes and as the image."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 640), (240, 235, 225))
    ImageDraw.Draw(image).rectangle((0, 0, 320, 320), fill=(200, 20, 40))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue(), image


def _first_frame(video: bytes, tmp_path: Path):
    import imageio_ffmpeg
    from PIL import Image

    (tmp_path / "clip.mp4").write_bytes(video)
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y",
            "-loglevel",
            "error",
            "-i",
            str(tmp_path / "clip.mp4"),
            "-frames:v",
            "1",
            str(tmp_path / "first.png"),
        ],
        check=True,
    )
    return Image.open(tmp_path / "first.png").convert("RGB")


def _mean_difference(a, b) -> float:
    from PIL import ImageChops

    histogram = ImageChops.difference(a, b).histogram()
    return sum((i % 256) * n for i, n in enumerate(histogram)) / (3 * a.width * a.height)


def test_an_image_to_video_job_starts_from_a_data_url_and_keeps_no_base64(tmp_path, rendered_videos):
    import base64

    from PIL import ImageOps

    data, image = _png(tmp_path)
    body = {
        "model": "veo2/image-to-video",
        "prompt": "the square wakes up",
        "aspect_ratio": "16:9",
        "image_url": "data:image/png;base64," + base64.b64encode(data).decode(),
    }
    with Simulator(job_seconds=0.5, state_dir=tmp_path / "state", videos_dir=rendered_videos) as sim:
        _, answers = run_to_end(sim, body)
        video = requests.get(answers[-1]["video"]["url"], timeout=10).content
    first = _first_frame(video, tmp_path)
    assert _mean_difference(first, ImageOps.fit(image, first.size)) < 4
    saved = (tmp_path / "state" / "jobs.jsonl").read_text()
    assert "base64," in saved and base64.b64encode(data).decode()[:200] not in saved


def test_a_video_to_video_job_reads_a_finished_generations_link(sim, tmp_path):
    from PIL import ImageOps

    data, image = _png(tmp_path)
    import base64

    source = {
        "model": "veo2/image-to-video",
        "prompt": "x",
        "aspect_ratio": "16:9",
        "image_url": "data:image/png;base64," + base64.b64encode(data).decode(),
    }
    _, answers = run_to_end(sim, source)
    link = answers[-1]["video"]["url"]
    _, answers = run_to_end(sim, {"model": "magic/video-to-video", "video_url": link})
    video = requests.get(answers[-1]["video"]["url"], timeout=10).content
    first = _first_frame(video, tmp_path)
    # Made from the source: the image (as the 16:9 source shows it), left of the prompt, below the label.
    expected = ImageOps.fit(ImageOps.fit(image, (1280, 720)), first.size)
    box = (0, first.height // 4, first.width // 5, first.height * 3 // 4)
    assert _mean_difference(first.crop(box), expected.crop(box)) < 12


def test_an_input_the_simulator_cannot_read_still_gets_a_clip(sim):
    _, answers = run_to_end(
        sim, {"model": "veo2/image-to-video", "prompt": "offline", "image_url": "https://example.com/not-reachable-from-here.png"}
    )
    assert answers[-1]["status"] == "completed"


def test_the_request_log_is_bounded_and_its_counts_stay_exact():
    from videogen.simulator import RequestHistory, RequestLog

    log = RequestHistory(keep=5, per_generation=3)
    for n, gen_id in enumerate(["old1", "old2", "old3", "old4", "hot", "hot", "hot"]):
        log.append(RequestLog("GET", "fetch", "/v2/video/generations", 200, float(n), gen_id))
    log.append(RequestLog("POST", "create", "/v2/video/generations", 200, 7.0))
    assert len(log) == 5 and [r.at for r in log] == [3.0, 4.0, 5.0, 6.0, 7.0] and log[-1].endpoint == "create"
    assert log.count("fetch") == 7 and log.count("fetch", method="GET") == 7 and log.count("create") == 1
    assert log.count("fetch", generation_id="hot") == 3  # among the ids seen last: counted on its own
    assert log.count("fetch", generation_id="old1") == 0  # folded into the totals
    log.clear()
    assert len(log) == 0 and log.count("fetch") == 0


def test_the_simulators_log_is_read_while_requests_arrive(sim):
    """Iterating takes a copy: a test reading the log while the app polls never sees it change under it."""
    import threading

    from videogen.simulator import RequestLog

    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            sim.requests.append(RequestLog("GET", "other", "/", 200, 0.0))

    writer = threading.Thread(target=hammer)
    writer.start()
    try:
        for _ in range(200):  # a deque iterated in place would raise "mutated during iteration" here
            assert all(r.endpoint == "other" for r in sim.requests)
    finally:
        stop.set()
        writer.join()
    assert sim.count("other") > 0
