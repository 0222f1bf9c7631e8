"""A local server that speaks the AI/ML API video contract and renders real MP4s (and, for the image models, stills).

Public: `Simulator` (start, stop, `url`, and the knobs and counts tests use),
`Fault` and `JobScript` (what `sim.faults` queues), and `RequestLog` and
`RequestHistory` (what `sim.requests` holds). `python -m videogen.simulator`
runs one on its own. The modules `faults`, `prices`, `inputs` and `render` may
be imported for their own names; the `_`-prefixed ones are its insides:
`_jobs` (a job's life and its clip), `_stills` (an image request's pictures),
`_state` (what it holds), `_handler` (HTTP).
"""

from ._state import RequestHistory, RequestLog
from .faults import Fault, JobScript
from .server import Simulator

__all__ = ["Fault", "JobScript", "RequestHistory", "RequestLog", "Simulator"]
