"""Which skills of a build ``launch`` has linted: ``<home>/cache/lint/<build>.json``.

Kept apart from :mod:`sagaflow.runs.lint` (and importing nothing but the standard
library) so a warm launch, whose skill was linted in this build before, pays one
small file read and no import of the lint rules.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sagaflow.paths import Home


def cache_path(home: Home, build: str) -> Path:
    """Where launch records the skills of build ``build`` it linted."""
    return home.root / "cache" / "lint" / f"{build}.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def linted(home: Home, build: str, skill: str) -> bool:
    """Whether ``skill`` passed lint in build ``build`` (builds are content-addressed,
    so it still does)."""
    return skill in _read(cache_path(home, build))


def record(home: Home, build: str, skill: str, warnings: int) -> None:
    """Remember that ``skill`` passed lint in ``build`` (best effort: lint again otherwise)."""
    path = cache_path(home, build)
    data = _read(path)
    data[skill] = {"warnings": warnings}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)  # atomic: a concurrent launch loses an entry, never the file
    except OSError:
        pass
