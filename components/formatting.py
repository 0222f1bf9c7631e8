"""How values read on the page: durations, statuses, parameters."""

from __future__ import annotations

from datetime import datetime

from videogen import catalog
from videogen.generation import Status

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
    """The model and the non-text parameters of a request on one line (the prompts are shown as plain text elsewhere)."""
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
    return " · ".join(parts)


def credits(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} credits"
