"""A local server that speaks the AI/ML API video contract and renders real MP4s."""

from .faults import Fault, JobPlan
from .server import Simulator

__all__ = ["Fault", "JobPlan", "Simulator"]
