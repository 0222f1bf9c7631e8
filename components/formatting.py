"""How values read on the page: durations, statuses, parameters."""

from __future__ import annotations

from datetime import datetime

from components.markdown import literal
from videogen import catalog, spend
from videogen.api import Status
from videogen.store import Record

STATUS_LOOK = {
    Status.QUEUED: ("Queued", "gray", ":material/schedule:"),
    Status.GENERATING: ("Generating", "blue", ":material/autorenew:"),
    Status.COMPLETED: ("Ready", "green", ":material/check_circle:"),
    Status.FAILED: ("Failed", "red", ":material/error:"),
    Status.LOST: ("Lost", "orange", ":material/help:"),
}


def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    value = max(0, int(round(value)))
    minutes, secs = divmod(value, 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def clock(timestamp: float) -> str:
    """Local time of day, with the date when it is not today."""
    moment = datetime.fromtimestamp(timestamp)
    if moment.date() == datetime.now().date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%d %b %H:%M")


def model_name(model_id: str) -> str:
    return catalog.name_of(model_id)


def parameters(request: dict) -> str:
    """The model and the non-text parameters of a request on one line, escaped for markdown (the prompts are
    shown as plain text elsewhere). Each value is literal: a free-text field (some models take the duration
    as a string) or an old row's model id can hold a link, an image or a :color[directive]."""
    parts = [model_name(str(request.get("model", "")))]
    if request.get("aspect_ratio") is not None:
        parts.append(str(request["aspect_ratio"]))
    if request.get("duration") is not None:
        parts.append(f"{request['duration']} s")
    if request.get("resolution") is not None:
        parts.append(str(request["resolution"]))
    if request.get("seed") is not None:
        parts.append(f"seed {request['seed']}")
    if isinstance(request.get("enhance_prompt"), bool):
        parts.append("enhance on" if request["enhance_prompt"] else "enhance off")
    # One line: a line break would end the header's :gray[...] early.
    return " · ".join(literal(" ".join(part.split())) for part in parts)


def credits(value: float | None) -> str:
    """Credits with their dollars beside them."""
    return spend.money(value)


def cost(record: Record) -> str:
    """What a generation counts in spend, said as the API reported it; '' when it reported nothing."""
    if record.status is Status.FAILED and record.credits_held:
        return f"billed nothing (the hold of {spend.money(record.credits_held)} was rolled back)"
    if record.status is Status.FAILED:
        return "billed nothing"
    if record.credits_used is not None:
        return spend.money(record.credits_used)
    if record.reserved_credits is not None:
        return f"about {spend.money(record.reserved_credits)} (set aside; the API reported no cost)"
    return ""
