"""The bench runs and writes its JSON in the documented shape. No timings are asserted: they belong to `make bench`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROW_KEYS = {"section", "measure", "value", "unit", "baseline", "baseline_label", "ratio", "ratio_label", "target", "passed", "result"}


def test_quick_render_section_writes_the_table_as_json(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "render", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "measure" in done.stdout and "render" in done.stdout

    data = json.loads(out.read_text(encoding="utf-8"))
    assert {"command", "machine", "started_at", "elapsed_s", "quick", "rows", "sections"} <= data.keys()
    assert data["quick"] is True and "--only render" in data["command"]
    assert {"cores", "python", "streamlit"} <= data["machine"].keys()
    assert list(data["sections"]) == ["render"] and data["sections"]["render"]["error"] is None
    assert data["rows"]
    for row in data["rows"]:
        assert row.keys() == ROW_KEYS
        assert row["section"] == "render" and isinstance(row["value"], float)
        assert row["result"] in ("", "PASS", "FAIL")
