"""A saved video's recipe, kept inside the MP4 itself: what was asked, of which model, as which generation.

    write_recipe(video, Recipe.of(record))          # after the download, before the record names the file
    recipe = read_recipe(path_or_uploaded_bytes)    # NoRecipeError, DamagedRecipeError, RecipeError
    restored = restore(recipe, data_dir)            # restored.request for the form, restored.problems to show

A video travels without its history row: downloaded from a card, mailed, uploaded to another
deployment. So every saved MP4 carries its recipe in the container's `comment` tag, as one JSON
object marked `{"videogen_recipe": 1, ...}`: the request body exactly as the store records it
(uploads as `upload:<sha256>.<ext>` references, never base64), the model, the generation id, its
parent's id and the app's version. `comment` is a standard tag (iTunes `©cmt` in MP4/MOV, COMMENT
in Matroska): a plain `ffmpeg -c copy` remux keeps it, where a custom key written with
`-movflags use_metadata_tags` is dropped, and a browser's download keeps every byte anyway.

Writing is a remux (`-map 0 -c copy`), never a re-encode: the video's packets stay byte for byte
what they were and the file grows by the tag alone. It goes to a scratch file on the same file
system, is read back, and only then replaces the original, so a failure leaves the original as it
was. Reading trusts nothing: only an ISO media file (its `ftyp` box) reaches ffmpeg, with the MP4
demuxer forced and the file protocol alone allowed; the metadata read is capped, and so is time.

`restore` checks a recipe against this deployment's catalog and data dir: what the form can still
take becomes its values, and each thing it cannot (a model or field it no longer has, a value out of
its range, an upload whose file is not here) becomes one plain sentence.
"""

from __future__ import annotations

import json
import math
import os
import stat
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import imageio_ffmpeg

from . import catalog, media
from .text import shorten

if TYPE_CHECKING:
    from .store import Record

#: The app's version, as pyproject.toml states it; every recipe names the version that wrote it.
APP_VERSION = "0.1.0"
#: The container tag that holds the recipe.
RECIPE_TAG = "comment"
#: The recipe's schema marker: the key every recipe starts with, and the format this module writes and reads.
RECIPE_MARKER = "videogen_recipe"
RECIPE_FORMAT = 1
#: The key of a stitched cut's recipe (videogen.cuts), which names its shots rather than one request.
CUT_TAG = "videogen_cut"
#: The longest recipe written or read. A body refers to its uploads instead of holding them, so a real one
#: is a few KB (a prompt is capped at 4,000 characters); the cap keeps the JSON one command-line argument.
MAX_RECIPE_BYTES = 64 * 1024
#: The most metadata text ffmpeg may hand over when reading: past it the file is not one this app wrote.
MAX_METADATA_BYTES = 256 * 1024
#: The largest video a recipe is read from or written into. The tag sits in the header, so size costs
#: reading little; the cap bounds what a hostile upload can make this process copy to disk.
MAX_VIDEO_BYTES = 2 * 1024**3
WRITE_TIMEOUT_S = 30.0
READ_TIMEOUT_S = 10.0

_MUXERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov"}
# The demuxer forced on every read: the one ffmpeg would pick for an ISO media file, and no other.
_DEMUXER = "mov"
_STDERR_BYTES = 16 * 1024
# How far a rewritten file's size may stray from the original's, the tag aside, as a fraction of it.
_SIZE_SLACK = 0.05


class RecipeError(Exception):
    """A recipe could not be written or read; `reason` says why in one sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoRecipeError(RecipeError):
    """The video holds no recipe: it was made elsewhere, or saved before recipes were kept."""


class DamagedRecipeError(RecipeError):
    """The video holds this app's recipe marker, but what follows it cannot be used."""


