"""A local stand-in for the AI/ML API video endpoints, over real HTTP.

    with Simulator(job_seconds=1).start() as sim:
        client = Client(api_key="test", base_url=sim.url)

It speaks the published contract: create and fetch on the current and the
vendor-prefixed paths, Bearer auth, body validation against the catalog (400 in
the vendor's error shape), and queued -> generating -> completed over a set
time. Each finished job is a real H.264 MP4 served with Range support.
Tests make it misbehave through `sim.faults` (see faults.py) and count what it
received through `sim.requests`. `GET /v1/models` lists every catalog model with
the simulator's prices (prices.py), with an ETag; `sim.listing` changes what it lists.
"""

from __future__ import annotations

import hashlib
import hmac
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
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlsplit

from .. import catalog
from ..api import CREDITS_PER_USD
from . import inputs, prices
from .faults import Fault, FaultQueue, JobPlan
from .prices import Listing, etag_matches
from .render import MAX_DURATION, render_clip

log = logging.getLogger(__name__)

QUEUED_SHARE = 0.2  # the first fifth of a job's run time reads as "queued"
_VIDEO_PATH = re.compile(r"^/videos/([0-9a-f]{20})\.mp4$")
# JobPlan.signed_link: the exact bytes a signed link's request must carry, escaped slash and plus included.
_SIGNED_TARGET = re.compile(
    r"/signed/(?P<key>[0-9a-f]{20})%2Fclip%7Ev1\.mp4\?X-Amz-Date=(?P<token>[0-9a-f]{16})&X-Amz-Expires=600"
    r"&X-Amz-Signature=(?P<a>[0-9a-f]{16})%2B(?P<b>[0-9a-f]{16})"
)
_LINK_TOKEN = re.compile(r"[?&](?:sig|X-Amz-Date)=([0-9a-f]{16})(?:&|$)")
_REDIRECT_PATH = re.compile(r"^/redirect/(\d+)$")


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
    endpoint: str  # create | fetch | video | redirect (a hop of Fault.redirects) | other
    path: str
    status: int
    at: float
    generation_id: str | None = None
    headers: dict = field(default_factory=dict, repr=False)


class RequestHistory:
    """The requests received: the latest `keep` in full, and how many of each kind since the last `clear()`.

    A list would grow without end in a long-running demo simulator (each entry holds its headers). Counts
    stay exact past the window: per generation for the `per_generation` ids seen last, in total for all.
    Iterating takes a copy, so a test can read it while the app is still sending.
    """

    _OLDER = object()  # the key counts of ids folded out of the per-generation window are added to

    def __init__(self, keep: int = 20_000, per_generation: int = 100_000) -> None:
        self._recent: deque[RequestLog] = deque(maxlen=keep)
        self._counts: dict[tuple, int] = {}
        self._per_generation = per_generation
        self._lock = threading.Lock()

    def append(self, entry: RequestLog) -> None:
        key = (entry.endpoint, entry.generation_id, entry.method)
        with self._lock:
            self._recent.append(entry)
            self._counts[key] = self._counts.pop(key, 0) + 1  # moved to the end: the latest ids are kept apart
            while len(self._counts) > self._per_generation:
                (endpoint, _, method), count = _pop_first(self._counts)
                older = (endpoint, self._OLDER, method)
                self._counts[older] = self._counts.get(older, 0) + count

    def clear(self) -> None:
        with self._lock:
            self._recent.clear()
            self._counts.clear()

    def count(self, endpoint: str, *, generation_id: str | None = None, method: str | None = None) -> int:
        with self._lock:
            return sum(
                n for (kind, gen_id, verb), n in self._counts.items()
                if kind == endpoint and (generation_id is None or gen_id == generation_id) and (method is None or verb == method)
            )

    def _snapshot(self) -> list[RequestLog]:
        with self._lock:
            return list(self._recent)

    def __iter__(self) -> Iterator[RequestLog]:
        return iter(self._snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._recent)

    def __getitem__(self, index):
        return self._snapshot()[index]


