"""A demo reel: chosen generations as one zip that plays anywhere, offline.

The zip holds one folder with `index.html`, `videos/` and, for image-to-video
generations, the uploaded `inputs/`. The page is static: inline CSS, no script,
no address on the network, so it opens from `file://` on a laptop with no
connection. Every text in it is HTML-escaped and shown as written: a prompt is
a string someone typed, never markup.

A reel is written to a temporary file as it is built, and holds at most
`MAX_VIDEOS` videos and `MAX_BYTES` of files: it is built on the server and
handed to the browser whole. What did not fit is named on its page.
"""

from __future__ import annotations

import html
import json
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from . import catalog, media, spend
from .generation import Status
from .store import Record

# The prompt has its own block and the model its own line; every other field goes in the table.
_SHOWN_APART = ("prompt", "model")

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
    """One generation in the reel, and where its files go in the zip."""

    record: Record
    video: Path
    video_name: str  # relative to index.html
    inputs: dict[str, tuple[Path, str]]  # upload reference -> (file, name relative to index.html)


@dataclass(frozen=True)
class Reel:
    items: list[Item]
    missing: list[Record]  # chosen, but with no local video to include
    left_out: list[Record] = field(default_factory=list)  # with a video, but past what one reel may hold
    limits: Limits = field(default_factory=Limits)


def plan(records: Iterable[Record], data_dir: Path, *, limits: Limits | None = None) -> Reel:
    """Which of the chosen generations go in (a finished one with its local copy, while the reel has room),
    and which cannot. Only files in the data folder's videos/ and uploads/ are taken, whatever a row names."""
    limits = limits or Limits()
    items: list[Item] = []
    missing: list[Record] = []
    left_out: list[Record] = []
    total = 0
    counted: set[str] = set()  # inputs already counted: one upload may feed several generations
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


def build(records: Iterable[Record], data_dir: Path, *, made_at: datetime | None = None, limits: Limits | None = None) -> bytes:
    """The zip's bytes, for a download. It is written to a temporary file in the data folder as it is built,
    so the only copy in memory is the one handed over."""
    with tempfile.TemporaryFile(dir=data_dir, prefix=".reel-") as spool:
        write(records, data_dir, spool, made_at=made_at, limits=limits)
        spool.seek(0)
        return spool.read()


def write(
    records: Iterable[Record], data_dir: Path, target: IO[bytes], *, made_at: datetime | None = None,
    limits: Limits | None = None,
) -> Reel:
    """Write the zip to `target`; returns what went in. Videos are stored as they are: MP4 is compressed already."""
    made_at = made_at or datetime.now()
    reel = plan(records, data_dir, limits=limits)
    folder = folder_name(made_at)
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(f"{folder}/index.html", index_html(reel, made_at=made_at), compress_type=zipfile.ZIP_DEFLATED)
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


def index_html(reel: Reel, *, made_at: datetime) -> str:
    cards = "\n".join(_card(item) for item in reel.items)
    count = len(reel.items)
    summary = f"{count} video{'s' if count != 1 else ''} · made {made_at:%d %b %Y, %H:%M}"
    credits = [i.record.credits_used for i in reel.items if i.record.credits_used is not None]
    if credits:
        summary += f" · {spend.money(sum(credits))}"
    missing = ""
    if reel.missing:
        rows = "".join(
            f"<li><code>{_e(r.id)}</code> · {_e(r.status.value)}: {_e(_first_line(r.prompt))}</li>" for r in reel.missing
        )
        missing = f'<section class="missing"><h2>Not included</h2><p>These have no finished video here.</p><ul>{rows}</ul></section>'
    if reel.left_out:
        rows = "".join(
            f"<li><code>{_e(r.id)}</code>: {_e(_first_line(r.prompt))}</li>" for r in reel.left_out
        )
        missing += (
            f'<section class="missing"><h2>Left out: the reel is full</h2><p>One reel holds at most '
            f"{_e(reel.limits.describe())}. These did not fit; download them in another reel.</p><ul>{rows}</ul></section>"
        )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; media-src 'self'; img-src 'self'; style-src 'unsafe-inline'">
