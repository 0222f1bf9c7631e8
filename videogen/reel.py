"""A demo reel: chosen generations as one zip that plays anywhere, offline.

The zip holds one folder with `index.html`, `videos/` and, for image-to-video
generations, the uploaded `inputs/`. The page is static: inline CSS, no script,
no address on the network, so it opens from `file://` on a laptop with no
connection. It is built from `templates/reel.html` with Jinja2's autoescape on:
every text in it is shown as written, since a prompt is a string someone typed,
never markup.

Each video's entry shows the rating of whoever made the reel (stars) and "rejected" when they rejected
it, with the team's average when others rated it too; the caller hands in `Store.ratings()` for them.

A reel is written to a temporary file as it is built, and holds at most
`MAX_VIDEOS` videos and `MAX_BYTES` of files: it is built on the server and
handed to the browser whole. What did not fit is named on its page.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import IO, Any

import jinja2

from . import catalog, media, spend
from .api import Status
from .store import RATINGS, Cut, Rating, Record
from .text import shorten

# The prompt has its own block and the model its own line; every other field goes in the table.
_SHOWN_APART = ("prompt", "model")

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

MAX_VIDEOS = 50
MAX_BYTES = 512 * 1024 * 1024  # videos and inputs together; a single video may be up to 500 MB


@dataclass(frozen=True)
class Limits:
    """What one reel may hold."""

    videos: int = MAX_VIDEOS
    bytes: int = MAX_BYTES

    def describe(self) -> str:
        return f"{self.videos} videos and {self.bytes / 2**20:,.0f} MB"


@dataclass(frozen=True)
class Item:
    """One generation (or, with `cut`, one stitched cut) in the reel, and where its files go in the zip."""

    record: Record | None
    video: Path
    video_name: str  # relative to index.html
    inputs: dict[str, tuple[Path, str]]  # upload reference -> (file, name relative to index.html)
    cut: Cut | None = None


@dataclass(frozen=True)
class Reel:
    items: list[Item]
    missing: list[Record]  # chosen, but with no local video to include
    left_out: list[Record] = field(default_factory=list)  # with a video, but past what one reel may hold
    limits: Limits = field(default_factory=Limits)


def contents(records: Iterable[Record], data_dir: Path, *, limits: Limits | None = None, cuts: Iterable[Cut] = ()) -> Reel:
    """Which of the chosen generations go in (a finished one with its local copy, while the reel has room),
    and which cannot; `cuts` go first, each whose file is here. Only files in the data folder's videos/ and
    uploads/ are taken, whatever a row names."""
    limits = limits or Limits()
    items: list[Item] = []
    missing: list[Record] = []
    left_out: list[Record] = []
    total = 0
    counted: set[str] = set()  # inputs already counted: one upload may feed several generations
    for cut in cuts:
        video = cut.video_file(Path(data_dir) / "videos")
        if video is None or len(items) >= limits.videos or total + video.stat().st_size > limits.bytes:
            continue
        total += video.stat().st_size
        items.append(Item(None, video, f"videos/{len(items) + 1:02d}-cut-{cut.id[:8]}.mp4", {}, cut))
    for record in records:
        video = record.video_file(Path(data_dir) / "videos") if record.status is Status.COMPLETED else None
        if video is None:
            missing.append(record)
            continue
        inputs = {}
        for reference in media.references(record.request):
            path = media.own_file(media.reference_path(reference, data_dir), Path(data_dir) / media.UPLOADS_DIR)
            if path is not None:
                inputs[reference] = (path, f"inputs/{path.name}")
        try:
            size = video.stat().st_size + sum(p.stat().st_size for p, name in inputs.values() if name not in counted)
        except OSError:  # deleted since it was found
            missing.append(record)
            continue
        if len(items) >= limits.videos or total + size > limits.bytes:
            left_out.append(record)
            continue
        total += size
        counted.update(name for _, name in inputs.values())
        number = len(items) + 1
        items.append(Item(record, video, f"videos/{number:02d}-{_slug(record.id)}{video.suffix or '.mp4'}", inputs))
    return Reel(items, missing, left_out, limits)


def build(
    records: Iterable[Record],
    data_dir: Path,
    *,
    made_at: datetime | None = None,
    limits: Limits | None = None,
    ratings: Mapping[str, Rating] | None = None,
    cuts: Iterable[Cut] = (),
) -> bytes:
    """The zip's bytes, for a download. It is written to a temporary file in the data folder as it is built,
    so the only copy in memory is the one handed over."""
    with tempfile.TemporaryFile(dir=data_dir, prefix=".reel-") as spool:
        write(records, data_dir, spool, made_at=made_at, limits=limits, ratings=ratings, cuts=cuts)
        spool.seek(0)
        return spool.read()


def write(
    records: Iterable[Record],
    data_dir: Path,
    target: IO[bytes],
    *,
    made_at: datetime | None = None,
    limits: Limits | None = None,
    ratings: Mapping[str, Rating] | None = None,
    cuts: Iterable[Cut] = (),
) -> Reel:
    """Write the zip to `target`; returns what went in. Videos are stored as they are: MP4 is compressed already."""
    made_at = made_at or datetime.now()
    reel = contents(records, data_dir, limits=limits, cuts=cuts)
    folder = folder_name(made_at)
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(f"{folder}/index.html", index_html(reel, made_at=made_at, ratings=ratings), compress_type=zipfile.ZIP_DEFLATED)
        written: set[str] = set()
        for item in reel.items:
            archive.write(item.video, f"{folder}/{item.video_name}", compress_type=zipfile.ZIP_STORED)
            for path, name in item.inputs.values():
                if name not in written:  # one upload may feed several generations
                    written.add(name)
                    archive.write(path, f"{folder}/{name}", compress_type=zipfile.ZIP_STORED)
    return reel


def folder_name(made_at: datetime) -> str:
    return f"demo-reel-{made_at:%Y%m%d-%H%M}"


def file_name(made_at: datetime | None = None) -> str:
    return folder_name(made_at or datetime.now()) + ".zip"


def index_html(reel: Reel, *, made_at: datetime, ratings: Mapping[str, Rating] | None = None) -> str:
    """The reel's page; `ratings` (`Store.ratings()` of its generations) puts each one's rating on its entry."""
    count = len(reel.items)
    summary = f"{count} video{'s' if count != 1 else ''} · made {made_at:%d %b %Y, %H:%M}"
    credits = [i.record.credits_used for i in reel.items if i.record is not None and i.record.credits_used is not None]
    if credits:
        summary += f" · {spend.money(sum(credits))}"
    return _template().render(
        made_on=f"{made_at:%d %b %Y}",
        summary=summary,
        cards=[
            _card(item, (ratings or {}).get(item.record.id) or Rating(item.record.id)) if item.record else _cut_card(item)
            for item in reel.items
        ],
        missing=[_Listed(r.id, r.status.value, _first_line(r.prompt)) for r in reel.missing],
        left_out=[_Listed(r.id, r.status.value, _first_line(r.prompt)) for r in reel.left_out],
        limits=reel.limits.describe(),
    )


@cache
def _template() -> jinja2.Template:
    # Loaded from beside this module, so any working directory finds it. Autoescape: a prompt or a note is
    # text someone typed; StrictUndefined: a misspelt name fails the build instead of printing nothing.
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment.get_template("reel.html")


@dataclass(frozen=True)
class _Cell:
    """A parameter's value in the card's table: pictures of uploads, JSON as code, or text."""

    text: str = ""
    code: bool = False
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Card:
    video: str
    mime: str
    portrait: bool
    model_name: str
    model_id: str
    prompt: str
    note: str
    rows: list[tuple[str, _Cell]]  # (field name as words, its value)
    facts: str
    id: str
    stars: str  # "★★★★☆"; '' when not rated
    rating: str  # the stars in words, "4 of 5"; '' when not rated
    team: str  # "team 4.2 from 3" when someone else rated it; else ''
    rejected: bool


@dataclass(frozen=True)
class _Listed:
    """A generation named under "Not included" or "Left out"."""

    id: str
    status: str
    prompt: str


def _card(item: Item, rating: Rating) -> _Card:
    record, request = item.record, item.record.request
    model_id = str(request.get("model", record.model))
    facts = [f"{record.seconds_taken:.0f} s to make" if record.seconds_taken is not None else ""]
    if record.credits_used is not None:
        facts.append(spend.money(record.credits_used))
    facts.append(datetime.fromtimestamp(record.created_at).strftime("%d %b %Y, %H:%M"))
    rows = [
        (name.replace("_", " "), _value(name, value, item))
        for name, value in request.items()
        if name not in _SHOWN_APART and value is not None
    ]
    return _Card(
        video=item.video_name,
        mime=_mime(item.video),
        portrait=request.get("aspect_ratio") == "9:16",
        model_name=catalog.name_of(model_id),
        model_id=model_id,
        prompt=record.prompt,
        note=record.note,
        rows=rows,
        facts=" · ".join(f for f in facts if f),
        id=record.id,
        stars=stars(rating.rating),
        rating="" if rating.rating is None else f"{rating.rating} of {RATINGS.stop - 1}",
        team=team_figure(rating) if _others_rated(rating) else "",
        rejected=rating.rejected,
    )


def _cut_card(item: Item) -> _Card:
    """A stitched cut's entry: its title, its shots in order with their trims, how it was joined."""
    cut = item.cut
    assert cut is not None
    shots = [
        f"{n}. {shot.get('id')}" + (f" ({_trim(shot)})" if shot.get("in_s") or shot.get("out_s") else "")
        for n, shot in enumerate(cut.recipe.get("shots", []), 1)
    ]
    how = "stream copy" if cut.method == "copy" else "encoded again"
    facts = [f"{cut.duration:.1f} s", how, datetime.fromtimestamp(cut.created_at).strftime("%d %b %Y, %H:%M")]
    return _Card(
        video=item.video_name,
        mime=_mime(item.video),
        portrait=False,
        model_name="Stitched cut",
        model_id=f"{len(shots)} shots",
        prompt=cut.title,
        note="",
        rows=[("shots", _Cell(" · ".join(shots)))],
        facts=" · ".join(facts),
        id=cut.id,
        stars="",
        rating="",
        team="",
        rejected=False,
    )


