"""A local stand-in for the AI/ML API video endpoints, over real HTTP.

    with Simulator(job_seconds=1).start() as sim:
        client = Client(api_key="test", base_url=sim.url)

It speaks the published contract: create and fetch on the current and the
vendor-prefixed paths, Bearer auth, body validation against the catalog (400 in
the vendor's error shape), and queued -> generating -> completed over a set
time. Each finished job is a real H.264 MP4 served with Range support.
Tests make it misbehave through `sim.faults` (see faults.py) and count what it
received through `sim.requests`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .. import catalog
from . import inputs
from .faults import Fault, FaultQueue, JobPlan
from .render import MAX_DURATION, render_clip

log = logging.getLogger(__name__)

CURRENT_PATH = "/v2/video/generations"
QUEUED_SHARE = 0.2  # the first fifth of a job's run time reads as "queued"
CREDITS_PER_SECOND = 24_000  # vendor's example: 120,000 credits for a 5 s clip
_VIDEO_PATH = re.compile(r"^/videos/([0-9a-f]{20})\.mp4$")


@dataclass
class Job:
    id: str
    model: str
    body: dict
    created_at: float
    seconds: float
    plan: JobPlan
    render_key: str
    # Wall time the video file was ready; None while rendering (or for failing jobs).
    ready_at: float | None = None
    # The image or video the clip starts from, read when the clip is rendered.
    source: dict | None = None

    def queued_for(self) -> float:
        queued = self.plan.queued_seconds
        return QUEUED_SHARE * self.seconds if queued is None else queued

    def due_at(self) -> float:
        # Without a set queue, the queue is part of the run time; with one, the run follows it.
        return self.created_at + self.seconds + (self.plan.queued_seconds or 0.0)

    def completed_at(self) -> float | None:
        """When the job turned final, from the simulator's point of view."""
        if self.plan.error:
            return self.due_at()
        return None if self.ready_at is None else max(self.due_at(), self.ready_at)

    def status(self, now: float) -> str:
        if now < self.created_at + self.queued_for():
            return "queued"
        done = self.completed_at()
        if done is None or now < done:
            return "generating"
        return "error" if self.plan.error else "completed"


@dataclass
class RequestLog:
    method: str
    endpoint: str  # create | fetch | video | other
    path: str
    status: int
    at: float
    generation_id: str | None = None
    headers: dict = field(default_factory=dict, repr=False)


