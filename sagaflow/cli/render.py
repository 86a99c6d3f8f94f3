"""Output helpers: results to stdout, diagnostics to stderr, JSON on request."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any


def out(text: str) -> None:
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """A plain aligned table (no rich import needed for data output)."""
    if not rows:
        return
    cells = [[str(r.get(c) if r.get(c) is not None else "-") for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    out("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        out("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


class StatusLine:
    """A live one-line status on stderr (redrawn on a TTY, printed on change otherwise)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.last = ""
        self.drawn = False

    def update(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        if self.tty:
            sys.stderr.write(f"\r\033[K{self.prefix} {elapsed:5.1f}s · {text}"[:200])
            sys.stderr.flush()
            self.drawn = True
        elif text != self.last:
            err(f"{self.prefix} {elapsed:.1f}s · {text}")
        self.last = text

    def clear(self) -> None:
        if self.tty and self.drawn:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
