"""A live connection: the client, the store, the poller and, in demo mode, the simulator.

    conn = connect(api_key=None, base_url=..., data_dir=Path("data"))   # demo mode
    record = conn.submit({"model": "veo2", "prompt": "..."})

`submit` is the one place a generation is created: it validates, sends, and
records the id in the store before returning, with no UI code in between, so a
rerun of the page can never separate a paid generation from its record.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from . import catalog, media, rewrite, seeds, spend, start_frames
from .api import ApiError, Client, InvalidRequestError, NotSavedYetError, OutcomeUnknownError, is_loopback_host, key_hint
from .polling import Poller, PollPlan, RunTimes, Schedule
from .pricing import Price, PriceList
from .simulator import Simulator
from .spend import Budget
from .store import ChatCall, Entry, Journal, Record, Reservation, Spending, StartImage, Store

log = logging.getLogger(__name__)

DEMO_SERVER = "demo"
DEMO_KEY = "demo-key-local-simulator"
# Creates of one batch in flight at once: a batch of 8 lands in about two creates' time, and stays
# far below any rate limit a person's single key is likely to have.
BATCH_CONCURRENCY = 4
# Seconds connect() waits for the price list's first read (see pricing.py): it goes on in the background after.
PRICES_FIRST_WAIT = 2.0


def account_of(api_key: str) -> str:
    """A one-way fingerprint of a key: tells generations of different keys apart without storing the key."""
    return hashlib.sha256(f"videogen-account:{api_key}".encode()).hexdigest()[:16]


#: "demo": the embedded simulator, with its own key; "api": a real server with the person's key.
Mode = Literal["demo", "api"]


@dataclass
class Connection:
    mode: Mode
    base_url: str
    server: str  # what the store calls this server: "demo", or the base URL
    account: str
    key_hint: str
    client: Client
    store: Store
    poller: Poller
    journal: Journal | None = None
    simulator: Simulator | None = None
    #: How long a generation of a model usually takes here, and so when to poll it and what to promise.
    schedule_for: Callable[[str], Schedule] = Schedule.for_model
    #: The server's price list, refreshed in the background (None: prices are not known here).
    prices: PriceList | None = None

    def price(self, body: Mapping[str, Any]) -> Price | None:
        """What the request `body` costs by the server's price list; None when the list does not say."""
        return self.prices.price(body) if self.prices else None

    def poll_plan(self, record: Record) -> PollPlan:
        """How long `record` should take from here, and whether that is only a guess: as the poller plans it."""
        return self.poller.poll_plan(record)

    @property
    def is_demo(self) -> bool:
        return self.mode == "demo"

    def submit(
        self,
        params: Mapping[str, Any],
        *,
        model: str | None = None,
        parent_id: str | None = None,
        batch_id: str | None = None,
        created_at: float | None = None,
        owner: str = "",
        budget: Budget | None = None,
        origin: Mapping[str, Any] | None = None,
    ) -> Record:
        """Validate, check the budget, create on the server, record. Raises the client's typed errors.

        `parent_id` names the generation this one is a version of (re-run, edited, varied); `origin` how
        it was made beyond that (`lineage.Origin`: a reviewed rewrite, a frame of another clip);
        `batch_id` the variants batch it belongs to; `owner` who made it (with sign-in on).

        With a `budget`, the request's expected cost is reserved before sending, in one transaction with
        the check (OverBudgetError: nothing sent); the reservation passes to the row, is cancelled when the
        server refuses the request, and stands when the outcome is unknown (the money may be spent).
        A create the server accepted is written to the journal before the store is asked; when the store
        cannot take it, NotSavedYetError names the id, and a later sweep records it.

        The model is `model`, else the body's own "model", else veo2. Uploads are
        recorded as references to their files and sent as data URLs (see media.py).
        """
        checked = catalog.validate(model or str(params.get("model") or catalog.DEFAULT_MODEL), params)
        if not checked.ok:
            raise InvalidRequestError("; ".join(checked.errors.values()))
        # A blank seed is drawn here, sent and recorded, so a good random take can be made again.
        body, _ = seeds.with_seed(checked.body)
        try:
            sendable = media.expand(body, self.store.data_dir)
        except media.MediaError as exc:
            raise InvalidRequestError(str(exc)) from exc
        reservation = self._reserve(body, owner, budget) if budget is not None and budget.is_set else None
        try:
            generation = self.client.create(sendable)
        except OutcomeUnknownError:
            raise
        except ApiError:
            if reservation is not None:
                self.store.cancel(reservation)
            raise
        assert self.journal is not None, "connect() gives every connection its journal"
        entry = Entry.of(
            generation,
            request=body,
            server=self.server,
            account=self.account,
            created_at=created_at if created_at is not None else time.time(),
            parent_id=parent_id,
            batch_id=batch_id,
            owner=owner,
            reservation=reservation,
            origin=origin,
        )
        try:
            self.journal.write(entry)
        except OSError:  # a full disk, say: the store may still take the row
            log.exception("could not journal %s before recording it", generation.id)
        try:
            record = entry.save_to(self.store)
        except Exception as exc:  # whatever the store's failure, the generation exists and is paid for
            self.journal.keep(generation.id)
            log.error("created %s but could not record it: %s", generation.id, exc)
            raise NotSavedYetError(
                f"Created as {generation.id}, not yet saved: the history cannot be written right now. It will "
                "appear when the history is writable; do not submit it again.",
                generation_id=generation.id,
            ) from None
        self.journal.done(generation.id)
        if batch_id is None:
            self.poller.wake()  # a batch wakes it once, when the whole batch is recorded
        return record

    def expected_credits(self, body: Mapping[str, Any]) -> float | None:
        """What `body` should cost here: by the server's price list, else this history's median of the same
        model, duration and resolution; None when neither knows."""
        if (price := self.price(body)) is not None:
            return price.credits
        estimate = spend.estimate(self.store.costs(str(body.get("model", "")), self.server), body)
        return estimate.credits if estimate else None

    def budget_standing(self, budget: Budget, cost: float | None, *, owner: str = "", what: str = "This request") -> spend.Standing:
        """Where a request (or a batch) expected to cost `cost` credits (None: unknown) stands against `budget`
        now, with what this key and `owner` have spent here: for the page to say before anything is sent."""
        if not budget.is_set:
            return spend.Standing()
        key = self.store.spending(self.server, self.account)
        person = self.store.spending(self.server, self.account, owner) if owner else None
        return budget.standing(cost, key, person, what=what)

    def _reserve(self, body: Mapping[str, Any], owner: str, budget: Budget) -> Reservation:
        credits = budget.assumed(self.expected_credits(body))

        def check(key: Spending, person: Spending) -> None:
            budget.check(credits, key, person if owner else None)

        return self.store.reserve(self.server, self.account, owner, credits, check)

    def improve_prompt(
        self,
        prompt: str,
        *,
        video_model: str,
        kind: rewrite.Kind,
        chat_model: str = rewrite.DEFAULT_CHAT_MODEL,
        image: str | None = None,
        owner: str = "",
        budget: Budget | None = None,
    ) -> tuple[rewrite.Rewrite, ChatCall]:
        """Ask a chat model to rewrite `prompt` for `video_model` ("Improve prompt"), and record the call.

        `image`: the start image of an image-to-video prompt, an upload reference (sent as a data URL) or an
        https link. With a `budget` that is spent, nothing is asked (OverBudgetError). Every call the server
        may have charged for is recorded with its cost, so it counts in spend, a failed one included; the
        rewrite is only a proposal: nothing goes to a video model until the person sends it.
        Raises RewriteError with one sentence why when no rewrite came of it.
        """
        if budget is not None and budget.is_set:
            key = self.store.spending(self.server, self.account)
            person = self.store.spending(self.server, self.account, owner) if owner else None
            # A chat call costs a fraction of a cent and has no price beforehand: refused only once a budget is spent.
            budget.check(0.0, key, person, what="Improving the prompt")
        if image is not None and media.is_reference(image):
            try:
                image = media.data_url(image, self.store.data_dir)
            except media.MediaError as exc:
                raise rewrite.RewriteError(f"The start image could not be read ({exc}).") from None
        record = dict(server=self.server, account=self.account, owner=owner, prompt=prompt)
        try:
            result = rewrite.rewrite(self.client, prompt=prompt, video_model=video_model, kind=kind, chat_model=chat_model, image=image)
        except rewrite.RewriteError as exc:
            if exc.may_be_charged:
                self.store.add_chat_call(**record, chat_model=str(chat_model), usd=exc.cost_usd, answer="")
            raise
        return result, self.store.add_chat_call(**record, chat_model=result.chat_model, usd=result.cost_usd, answer=result.text)

    def make_start_frame(
        self, body: Mapping[str, Any], param: catalog.Param | None, *, owner: str = "", budget: Budget | None = None
    ) -> tuple[start_frames.StartFrame, StartImage]:
        """Have an image model draw a start frame (`body`: its request), kept as an upload fit for `param` (a video
        model's image field), and recorded with its prompt, model, seed and cost, which count in spend.

        With a `budget` that is spent, nothing is asked (OverBudgetError). ApiError (RefusedError: the model would
        not draw it, with its reason) when no picture came; StartFrameError when the picture could not be kept,
        in which case the call is still recorded: it was paid for.
        """
        if budget is not None and budget.is_set:
            key = self.store.spending(self.server, self.account)
            person = self.store.spending(self.server, self.account, owner) if owner else None
            # A picture costs cents and has no price beforehand: refused only once a budget is spent.
            budget.check(0.0, key, person, what="Drawing a start frame")
        result = self.client.generate_image(body)
        record = dict(server=self.server, account=self.account, owner=owner, model=result.model, request=dict(body))
        try:
            frame = start_frames.keep(result, param, self.store.data_dir, allow_local=self.poller.allow_local)
        except start_frames.StartFrameError:
            self.store.add_image(**record, upload_ref="", seed=result.seed, credits_used=result.credits_used)
            raise
        image = self.store.add_image(**record, upload_ref=frame.reference, seed=frame.seed, credits_used=frame.credits_used)
        return frame, image

    def submit_batch(
        self,
        bodies: Sequence[Mapping[str, Any]],
        *,
        batch_id: str,
        parent_id: str | None = None,
        parent_ids: Sequence[str | None] | None = None,
        owner: str = "",
        budget: Budget | None = None,
    ) -> list[Record | ApiError]:
        """Create every body of a variants batch, a few at a time; the outcome of each, in order.

        Each item is one `submit`: recorded the moment its id comes back, never
        retried here, and its error (an unknown outcome included) is its own,
        so one refusal leaves the others alone. Created times follow the batch's
        order, so the batch reads in the order it was asked for.

        `parent_id` names the generation every item is a version of; `parent_ids`, one per body, replaces
        it where the items are versions of different ones (a batch of prompts, some edited, some new).
        """
        parents = list(parent_ids) if parent_ids is not None else [parent_id] * len(bodies)
        if len(parents) != len(bodies):
            raise ValueError(f"{len(parents)} parents for {len(bodies)} bodies: one each")
        confirmed = time.time()

        def one(index: int) -> Record | ApiError:
            try:
                return self.submit(
                    bodies[index],
                    batch_id=batch_id,
                    parent_id=parents[index],
                    created_at=confirmed + index * 1e-3,
                    owner=owner,
                    budget=budget,
                )
            except ApiError as exc:  # NotSavedYetError and OverBudgetError too: each item's outcome is its own
                return exc

        try:
            return list(self._batch_pool.map(one, range(len(bodies))))
        finally:
            self.poller.wake()

    @cached_property
    def _batch_pool(self) -> ThreadPoolExecutor:
        # Kept for the connection's life: starting threads for every batch costs more than a loopback create.
        return ThreadPoolExecutor(max_workers=BATCH_CONCURRENCY, thread_name_prefix="batch")

    def pending(self, *, limit: int | None = None, owner: str | None = None) -> list[Record]:
        """This connection's running generations, newest first; with `owner`, that person's only."""
        return self.store.pending(self.server, self.account, limit=limit, owner=owner)

    def pending_ids(self, owner: str | None = None) -> set[str]:
        return self.store.pending_ids(self.server, self.account, owner)

    def close(self) -> None:
        if "_batch_pool" in self.__dict__:
            self._batch_pool.shutdown(wait=True)
        self.poller.stop()
        self.client.close()
        if self.prices:
            self.prices.stop()
        if self.simulator:
            self.simulator.stop()


