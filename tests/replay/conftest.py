"""Replay tests use the engine harness (tests/engine/harness.py) without a server."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from harness import engine

__all__ = ["engine"]
