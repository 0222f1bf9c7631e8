"""Run the simulator on its own:

    python -m videogen.simulator --port 8765 --job-seconds 10

then, with any key:

    curl -s -H 'Authorization: Bearer demo' -H 'Content-Type: application/json' \
         -d '{"model": "veo2", "prompt": "a red fox in the snow"}' localhost:8765/v2/video/generations
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from .server import Simulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m videogen.simulator", description="Local AI/ML API video simulator.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--job-seconds", type=float, default=10.0, help="how long each generation takes")
    parser.add_argument("--state-dir", help="keep jobs and videos here across restarts")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API answer")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")

    sim = Simulator(host=args.host, port=args.port, job_seconds=args.job_seconds, state_dir=args.state_dir, latency=args.latency)
    sim.start()
    logging.info("simulator listening on %s (jobs take %gs)", sim.url, args.job_seconds)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
