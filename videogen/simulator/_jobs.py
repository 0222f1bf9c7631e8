"""A job's life: queued, generating, then completed or failed, and the clip it renders.

A job reads as queued for the first fifth of its run time (or, with a script's
`queued_seconds`, for that long before its run), then as generating until its
run time is over and its clip is rendered, then as completed, or as failed if
its script says so. Times come from the wall clock, so a job moves on without
anything driving it, and a restarted simulator finds its jobs where they were.

A clip depends only on what is drawn, so equal requests of any model share one
file, rendered once, off the request threads.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import inputs
from .faults import JobScript
from .render import MAX_DURATION, render_clip

log = logging.getLogger(__name__)

QUEUED_SHARE = 0.2  # the first fifth of a job's run time reads as "queued"


@dataclass
class Job:
    id: str
    model: str
    body: dict
    created_at: float
    seconds: float
    script: JobScript
    render_key: str
    # Wall time the video file was ready; None while rendering (or for failing jobs).
    ready_at: float | None = None
    # The image or video the clip starts from, read when the clip is rendered.
    source: dict | None = None

    def queued_for(self) -> float:
        queued = self.script.queued_seconds
        return QUEUED_SHARE * self.seconds if queued is None else queued

    def due_at(self) -> float:
        # Without a set queue, the queue is part of the run time; with one, the run follows it.
        return self.created_at + self.seconds + (self.script.queued_seconds or 0.0)

    def completed_at(self) -> float | None:
        """When the job turned final, from the simulator's point of view."""
        if self.script.error:
            return self.due_at()
        return None if self.ready_at is None else max(self.due_at(), self.ready_at)

    def status(self, now: float) -> str:
        if now < self.created_at + self.queued_for():
            return "queued"
        done = self.completed_at()
        if done is None or now < done:
            return "generating"
        return "error" if self.script.error else "completed"

    def line(self) -> str:
        """The job as one line of the jobs file; a reloaded job renders (or finds) its clip again, so no ready time."""
        return json.dumps({**asdict(self), "ready_at": None}) + "\n"

    @classmethod
    def from_line(cls, item: dict[str, Any]) -> Job:
        item = dict(item)
        # Jobs files written before the rename call the script "plan".
        script = item.pop("script") if "script" in item else item.pop("plan")
        return cls(**{**item, "script": JobScript(**script)})


def clip_ratio(body: dict) -> str:
    """The body's aspect ratio where it is one ("16:9"); models that take none, or "auto", render 16:9."""
    value = str(body.get("aspect_ratio") or body.get("ratio") or "")
    return value if re.fullmatch(r"\d+(\.\d+)?:\d+(\.\d+)?", value) and "0" not in value.split(":") else "16:9"


def clip_seconds(body: dict) -> int:
    """The clip's length in whole seconds: the body's duration ("5", 5 or 5.0), else 5."""
    try:
        seconds = round(float(body.get("duration", 5)))
    except (TypeError, ValueError):
        seconds = 5
    return min(max(seconds, 1), MAX_DURATION)


def render_key(body: dict, source: inputs.Source | None) -> str:
    """The clip's file name: a digest of what is drawn, the model left out."""
    drawn = [
        body.get("prompt"),
        clip_ratio(body),
        clip_seconds(body),
        body.get("seed"),
        body.get("resolution"),
        source.digest if source else None,
    ]
    return hashlib.sha256(json.dumps(drawn).encode()).hexdigest()[:20]


class Renders:
    """The clips rendered and being rendered: one render per clip, on a pool of `workers` threads."""

    def __init__(self, *, workers: int, videos_dir: Path, inputs_dir: Path) -> None:
        self.videos_dir = videos_dir
        self.inputs_dir = inputs_dir
        self._lock = threading.Lock()
        self._futures: dict[str, Future] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sim-render")

    def start(self, job: Job) -> None:
        """Render the job's clip unless it exists or is on its way; the job is ready once the clip is."""
        path = self.videos_dir / f"{job.render_key}.mp4"
        with self._lock:
            future = self._futures.get(job.render_key)
            if future is None:
                if path.exists():
                    future = Future()
                    future.set_result(path)
                else:
                    future = self._pool.submit(self._render, job, path)
                self._futures[job.render_key] = future

        def ready(done: Future) -> None:
            if done.cancelled():
                return
            if done.exception() is not None:
                log.error("render failed for %s: %s", job.id, done.exception())
                job.script = JobScript(error="The video could not be rendered.")
            job.ready_at = time.time()

        future.add_done_callback(ready)

    def wait(self, timeout: float) -> None:
        with self._lock:
            futures = list(self._futures.values())
        for future in futures:
            future.result(timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _render(self, job: Job, path: Path) -> Path:
        source_path = None
        if job.source:
            if job.source["local"]:
                source_path = Path(job.source["value"])
            else:
                source_path = inputs.fetch(
                    inputs.Source(job.source["kind"], job.source["value"]), inputs_dir=self.inputs_dir, videos_dir=self.videos_dir
                )
        return render_clip(
            path,
            prompt=str(job.body.get("prompt") or ""),
            aspect_ratio=clip_ratio(job.body),
            duration=clip_seconds(job.body),
            seed=job.body.get("seed"),
            resolution=job.body.get("resolution") if isinstance(job.body.get("resolution"), str) else None,
            source=source_path,
            source_kind=job.source["kind"] if job.source else "image",
        )
