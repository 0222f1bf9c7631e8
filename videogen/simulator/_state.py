"""What the simulator holds, shared by every request thread: its jobs, what it received, the links it gave out.

Jobs are kept by id. With a `state_dir` of the caller's, each is also written
to `jobs.jsonl` (one line, appended on create), so a restarted demo keeps its
jobs; a data URL a request sends is kept as a file under `inputs/`, never in
that file. Rendered clips go to `videos_dir`, the image models' stills to
`images/` in the state folder. The knobs tests turn live here
too: `faults` (faults.py), `listing` (prices.py), `spelling`, where the cost
is reported, the keys accepted, the models refused.
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
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .. import catalog
from ..api import CREDITS_PER_USD
from . import inputs, prices
from ._jobs import Job, Renders, render_key
from ._stills import Stills
from .faults import FaultQueue
from .prices import Listing

log = logging.getLogger(__name__)


@dataclass
class RequestLog:
    method: str
    endpoint: str  # create | fetch | video | redirect (a hop of Fault.redirects) | models | chat | image | still | other
    path: str
    status: int
    at: float
    generation_id: str | None = None
    headers: dict = field(default_factory=dict, repr=False)
    # A chat or image request's JSON body, each data URL in it cut to its type and length (for tests to read what was sent).
    body: Any = field(default=None, repr=False)


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
                n
                for (kind, gen_id, verb), n in self._counts.items()
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


_LINK_TOKEN = re.compile(r"[?&](?:sig|X-Amz-Date)=([0-9a-f]{16})(?:&|$)")
# JobScript.signed_link: the exact bytes a signed link's request must carry, escaped slash and plus included.
_SIGNED_TARGET = re.compile(
    r"/signed/(?P<key>[0-9a-f]{20})%2Fclip%7Ev1\.mp4\?X-Amz-Date=(?P<token>[0-9a-f]{16})&X-Amz-Expires=600"
    r"&X-Amz-Signature=(?P<a>[0-9a-f]{16})%2B(?P<b>[0-9a-f]{16})"
)


class VideoLinks:
    """The video links handed out: a fresh one per fetch, as the real API gives (JobScript.signed_link, expired_links)."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(16)
        self._issued: dict[str, int] = {}  # per job
        self._expired: dict[str, int] = {}  # token -> the status it answers
        self._lock = threading.Lock()

    def issue(self, job: Job, base_url: str) -> str:
        token = secrets.token_hex(8)
        with self._lock:
            issued = self._issued[job.id] = self._issued.get(job.id, 0) + 1
            if issued <= job.script.expired_links:
                self._expired[token] = job.script.expired_status
        if not job.script.signed_link:
            return f"{base_url}/videos/{job.render_key}.mp4?sig={token}"
        a, b = self._signature(job.render_key, token)
        return f"{base_url}/signed/{job.render_key}%2Fclip%7Ev1.mp4?X-Amz-Date={token}&X-Amz-Expires=600&X-Amz-Signature={a}%2B{b}"

    def expired(self, raw_target: str) -> int | None:
        """The status an expired link answers, or None for a link that works."""
        m = _LINK_TOKEN.search(raw_target)
        with self._lock:
            return self._expired.get(m.group(1)) if m else None

    def signed_key(self, raw_target: str) -> str | None:
        """The clip a signed link's request target names, or None unless it is exactly the bytes handed out."""
        m = _SIGNED_TARGET.fullmatch(raw_target)
        if m is None or (m["a"], m["b"]) != self._signature(m["key"], m["token"]):
            return None
        return m["key"]

    def _signature(self, key: str, token: str) -> tuple[str, str]:
        digest = hmac.new(self._secret, f"{key}/{token}".encode(), hashlib.sha256).hexdigest()
        return digest[:16], digest[16:32]