@dataclass(frozen=True)
class Recipe:
    """What a saved video was made from: the recorded request body and where it sits in the history."""

    body: Mapping[str, Any]
    model: str
    generation_id: str
    parent_id: str | None = None
    app_version: str = APP_VERSION

    @classmethod
    def of(cls, record: Record) -> Recipe:
        """A history row's recipe, as the store records it."""
        return cls(body=dict(record.request), model=record.model, generation_id=record.id, parent_id=record.parent_id)

    def fields(self) -> dict[str, Any]:
        """What the recipe says, without the marker: a stitched cut keeps each shot's this way."""
        return {"model": self.model, "generation_id": self.generation_id, "parent_id": self.parent_id, "body": dict(self.body)}

    def to_json(self) -> str:
        """The tag's text: one compact JSON object, the marker first, ASCII only; RecipeError if it cannot be one."""
        inline = [name for name, value in self.body.items() if _holds_inline_file(value)]
        if inline:
            raise RecipeError(f"The request body holds a file inline ({', '.join(inline)}); a recipe refers to uploads instead.")
        payload = {RECIPE_MARKER: RECIPE_FORMAT, "app_version": self.app_version, **self.fields()}
        try:
            text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise RecipeError(f"The request body cannot be written as JSON ({exc}).") from None
        if len(text) > MAX_RECIPE_BYTES:
            raise RecipeError(f"The recipe is {len(text):,} bytes long; the most a video carries is {MAX_RECIPE_BYTES:,}.")
        return text


@dataclass(frozen=True)
class Restored:
    """A recipe as this deployment's form can take it: the model, its field values, and what had to be left out."""

    model: str | None  # None: the catalog has no such model, and the form cannot show it
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def request(self) -> dict[str, Any] | None:
        """The values as a request for the form's loader (Re-run's), or None when the model is unknown."""
        return None if self.model is None else {"model": self.model, **self.values}


# -- writing ----------------------------------------------------------------


def write_recipe(video: Path | str, recipe: Recipe, *, timeout: float = WRITE_TIMEOUT_S, scratch: Path | None = None) -> None:
    """Put `recipe` into `video`'s metadata, replacing any recipe (or comment) it had; RecipeError if it cannot.

    The streams are copied, not re-encoded. The new file is made in `scratch` (on the video's file system;
    by default its folder), read back, and renamed over the original only when it holds the recipe: on any
    failure the original is left untouched. `timeout` bounds each ffmpeg run.
    """
    video = Path(video)
    text = recipe.to_json()
    muxer = _MUXERS.get(video.suffix.lower())
    if muxer is None:
        raise RecipeError(f"A recipe goes into an MP4 or MOV file, not a {video.suffix or 'suffix-less'} one.")
    original = _check_video_file(video)
    folder = Path(scratch) if scratch is not None else video.parent
    # Hidden and unique: two writers cannot collide, and the posters' folder scan skips dot files.
    tmp = folder / f".{video.name}.{uuid.uuid4().hex[:12]}.part"
    args = [
        "-hide_banner", "-nostdin", "-loglevel", "error",
        "-protocol_whitelist", "file",
        "-f", _DEMUXER, "-i", _file_url(video),
        "-map", "0", "-c", "copy",
        "-map_metadata", "0", "-metadata", f"{RECIPE_TAG}={text}",
        # The index stays at the front, as the downloaded file had it: a browser starts playing at once.
        "-movflags", "+faststart",
        "-f", muxer, "-y", _file_url(tmp),
    ]  # fmt: skip
    try:
        result = _ffmpeg(args, timeout, what="write the recipe")
        if result.returncode != 0 or not tmp.is_file():
            raise RecipeError(f"ffmpeg could not rewrite the video with its recipe ({_last_line(result.stderr)}).")
        size = tmp.stat().st_size
        if not (1 - _SIZE_SLACK) * original.st_size <= size <= (1 + _SIZE_SLACK) * original.st_size + len(text):
            # A copy only adds the tag: a file much smaller lost packets (the original is cut off), one much larger is not a copy.
            raise RecipeError(
                f"Rewriting the video changed its size from {_size(original.st_size)} to {_size(size)}, "
                "so it is damaged or cut off; the original was kept."
            )
        if _read_tag(tmp, timeout) != text:
            raise RecipeError("The rewritten video did not read back with its recipe, so the original was kept.")
        try:
            os.chmod(tmp, stat.S_IMODE(original.st_mode))
            with open(tmp, "rb+") as out:
                os.fsync(out.fileno())  # after a crash the video is the old file or the new one, never a torn one
            os.replace(tmp, video)
        except OSError as exc:
            raise RecipeError(f"The video with its recipe could not be saved ({exc.strerror or type(exc).__name__}).") from None
    finally:
        tmp.unlink(missing_ok=True)


