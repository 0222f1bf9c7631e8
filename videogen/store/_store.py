"""The history store: one row per generation, the app's source of truth.

A paid generation is recorded here the moment the API returns its id, before
any UI sees it, so a closed tab or a crashed process loses nothing: the poller
picks every unfinished row up again on start. The rows live in SQLite in the
data directory (`PLAYGROUND_DATA_DIR`, default `./data`), next to the
downloaded videos, or in PostgreSQL when `DATABASE_URL` names one
(`_database.py`). Both run the same statements and migrations, with each
backend's own words where the dialects differ: its parameter mark, its 8-byte
float type, how it reads a field of JSON and how it skips locked rows.

With PostgreSQL several app processes share the rows, and each unfinished
generation is polled by one of them at a time: a process holds a lease on it
(`claim()`), renewed on every sweep, and a lease its holder stopped renewing
passes to another. The API key is never passed in, so it cannot be stored.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .. import catalog
from ..api import CREDITS_PER_USD, Answer, Status
from ..media import own_file
from ..posters import poster_files
from ._database import BUSY_TIMEOUT_S, Database, open_database
from ._ratings import RATINGS, MissingGenerations, Rating, Vote, check_vote

# Each entry upgrades the schema by one version; never edit a shipped entry, append a new one.
# `{float}` is an 8-byte float column (a Unix time, credits), in the backend's spelling (`Database.float_type`).
MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    """
    CREATE TABLE generations (
        id            TEXT PRIMARY KEY,
        model         TEXT NOT NULL,
        request_json  TEXT NOT NULL,
        status        TEXT NOT NULL,
        created_at    {float} NOT NULL,
        updated_at    {float} NOT NULL,
        completed_at  {float},
        video_url     TEXT,
        video_path    TEXT,
        error         TEXT,
        credits_used  {float},
        poll_count    INTEGER NOT NULL DEFAULT 0
    );
    """,
    # 2: keep the server each generation belongs to (a demo id must never be polled
    # against the real API, where it would read as lost), the status spelling the
    # server used, and download failures apart from generation failures.
    """
    ALTER TABLE generations ADD COLUMN server TEXT NOT NULL DEFAULT '';
    ALTER TABLE generations ADD COLUMN remote_status TEXT NOT NULL DEFAULT '';
    ALTER TABLE generations ADD COLUMN video_error TEXT;
    CREATE INDEX generations_by_status ON generations (status, server);
    CREATE INDEX generations_by_created ON generations (created_at);
    """,
    # 3: keep which key made each generation, as a one-way fingerprint (never the
    # key). Two keys on one server must not poll each other's ids: the server
    # answers 404 to a stranger, which would mark a paid generation lost.
    """
    ALTER TABLE generations ADD COLUMN account TEXT NOT NULL DEFAULT '';
    DROP INDEX generations_by_status;
    CREATE INDEX generations_by_scope ON generations (server, account, status);
    """,
    # 4: when a poll last saw the generation queued, and when one first saw it generating, so
    # the schedule can plan again from the start of the run (a busy server queues for long).
    """
    ALTER TABLE generations ADD COLUMN queued_until {float};
    ALTER TABLE generations ADD COLUMN started_at {float};
    """,
    # 5: iterating on prompts: the generation a seed variation came from, a star, and a note.
    """
    ALTER TABLE generations ADD COLUMN parent_id TEXT;
    ALTER TABLE generations ADD COLUMN starred INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE generations ADD COLUMN note TEXT NOT NULL DEFAULT '';
    """,
    # 6: variants: the generations one confirmation sent together share a batch id.
    """
    ALTER TABLE generations ADD COLUMN batch_id TEXT;
    CREATE INDEX generations_by_batch ON generations (batch_id) WHERE batch_id IS NOT NULL;
    """,
    # 7: a team: who made each generation (with sign-in on; '' without), and, for several processes on
    # one database, which process polls a generation and until when, and when each poller last swept.
    """
    ALTER TABLE generations ADD COLUMN owner TEXT NOT NULL DEFAULT '';
    CREATE INDEX generations_by_owner ON generations (owner, created_at);
    ALTER TABLE generations ADD COLUMN lease_owner TEXT;
    ALTER TABLE generations ADD COLUMN lease_until {float};
    CREATE TABLE pollers (owner TEXT PRIMARY KEY, server TEXT NOT NULL, last_sweep {float} NOT NULL);
    """,
    # 8: money as the API reports it, and 404s that are not yet proof of loss.
    # credits_held is the create answer's figure (the hold); credits_used what counts: the hold until a
    # later figure replaces it, 0 for a failed generation (the hold is rolled back). reserved_credits is
    # the price the budget set aside at send time, for a create that reported none. A reservation is taken
    # before the create, in one transaction with the budget check, and handed to the row once it exists.
    # deleted_spend keeps what a deleted row had cost: deleting never lowers what was spent.
    # not_found_since: when the current run of 404s for a pending generation began.
    """
    ALTER TABLE generations ADD COLUMN credits_held {float};
    ALTER TABLE generations ADD COLUMN reserved_credits {float};
    ALTER TABLE generations ADD COLUMN not_found_since {float};
    CREATE TABLE reservations (
        id          TEXT PRIMARY KEY,
        server      TEXT NOT NULL,
        account     TEXT NOT NULL,
        owner       TEXT NOT NULL,
        credits     {float},
        created_at  {float} NOT NULL
    );
    CREATE TABLE deleted_spend (
        id          TEXT PRIMARY KEY,
        server      TEXT NOT NULL,
        account     TEXT NOT NULL,
        owner       TEXT NOT NULL,
        model       TEXT NOT NULL,
        created_at  {float} NOT NULL,
        credits     {float} NOT NULL
    );
    """,
    # 9: ratings and blind votes. One ratings row per generation and person (rating NULL: only rejected), gone
    # with its generation. A vote keeps copies of what it showed, in order (JSON arrays of ids and of models),
    # and of its prompt, so the leaderboard still counts it once those generations are deleted. winner_id NULL: a tie.
    """
    CREATE TABLE ratings (
        generation_id  TEXT NOT NULL,
        person         TEXT NOT NULL,
        rating         INTEGER CHECK (rating BETWEEN 1 AND 5),
        rejected       INTEGER NOT NULL DEFAULT 0,
        updated_at     {float} NOT NULL,
        PRIMARY KEY (generation_id, person)
    );
    CREATE TABLE votes (
        id           TEXT PRIMARY KEY,
        person       TEXT NOT NULL,
        voted_at     {float} NOT NULL,
        prompt       TEXT NOT NULL,
        kind         TEXT NOT NULL,
        shown_json   TEXT NOT NULL,
        models_json  TEXT NOT NULL,
        winner_id    TEXT
    );
    CREATE INDEX votes_by_time ON votes (voted_at);
    """,
    # 10: a prompt lab. How a version was made beyond its parent (origin_json: a reviewed rewrite names the
    # person's own text and the chat model; a frame of another clip names it and its time), children found
    # by their parent, and each chat model call with what it cost, which counts in spend like a generation.
    """
    ALTER TABLE generations ADD COLUMN origin_json TEXT;
    CREATE INDEX generations_by_parent ON generations (parent_id) WHERE parent_id IS NOT NULL;
    CREATE TABLE chat_calls (
        id          TEXT PRIMARY KEY,
        server      TEXT NOT NULL,
        account     TEXT NOT NULL,
        owner       TEXT NOT NULL,
        chat_model  TEXT NOT NULL,
        called_at   {float} NOT NULL,
        usd         {float},
        prompt      TEXT NOT NULL,
        answer      TEXT NOT NULL,
        accepted    INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX chat_calls_by_time ON chat_calls (called_at);
    """,
    # 11: shot on shot. Each start frame an image model drew (kept as an upload; its prompt, model, seed and
    # cost recorded like a generation's, its cost counted in spend), and each stitched cut (its file in the
    # videos folder, its recipe: the shots in order with their trims).
    """
    CREATE TABLE images (
        id            TEXT PRIMARY KEY,
        server        TEXT NOT NULL,
        account       TEXT NOT NULL,
        owner         TEXT NOT NULL,
        model         TEXT NOT NULL,
        prompt        TEXT NOT NULL,
        request_json  TEXT NOT NULL,
        created_at    {float} NOT NULL,
        upload_ref    TEXT NOT NULL,
        seed          BIGINT,
        credits_used  {float}
    );
    CREATE INDEX images_by_time ON images (created_at);
    CREATE TABLE cuts (
        id           TEXT PRIMARY KEY,
        server       TEXT NOT NULL,
        account      TEXT NOT NULL,
        owner        TEXT NOT NULL,
        created_at   {float} NOT NULL,
        title        TEXT NOT NULL,
        video_path   TEXT NOT NULL,
        recipe_json  TEXT NOT NULL,
        duration     {float} NOT NULL,
        method       TEXT NOT NULL,
        size_bytes   BIGINT NOT NULL
    );
    CREATE INDEX cuts_by_time ON cuts (created_at);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

_PENDING = tuple(s.value for s in Status if s.is_pending)
# Still running, or finished with a video not yet copied.
_UNFINISHED = f"""(status IN {_PENDING}
    OR (status = '{Status.COMPLETED.value}' AND video_url IS NOT NULL AND video_path IS NULL AND video_error IS NULL))"""


_IMAGE_COLUMNS = "id, server, account, owner, model, prompt, request_json, created_at, upload_ref, seed, credits_used"
_CUT_COLUMNS = "id, server, account, owner, created_at, title, video_path, recipe_json, duration, method, size_bytes"


def _marks(mark: str, n: int) -> str:
    return ", ".join([mark] * n)


def _shared_kind(models: Sequence[str]) -> str:
    """The kind of model every one of `models` is, or '' when they differ or the catalog no longer has one."""
    try:
        kinds = {catalog.get(model).kind for model in models}
    except catalog.UnknownModelError:
        return ""
    return kinds.pop() if len(kinds) == 1 else ""


# A reservation whose create never came back with an id (its outcome unknown) still counts for a day:
# the money may have been spent, and the row that would say so may never exist.
RESERVATION_HOURS = 24


@dataclass(frozen=True)
class Reservation:
    """Credits a budget set aside for one request at send time; `credits` None: nobody knows its price yet."""

    id: str
    credits: float | None


@dataclass(frozen=True)
class Spending:
    """What a budget counts, in credits, for one key (and, with `owner`, one person)."""

    reported: float  # what the API reported: holds and charges (0 for a failed generation), deleted rows included
    reserved: float  # set aside at send time for generations that reported no cost, and creates in flight
    unpriced: int  # running generations and creates in flight whose price nobody knows
    chat: float = 0.0  # of `reported`: what the chat model calls of "Improve prompt" cost
    images: float = 0.0  # of `reported`: what the start frames image models drew cost

    @property
    def total(self) -> float:
        return self.reported + self.reserved


class ChatCall(NamedTuple):
    """One call of a chat model ("Improve prompt"), as the store records it."""

    id: str
    server: str
    account: str
    owner: str
    chat_model: str
    called_at: float
    usd: float | None  # None: no price known
    prompt: str  # the person's text
    answer: str  # the rewrite, "" when none came back
    accepted: bool  # the person used it


class StartImage(NamedTuple):
    """A start frame an image model drew, kept as an upload (`upload_ref` goes in a request body)."""

    id: str
    server: str
    account: str
    owner: str
    model: str
    prompt: str
    request: dict[str, Any]
    created_at: float
    upload_ref: str
    seed: int | None
    credits_used: float | None  # None: the API named no cost


class Cut(NamedTuple):
    """A stitched cut: its file in the videos folder and its recipe (the shots in order with their trims)."""

    id: str
    server: str
    account: str
    owner: str
    created_at: float
    title: str
    video_path: str  # relative to the videos folder, as a generation's
    recipe: dict[str, Any]
    duration: float
    method: str  # "copy" or "reencode"
    size_bytes: int

    def video_file(self, videos_dir: Path) -> Path | None:
        """The cut's file, only inside `videos_dir` and only while it exists."""
        path = (Path(videos_dir) / self.video_path).resolve()
        return path if path.is_relative_to(Path(videos_dir).resolve()) and path.is_file() else None


def _charge(record: Record) -> float | None:
    """What a row counts in spend: the API's figure, else its reservation."""
    return record.credits_used if record.credits_used is not None else record.reserved_credits


@dataclass(frozen=True)
class Record:
    """One generation as the store knows it."""

    id: str
    model: str
    request: dict[str, Any]
    status: Status
    server: str
    created_at: float
    updated_at: float
    remote_status: str = ""
    completed_at: float | None = None
    video_url: str | None = None
    video_path: str | None = None
    video_error: str | None = None
    error: str | None = None
    credits_used: float | None = None
    poll_count: int = 0
    account: str = ""
    queued_until: float | None = None  # a poll's time that saw it queued, the latest (not the create's answer)
    started_at: float | None = None  # the first poll's time that saw it generating
    parent_id: str | None = None  # the generation this one varies (a new seed)
    starred: bool = False
    note: str = ""
    batch_id: str | None = None  # the variants batch this generation was sent in
    owner: str = ""  # who made it, with sign-in on
    lease_owner: str | None = None  # the process polling it (shared databases only)
    lease_until: float | None = None
    credits_held: float | None = None  # what the create answer reported: the hold placed at create
    reserved_credits: float | None = None  # the budget's reservation, when the create reported no cost
    not_found_since: float | None = None  # the first of the 404s the server has answered since it last knew it
    origin: dict[str, Any] | None = None  # how this version was made beyond its parent (see lineage.Origin)

    @property
    def start_window(self) -> tuple[float, float] | None:
        """When the run began, as (no earlier than, no later than); None unless a poll saw it queued."""
        if self.queued_until is None or self.started_at is None or self.started_at < self.queued_until:
            return None
        return self.queued_until, self.started_at

    @property
    def prompt(self) -> str:
        return str(self.request.get("prompt", ""))

    @property
    def seconds_taken(self) -> float | None:
        return None if self.completed_at is None else max(0.0, self.completed_at - self.created_at)

    def video_file(self, videos_dir: Path) -> Path | None:
        """The app's own copy of the video: a file inside `videos_dir` (the store's), never another path a row
        names. Rows come from a database other processes write too, and what this returns is served and zipped.
        None when there is no such file on this machine's disk (another process's may not be)."""
        return own_file(self.video_path, videos_dir)

    @property
    def needs_download(self) -> bool:
        return self.status is Status.COMPLETED and bool(self.video_url) and not self.video_path and not self.video_error

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Record:
        data = dict(row)
        data["request"] = json.loads(data.pop("request_json"))
        data["status"] = Status(data["status"])
        data["starred"] = bool(data["starred"])
        origin = data.pop("origin_json", None)
        data["origin"] = _json_object(origin)
        return cls(**data)


def _json_object(text: str | None) -> dict[str, Any] | None:
    # A damaged origin (another process, a hand edit) reads as none: a record is never unreadable for it.
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class TableRow(NamedTuple):
    """One line of the history table (`Store.table_rows()`); its fields are the table's columns, in order."""

    id: str
    created: float
    status: str
    # The request's own fields, as it holds them (a model may take a duration as "5"); text on PostgreSQL.
    prompt: str | None
    aspect_ratio: str | None
    duration: int | float | str | None
    seed: int | float | str | None
    seconds_taken: float | None
    credits: float | None
    has_video: bool  # 0 or 1 on SQLite
    model: str
    starred: int
    owner: str


def _table_columns(json_field: Callable[[str, str], str]) -> dict[str, str]:
    """The SQL that reads each of TableRow's fields."""
    return {
        "id": "id",
        "created": "created_at",
        "status": "status",
        **{key: json_field("request_json", key) for key in ("prompt", "aspect_ratio", "duration", "seed")},
        "seconds_taken": "completed_at - created_at",
        "credits": "credits_used",
        "has_video": f"status = '{Status.COMPLETED.value}' AND (video_path IS NOT NULL OR video_url IS NOT NULL)",
        "model": "model",
        "starred": "starred",
        "owner": "owner",
    }


class Store:
    def __init__(self, data_dir: Path | str, *, database_url: str = "", busy_timeout: float = BUSY_TIMEOUT_S) -> None:
        self.data_dir = Path(data_dir)
        self.videos_dir = self.data_dir / "videos"
        self.videos_dir.mkdir(parents=True, exist_ok=True)
        # Downloads in progress: apart from videos/, so a process killed mid-download leaves nothing
        # where videos are counted, served or zipped. Same file system, so finishing is one os.replace.
        self.partial_dir = self.data_dir / "partial"
        self.partial_dir.mkdir(parents=True, exist_ok=True)
        self.db: Database = open_database(self.data_dir, database_url, busy_timeout=busy_timeout)
        self.path: Path | None = self.db.path  # the SQLite file; None on PostgreSQL
        self.db.migrate(MIGRATIONS)

    @property
    def shared(self) -> bool:
        """Other processes may use these rows at once (PostgreSQL): poll only what this one has claimed."""
        return self.db.shared

    @property
    def schema_version(self) -> int:
        return self.db.schema_version()

    def close(self) -> None:
        self.db.close()

    # -- writes ----------------------------------------------------------

    def add(
        self,
        generation: Answer,
        *,
        request: Mapping[str, Any],
        server: str,
        account: str = "",
        created_at: float | None = None,
        parent_id: str | None = None,
        batch_id: str | None = None,
        owner: str = "",
        reservation: Reservation | None = None,
        origin: Mapping[str, Any] | None = None,
    ) -> Record:
        """Record a generation the API just accepted. `request` is the exact body that was sent.

        The create answer's cost is kept as the hold (`credits_held`) and counts as spent until a later
        figure replaces it. `reservation`, the budget's hold for this request, passes to the row in the same
        transaction, so the price is never counted twice nor dropped in between. The commit is durable: a
        power cut just after a paid create must not take its row with it. Adding an id twice is harmless.
        """
        now = time.time()
        reserved = reservation.credits if reservation is not None and generation.credits_used is None else None
        p = self.db.mark
        with self.db.transaction(durable=True) as db:
            db.execute(
                f"""INSERT INTO generations
                   (id, model, request_json, status, remote_status, server, account, created_at, updated_at, parent_id,
                    batch_id, owner, credits_held, credits_used, reserved_credits, origin_json)
                   VALUES ({_marks(p, 16)})
                   ON CONFLICT (id) DO NOTHING""",
                (
                    generation.id,
                    str(request.get("model", "")),
                    json.dumps(dict(request), ensure_ascii=False),
                    Status.QUEUED.value,
                    generation.remote_status,
                    server,
                    account,
                    created_at if created_at is not None else now,
                    now,
                    parent_id,
                    batch_id,
                    owner,
                    generation.credits_used,
                    generation.credits_used,
                    reserved,
                    json.dumps(dict(origin), ensure_ascii=False) if origin else None,
                ),
            )
            if reservation is not None:
                db.execute(f"DELETE FROM reservations WHERE id = {p}", (reservation.id,))
        if generation.status is not Status.QUEUED or generation.video_url:
            return self.apply(generation, count_poll=False)
        return self.get(generation.id)

    def apply(self, generation: Answer, *, count_poll: bool = True) -> Record | None:
        """Update a row from a fetch. A final status is never overwritten by a later pending one."""
        now = time.time()
        final = generation.status.is_final
        p = self.db.mark
        with self.db.writing() as db:
            row = db.execute(
                f"""UPDATE generations SET
                      status = CASE WHEN status IN {_PENDING} THEN {p} ELSE status END,
                      remote_status = {p},
                      video_url = COALESCE({p}, video_url),
                      error = COALESCE({p}, error),
                      credits_used = CASE WHEN {p} AND status IN {_PENDING} THEN 0 ELSE COALESCE({p}, credits_used) END,
                      not_found_since = NULL,
                      completed_at = CASE WHEN {p} AND completed_at IS NULL THEN {p} ELSE completed_at END,
                      queued_until = CASE WHEN {p} AND status IN {_PENDING} THEN {p} ELSE queued_until END,
                      started_at = CASE WHEN {p} AND started_at IS NULL THEN {p} ELSE started_at END,
                      poll_count = poll_count + {p},
                      updated_at = {p}
                    WHERE id = {p} RETURNING *""",
                (
                    generation.status.value,
                    generation.remote_status,
                    generation.video_url,
                    generation.error,
                    generation.status is Status.FAILED,  # billed nothing: the hold is rolled back
                    generation.credits_used,
                    final,
                    now,
                    count_poll and generation.status is Status.QUEUED,
                    now,
                    count_poll and generation.status is Status.GENERATING,
                    now,
                    int(count_poll),
                    now,
                    generation.id,
                ),
            ).fetchone()
        return Record.from_row(row) if row else None

    def set_starred(self, generation_id: str, starred: bool, *, by: str | None = None) -> bool:
        """Star or unstar; with `by`, only if that person made it, as for `delete`. True if the row changed."""
        return self._update_owned(generation_id, f"starred = {self.db.mark}", (int(starred),), by)

    def set_note(self, generation_id: str, note: str, *, by: str | None = None) -> bool:
        """Keep a note; with `by`, only if that person made it, as for `delete`. True if the row changed."""
        return self._update_owned(generation_id, f"note = {self.db.mark}", (note,), by)

    def _update_owned(self, generation_id: str, assignments: str, values: tuple, by: str | None) -> bool:
        # The owner is checked in the same statement as the write: no window for the row to change hands.
        p = self.db.mark
        owned, mine = ("", ()) if by is None else (f" AND owner = {p}", (by,))
        with self.db.writing() as db:
            row = db.execute(
                f"UPDATE generations SET {assignments}, updated_at = {p} WHERE id = {p}{owned} RETURNING id",
                (*values, time.time(), generation_id, *mine),
            ).fetchone()
        return row is not None

    def count_poll(self, generation_id: str) -> None:
        """A poll that brought no news (an error answer) still counts."""
        self._update(generation_id, "poll_count = poll_count + 1", (), touch=False)

    def note_not_found(self, generation_id: str, at: float) -> Record | None:
        """A poll was answered 404: keep when this run of 404s began (a successful fetch clears it)."""
        self._update(generation_id, f"not_found_since = COALESCE(not_found_since, {self.db.mark})", (at,), touch=False)
        return self.get(generation_id)

    def mark_lost(self, generation_id: str, message: str) -> None:
        p = self.db.mark
        self._update(
            generation_id,
            f"status = CASE WHEN status IN {_PENDING} THEN {p} ELSE status END, error = {p}, completed_at = COALESCE(completed_at, {p})",
            (Status.LOST.value, message, time.time()),
        )

    def set_video_path(self, generation_id: str, path: Path) -> None:
        self._update(generation_id, f"video_path = {self.db.mark}, video_error = NULL", (str(path),))

    def set_video_error(self, generation_id: str, message: str) -> None:
        self._update(generation_id, f"video_error = {self.db.mark}", (message,))

    def delete(self, generation_id: str, *, by: str | None = None) -> bool:
        """Remove a generation and its downloaded video; with `by`, only if that person made it. True if removed."""
        record = self.get(generation_id)
        if record is None or (by is not None and record.owner != by):
            return False
        p = self.db.mark
        with self.db.transaction() as db:
            if (charged := _charge(record)) is not None:
                db.execute(
                    f"""INSERT INTO deleted_spend (id, server, account, owner, model, created_at, credits)
                       VALUES ({_marks(p, 7)}) ON CONFLICT (id) DO NOTHING""",
                    (record.id, record.server, record.account, record.owner, record.model, record.created_at, charged),
                )
            db.execute(f"DELETE FROM generations WHERE id = {p}", (generation_id,))
            db.execute(f"DELETE FROM ratings WHERE generation_id = {p}", (generation_id,))  # votes keep their copies
        if record.video_path:
            path = Path(record.video_path)
            if path.resolve().parent == self.videos_dir.resolve():
                files = poster_files(path)
                for made in (path, files.poster, files.strip, files.reason_file):
                    made.unlink(missing_ok=True)
        return True

    # -- ratings and votes ------------------------------------------------

    def set_rating(self, generation_id: str, rating: int | None, *, by: str = "") -> bool:
        """`by`'s rating of a finished generation, 1 to 5; None takes it back (a rejection stays).
        True if kept; False when there is no such generation or it is still running."""
        if rating is not None and rating not in RATINGS:
            raise ValueError(f"A rating is {RATINGS.start} to {RATINGS.stop - 1}, not {rating}.")
        return self._rate(generation_id, by, "rating", rating)

    def set_rejected(self, generation_id: str, rejected: bool, *, by: str = "") -> bool:
        """`by` rejects a finished generation, or takes the rejection back (a rating stays). True if kept."""
        return self._rate(generation_id, by, "rejected", int(rejected))

    def clear_rating(self, generation_id: str, *, by: str = "") -> None:
        """Forget `by`'s rating and rejection of a generation."""
        p = self.db.mark
        with self.db.writing() as db:
            db.execute(f"DELETE FROM ratings WHERE generation_id = {p} AND person = {p}", (generation_id, by))

    def _rate(self, generation_id: str, person: str, column: str, value: int | None) -> bool:
        # Only a finished generation is rated, checked in the statement that writes.
        p = self.db.mark
        with self.db.transaction() as db:
            row = db.execute(
                f"""INSERT INTO ratings (generation_id, person, {column}, updated_at)
                    SELECT id, {p}, {p}, {p} FROM generations WHERE id = {p} AND status NOT IN {_PENDING}
                    ON CONFLICT (generation_id, person) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at
                    RETURNING generation_id""",
                (person, value, time.time(), generation_id),
            ).fetchone()
            # Neither rated nor rejected: no row, so the team's figures count only people who said something.
            db.execute(
                f"DELETE FROM ratings WHERE generation_id = {p} AND person = {p} AND rating IS NULL AND rejected = 0",
                (generation_id, person),
            )
        return row is not None

    def ratings(self, ids: Sequence[str], *, by: str = "") -> dict[str, Rating]:
        """Every one of `ids` with `by`'s own rating and the team's, in one query (History asks for
        thousands at once); an id nobody rated gets an empty Rating."""
        p = self.db.mark
        rows = self.db.tuples(
            f"""SELECT generation_id,
                       MAX(CASE WHEN person = {p} THEN rating END),
                       MAX(CASE WHEN person = {p} THEN rejected ELSE 0 END),
                       AVG(rating), COUNT(rating), SUM(rejected)
                FROM ratings WHERE generation_id IN {self.db.json_list} GROUP BY generation_id""",
            (by, by, json.dumps(list(ids))),
        )
        found = {
            gen_id: Rating(gen_id, mine, bool(rejected), None if average is None else float(average), int(count), int(rejections))
            for gen_id, mine, rejected, average, count, rejections in rows
        }
        return {gen_id: found.get(gen_id) or Rating(gen_id) for gen_id in ids}

    def record_vote(self, shown: Sequence[str], winner: str | None, *, by: str = "", at: float | None = None) -> Vote:
        """Keep `by`'s blind vote among `shown` (generation ids, in the order shown): `winner` the best of
        them, or None for a tie between two.

        Raises ValueError for a vote that could not have been cast, and MissingGenerations, naming them, when
        any of the generations was deleted meanwhile; nothing is recorded then. The prompt is the first
        generation's (Compare shows one prompt's generations); the kind, the one all the models share.
        """
        check_vote(shown, winner)
        shown = tuple(shown)
        p = self.db.mark
        # Both backends' transactions make the check and the insert one: SQLite's takes the write lock first,
        # and on PostgreSQL a delete committed after the check orders after the vote, which keeps its copies.
        with self.db.transaction() as db:
            rows = db.execute(f"SELECT id, model, request_json FROM generations WHERE id IN ({_marks(p, len(shown))})", shown).fetchall()
            found = {gen_id: (model, json.loads(request)) for gen_id, model, request in rows}
            if missing := [gen_id for gen_id in shown if gen_id not in found]:
                raise MissingGenerations(missing)
            models = tuple(found[gen_id][0] for gen_id in shown)
            vote = Vote(
                id=uuid.uuid4().hex,
                person=by,
                at=time.time() if at is None else at,
                prompt=str(found[shown[0]][1].get("prompt", "")),
                kind=_shared_kind(models),
                shown=shown,
                models=models,
                winner=winner,
            )
            db.execute(
                f"""INSERT INTO votes (id, person, voted_at, prompt, kind, shown_json, models_json, winner_id)
                    VALUES ({_marks(p, 8)})""",
                (vote.id, vote.person, vote.at, vote.prompt, vote.kind, json.dumps(shown), json.dumps(models), winner),
            )
        return vote

    def votes(self, *, kind: str | None = None, by: str | None = None, search: str = "") -> list[Vote]:
        """The votes, newest first; with `kind`, of that kind of model; with `by`, that person's; with `search`,
        those whose prompt holds it, whatever the case."""
        where, args = "", []
        for column, value in (("kind", kind), ("person", by)):
            if value is not None:
                where, args = where + f" AND {column} = {self.db.mark}", [*args, value]
        with self.db.connect() as db:
            rows = db.execute(f"SELECT * FROM votes WHERE 1 = 1{where} ORDER BY voted_at DESC, id", args).fetchall()
        found = [Vote.from_row(r) for r in rows]
        # Searched here rather than in SQL: SQLite's lower() folds ASCII letters only, PostgreSQL's every one.
        if needle := search.strip().casefold():
            found = [v for v in found if needle in v.prompt.casefold()]
        return found

    def _update(self, generation_id: str, assignments: str, values: tuple, *, touch: bool = True) -> None:
        p = self.db.mark
        touched = f", updated_at = {p}" if touch else ""
        params = (*values, time.time()) if touch else values
        with self.db.writing() as db:
            db.execute(f"UPDATE generations SET {assignments}{touched} WHERE id = {p}", (*params, generation_id))

    # -- reads -----------------------------------------------------------

    def get(self, generation_id: str) -> Record | None:
        with self.db.connect() as db:
            row = db.execute(f"SELECT * FROM generations WHERE id = {self.db.mark}", (generation_id,)).fetchone()
        return Record.from_row(row) if row else None

    def records(self, *, limit: int | None = None, owner: str | None = None) -> list[Record]:
        """Every generation, newest first; with `owner`, only that person's."""
        where, args = self._scope(None, None, owner)
        sql = f"SELECT * FROM generations WHERE 1 = 1{where} ORDER BY created_at DESC"
        with self.db.connect() as db:
            rows = db.execute(sql + (f" LIMIT {self.db.mark}" if limit else ""), (*args, limit) if limit else args).fetchall()
        return [Record.from_row(r) for r in rows]

    def find(self, ids: list[str]) -> list[Record]:
        """The generations with these ids, newest first."""
        rows: list = []
        with self.db.connect() as db:
            for start in range(0, len(ids), 500):  # SQLite caps the number of bound parameters
                chunk = ids[start : start + 500]
                rows += db.execute(f"SELECT * FROM generations WHERE id IN ({_marks(self.db.mark, len(chunk))})", chunk).fetchall()
        return sorted((Record.from_row(r) for r in rows), key=lambda r: r.created_at, reverse=True)

    def children(self, ids: Sequence[str]) -> list[Record]:
        """The generations whose parent is one of `ids`, oldest first."""
        rows: list = []
        with self.db.connect() as db:
            for start in range(0, len(ids), 500):  # SQLite caps the number of bound parameters
                chunk = list(ids[start : start + 500])
                rows += db.execute(f"SELECT * FROM generations WHERE parent_id IN ({_marks(self.db.mark, len(chunk))})", chunk).fetchall()
        return sorted((Record.from_row(r) for r in rows), key=lambda r: (r.created_at, r.id))

    def batch(self, batch_id: str) -> list[Record]:
        """The generations sent in one variants batch, in the order they were sent."""
        with self.db.connect() as db:
            rows = db.execute(f"SELECT * FROM generations WHERE batch_id = {self.db.mark} ORDER BY created_at, id", (batch_id,)).fetchall()
        return [Record.from_row(r) for r in rows]

    def table_rows(self) -> list[TableRow]:
        """What the history table shows, newest first, read straight from SQL: with thousands of rows, building
        a Record for each would cost the History page far more than the query."""
        columns = _table_columns(self.db.json_field)
        sql = f"SELECT {', '.join(columns[name] for name in TableRow._fields)} FROM generations ORDER BY created_at DESC"
        return list(map(TableRow._make, self.db.tuples(sql)))

    def pending(
        self, server: str | None = None, account: str | None = None, *, limit: int | None = None, owner: str | None = None
    ) -> list[Record]:
        """Generations still running on the server, newest first; optionally of one server, key and person only."""
        where, args = self._scope(server, account, owner)
        sql = f"SELECT * FROM generations WHERE status IN {_PENDING}{where} ORDER BY created_at DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self.db.connect() as db:
            rows = db.execute(sql, args).fetchall()
        return [Record.from_row(r) for r in rows]

    def pending_ids(self, server: str | None = None, account: str | None = None, owner: str | None = None) -> set[str]:
        """The ids of `pending()`: cheap with hundreds running, where building every Record is not."""
        where, args = self._scope(server, account, owner)
        with self.db.connect() as db:
            return {row[0] for row in db.execute(f"SELECT id FROM generations WHERE status IN {_PENDING}{where}", args)}

    def recent_prompts(self, *, owner: str | None = None, limit: int = 200) -> list[str]:
        """The distinct prompts of the newest generations (one person's, with `owner`), newest first."""
        where, args = self._scope(None, None, owner)
        prompt = self.db.json_field("request_json", "prompt")
        # The newest few hundred rows, not the whole history: recall steps back a few prompts at a time.
        sql = f"SELECT {prompt} FROM generations WHERE 1 = 1{where} ORDER BY created_at DESC LIMIT {int(limit) * 4}"
        seen: dict[str, None] = {}
        for (text,) in self.db.tuples(sql, tuple(args)):
            if isinstance(text, str) and text.strip():
                seen.setdefault(text, None)
        return list(seen)[:limit]

    # -- chat model calls -------------------------------------------------

    def add_chat_call(
        self, *, server: str, account: str, owner: str, chat_model: str, usd: float | None, prompt: str, answer: str
    ) -> ChatCall:
        """Record one call of "Improve prompt": what was asked, what came back ("" for none), and what it cost
        (None: no price known). It counts in spend and the budget like a generation."""
        call = ChatCall(uuid.uuid4().hex, server, account, owner, chat_model, time.time(), usd, prompt, answer, False)
        with self.db.writing() as db:
            db.execute(
                f"""INSERT INTO chat_calls (id, server, account, owner, chat_model, called_at, usd, prompt, answer, accepted)
                   VALUES ({_marks(self.db.mark, 10)})""",
                (call.id, server, account, owner, chat_model, call.called_at, usd, prompt, answer, 0),
            )
        return call

    def accept_chat_call(self, call_id: str) -> None:
        """The person used the call's rewrite."""
        with self.db.writing() as db:
            db.execute(f"UPDATE chat_calls SET accepted = 1 WHERE id = {self.db.mark}", (call_id,))

    def chat_calls(self, server: str, account: str, owner: str | None = None, *, limit: int = 200) -> list[ChatCall]:
        """The newest chat model calls with this key (one person's, with `owner`), newest first."""
        where, args = self._scope(server, account, owner)
        rows = self.db.tuples(
            f"""SELECT id, server, account, owner, chat_model, called_at, usd, prompt, answer, accepted
                FROM chat_calls WHERE 1 = 1{where} ORDER BY called_at DESC LIMIT {int(limit)}""",
            tuple(args),
        )
        return [ChatCall(*row[:9], bool(row[9])) for row in rows]

    # -- start frames and cuts ---------------------------------------------

    def add_image(
        self,
        *,
        server: str,
        account: str,
        owner: str,
        model: str,
        request: dict[str, Any],
        upload_ref: str,
        seed: int | None,
        credits_used: float | None,
    ) -> StartImage:
        """Record a start frame an image model drew; its cost counts in spend like a generation's."""
        image = StartImage(
            uuid.uuid4().hex, server, account, owner, model, str(request.get("prompt") or ""), dict(request), time.time(),
            upload_ref, seed, credits_used,
        )  # fmt: skip
        self._insert("images", _IMAGE_COLUMNS, (*image[:6], json.dumps(image.request), *image[7:]))
        return image

    def images(
        self, server: str | None = None, account: str | None = None, owner: str | None = None, *, limit: int = 50
    ) -> list[StartImage]:
        """The newest start frames (with this key; one person's, with `owner`), newest first."""
        where, args = self._scope(server, account, owner)
        rows = self.db.tuples(
            f"""SELECT {_IMAGE_COLUMNS} FROM images WHERE 1 = 1{where} ORDER BY created_at DESC LIMIT {int(limit)}""",
            tuple(args),
        )
        return [StartImage(*row[:6], json.loads(row[6]), *row[7:]) for row in rows]

    def add_cut(
        self,
        *,
        server: str,
        account: str,
        owner: str,
        title: str,
        video_path: str,
        recipe: dict[str, Any],
        duration: float,
        method: str,
        size_bytes: int,
    ) -> Cut:
        """Record a stitched cut whose file is already in the videos folder (`video_path`, relative to it)."""
        cut = Cut(uuid.uuid4().hex, server, account, owner, time.time(), title, video_path, dict(recipe), duration, method, size_bytes)
        self._insert("cuts", _CUT_COLUMNS, (*cut[:7], json.dumps(cut.recipe), *cut[8:]))
        return cut

    def _insert(self, table: str, columns: str, values: Sequence[Any]) -> None:
        with self.db.writing() as db:
            db.execute(f"INSERT INTO {table} ({columns}) VALUES ({_marks(self.db.mark, len(values))})", tuple(values))

    def cuts(self, server: str | None = None, account: str | None = None, owner: str | None = None, *, limit: int = 50) -> list[Cut]:
        """The newest cuts (with this key; one person's, with `owner`), newest first."""
        where, args = self._scope(server, account, owner)
        rows = self.db.tuples(
            f"""SELECT {_CUT_COLUMNS} FROM cuts WHERE 1 = 1{where} ORDER BY created_at DESC LIMIT {int(limit)}""",
            tuple(args),
        )
        return [Cut(*row[:7], json.loads(row[7]), *row[8:]) for row in rows]

    def get_cut(self, cut_id: str) -> Cut | None:
        rows = self.db.tuples(
            f"""SELECT {_CUT_COLUMNS} FROM cuts WHERE id = {self.db.mark}""",
            (cut_id,),
        )
        return next((Cut(*row[:7], json.loads(row[7]), *row[8:]) for row in rows), None)

    def _scope(self, server: str | None, account: str | None, owner: str | None = None) -> tuple[str, list[str]]:
        where, args = "", []
        for column, value in (("server", server), ("account", account), ("owner", owner)):
            if value is not None:
                where, args = where + f" AND {column} = {self.db.mark}", [*args, value]
        return where, args

    def unfinished(self, server: str, account: str = "") -> list[Record]:
        """What a poller for this server and key still has to do: pending generations and videos not yet downloaded."""
        p = self.db.mark
        with self.db.connect() as db:
            rows = db.execute(
                f"SELECT * FROM generations WHERE server = {p} AND account = {p} AND {_UNFINISHED}", (server, account)
            ).fetchall()
        return [Record.from_row(r) for r in rows]

    def claim(self, server: str, account: str, owner: str, *, seconds: float, now: float | None = None) -> list[Record]:
        """`unfinished()` for one of several processes: its fair share of the work, held under leases.

        The share is the unfinished work divided by the pollers alive on this server (a heartbeat younger
        than a lease). `owner` hands back what it holds above its share (another process just started),
        renews its own leases in their second half, and takes free or run-out ones up to its share, so the
        work spreads within a sweep or two and a stopped process's moves on once its leases run out. Rows
        another process is claiming at that moment are skipped, not waited for.
        """
        now = time.time() if now is None else now
        p = self.db.mark
        mine = f"server = {p} AND account = {p} AND {_UNFINISHED}"
        scope = (server, account)
        with self.db.writing() as db:
            (total,) = db.execute(f"SELECT COUNT(*) FROM generations WHERE {mine}", scope).fetchone()
            (alive,) = db.execute(
                f"SELECT COUNT(*) FROM pollers WHERE server = {p} AND last_sweep >= {p}", (server, now - seconds)
            ).fetchone()
            share = -(-total // max(1, alive))
            (held,) = db.execute(f"SELECT COUNT(*) FROM generations WHERE {mine} AND lease_owner = {p}", (*scope, owner)).fetchone()
            if held > share:
                db.execute(
                    f"""UPDATE generations SET lease_owner = NULL, lease_until = NULL WHERE id IN (
                            SELECT id FROM generations WHERE {mine} AND lease_owner = {p}
                            ORDER BY created_at DESC LIMIT {p})""",
                    (*scope, owner, held - share),
                )
            db.execute(
                f"UPDATE generations SET lease_until = {p} WHERE {mine} AND lease_owner = {p} AND lease_until < {p}",
                (now + seconds, *scope, owner, now + seconds / 2),
            )
            if share > held:
                db.execute(
                    f"""UPDATE generations SET lease_owner = {p}, lease_until = {p} WHERE id IN (
                            SELECT id FROM generations WHERE {mine} AND (lease_owner IS NULL OR lease_until < {p})
                            ORDER BY created_at LIMIT {p}{self.db.skip_locked})""",
                    (owner, now + seconds, *scope, now, share - held),
                )
            rows = db.execute(f"SELECT * FROM generations WHERE {mine} AND lease_owner = {p}", (*scope, owner)).fetchall()
        return [Record.from_row(r) for r in rows]

    def release(self, owner: str) -> None:
        """Hand back every lease `owner` holds (a process stopping cleanly), so others need not wait for them to run out."""
        p = self.db.mark
        with self.db.writing() as db:
            db.execute(f"UPDATE generations SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = {p}", (owner,))
            db.execute(f"DELETE FROM pollers WHERE owner = {p}", (owner,))

    # -- pollers' heartbeats, for the health check --------------------------

    def heartbeat(self, owner: str, server: str, at: float) -> None:
        """A poller finished a sweep at `at`. Heartbeats silent for a day are dropped (processes long gone)."""
        p = self.db.mark
        with self.db.writing() as db:
            db.execute(
                f"""INSERT INTO pollers (owner, server, last_sweep) VALUES ({_marks(p, 3)})
                   ON CONFLICT (owner) DO UPDATE SET last_sweep = excluded.last_sweep""",
                (owner, server, at),
            )
            db.execute(f"DELETE FROM pollers WHERE last_sweep < {p}", (at - 86_400,))

    def pollers(self) -> list[tuple[str, str, float]]:
        """(owner, server, last sweep) of every poller seen in the last day, latest first."""
        with self.db.connect() as db:
            return [tuple(r) for r in db.execute("SELECT owner, server, last_sweep FROM pollers ORDER BY last_sweep DESC")]

    def run_times(self, *, recent: int) -> list[tuple]:
        """(model, request, created_at, queued_until, started_at, completed_at) of the latest `recent`
        completed generations of each model and duration: what videogen.polling.RunTimes learns from."""
        p = self.db.mark
        with self.db.connect() as db:
            rows = db.execute(
                f"""SELECT model, request_json, created_at, queued_until, started_at, completed_at FROM (
                       SELECT *, ROW_NUMBER() OVER (
                           PARTITION BY model, {self.db.json_field("request_json", "duration")} ORDER BY completed_at DESC
                       ) AS nth
                       FROM generations WHERE status = {p} AND completed_at IS NOT NULL) AS latest
                   WHERE nth <= {p}""",
                (Status.COMPLETED.value, recent),
            ).fetchall()
        return [(model, json.loads(request), *times) for model, request, *times in rows]

    def costs(self, model: str, server: str) -> list[tuple[dict, float]]:
        """(request, credits) of every completed generation of `model` on `server` that reported its credits.

        One server's prices say nothing of another's (the demo simulator reports the vendor's example figure).
        """
        p = self.db.mark
        with self.db.connect() as db:
            rows = db.execute(
                f"""SELECT request_json, credits_used FROM generations
                   WHERE model = {p} AND server = {p} AND status = {p} AND credits_used IS NOT NULL""",
                (model, server, Status.COMPLETED.value),
            ).fetchall()
        return [(json.loads(request), credits) for request, credits in rows]

    def credits_spent(self, server: str, account: str, owner: str | None = None) -> float:
        """Credits counted for this server and key (and person): reported, reserved, and deleted rows' charges."""
        with self.db.connect() as db:
            return self._spending(db, server, account, owner).total

    def spending(self, server: str, account: str, owner: str | None = None) -> Spending:
        with self.db.connect() as db:
            return self._spending(db, server, account, owner)

    def _spending(self, db: Any, server: str, account: str, owner: str | None, now: float | None = None) -> Spending:
        p = self.db.mark
        scope, args = f"server = {p} AND account = {p}", [server, account]
        if owner is not None:
            scope, args = scope + f" AND owner = {p}", [*args, owner]
        reported, reserved, unpriced = db.execute(
            f"""SELECT COALESCE(SUM(credits_used), 0),
                       COALESCE(SUM(CASE WHEN credits_used IS NULL THEN reserved_credits ELSE 0 END), 0),
                       COALESCE(SUM(CASE WHEN status IN {_PENDING} AND credits_used IS NULL
                                          AND reserved_credits IS NULL THEN 1 ELSE 0 END), 0)
                FROM generations WHERE {scope}""",
            args,
        ).fetchone()
        since = (time.time() if now is None else now) - RESERVATION_HOURS * 3600
        held, unknown = db.execute(
            f"""SELECT COALESCE(SUM(credits), 0), COALESCE(SUM(CASE WHEN credits IS NULL THEN 1 ELSE 0 END), 0)
                FROM reservations WHERE {scope} AND created_at >= {p}""",
            [*args, since],
        ).fetchone()
        (deleted,) = db.execute(f"SELECT COALESCE(SUM(credits), 0) FROM deleted_spend WHERE {scope}", args).fetchone()
        (chat_usd,) = db.execute(f"SELECT COALESCE(SUM(usd), 0) FROM chat_calls WHERE {scope}", args).fetchone()
        chat = float(chat_usd) * CREDITS_PER_USD
        (drawn,) = db.execute(f"SELECT COALESCE(SUM(credits_used), 0) FROM images WHERE {scope}", args).fetchone()
        return Spending(
            float(reported) + float(deleted) + chat + float(drawn),
            float(reserved) + float(held),
            int(unpriced) + int(unknown),
            chat,
            float(drawn),
        )

    def reserve(
        self, server: str, account: str, owner: str, credits: float | None, check: Callable[[Spending, Spending], None]
    ) -> Reservation:
        """Set `credits` aside for a request about to be sent, if `check` lets it go; in one transaction, so two
        tabs or two processes deciding at once see each other's reservations. `check(key's spending, owner's
        spending)` raises to refuse; nothing is reserved then."""
        reservation = Reservation(uuid.uuid4().hex, credits)
        with self.db.transaction(lock=f"budget:{server}:{account}") as db:
            check(self._spending(db, server, account, None), self._spending(db, server, account, owner))
            db.execute(
                f"INSERT INTO reservations (id, server, account, owner, credits, created_at) VALUES ({_marks(self.db.mark, 6)})",
                (reservation.id, server, account, owner, credits, time.time()),
            )
        return reservation

    def cancel(self, reservation: Reservation) -> None:
        """The request was not sent, or the server refused it: nothing was spent."""
        with self.db.writing() as db:
            db.execute(f"DELETE FROM reservations WHERE id = {self.db.mark}", (reservation.id,))

    def version(self) -> tuple[int, float]:
        """Changes whenever any row changes: cheap enough to call on every UI tick."""
        with self.db.connect() as db:
            count, latest = db.execute("SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM generations").fetchone()
        return count, latest

    def ratings_version(self) -> tuple[int, float]:
        """Changes whenever anyone rates, rejects or takes either back: `version()` for the ratings."""
        with self.db.connect() as db:
            count, latest = db.execute("SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM ratings").fetchone()
        return count, latest
