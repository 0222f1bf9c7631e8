"""`streamlit run app.py` in a subprocess on a free port, configured only through the environment.

    server = AppServer({"AIMLAPI_API_KEY": key, "AIMLAPI_BASE_URL": url}, data_dir).start()
    ...
    server.stop()

The key, base URL and typical job time come from `env` alone: the ones in this
process's environment are removed unless `env` names them, so a developer's
real key never reaches a test or the bench. `spawn` and `wait_healthy` are
`start`'s two halves, for a caller that watches the process while it starts.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
CONFIGURED = ("AIMLAPI_API_KEY", "AIML_API_KEY", "AIMLAPI_BASE_URL", "PLAYGROUND_TYPICAL_SECONDS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    def __init__(
        self, env: dict[str, str], data_dir: Path, *, args: tuple[str, ...] = (), log: Path | None = None, script: str = "app.py"
    ) -> None:
        self.args = args  # more `streamlit run` options, e.g. ("--secrets.files", path)
        self.script = script  # the app, or another script (the bench's bare page), from the project's root
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.data_dir = data_dir
        self.env = {**os.environ, **env, "PLAYGROUND_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
        for name in CONFIGURED:
            if name not in env:
                self.env.pop(name, None)
        self.log = log or data_dir.parent / f"streamlit-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def spawn(self) -> AppServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streamlit",
                    "run",
                    self.script,
                    "--server.port",
                    str(self.port),
                    "--server.headless",
                    "true",
                    *self.args,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_healthy(self, timeout: float = 60) -> AppServer:
        assert self.process is not None, "spawn() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}: {self.output()[-2000:]}")
            try:
                if requests.get(f"{self.url}/_stcore/health", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("streamlit did not become healthy")

    def start(self) -> AppServer:
        return self.spawn().wait_healthy()

    def stop(self, *, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill() if kill else self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")