# -- reading ----------------------------------------------------------------


def read_recipe(source: Path | str | bytes, *, timeout: float = READ_TIMEOUT_S) -> Recipe:
    """The recipe in a video file, or in an uploaded video's bytes.

    Raises NoRecipeError when the video holds none, DamagedRecipeError when it holds one that cannot be
    used, and RecipeError when the file cannot be read as an MP4 at all (not a video, too large, too slow).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > MAX_VIDEO_BYTES:
            raise RecipeError(f"The file is {_size(len(data))}; recipes are read from videos of at most {_size(MAX_VIDEO_BYTES)}.")
        if not _looks_like_mp4(data[:12]):
            raise RecipeError(_NOT_MP4)
        with tempfile.TemporaryDirectory(prefix="videogen-recipe-") as folder:
            path = Path(folder, "upload.mp4")
            path.write_bytes(data)
            return parse_recipe(_read_tag(path, timeout))
    path = Path(source)
    _check_video_file(path)
    return parse_recipe(_read_tag(path, timeout))


def parse_recipe(text: str | None) -> Recipe:
    """A recipe from the tag's text (None: no tag); NoRecipeError or DamagedRecipeError naming what is wrong."""
    if text is None or (f'"{RECIPE_MARKER}"' not in text and f'"{CUT_TAG}"' not in text):
        raise NoRecipeError("The video holds no recipe: it was not saved by this app, or was saved before recipes were kept.")
    if len(text) > MAX_RECIPE_BYTES:
        raise DamagedRecipeError(f"The recipe is {len(text):,} bytes long, more than the {MAX_RECIPE_BYTES:,} this app ever writes.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DamagedRecipeError(f"The recipe's JSON is damaged ({exc.msg} at character {exc.pos}).") from None
    except (ValueError, RecursionError):  # a number too long to convert, nesting too deep to follow
        raise DamagedRecipeError("The recipe's JSON is damaged (it cannot be read as JSON).") from None
    if not isinstance(data, dict):
        raise DamagedRecipeError(f"The recipe is {_json_kind(data)}, not a JSON object.")
    if isinstance(data.get(CUT_TAG), dict) and RECIPE_MARKER not in data:
        shots = data[CUT_TAG].get("shots")
        count = f"{len(shots)} shots" if isinstance(shots, list) else "several shots"
        raise NoRecipeError(f"The video is a cut stitched from {count}; drop one of its shots to restore that shot's recipe.")
    marker = data.get(RECIPE_MARKER)
    if isinstance(marker, int) and not isinstance(marker, bool) and marker > RECIPE_FORMAT:
        raise DamagedRecipeError(f"The recipe is in format {marker}, newer than the format {RECIPE_FORMAT} this app reads.")
    if marker != RECIPE_FORMAT or isinstance(marker, bool):
        raise DamagedRecipeError(f"The recipe's marker is {_show(marker)}, not the format {RECIPE_FORMAT} this app writes.")
    body = data.get("body")
    if not isinstance(body, dict):
        raise DamagedRecipeError(f"The recipe's request body is {_json_kind(body)}, not an object.")
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise DamagedRecipeError("The recipe names no model.")
    if "model" in body and body["model"] != model:
        raise DamagedRecipeError(f"The recipe is for {_show(model)}, but its request body is for {_show(body['model'])}.")
    generation_id, parent_id, version = data.get("generation_id"), data.get("parent_id"), data.get("app_version")
    if not isinstance(generation_id, str) or not generation_id:
        raise DamagedRecipeError("The recipe names no generation id.")
    if parent_id is not None and not isinstance(parent_id, str):
        raise DamagedRecipeError(f"The recipe's parent generation id is {_json_kind(parent_id)}, not text.")
    if not isinstance(version, str):
        raise DamagedRecipeError("The recipe does not say which version of the app wrote it.")
    return Recipe(body=body, model=model, generation_id=generation_id, parent_id=parent_id, app_version=version)


def _read_tag(path: Path, timeout: float) -> str | None:
    """The recipe tag's text in `path`'s global metadata, or None when it has no such tag; RecipeError if unreadable."""
    args = [
        "-hide_banner", "-nostdin", "-loglevel", "error",
        "-protocol_whitelist", "file",
        "-f", _DEMUXER, "-i", _file_url(path),
        "-f", "ffmetadata", "-",
        # A second output that needs a video stream: a file without one (an index cut short, say) fails here.
        "-map", "0:v:0", "-c", "copy", "-frames:v", "1", "-f", "null", "-",
    ]  # fmt: skip
    result = _ffmpeg(args, timeout, what="read the video's metadata", stdout_cap=MAX_METADATA_BYTES)
    if result.returncode != 0 and b"matches no streams" in result.stderr:
        raise RecipeError("The file holds no video stream: it is cut off, or not a video.")
    if result.returncode != 0 or not result.stdout.startswith(b";FFMETADATA1"):
        raise RecipeError(_NOT_MP4)
    tags = _global_tags(result.stdout.decode("utf-8", errors="replace"))
    return tags.get(RECIPE_TAG)


def _global_tags(text: str) -> dict[str, str]:
    """The file-level tags of ffmpeg's metadata text (keys lower-cased), up to its first [SECTION]."""
    # The format: key=value lines after a ";FFMETADATA1" header; `=`, `;`, `#`, `\` and newlines in keys
    # and values are escaped with a backslash; lines starting with ; or # are comments.
    tags: dict[str, str] = {}
    at, end = 0, len(text)
    while at < end:
        if text[at] in ";#":
            at = _line_end(text, at) + 1
            continue
        if text[at] == "[":
            break
        key, value, part = [], [], None
        current = key
        while at < end and text[at] != "\n":
            ch = text[at]
            if ch == "\\" and at + 1 < end:
                current.append(text[at + 1])
                at += 2
                continue
            if ch == "=" and part is None:
                part, current = "value", value
            else:
                current.append(ch)
            at += 1
        at += 1
        if part is not None:
            tags.setdefault("".join(key).lower(), "".join(value))
    return tags


def _line_end(text: str, at: int) -> int:
    found = text.find("\n", at)
    return len(text) if found < 0 else found


# -- restoring --------------------------------------------------------------


def restore(recipe: Recipe, data_dir: Path | str) -> Restored:
    """The form values for the recipe's model, and one sentence for each thing the form can no longer take.

    What the catalog refuses (a field the model no longer has, a value out of range or not among its
    choices) and uploads whose file is not in `data_dir` are left out, so the form shows its default
    there; the rest is the recorded body, checked by `catalog.validate` as Generate would check it.
    """
    try:
        model = catalog.get(recipe.model)
    except catalog.UnknownModelError:
        return Restored(None, {}, [f"The model {_show(recipe.model)} is not one this app offers, so nothing could be loaded."])
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    known = {p.name: p for p in model.params}
    for name, value in recipe.body.items():
        if name == "model":
            continue
        if name not in known:
            problems[name] = f"{model.id} has no field {_show(name)} any more; its value {_show(value)} was left out."
            continue
        kept, missing = _uploads_here(value, Path(data_dir))
        if missing:
            problems[name] = _missing_uploads(known[name].label, missing)
        if kept is not None:
            values[name] = kept
    # Dropping a refused value can bring up another rule (a required field now blank), so check until clean.
    for _ in range(len(known) + 2):
        checked = catalog.validate(model, values)
        if checked.ok:
            values = {name: value for name, value in (checked.body or {}).items() if name != "model"}
            break
        dropped = False
        for name, message in checked.errors.items():
            if name in values:
                del values[name]
                dropped = True
                problems.setdefault(name, f"{message} The form shows its default instead.")
            else:
                problems.setdefault(name, message)
        if not dropped:
            break
    return Restored(model.id, values, list(problems.values()))


def _uploads_here(value: Any, data_dir: Path) -> tuple[Any, list[str]]:
    """`value` without the upload references whose file is not in `data_dir` (None if nothing is left), and those."""
    items = value if isinstance(value, list) else [value]
    missing = [
        item
        for item in items
        if isinstance(item, str)
        and item.startswith(media.REFERENCE_PREFIX)
        and (not media.is_reference(item) or not media.reference_path(item, data_dir).is_file())
    ]
    if not missing:
        return value, []
    kept = [item for item in items if item not in missing]
    if isinstance(value, list):
        return (kept or None), missing
    return None, missing


def _missing_uploads(label: str, missing: list[str]) -> str:
    names = ", ".join(_show(m) for m in missing)
    if len(missing) == 1:
        return f"{label}: the uploaded file {names} is not in this app's data folder; upload it again."
    return f"{label}: the uploaded files {names} are not in this app's data folder; upload them again."


# -- ffmpeg -----------------------------------------------------------------

_NOT_MP4 = "The file is not an MP4 video this app can read: it is damaged, incomplete or of another kind."


def _check_video_file(path: Path) -> os.stat_result:
    try:
        info = path.stat()
        with open(path, "rb") as f:
            head = f.read(12)
    except FileNotFoundError:
        raise RecipeError("The video file is not there.") from None
    except OSError as exc:
        raise RecipeError(f"The video file could not be opened ({exc.strerror or type(exc).__name__}).") from None
    if not stat.S_ISREG(info.st_mode):
        raise RecipeError("The video is not a plain file.")
    if info.st_size > MAX_VIDEO_BYTES:
        raise RecipeError(f"The file is {_size(info.st_size)}; recipes are kept in videos of at most {_size(MAX_VIDEO_BYTES)}.")
    if not _looks_like_mp4(head):
        raise RecipeError(_NOT_MP4)
    return info


def _looks_like_mp4(head: bytes) -> bool:
    # An ISO media file (MP4, MOV, M4V) opens with its `ftyp` box. Anything else never reaches ffmpeg,
    # which would otherwise probe every format it knows, playlists that name other files among them.
    return len(head) >= 12 and head[4:8] == b"ftyp"


def _file_url(path: Path) -> str:
    # With the `file:` protocol named, no path is read as another protocol ("concat:...") or as stdout ("-").
    return "file:" + str(path.absolute())


def _ffmpeg(args: list[str], timeout: float, *, what: str, stdout_cap: int | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run the bundled ffmpeg; its output is read up to `stdout_cap` (stderr up to a few KB), and RecipeError
    ends a run that is too slow or too talkative."""
    try:
        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        raise RecipeError(f"ffmpeg is not available, so the app could not {what}.") from None
    try:
        proc = subprocess.Popen([exe, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise RecipeError(f"ffmpeg could not be started ({exc.strerror or type(exc).__name__}).") from None
    out, err, flooded = bytearray(), bytearray(), threading.Event()
    readers = [
        threading.Thread(target=_drain, args=(proc, proc.stdout, out, stdout_cap, flooded), daemon=True),
        threading.Thread(target=_drain, args=(proc, proc.stderr, err, _STDERR_BYTES, None), daemon=True),
    ]
    with proc:
        for reader in readers:
            reader.start()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise RecipeError(f"ffmpeg did not finish within {timeout:g} s, so the app could not {what}.") from None
        finally:
            for reader in readers:
                reader.join(timeout=5)
    if flooded.is_set():
        raise RecipeError(f"The video's metadata is larger than {_size(stdout_cap or 0)}, far more than any recipe; it was not read.")
    return subprocess.CompletedProcess(proc.args, proc.returncode, bytes(out), bytes(err))


def _drain(proc: subprocess.Popen, stream: Any, sink: bytearray, cap: int | None, flooded: threading.Event | None) -> None:
    """Read `stream` to its end, keeping at most `cap` bytes; with `flooded`, past the cap stop ffmpeg and say so."""
    while chunk := stream.read1(64 * 1024):
        room = (cap if cap is not None else math.inf) - len(sink)
        if len(chunk) <= room:
            sink += chunk
        elif flooded is not None:
            flooded.set()
            proc.kill()
        else:
            sink += chunk[: max(0, int(room))]


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", errors="replace").splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no reason given"


def _holds_inline_file(value: Any) -> bool:
    if isinstance(value, list):
        return any(_holds_inline_file(v) for v in value)
    return isinstance(value, str) and value.startswith("data:")


def _json_kind(value: Any) -> str:
    if value is None:
        return "missing"
    kinds = {bool: "true or false", int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}
    return kinds.get(type(value), "of no JSON kind")


def _show(value: Any) -> str:
    return shorten(repr(value), 60)


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"