def _trim(shot: Mapping[str, Any]) -> str:
    return f"{float(shot.get('in_s') or 0):.2f}–{'end' if shot.get('out_s') is None else format(float(shot['out_s']), '.2f')} s"


def stars(rating: int | None) -> str:
    """A rating as five stars, the first `rating` of them filled; '' when not rated."""
    return "" if rating is None else "★" * rating + "☆" * (RATINGS.stop - 1 - rating)


def team_figure(rating: Rating) -> str:
    """The team's average and how many it is of: "team 4.2 from 3"; '' when nobody rated it."""
    return "" if rating.team_average is None else f"team {rating.team_average:.1f} from {rating.team_count}"


def _others_rated(rating: Rating) -> bool:
    # The team's figure says something only when it is not just this person's own rating again
    # (with sign-in off everyone is one person, and it never is).
    return rating.team_count > (0 if rating.rating is None else 1)


def _value(name: str, value: Any, item: Item) -> _Cell:
    """A parameter as text; an uploaded image as its picture, which travels in the zip."""
    if isinstance(value, str) and value in item.inputs:
        return _Cell(images=(item.inputs[value][1],))
    if isinstance(value, list) and value and all(isinstance(v, str) and v in item.inputs for v in value):
        return _Cell(images=tuple(item.inputs[v][1] for v in value))
    if isinstance(value, bool):
        return _Cell("on" if value else "off")
    if name == "duration" and isinstance(value, (int, float)):
        return _Cell(f"{value:g} s")
    if isinstance(value, (dict, list)):
        return _Cell(json.dumps(value, ensure_ascii=False), code=True)
    return _Cell(str(value))  # a link stays text: the reel loads nothing from the network


def _mime(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(4)
    return "video/webm" if head == b"\x1a\x45\xdf\xa3" else "video/mp4"


def _slug(generation_id: str) -> str:
    # Not `ids.unique_name`: the number in front of it already makes each name in the zip unique, so the
    # name keeps only the id's readable end for whoever opens the folder, and no hash.
    return "".join(c if c.isalnum() else "-" for c in generation_id)[-24:].strip("-") or "video"


def _first_line(text: str) -> str:
    return shorten(text.strip().splitlines()[0] if text.strip() else "(no prompt)", 120)
