"""The ``engine`` fixture: see harness.py (an in-process Temporal and a sagaflow worker)."""

from harness import engine

__all__ = ["engine"]