def _pop_first(counts: dict[tuple, int]) -> tuple[tuple, int]:
    key = next(iter(counts))
    return key, counts.pop(key)


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
        # Creates answer 403 with the vendor's out-of-credits body (`error.data.kind` "err_insufficent_credits").
        self.credits_exhausted = False
        # Creates and fetches of these models answer a plain 403 while every other model works, as the API
        # has refused one model on a key that another worked on.
        self.refused_models: set[str] = set()
        # What GET /v1/models lists (see prices.py); tests change it, and fail it with faults.inject("models", ...).
        self.listing = Listing()
        # Where the cost is reported. The real API puts `meta.usage` on the create answer and none on a
        # finished fetch (api-contract, "As the API answers in practice"); "fetch" is the published schema's
        # reading, "both" and "none" the other cases a client must survive.
        self.usage_on: Literal["create", "fetch", "both", "none"] = "create"
        # Also (or only, with usage_on "none") report the cost in the x-aimlapi-* headers of the create answer.
        self.usage_headers = False
        self.jobs: dict[str, Job] = {}
        self.requests = RequestHistory()
        self._owns_state_dir = state_dir is None
        self.state_dir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="videogen-sim-"))
        # Rendered clips depend only on the request, so a test session can share one folder of them.
        self.videos_dir = Path(videos_dir) if videos_dir else self.state_dir / "videos"
        self.videos_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._renders: dict[str, Future] = {}
        # Video links handed out: how many per job, and which have expired (token -> the status they answer).
        self._link_secret = secrets.token_bytes(16)
        self._links_issued: dict[str, int] = {}
        self._expired_links: dict[str, int] = {}
        self._links_lock = threading.Lock()
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
        return self.requests.count(endpoint, generation_id=generation_id, method=method)

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

    def charge(self, job: Job) -> int:
        """What the job costs, in credits, as the create answer reports it: by the price list it publishes."""
        return round(prices.usd_for(job.model, job.body) * CREDITS_PER_USD)

    def usage(self, job: Job, *, alt: bool) -> dict:
        credits = self.charge(job)
        if alt:  # the older spelling
            return {"tokens_used": credits}
        return {"credits_used": credits, "usd_spent": round(credits / CREDITS_PER_USD, 6)}

    def _video_link(self, job: Job, base_url: str) -> str:
        """A fresh link to the job's video, as each fetch of the real API gives (JobPlan.signed_link, expired_links)."""
        token = secrets.token_hex(8)
        with self._links_lock:
            issued = self._links_issued[job.id] = self._links_issued.get(job.id, 0) + 1
            if issued <= job.plan.expired_links:
                self._expired_links[token] = job.plan.expired_status
        if not job.plan.signed_link:
            return f"{base_url}/videos/{job.render_key}.mp4?sig={token}"
        a, b = self._signature(job.render_key, token)
        return f"{base_url}/signed/{job.render_key}%2Fclip%7Ev1.mp4?X-Amz-Date={token}&X-Amz-Expires=600&X-Amz-Signature={a}%2B{b}"

    def _signature(self, key: str, token: str) -> tuple[str, str]:
        digest = hmac.new(self._link_secret, f"{key}/{token}".encode(), hashlib.sha256).hexdigest()
        return digest[:16], digest[16:32]

    def link_expired(self, raw_target: str) -> int | None:
        """The status an expired link answers, or None for a link that works."""
        m = _LINK_TOKEN.search(raw_target)
        with self._links_lock:
            return self._expired_links.get(m.group(1)) if m else None

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
                body["video"] = {"url": self._video_link(job, base_url)}
            else:
                body["video"] = None
            if self.usage_on in ("fetch", "both"):
                body["meta"] = {"usage": self.usage(job, alt=alt)}
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

    def process_request(self, request, client_address):  # socketserver's signature
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
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
        elif parts.path.startswith("/signed/") and method in ("GET", "HEAD"):
            endpoint = "video"
        elif _REDIRECT_PATH.match(parts.path) and method in ("GET", "HEAD"):
            endpoint = "redirect"
        elif _is_api_path(parts.path) and method in ("POST", "GET"):
            endpoint = "create" if method == "POST" else "fetch"
        elif parts.path in MODELS_PATHS and method == "GET":
            endpoint = "models"
        gen_id = parse_qs(parts.query).get("generation_id", [""])[0] if endpoint == "fetch" else ""
        self._log = RequestLog(method, endpoint, parts.path, 0, time.time(), gen_id or None, dict(self.headers))
        # Logged before answering: a test that counts right after its response must see this request.
        with self.sim._lock:
            self.sim.requests.append(self._log)

        if parts.path == "/health":
            self._send_json(200, {"status": "ok"})
        elif endpoint == "video" and video is None:
            self._serve_signed(method == "HEAD")
        elif endpoint == "video":
            self._serve_video(video.group(1), method == "HEAD")
        elif endpoint == "redirect":
            self._next_hop(int(_REDIRECT_PATH.match(parts.path).group(1)), parts.query)
        elif endpoint == "create":
            self._api(self._do_create, parts.path)
        elif endpoint == "fetch":
            self._api(self._do_fetch, gen_id)
        elif endpoint == "models":
            self._models(parts.query)
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
            self._out_of_credits()
            return
        if model.id in self.sim.refused_models:
            self._error(403, REFUSED_MESSAGE)
            return
        job = self.sim._create(model.id, checked.body)
        self._log.generation_id = job.id
        if self._fault_after_create is not None:
            self._suffer(self._fault_after_create, self._answer_create, job)
        else:
            self._answer_create(job)

    def _answer_create(self, job: Job) -> None:
        alt = self.sim.spelling == "alternative"
        body = {"generation_id": job.id} if alt else self.sim._job_body(job, self._base_url())
        if self.sim.usage_on in ("create", "both"):
            body["meta"] = {"usage": self.sim.usage(job, alt=alt)}
        headers = {"x-inference-id": job.id}
        if self.sim.usage_headers:
            credits = self.sim.charge(job)
            headers |= {"x-aimlapi-credits-used": str(credits), "x-aimlapi-usd-spent": f"{credits / CREDITS_PER_USD:g}"}
        self._send_json(201 if alt else 200, body, headers)

    def _do_fetch(self, gen_id: str) -> None:
        if not gen_id:
            self._error(400, "generation_id: expected a string, received nothing")
            return
        with self.sim._lock:
            job = self.sim.jobs.get(gen_id)
        if job is None:
            self._error(404, f"Generation {gen_id} not found")
            return
        if job.model in self.sim.refused_models:
            self._error(403, REFUSED_MESSAGE)
            return
        if job.plan.not_found_seconds is not None and time.time() < job.created_at + job.plan.not_found_seconds:
            self._error(404, "Inference not found")
            return
        self._send_json(200, self.sim._job_body(job, self._base_url()))

    def _models(self, query: str) -> None:
        """The model list: no key needed (none is checked, as the vendor's is public)."""
        fault = self.sim.faults.take("models")
        if fault is not None:
            self._suffer(fault, self._do_models, query)
        else:
            self._do_models(query)

    def _do_models(self, query: str) -> None:
        asked = parse_qs(query)
        include = {v.strip().lower() for value in asked.get("include", []) for v in value.split(",")}
        pricing = bool(include & {"pricing", "all"}) or asked.get("details", [""])[0] in ("true", "1")
        body, etag = self.sim.listing.answer(pricing=pricing)
        if etag_matches(self.headers.get("If-None-Match"), etag):
            self._send(304, b"", "application/json", {"ETag": etag})
        else:
            self._send(200, body, "application/json", {"ETag": etag})

    def _serve_video(self, key: str, head: bool) -> None:
        expired = self.sim.link_expired(self.path)
        if expired is not None:
            self._send_xml_error(expired, "AccessDenied", "Request has expired")
            return
        fault = self.sim.faults.take("video")
        if fault is not None and fault.redirect_hops:
            final = fault.redirect_to or f"{self._base_url()}{self.path}"
            self._next_hop(fault.redirect_hops, f"to={quote(final, safe='')}")
        elif fault is not None and fault.trickle:
            self._send_video(key, head, rate=fault.trickle)
        elif fault is not None:
            self._suffer(fault, self._send_video, key, head)
        else:
            self._send_video(key, head)

    def _serve_signed(self, head: bool) -> None:
        """A signed link answers only to its exact bytes, as S3 checks a signature over the path it received."""
        m = _SIGNED_TARGET.fullmatch(self.path)
        if m is None or (m["a"], m["b"]) != self.sim._signature(m["key"], m["token"]):
            self._send_xml_error(403, "SignatureDoesNotMatch",
                                 "The request signature we calculated does not match the signature you provided.")
            return
        self._serve_video(m["key"], head)

    def _next_hop(self, hops: int, query: str) -> None:
        """One hop of Fault.redirects: on to the next hop here, or at the last one to where the chain ends."""
        final = parse_qs(query).get("to", [""])[0]
        location = final if hops <= 1 else f"/redirect/{hops - 1}?to={quote(final, safe='')}"
        self._send(302, b"", "text/plain", {"Location": location})

    def _send_xml_error(self, status: int, code: str, message: str) -> None:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>").encode()
        self._send(status, body, "application/xml")

    def _send_video(self, key: str, head: bool, rate: float | None = None) -> None:
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
        if rate is None or head:
            self._send(status, b"" if head else data, "video/mp4", headers, length=len(data))
            return
        self._send(status, b"", "video/mp4", headers, length=len(data))
        piece = max(1, int(rate / 20))  # twenty writes a second
        for offset in range(0, len(data), piece):
            try:
                self.wfile.write(data[offset:offset + piece])
            except OSError:  # the client gave up, as a downloader with a minimum rate should
                self.close_connection = True
                return
            time.sleep(piece / rate)

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
        elif fault.huge:
            head, tail = b'{"id": "padded", "status": "queued", "padding": "', b'"}'
            self._send(200, head + b"x" * max(0, fault.huge - len(head) - len(tail)) + tail, "application/json")
        elif fault.unknown_answer:
            self._send_json(200, {"id": "", "status": "unknown",
                                  "error": {"name": "Error", "message": "invalid params, task_id cannot by empty"}})
        elif fault.credits_body:
            self._out_of_credits()
        elif fault.html_page and fault.status:
            self._send(fault.status, _gateway_page(fault.status), "text/html; charset=UTF-8")
        elif fault.html_page:
            self._send(200, b"<!doctype html><html><body><h1>Sign in</h1></body></html>", "text/html; charset=utf-8")
        else:
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            reason = {429: "Too many requests, slow down.", 403: REFUSED_MESSAGE}.get(fault.status, "Internal error")
            self._error(fault.status or 500, reason, extra)

    def _out_of_credits(self) -> None:
        """The vendor's answer when the account has no credits left, as its docs show it (the typo is its own)."""
        parts = urlsplit(self.path)
        self._send_json(403, {
            "title": "Forbidden",
            "status": 403,
            "message": OUT_OF_CREDITS_MESSAGE,
            "instance": f"{parts.path}?{parts.query}",
            "timestamp": datetime.now(UTC).isoformat(),
            "error": {"name": "ForbiddenException", "message": OUT_OF_CREDITS_MESSAGE,
                      "data": {"kind": "err_insufficent_credits"}},
        })

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


OUT_OF_CREDITS_MESSAGE = "You've run out of credits. Please top up your balance to continue."
# A plain refusal, which says nothing of credits: the API has answered one for one model while another worked.
REFUSED_MESSAGE = "Forbidden resource"


def _gateway_page(status: int) -> bytes:
    """Cloudflare's error page in front of the API, in outline: its title names the status."""
    what = {524: "A timeout occurred", 522: "Connection timed out", 520: "Web server is returning an unknown error"}
    title = f"api.aimlapi.com | {status}: {what.get(status, 'Origin error')}"
    return (f'<!DOCTYPE html><html lang="en-US"><head><title>{title}</title></head><body>'
            f'<div id="cf-error-details"><h1>{what.get(status, "Origin error")}</h1>'
            f'<span>Error code {status}</span><p>Cloudflare Ray ID: {secrets.token_hex(8)}</p></div></body></html>').encode()


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


# The vendor serves the same list on all three.
MODELS_PATHS = ("/v1/models", "/models", "/api/v1/models")


def _is_api_path(path: str) -> bool:
    return path == catalog.CURRENT_ENDPOINT or path.startswith("/v2/generate/video/")


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