def connect(
    api_key: str | None,
    *,
    base_url: str,
    data_dir: Path,
    demo_job_seconds: float = 10.0,
    typical_seconds: float | None = None,
    poller_workers: int = 256,
    database_url: str = "",
    recipes: bool = True,
) -> Connection:
    """Open a connection. With no key, start the embedded simulator: demo mode.

    `typical_seconds` overrides the catalog's typical run time (for a server known to be faster or slower).
    `database_url` (PostgreSQL) holds the history of the real API's generations. Demo mode keeps SQLite in
    the data directory whatever it says: its simulator lives in this process, and another process sharing
    the rows could not poll it. `recipes` writes each saved video's recipe into its file.
    """
    store = Store(data_dir, database_url=database_url if api_key else "")
    simulator = None
    mode: Mode
    if api_key:
        mode, server, key = "api", base_url.rstrip("/"), api_key
    else:
        # The simulator keeps its jobs in the data dir, so a restarted demo still finishes them.
        simulator = Simulator(port=0, job_seconds=demo_job_seconds, state_dir=data_dir / "simulator").start()
        mode, server, key, base_url = "demo", DEMO_SERVER, DEMO_KEY, simulator.url
        log.info("demo mode: embedded simulator on %s", simulator.url)
    client = Client(key, base_url=base_url, pool_size=poller_workers)  # a kept connection per worker
    prices = PriceList(base_url, data_dir, server=server, source="demo price list" if simulator else "vendor price list").start()
    # Long enough for a server that answers to fill the first page's prices; a slow one fills them later.
    prices.wait_loaded(PRICES_FIRST_WAIT)
    account = account_of(key)
    typical = demo_job_seconds if simulator else typical_seconds
    schedule_for = (lambda model: Schedule.scaled(typical)) if typical else Schedule.for_model
    run_times = RunTimes(store, fallback=schedule_for)
    created = Journal(data_dir)
    created.replay(store)  # what a crash or an unwritable history left unrecorded
    # Plain http and loopback video links are the simulator's, or a test server's on this machine; never the real API's.
    allow_local = simulator is not None or is_loopback_host(urlsplit(base_url).hostname)
    poller = Poller(
        store,
        client,
        server=server,
        account=account,
        workers=poller_workers,
        schedule_for=schedule_for,
        run_times=run_times,
        journal=created,
        allow_local=allow_local,
        recipes=recipes,
    )
    return Connection(
        mode=mode,
        base_url=base_url,
        server=server,
        account=account,
        key_hint=key_hint(api_key) if api_key else "",
        client=client,
        store=store,
        poller=poller.start(),
        journal=created,
        simulator=simulator,
        schedule_for=schedule_for,
        prices=prices,
    )
