"""The simulator as one object: its state (_state.py), served over HTTP (_handler.py) until stopped.

    with Simulator(job_seconds=1).start() as sim:
        client = Client(api_key="test", base_url=sim.url)

It speaks the published contract: create and fetch on the current and the
vendor-prefixed paths, Bearer auth, body validation against the catalog (400 in
the vendor's error shape), and queued -> generating -> completed over a set
time (_jobs.py). Each finished job is a real H.264 MP4 served with Range support.
Tests make it misbehave through `sim.faults` (see faults.py) and count what it
received through `sim.requests`. `POST /v1/images/generations` draws a still for
every catalogued image model. `GET /v1/models` lists every catalog video model with
the simulator's prices (prices.py), with an ETag; `sim.listing` changes what it lists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._handler import Server
from ._state import State


class Simulator(State):
    """The fake API. Start it, point a Client at `url`, stop it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        job_seconds: float | Callable[[dict], float] = 10.0,
        state_dir: Path | str | None = None,
        api_keys: set[str] | None = None,
        latency: float = 0.0,
        render_workers: int = 1,
        videos_dir: Path | str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        super().__init__(
            job_seconds=job_seconds,
            state_dir=state_dir,
            api_keys=api_keys,
            latency=latency,
            render_workers=render_workers,
            videos_dir=videos_dir,
        )

    def start(self) -> Simulator:
        server = Server((self.host, self.port), state=self)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, name="simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
            self._server = None
        self._release()

    def __enter__(self) -> Simulator:
        return self if self._server else self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"
