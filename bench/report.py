"""The bench's one output shape: rows of measure | value | baseline | ratio | target | result.

Every row carries its baseline (measured in the same `python -m bench` process)
and the ratio between the two, so a figure is never read without its context.
The same rows go to the terminal and, as JSON, to bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil


@dataclass
class Row:
    section: str
    measure: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""  # what the baseline is, e.g. "A: 2 s loop"
    ratio: float | None = None
    ratio_label: str = ""  # which way the ratio goes, e.g. "ours/A"
    target: str = ""  # human text; empty for rows that only inform
    passed: bool | None = None  # None: no target

    @property
    def result(self) -> str:
        return "" if self.passed is None else ("PASS" if self.passed else "FAIL")


@dataclass
class Section:
    name: str
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # raw numbers and settings behind the rows
    seconds: float = 0.0
    error: str | None = None


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def machine_info() -> dict[str, Any]:
    import streamlit

    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "cpu": model or platform.processor(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "streamlit": streamlit.__version__,
        "platform": platform.platform(),
    }


def command_line() -> str:
    return " ".join([Path(sys.executable).name, "-m", "bench", *sys.argv[1:]])


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, int):  # a count, not a measurement
        return f"{value:,} {unit}".rstrip()
    size = abs(value)
    digits = 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 1 else 3
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".rstrip()


def table(sections: list[Section]) -> str:
    header = ("section", "measure", "value", "baseline", "ratio", "target", "result")
    lines = []
    for section in sections:
        if section.error:
            lines.append((section.name, "(section failed)", "", "", "", "", "ERROR"))
        for row in section.rows:
            base = _fmt(row.baseline, row.unit) if row.baseline is not None else "–"
            if row.baseline_label:
                base += f" ({row.baseline_label})"
            ratio_text = f"{row.ratio:.2f} {row.ratio_label}".rstrip() if row.ratio is not None else "–"
            lines.append((row.section, row.measure, _fmt(row.value, row.unit), base, ratio_text, row.target, row.result))
    widths = [max(len(str(cells[i])) for cells in [header, *lines]) for i in range(len(header))]
    out = [" | ".join(h.ljust(w) for h, w in zip(header, widths)), "-+-".join("-" * w for w in widths)]
    out += [" | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) for cells in lines]
    return "\n".join(out)


def to_json(sections: list[Section], *, command: str, machine: dict, started_at: str, elapsed: float, quick: bool) -> dict:
    return {
        "command": command,
        "machine": machine,
        "started_at": started_at,
        "elapsed_s": round(elapsed, 1),
        "quick": quick,
        "failed_sections": [s.name for s in sections if s.error],
        "rows": [{**asdict(row), "result": row.result} for section in sections for row in section.rows],
        "sections": {s.name: {"seconds": round(s.seconds, 1), "error": s.error, "details": s.details} for s in sections},
    }


def write_json(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
