"""The bench runs and writes its JSON in the documented shape. No timings are asserted: they belong to `make bench`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROW_KEYS = {"section", "measure", "value", "unit", "baseline", "baseline_label", "ratio", "ratio_label", "target", "passed", "result"}


@pytest.mark.parametrize("section", ["render", "ui", "posters", "leaderboard", "prompt_lab", "cuts"])
def test_a_quick_section_writes_the_table_as_json(tmp_path, section):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", section, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "measure" in done.stdout and section in done.stdout

    data = json.loads(out.read_text(encoding="utf-8"))
    assert {"command", "machine", "started_at", "elapsed_s", "quick", "rows", "sections"} <= data.keys()
    assert data["quick"] is True and f"--only {section}" in data["command"]
    assert {"cores", "python", "streamlit"} <= data["machine"].keys()
    assert list(data["sections"]) == [section] and data["sections"][section]["error"] is None
    assert data["failed_sections"] == []
    assert data["rows"]
    for row in data["rows"]:
        assert row.keys() == ROW_KEYS
        assert row["section"] == section and isinstance(row["value"], (int, float))
        assert row["result"] in ("", "PASS", "FAIL")


def test_a_failed_section_is_named_and_the_others_still_run(tmp_path):
    """No browser for the memory section: it fails, render still runs after it, and both are in the JSON."""
    out = tmp_path / "bench.json"
    env = {**os.environ, "CHROMIUM": str(tmp_path / "no-chromium-here")}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "memory", "--only", "render", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 1
    assert "no-chromium-here" in done.stderr and "failed sections: memory" in done.stderr

    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["failed_sections"] == ["memory"]
    assert list(data["sections"]) == ["memory", "render"]
    assert "no-chromium-here" in data["sections"]["memory"]["error"]
    assert data["sections"]["render"]["error"] is None
    assert {row["section"] for row in data["rows"]} == {"render"}