<title>Demo reel · {_e(f"{made_at:%d %b %Y}")}</title>
<style>{_CSS}</style>
</head>
<body>
<header><h1>Demo reel</h1><p>{_e(summary)}</p></header>
<main>
{cards}
</main>
{missing}
</body>
</html>
"""


def _card(item: Item) -> str:
    record, request = item.record, item.record.request
    model_id = str(request.get("model", record.model))
    portrait = " portrait" if request.get("aspect_ratio") == "9:16" else ""
    facts = [f"{record.seconds_taken:.0f} s to make" if record.seconds_taken is not None else ""]
    if record.credits_used is not None:
        facts.append(spend.money(record.credits_used))
    facts.append(datetime.fromtimestamp(record.created_at).strftime("%d %b %Y, %H:%M"))
    rows = "".join(
        f"<tr><th>{_e(name.replace('_', ' '))}</th><td>{_value(name, value, item)}</td></tr>"
        for name, value in request.items()
        if name not in _SHOWN_APART and value is not None
    )
    note = f'<p class="note">{_e(record.note)}</p>' if record.note else ""
    return f"""<article class="card{portrait}">
<video controls loop muted playsinline preload="auto"><source src="{_e(item.video_name)}" type="{_mime(item.video)}"></video>
<div class="text">
<p class="model">{_e(catalog.name_of(model_id))} <code>{_e(model_id)}</code></p>
<p class="prompt">{_e(record.prompt)}</p>
{note}
<table>{rows}</table>
<p class="facts">{_e(" · ".join(f for f in facts if f))} · <code>{_e(record.id)}</code></p>
</div>
</article>"""


def _value(name: str, value: Any, item: Item) -> str:
    """A parameter as text; an uploaded image as its picture, which travels in the zip."""
    if isinstance(value, str) and value in item.inputs:
        return f'<img src="{_e(item.inputs[value][1])}" alt="uploaded image">'
    if isinstance(value, list) and value and all(isinstance(v, str) and v in item.inputs for v in value):
        return "".join(f'<img src="{_e(item.inputs[v][1])}" alt="uploaded image">' for v in value)
    if isinstance(value, bool):
        return "on" if value else "off"
    if name == "duration" and isinstance(value, (int, float)):
        return f"{value:g} s"
    if isinstance(value, (dict, list)):
        return f"<code>{_e(json.dumps(value, ensure_ascii=False))}</code>"
    return _e(str(value))  # a link stays text: the reel loads nothing from the network


def _mime(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(4)
    return "video/webm" if head == b"\x1a\x45\xdf\xa3" else "video/mp4"


def _slug(generation_id: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in generation_id)[-24:].strip("-") or "video"


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "(no prompt)"
    return line if len(line) <= 120 else line[:119] + "…"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


_CSS = """
:root { color-scheme: dark; --bg: #0e1117; --card: #1a1d24; --line: #2d313a; --text: #e6e6e6; --dim: #9aa0a6; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { padding: 28px 32px 8px; }
h1 { margin: 0; font-size: 28px; font-weight: 650; }
header p { margin: 4px 0 0; color: var(--dim); }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 24px; padding: 20px 32px 32px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; overflow: hidden; }
video { display: block; width: 100%; aspect-ratio: 16 / 9; background: #000; object-fit: contain; }
.card.portrait video { aspect-ratio: 9 / 16; max-height: 560px; }
.text { padding: 14px 16px 16px; }
.model { margin: 0 0 8px; font-weight: 600; }
.model code, .facts code { font-weight: 400; color: var(--dim); }
code { font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, monospace; overflow-wrap: anywhere; }
.prompt { margin: 0 0 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
.note { margin: 0 0 10px; padding-left: 10px; border-left: 3px solid #f0b429; color: var(--dim); white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 0; border-top: 1px solid var(--line); vertical-align: top; }
th { color: var(--dim); font-weight: 500; width: 40%; text-transform: capitalize; }
td { overflow-wrap: anywhere; }
td img { height: 56px; border-radius: 4px; margin-right: 6px; }
.facts { margin: 10px 0 0; font-size: 12px; color: var(--dim); }
.missing { padding: 0 32px 32px; color: var(--dim); }
.missing h2 { font-size: 16px; color: var(--text); }
"""