class State:
    """The simulator's jobs, request log, links and knobs; `Simulator` serves them over HTTP."""

    def __init__(
        self,
        *,
        job_seconds: float | Callable[[dict], float],
        state_dir: Path | str | None,
        api_keys: set[str] | None,
        latency: float,
        render_workers: int,
        videos_dir: Path | str | None,
    ) -> None:
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
        # Chat answers carry the vendor's `meta.usage` (credits and dollars) besides OpenAI's token counts;
        # off, only the token counts come back, as in OpenAI's own shape.
        self.chat_usage_meta = True
        self.jobs: dict[str, Job] = {}
        self.requests = RequestHistory()
        self.links = VideoLinks()
        self._owns_state_dir = state_dir is None
        self.state_dir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="videogen-sim-"))
        # Rendered clips depend only on the request, so a test session can share one folder of them.
        self.videos_dir = Path(videos_dir) if videos_dir else self.state_dir / "videos"
        self.videos_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # guards `jobs` and the jobs file
        self.renders = Renders(workers=render_workers, videos_dir=self.videos_dir, inputs_dir=self._inputs_dir())
        self.stills = Stills(self.state_dir / "images")
        self._load_jobs()

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
        self.renders.wait(timeout)

    def charge(self, job: Job) -> int:
        """What the job costs, in credits, as the create answer reports it: by the price list it publishes."""
        return round(prices.usd_for(job.model, job.body) * CREDITS_PER_USD)

    # -- jobs ------------------------------------------------------------

    def create(self, model_id: str, body: dict) -> Job:
        """A new job for a validated body, as a create makes it; its clip starts rendering unless it is to fail."""
        script = self.faults.take_script()
        seconds = script.seconds if script.seconds is not None else self._seconds_for(body)
        short = model_id.rsplit("/", 1)[-1]
        source = inputs.source_of(catalog.get(model_id), body)
        key = render_key(body, source)
        if source is not None:
            # A data URL is kept as a file now, so saved state never holds megabytes of base64.
            path = (
                inputs.fetch(source, inputs_dir=self._inputs_dir(), videos_dir=self.videos_dir)
                if source.value.startswith("data:")
                else None
            )
            source = {"kind": source.kind, "value": str(path) if path else source.value, "local": path is not None}
        job = Job(
            id=script.id or f"{uuid.uuid4()}:{short}",
            model=model_id,
            body=inputs.shorten(body),
            created_at=time.time(),
            seconds=seconds,
            script=script,
            render_key=key,
            source=source,
        )
        with self._lock:
            self.jobs[job.id] = job
            self._append_job(job)
        if not script.error:
            self.renders.start(job)
        return job

    def lookup(self, generation_id: str) -> Job | None:
        with self._lock:
            return self.jobs.get(generation_id)

    def _seconds_for(self, body: dict) -> float:
        return float(self.job_seconds(body) if callable(self.job_seconds) else self.job_seconds)

    def _inputs_dir(self) -> Path:
        return self.state_dir / "inputs"

    def _release(self) -> None:
        """Stop rendering, and remove the state folder if it was made for this simulator alone."""
        self.renders.shutdown()
        if self._owns_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    # -- persistence, so a restarted demo keeps its jobs -----------------

    # One JSON line per job, appended on create: rewriting every job on each create held the lock
    # for time that grew with the history, and serialised concurrent creates behind it.
    def _jobs_file(self) -> Path:
        return self.state_dir / "jobs.jsonl"

    def _append_job(self, job: Job) -> None:
        if not self._owns_state_dir:
            with self._jobs_file().open("a", encoding="utf-8") as f:
                f.write(job.line())

    def _save_jobs(self) -> None:
        if self._owns_state_dir:
            return
        tmp = self._jobs_file().with_suffix(".tmp")
        tmp.write_text("".join(j.line() for j in self.jobs.values()), encoding="utf-8")
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
            job = Job.from_line(item)
            self.jobs[job.id] = job
            if not job.script.error:
                self.renders.start(job)
        if torn:  # rewrite, or the next appended line would join the torn one
            self._save_jobs()
