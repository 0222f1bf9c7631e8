"""The background poller: one thread that keeps every unfinished generation moving.

    poller = Poller(store, client, server="https://api.aimlapi.com").start()
    ...
    poller.wake()   # after recording a new generation
    poller.stop()

A scheduling thread reads the store for unfinished work, and hands each
generation whose poll is due to a thread pool, so hundreds of fetches run side
by side (threads start only as they are needed; `make bench` measures a sweep
over 200 slow fetches). When a generation finishes, the same worker copies its video into the
data directory and hands it to a small pool of its own that makes the poster
and filmstrip (`videogen.posters`), so saving the next video never waits on
ffmpeg; a poster that cannot be made never fails the video. Before the record
names the file, the worker writes the generation's recipe into it (`videogen.recipe`,
a stream copy of a fraction of a second), so the file says what made it wherever it
goes; a recipe that cannot be written is logged and the video kept as downloaded. Videos saved
without one (before posters existed, or by a process stopped in between) get
theirs from a backfill that the same pool runs a small batch at a time. The store is the only state
that matters: after a restart the poller finds every unfinished row again and
carries on.

The poller never calls Streamlit. The UI learns what changed by re-reading the
store (`Store.version()`), and reads `auth_problem` for the banner.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..api import ApiError, AuthenticationError, Client, NotFoundError, PermissionDeniedError, RateLimitError, Status, is_loopback_host
from ..posters import backfill, ensure_posters
from ..recipe import Recipe, RecipeError, write_recipe
from ..store import Journal, Record, Store
from ._downloads import DownloadError, DownloadLimits, download_video, remove_stale_partials
from ._runtimes import PollPlan, RunTimeEstimate, RunTimes, by_request, poll_plan
from ._schedule import Schedule, error_backoff

log = logging.getLogger(__name__)

LOST_MESSAGE = (
    "The server has not known this generation (404) for a long while, so it cannot be fetched. "
    "It may have expired, or it was made with another API key or server."
)
# A 404 is not proof that a generation is gone: the API has answered "Inference not found" for
# generations that completed later. Only 404s lasting this long (and past the model's slow runs) are.
NOT_FOUND_WINDOW = 15 * 60.0
# How many of the model's slow runs (the schedule's ~98th percentile) the 404s must outlast as well.
NOT_FOUND_SLOW_RUNS = 2.0
NO_LINK_MESSAGE = "The server reported the video as finished but sent no link to it."
# On a shared database: how long a claim on a generation lasts unless renewed. Sweeps run at least
# every `idle_interval` and renew in the lease's second half, so only a stopped process lets one run out.
LEASE_SECONDS = 15.0
# How often a poller writes that it is alive (for `python -m videogen.health`).
HEARTBEAT_SECONDS = 5.0
# How often a sweep looks for downloads a killed process left in the partial folder: a directory scan, kept rare.
PARTIAL_SWEEP_SECONDS = 60.0
# How often a sweep looks for saved videos with no poster: a directory scan, kept rare. A pass that leaves
# some for later is followed by the next one at once.
POSTER_SWEEP_SECONDS = 60.0


@dataclass
class _Track:
    """What the poller remembers about one generation between polls (in memory only)."""

    due: float
    failures: int = 0
    download_failures: int = 0


class Poller:
    def __init__(
        self,
        store: Store,
        client: Client,
        *,
        server: str,
        account: str = "",
        workers: int = 256,
        downloads: int = 4,
        schedule_for: Callable[..., Schedule] = Schedule.for_model,
        run_times: RunTimes | None = None,
        backoff_base: float = 2.0,
        backoff_cap: float = 60.0,
        auth_pause: float = 60.0,
        not_found_window: float = NOT_FOUND_WINDOW,
        max_download_failures: int = 5,
        idle_interval: float = 1.0,
        journal: Journal | None = None,
        allow_local: bool | None = None,
        download_limits: DownloadLimits | None = None,
        partial_sweep_every: float = PARTIAL_SWEEP_SECONDS,
        posters: int = 2,
        poster_sweep_every: float = POSTER_SWEEP_SECONDS,
        recipes: bool = True,
    ) -> None:
        self.store = store
        self.client = client
        #: Whether each saved video carries its recipe in its metadata.
        self.recipes = recipes
        #: Accepted creates the store could not take yet: each sweep tries to record them.
        self.journal = journal
        # Plain http and loopback video links: only for the simulator or a test server on this machine.
        # Unset, that is when the client's own API is on loopback; connect() says so explicitly.
        if allow_local is None:
            allow_local = is_loopback_host(urlsplit(str(getattr(client, "base_url", ""))).hostname)
        self.allow_local = allow_local
        self.download_limits = download_limits or DownloadLimits()
        self.partial_sweep_every = partial_sweep_every
        self._last_partial_sweep = float("-inf")
        self.server = server
        self.account = account
        self.schedule_for = schedule_for
        self._schedule_for = by_request(schedule_for)
        # What this history has seen of each model replaces `schedule_for` once there is enough of it.
        self.run_times = run_times
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.auth_pause = auth_pause
        #: The least time 404s must last before a generation counts as lost (see `lost_window`).
        self.not_found_window = not_found_window
        self.max_download_failures = max_download_failures
        self.idle_interval = idle_interval
        self.workers = workers
        #: Who holds this poller's leases on a shared database: unique per process and per poller.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        #: The last 401, or 403 saying the account is out of credits; polling pauses while it stands.
        self.auth_problem: ApiError | None = None
        self._paused_until = 0.0
        self._last_heartbeat = float("-inf")
        self._tracks: dict[str, _Track] = {}
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        # Hundreds of videos can finish in the same second. Copying them all at once would
        # starve the page of CPU (one interpreter lock for everything) for no gain in bandwidth.
        self._download_slots = threading.BoundedSemaphore(downloads)
        # Each poster is an ffmpeg decode, CPU-bound: a few at a time in a pool of their own, whatever the
        # number of downloads, so a poll worker that saved a video is free for the next one at once.
        self.poster_workers = posters
        self._posters: ThreadPoolExecutor | None = None
        self.poster_sweep_every = poster_sweep_every
        self._last_poster_sweep = float("-inf")
        self._backfilling = False  # set by the scheduling thread, cleared by the worker running the pass

    # -- lifecycle -------------------------------------------------------

    def start(self) -> Poller:
        if self._thread and self._thread.is_alive():
            return self
        self._stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="poll")
        self._posters = ThreadPoolExecutor(max_workers=self.poster_workers, thread_name_prefix="poster")
        self._thread = threading.Thread(target=self._run, name="poller", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._posters:  # a poster not yet made is left to the next start's backfill
            self._posters.shutdown(wait=True, cancel_futures=True)
        self.store.release(self.owner)

    @property
    def running(self) -> bool:
        return bool(self._thread and self._thread.is_alive())

    def wake(self) -> None:
        """Look at the store now (a generation was just recorded), not at the next tick."""
        self._wake.set()

    # -- scheduling ------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.sweep()
            except Exception:  # the thread must outlive any single failure, or polling stops for good
                log.exception("poller sweep failed")
                wait = self.idle_interval
            self._wake.wait(wait)
            self._wake.clear()

    def sweep(self, now: float | None = None) -> float:
        """Start a poll for every generation that is due; return seconds until the next one is."""
        now = time.time() if now is None else now
        self._sweep_partials()
        self._sweep_posters()
        if now < self._paused_until:
            return min(self._paused_until - now, self.idle_interval)
        if self.journal is not None and self.journal.has_entries():
            self.journal.replay(self.store)
        if now - self._last_heartbeat >= HEARTBEAT_SECONDS:  # first: a claim counts the pollers alive
            self.store.heartbeat(self.owner, self.server, now)
            self._last_heartbeat = now
        if self.store.shared:
            records = self.store.claim(self.server, self.account, self.owner, seconds=LEASE_SECONDS, now=now)
        else:
            records = self.store.unfinished(self.server, self.account)
        next_due = now + self.idle_interval
        with self._lock:
            live = {r.id for r in records}
            for gone in set(self._tracks) - live - self._in_flight:
                del self._tracks[gone]
            for record in records:
                if record.id in self._in_flight:
                    continue
                track = self._tracks.get(record.id)
                if track is None:
                    track = self._tracks[record.id] = _Track(due=self._first_due(record, now))
                if track.due <= now and not (self.auth_problem and self._in_flight):
                    # While the key is refused, a single poll at a time probes whether it works again.
                    self._in_flight.add(record.id)
                    self._pool.submit(self._work, record)
                else:
                    next_due = min(next_due, track.due)
        return max(0.0, next_due - time.time())

    def _first_due(self, record: Record, now: float) -> float:
        if not record.status.is_pending:
            return now  # finished but not downloaded yet
        return max(now, self.poll_plan(record).first_due())

    def poll_plan(self, record: Record) -> PollPlan:
        """When to poll `record` next: learned run times where there are some, and from the run's start once seen."""
        if self.run_times is not None:
            return self.run_times.poll_plan(record)
        schedule = self._schedule_for(record.model, record.request)
        return poll_plan(record, schedule, RunTimeEstimate(schedule.typical, schedule.spread, samples=0, learned=False))

    def lost_window(self, record: Record) -> float:
        """How long 404s must go on before `record` counts as lost: the window, or the model's slow runs if longer."""
        schedule = self.poll_plan(record).schedule
        return max(self.not_found_window, NOT_FOUND_SLOW_RUNS * schedule.age_at(schedule.tail_z))

    def _reschedule(self, record: Record, *, delay: float) -> None:
        with self._lock:
            track = self._tracks.get(record.id)
            if track is not None:
                track.due = time.time() + delay
            self._in_flight.discard(record.id)
        if delay <= 0:
            self._wake.set()

    # -- one poll --------------------------------------------------------

    def _work(self, record: Record) -> None:
        track = self._tracks[record.id]
        delay = self.idle_interval
        try:
            if record.status.is_pending:
                record = self._fetch(record, track)
            if record.needs_download:
                delay = self._download(record, track)
            elif record.status.is_pending:
                delay = self.poll_plan(record).delay(time.time())
        except PermissionDeniedError as exc:
            if exc.out_of_credits:
                delay = self._pause(exc)
            else:
                # The API has refused one model while another worked on the same key: this one's refusal only.
                self.store.count_poll(record.id)
                log.info("poll of %s refused (403), backing off: %s", record.id, exc)
                delay = self._backoff(track)
        except AuthenticationError as exc:
            delay = self._pause(exc)
        except NotFoundError:
            self.store.count_poll(record.id)
            now = time.time()
            noted = self.store.note_not_found(record.id, now) or record
            since = noted.not_found_since if noted.not_found_since is not None else now
            if now - since >= self.lost_window(noted):
                self.store.mark_lost(record.id, LOST_MESSAGE)
                log.warning("generation %s is lost (404 for %.0f s)", record.id, now - since)
            delay = self._backoff(track)
        except RateLimitError as exc:
            self.store.count_poll(record.id)
            delay = self._backoff(track, retry_after=exc.retry_after)
        except ApiError as exc:
            self.store.count_poll(record.id)
            log.info("poll of %s failed, will retry: %s", record.id, exc)
            delay = self._backoff(track)
        except Exception:
            log.exception("unexpected error polling %s", record.id)
            delay = self._backoff(track)
        finally:
            self._reschedule(record, delay=delay)

    def _fetch(self, record: Record, track: _Track) -> Record:
        generation = self.client.fetch(record.id, model=record.model)
        track.failures = 0
        self.auth_problem = None
        updated = self.store.apply(generation) or record
        if updated.status is Status.COMPLETED and not updated.video_url and not updated.video_error:
            self.store.set_video_error(updated.id, NO_LINK_MESSAGE)
            updated = self.store.get(updated.id) or updated
        return updated

    def _download(self, record: Record, track: _Track) -> float:
        try:
            path = self._download_fresh(record)
        except DownloadError as exc:
            track.download_failures += 1
            if exc.permanent or track.download_failures >= self.max_download_failures:
                self.store.set_video_error(record.id, str(exc))
                return self.idle_interval
            return self._backoff(track)
        if self.recipes:
            self._write_recipe(record, path)
        self.store.set_video_path(record.id, path)
        if self._posters is not None:
            try:
                self._posters.submit(self._make_posters, path)
            except RuntimeError:  # stopping: the next start's backfill makes it
                pass
        return self.idle_interval

    def _write_recipe(self, record: Record, video: Path) -> None:
        try:
            write_recipe(video, Recipe.of(record), scratch=self.store.partial_dir)
        except RecipeError as exc:
            log.warning("the recipe of %s was not written: %s", video.name, exc.reason)

    def _make_posters(self, video: Path) -> None:
        # After the record: the video is saved whatever happens here, and a backfill retries what did not finish.
        try:
            ensure_posters(video, scratch=self.store.partial_dir)
        except Exception:
            log.exception("making the poster of %s failed", video.name)

    def _download_fresh(self, record: Record) -> Path:
        """Copy the video; when the CDN refuses the link (signed links expire), ask the API once for a fresh one."""
        try:
            return self._copy_video(record.video_url or "", record.id)
        except DownloadError as exc:
            if not exc.link_refused:
                raise
            refused = exc
        fresh = self._fresh_link(record, refused)
        try:
            return self._copy_video(fresh, record.id)
        except DownloadError as exc:
            if not exc.link_refused:
                raise
            raise DownloadError(f"{exc} A fresh link from the server was refused as well.", permanent=True) from None

    def _copy_video(self, url: str, generation_id: str) -> Path:
        # The CDN is another host: nothing of the API client (its key) goes with the download.
        with self._download_slots:
            return download_video(
                url,
                self.store.videos_dir,
                generation_id,
                partial_dir=self.store.partial_dir,
                allow_local=self.allow_local,
                limits=self.download_limits,
            )

    def _fresh_link(self, record: Record, refused: DownloadError) -> str:
        try:
            generation = self.client.fetch(record.id, model=record.model)
        except (AuthenticationError, PermissionDeniedError):
            raise  # the key's trouble, not this video's: polling pauses as for any fetch
        except NotFoundError:
            raise DownloadError(
                f"{refused} The server no longer knows the generation, so no fresh link could be had.", permanent=True
            ) from None
        except ApiError as exc:
            raise DownloadError(f"{refused} A fresh link could not be fetched yet ({exc}).", permanent=False) from None
        updated = self.store.apply(generation)
        url = (updated.video_url if updated else None) or generation.video_url
        if not url:
            raise DownloadError(f"{refused} The server sent no fresh link.", permanent=True)
        return url

    def _sweep_partials(self) -> None:
        """Delete downloads that no process can still be writing (one killed mid-download), at most once a minute."""
        now = time.monotonic()
        if now - self._last_partial_sweep < self.partial_sweep_every:
            return
        self._last_partial_sweep = now
        try:
            removed = remove_stale_partials(self.store.partial_dir, older_than=self.download_limits.stale_after)
        except OSError:
            log.exception("could not clear stale partial downloads")
            return
        if removed:
            log.info("removed %d partial download(s) left by a stopped process", removed)

    def _sweep_posters(self) -> None:
        """Hand a backfill pass to a worker when one is due and none is running; the sweep itself never waits on ffmpeg."""
        now = time.monotonic()
        if self._posters is None or self._backfilling or now - self._last_poster_sweep < self.poster_sweep_every:
            return
        self._last_poster_sweep = now
        self._backfilling = True
        try:
            self._posters.submit(self._backfill)
        except RuntimeError:  # the pool is shutting down: stop() was called
            self._backfilling = False

    def _backfill(self) -> None:
        try:
            result = backfill(self.store.videos_dir, scratch=self.store.partial_dir, should_stop=self._stop.is_set)
        except Exception:
            log.exception("the poster backfill failed")
            return
        finally:
            self._backfilling = False
        if result.made or result.noted:
            log.info("backfill: %d poster(s) made, %d video(s) cannot have one, %d left", result.made, result.noted, result.left)
        if result.left and not result.stalled:
            self._last_poster_sweep = float("-inf")
            self._wake.set()

    def _pause(self, exc: ApiError) -> float:
        # Every other poll would fail the same way: pause all of them, once, instead of a storm.
        self.auth_problem = exc
        self._paused_until = time.time() + self.auth_pause
        return self.auth_pause

    def _backoff(self, track: _Track, retry_after: float | None = None) -> float:
        track.failures += 1
        return error_backoff(track.failures, base=self.backoff_base, cap=self.backoff_cap, retry_after=retry_after)
