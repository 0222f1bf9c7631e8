"""How values read on the page: durations, statuses, parameters."""

from __future__ import annotations

from datetime import datetime

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


def parameters(request: dict) -> str:
    """The non-text parameters of a request on one line (the prompts are shown as plain text elsewhere)."""
    parts = [str(request.get("aspect_ratio", "16:9")), f"{request.get('duration', 5)} s"]
    if request.get("seed") is not None:
        parts.append(f"seed {request['seed']}")
    parts.append("enhance on" if request.get("enhance_prompt", True) else "enhance off")
    return " · ".join(parts)


def credits(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} credits"
