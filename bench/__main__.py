"""Run the bench: python -m bench [--only SECTION ...] [--quick] [--out PATH].

Exit status is 0 when every selected section ran (whatever its PASS/FAIL
results: this is a measurement, not a gate) and 1 when a section crashed.
A crashed section does not stop the others: its error is printed, and the
JSON still holds every other section, with the crashed ones named under
"failed_sections".
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from .report import Section, command_line, machine_info, table, to_json, write_json

# Cheapest first, so a broken setup shows up early.
SECTIONS = (
    "render",
    "posters",
    "forms",
    "prices",
    "reel",
    "learning",
    "detection",
    "fanout",
    "batch",
    "store",
    "ui",
    "memory",
    "load",
    "leaderboard",
    "gallery",
    "team",
    "prompt_lab",
    "cuts",
)
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this section (repeatable; run in the order given)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    # The engine logs retries and Streamlit warns about running outside `streamlit run`: noise here.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")

    chosen = list(dict.fromkeys(args.only)) if args.only else list(SECTIONS)
    command, machine = command_line(), machine_info()
    print(f"$ {command}")
    print("machine: " + ", ".join(f"{k}={v}" for k, v in machine.items()), flush=True)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    began = time.perf_counter()

    sections: list[Section] = []
    with tempfile.TemporaryDirectory(prefix="videogen-bench-") as scratch:
        work = Path(scratch)
        for name in chosen:
            print(f"\n== {name} ...", flush=True)
            t0 = time.perf_counter()
            try:
                section = importlib.import_module(f"bench.{name}").run(args.quick, work)
            except Exception:
                section = Section(name, error=traceback.format_exc())
                print(section.error, file=sys.stderr)
            section.seconds = time.perf_counter() - t0
            sections.append(section)
            print(table([section]))
            print(f"({name}: {section.seconds:.0f} s)", flush=True)

    elapsed = time.perf_counter() - began
    print(f"\n== results ({elapsed:.0f} s in all)\n{table(sections)}")
    write_json(to_json(sections, command=command, machine=machine, started_at=started_at, elapsed=elapsed, quick=args.quick), args.out)
    print(f"\nwrote {args.out}")
    failed = [s.name for s in sections if s.error]
    if failed:
        print(f"failed sections: {', '.join(failed)} (their errors are printed above and kept in the JSON)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
