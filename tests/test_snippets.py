"""Copy as curl / Copy as Python: each snippet, run as written against the simulator, makes a generation that completes."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import TEST_KEY
from videogen import catalog, media, snippets

BODY = {
    "model": "veo2",
    "prompt": 'It\'s a fox — in "quotes", $HOME and `ticks` stay literal',
    "duration": 5,
    "aspect_ratio": "16:9",
    "enhance_prompt": True,
}


def run(kind: str, code: str) -> str:
    env = {**os.environ, "AIMLAPI_API_KEY": TEST_KEY}
    command = ["bash", "-c", code] if kind == "curl" else [sys.executable, "-c", code]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("kind", ["curl", "python"])
def test_a_snippet_creates_a_generation_that_completes(sim, tmp_path, kind):
    code = getattr(snippets, kind)(BODY, base_url=sim.url, data_dir=tmp_path, poll_seconds=0.2)
    assert TEST_KEY not in code and "AIMLAPI_API_KEY" in code
    out = run(kind, code)
    (job,) = sim.jobs.values()
    assert job.body == catalog.validate("veo2", BODY).body  # the exact body, the prompt's quotes included
    assert "completed" in out and job.id in out


@pytest.mark.parametrize("kind", ["curl", "python"])
def test_a_snippet_sends_an_upload_from_its_file(sim, tmp_path, kind):
    picture = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 40, 40)).save(picture, "PNG")
    model = catalog.get("veo2/image-to-video")
    upload = media.save_image(picture.getvalue(), model.param("image_url"), tmp_path)
    body = {"model": model.id, "prompt": "the red square", "image_url": upload.reference}
    code = getattr(snippets, kind)(body, base_url=sim.url, data_dir=tmp_path, poll_seconds=0.2)
    assert base64.b64encode(picture.getvalue()).decode()[:40] not in code  # read from the file, not pasted
    run(kind, code)
    (job,) = sim.jobs.values()
    assert Path(job.source["value"]).read_bytes() == picture.getvalue()