class Simulator:
    """The fake API. Start it, point a Client at `url`, stop it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        job_seconds: float | Callable[[dict], float] = 10.0,
        state_dir: Path | str | None = None,
        api_keys: set[str] | None = None,
        latency: float = 0.0,
        render_workers: int = 1,
        videos_dir: Path | str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.job_seconds = job_seconds
        self.api_keys = api_keys  # None: any non-empty key is accepted
        self.latency = latency
        self.faults = FaultQueue()
        self.spelling: str = "schema"  # or "alternative": the other spellings the vendor's docs show
        self.credits_exhausted = False
        self.jobs: dict[str, Job] = {}
        self.requests: list[RequestLog] = []
        self._owns_state_dir = state_dir is None
        self.state_dir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="videogen-sim-"))
        # Rendered clips depend only on the request, so a test session can share one folder of them.
        self.videos_dir = Path(videos_dir) if videos_dir else self.state_dir / "videos"
        self.videos_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._renders: dict[str, Future] = {}
        self._render_pool = ThreadPoolExecutor(max_workers=render_workers, thread_name_prefix="sim-render")
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._load_jobs()

    # -- lifecycle -------------------------------------------------------

    def start(self) -> Simulator:
        server = _Server((self.host, self.port), _Handler)
        server.simulator = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, name="simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
            self._server = None
        self._render_pool.shutdown(wait=True, cancel_futures=True)
        if self._owns_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> Simulator:
        return self if self._server else self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- knobs and introspection for tests ------------------------------

    def forget(self, generation_id: str | None = None) -> None:
        """Drop one job (or all), as a server that lost its state would."""
        with self._lock:
            if generation_id is None:
                self.jobs.clear()
            else:
                self.jobs.pop(generation_id, None)
            self._save_jobs()

    def count(self, endpoint: str, *, generation_id: str | None = None, method: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r.endpoint == endpoint
                and (generation_id is None or r.generation_id == generation_id)
                and (method is None or r.method == method)
            )

    def wait_rendered(self, timeout: float = 30.0) -> None:
        """Block until every queued render has finished (tests use it to take render time out of timing)."""
        with self._lock:
            futures = list(self._renders.values())
        for future in futures:
            future.result(timeout=timeout)

    # -- behaviour -------------------------------------------------------

    def _create(self, model_id: str, body: dict) -> Job:
        plan = self.faults.take_plan()
        seconds = plan.seconds if plan.seconds is not None else self._seconds_for(body)
        short = model_id.rsplit("/", 1)[-1]
        source = inputs.source_of(catalog.get(model_id), body)
        # The clip depends only on what is drawn, so equal requests of any model share one file.
        drawn = [body.get("prompt"), _ratio(body), _seconds(body), body.get("seed"), body.get("resolution"),
                 source.digest if source else None]
        render_key = hashlib.sha256(json.dumps(drawn).encode()).hexdigest()[:20]
        if source is not None:
            # A data URL is kept as a file now, so saved state never holds megabytes of base64.
            path = inputs.fetch(source, inputs_dir=self.state_dir / "inputs", videos_dir=self.videos_dir) \
                if source.value.startswith("data:") else None
            source = {"kind": source.kind, "value": str(path) if path else source.value, "local": path is not None}
        job = Job(
            id=plan.id or f"{uuid.uuid4()}:{short}",
            model=model_id,
            body=inputs.shorten(body),
            created_at=time.time(),
            seconds=seconds,
            plan=plan,
            render_key=render_key,
            source=source,
        )
        with self._lock:
            self.jobs[job.id] = job
            self._append_job(job)
        if not plan.error:
            self._render(job)
        return job

    def _seconds_for(self, body: dict) -> float:
        return float(self.job_seconds(body) if callable(self.job_seconds) else self.job_seconds)

    def _render(self, job: Job) -> None:
        path = self.videos_dir / f"{job.render_key}.mp4"
        with self._lock:
            future = self._renders.get(job.render_key)
            if future is None:
                if path.exists():
                    future = Future()
                    future.set_result(path)
                else:
                    future = self._render_pool.submit(self._render_job, job, path)
                self._renders[job.render_key] = future

        def ready(done: Future) -> None:
            if done.cancelled():
                return
            if done.exception() is not None:
                log.error("render failed for %s: %s", job.id, done.exception())
                job.plan = JobPlan(error="The video could not be rendered.")
            job.ready_at = time.time()

        future.add_done_callback(ready)

    def _render_job(self, job: Job, path: Path) -> Path:
        source_path = None
        if job.source:
            if job.source["local"]:
                source_path = Path(job.source["value"])
            else:
                source_path = inputs.fetch(inputs.Source(job.source["kind"], job.source["value"]),
                                           inputs_dir=self.state_dir / "inputs", videos_dir=self.videos_dir)
        return render_clip(
            path,
            prompt=str(job.body.get("prompt") or ""),
            aspect_ratio=_ratio(job.body),
            duration=_seconds(job.body),
            seed=job.body.get("seed"),
            resolution=job.body.get("resolution") if isinstance(job.body.get("resolution"), str) else None,
            source=source_path,
            source_kind=job.source["kind"] if job.source else "image",
        )

    def _job_body(self, job: Job, base_url: str) -> dict:
        """The fetch answer for a job, in the schema's spelling or the alternative one."""
        now = time.time()
        status = job.status(now)
        alt = self.spelling == "alternative"
        body: dict[str, Any] = {"id": job.id, "status": status}
        if alt:
            body["status"] = {"queued": "waiting", "generating": "active", "completed": "complete", "error": "failed"}[status]
        if status == "completed":
            if isinstance(job.plan.video_url, str):
                body["video"] = {"url": job.plan.video_url}
            elif job.plan.video_url:
                url = f"{base_url}/videos/{job.render_key}.mp4?sig={secrets.token_hex(8)}"
                body["video"] = {"url": url}
            else:
                body["video"] = None
            credits = CREDITS_PER_SECOND * _seconds(job.body)
            body["meta"] = {"usage": {"tokens_used" if alt else "credits_used": credits}}
            if alt:
                body["duration"] = _seconds(job.body)
        elif status == "error":
            body["error"] = job.plan.error if alt else {"name": "GenerationError", "message": job.plan.error}
        return body

    # -- persistence, so a restarted demo keeps its jobs -----------------

    # One JSON line per job, appended on create: rewriting every job on each create held the lock
    # for time that grew with the history, and serialised concurrent creates behind it.
    def _jobs_file(self) -> Path:
        return self.state_dir / "jobs.jsonl"

    @staticmethod
    def _job_line(job: Job) -> str:
        return json.dumps({**asdict(job), "plan": asdict(job.plan), "ready_at": None}) + "\n"

    def _append_job(self, job: Job) -> None:
        if not self._owns_state_dir:
            with self._jobs_file().open("a", encoding="utf-8") as f:
                f.write(self._job_line(job))

    def _save_jobs(self) -> None:
        if self._owns_state_dir:
            return
        tmp = self._jobs_file().with_suffix(".tmp")
        tmp.write_text("".join(self._job_line(j) for j in self.jobs.values()), encoding="utf-8")
        os.replace(tmp, self._jobs_file())

    def _load_jobs(self) -> None:
        if self._owns_state_dir or not self._jobs_file().exists():
            return
        try:
            lines = self._jobs_file().read_text(encoding="utf-8").splitlines()
        except OSError:
            log.warning("ignoring unreadable simulator state %s", self._jobs_file())
            return
        torn = False
        for line in lines:
            try:
                item = json.loads(line)
            except ValueError:  # a line cut short when the process was killed mid-write
                log.warning("ignoring a torn line in %s", self._jobs_file())
                torn = True
                continue
            job = Job(**{**item, "plan": JobPlan(**item["plan"])})
            self.jobs[job.id] = job
            if not job.plan.error:
                self._render(job)
        if torn:  # rewrite, or the next appended line would join the torn one
            self._save_jobs()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the poller opens hundreds of connections at once
    simulator: Simulator

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request, client_address):  # noqa: ANN001 (socketserver's signature)
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):  # noqa: ANN001
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """A stopped server must not go on answering on kept-alive connections, as a real restart would not."""
        with self._open_lock:
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._open.clear()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on, the body waits
    # for the client's delayed ACK (~40 ms per request on Linux).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    @property
    def sim(self) -> Simulator:
        return self.server.simulator

    # -- routing ---------------------------------------------------------

    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        # One handler serves every request of a keep-alive connection: reset per-request state.
        self._body: bytes | None = None
        self._fault_after_create: Fault | None = None
        endpoint = "other"
        video = _VIDEO_PATH.match(parts.path)
        if video and method in ("GET", "HEAD"):
            endpoint = "video"
        elif _is_api_path(parts.path) and method in ("POST", "GET"):
            endpoint = "create" if method == "POST" else "fetch"
        gen_id = parse_qs(parts.query).get("generation_id", [""])[0] if endpoint == "fetch" else ""
        self._log = RequestLog(method, endpoint, parts.path, 0, time.time(), gen_id or None, dict(self.headers))
        # Logged before answering: a test that counts right after its response must see this request.
        with self.sim._lock:
            self.sim.requests.append(self._log)

        if parts.path == "/health":
            self._send_json(200, {"status": "ok"})
        elif endpoint == "video":
            self._serve_video(video.group(1), method == "HEAD")
        elif endpoint == "create":
            self._api(self._do_create, parts.path)
        elif endpoint == "fetch":
            self._api(self._do_fetch, gen_id)
        else:
            self._error(404, f"Cannot {method} {parts.path}")

    def _api(self, action: Callable, *args: Any) -> None:
        """Authenticate, apply latency and any injected fault, then run the action."""
        if self.sim.latency:
            time.sleep(self.sim.latency)
        auth = self.headers.get("Authorization", "")
        key = auth[7:].strip() if auth.startswith("Bearer ") else ""
        if not key or (self.sim.api_keys is not None and key not in self.sim.api_keys):
            self._drain()
            self._error(401, "Unauthorized: a valid API key is required in the Authorization header.")
            return
        fault = self.sim.faults.take(self._log.endpoint)
        if fault is None:
            action(*args)
        elif self._log.endpoint == "create" and fault.acted:
            self._fault_after_create = fault  # the job is created first: see _do_create
            action(*args)
        else:
            self._drain()
            self._suffer(fault, action, *args)

    def _suffer(self, fault: Fault, action: Callable, *args: Any) -> None:
        """Answer with the fault; a pure delay answers normally, late."""
        if fault.delay:
            time.sleep(fault.delay)
        if fault.only_delays:
            action(*args)
        else:
            self._respond_with(fault)

    # -- endpoints -------------------------------------------------------

    def _do_create(self, path: str) -> None:
        try:
            body = json.loads(self._drain() or b"null")
        except ValueError:
            self._error(400, "Body must be JSON.")
            return
        if not isinstance(body, dict):
            self._error(400, "Body must be a JSON object.")
            return
        model_id = str(body.get("model", ""))
        try:
            model = catalog.get(model_id)
        except catalog.UnknownModelError:
            self._error(400, f"model: expected one of the video models, received {model_id!r}")
            return
        if path != model.endpoint and path not in model.legacy_endpoints:
            self._error(400, f"model: {model_id!r} is not served at {path}")
            return
        checked = catalog.validate(model, {k: v for k, v in body.items() if k != "model"})
        if not checked.ok:
            self._error(400, "; ".join(f"{name}: {text}" for name, text in checked.errors.items()))
            return
        if self.sim.credits_exhausted:
            self._error(403, "Insufficient credits: top up your balance to continue.")
            return
        job = self.sim._create(model.id, checked.body)
        self._log.generation_id = job.id
        if self._fault_after_create is not None:
            self._suffer(self._fault_after_create, self._answer_create, job)
        else:
            self._answer_create(job)

    def _answer_create(self, job: Job) -> None:
        if self.sim.spelling == "alternative":
            self._send_json(201, {"generation_id": job.id})
        else:
            self._send_json(200, self.sim._job_body(job, self._base_url()))

    def _do_fetch(self, gen_id: str) -> None:
        if not gen_id:
            self._error(400, "generation_id: expected a string, received nothing")
            return
        with self.sim._lock:
            job = self.sim.jobs.get(gen_id)
        if job is None:
            self._error(404, f"Generation {gen_id} not found")
            return
        self._send_json(200, self.sim._job_body(job, self._base_url()))

    def _serve_video(self, key: str, head: bool) -> None:
        fault = self.sim.faults.take("video")
        if fault is not None:
            self._suffer(fault, self._send_video, key, head)
        else:
            self._send_video(key, head)

    def _send_video(self, key: str, head: bool) -> None:
        path = self.sim.videos_dir / f"{key}.mp4"
        if not path.is_file():
            self._error(404, "No such video")
            return
        size = path.stat().st_size
        start, end = 0, size - 1
        status = 200
        if "Range" in self.headers:
            parsed = _parse_range(self.headers["Range"], size)
            if parsed is None:
                self._send(416, b"", "text/plain", {"Content-Range": f"bytes */{size}"})
                return
            start, end = parsed
            status = 206
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "public, max-age=3600"}
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        with path.open("rb") as f:
            f.seek(start)
            data = f.read(end - start + 1)
        self._send(status, b"" if head else data, "video/mp4", headers, length=len(data))

    # -- responses -------------------------------------------------------

    def _respond_with(self, fault: Fault) -> None:
        if fault.drop:
            self._log.status = 0
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif fault.bad_json:
            self._send(200, b'{"id": "truncated', "application/json")
        elif fault.html_page:
            self._send(200, b"<!doctype html><html><body><h1>Sign in</h1></body></html>", "text/html; charset=utf-8")
        else:
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            reason = {429: "Too many requests, slow down.", 403: "Insufficient credits."}.get(fault.status, "Internal error")
            self._error(fault.status or 500, reason, extra)

    def _error(self, status: int, message: str, headers: dict | None = None) -> None:
        """The vendor's error body. Its statusCode has been seen as a string, so send that in the alternative spelling."""
        body = {
            "message": message,
            "path": urlsplit(self.path).path,
            "requestId": str(uuid.uuid4()),
            "statusCode": str(status) if self.sim.spelling == "alternative" else status,
            "timestamp": datetime.now(UTC).isoformat(),
        }
        self._send_json(status, body, headers)

    def _send_json(self, status: int, body: Any, headers: dict | None = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _send(self, status: int, data: bytes, content_type: str, headers: dict | None = None, length: int | None = None) -> None:
        self._log.status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data) if length is None else length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if data:
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test, or a browser seeking)

    def _drain(self) -> bytes:
        """Read the request body so the connection can be reused."""
        if self._body is None:
            length = int(self.headers.get("Content-Length") or 0)
            self._body = self.rfile.read(length) if length else b""
        return self._body

    def _base_url(self) -> str:
        """Video links use the address the client reached us on, so they survive a restart on another port."""
        host = self.headers.get("Host") or f"{self.sim.host}:{self.sim.port}"
        return f"http://{host}"


def _ratio(body: dict) -> str:
    """The body's aspect ratio where it is one ("16:9"); models that take none, or "auto", render 16:9."""
    value = str(body.get("aspect_ratio") or body.get("ratio") or "")
    return value if re.fullmatch(r"\d+(\.\d+)?:\d+(\.\d+)?", value) and "0" not in value.split(":") else "16:9"


def _seconds(body: dict) -> int:
    """The clip's length in whole seconds: the body's duration ("5", 5 or 5.0), else 5."""
    try:
        seconds = round(float(body.get("duration", 5)))
    except (TypeError, ValueError):
        seconds = 5
    return min(max(seconds, 1), MAX_DURATION)


def _is_api_path(path: str) -> bool:
    return path == CURRENT_PATH or path.startswith("/v2/generate/video/")


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if not m or (not m.group(1) and not m.group(2)) or size == 0:
        return None
    if not m.group(1):  # suffix range: the last N bytes
        start, end = max(0, size - int(m.group(2))), size - 1
    else:
        start = int(m.group(1))
        end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    return (start, end) if start <= end and start < size else None
