"""Parse the ``STRUCTURED_OUTPUT_START`` … ``STRUCTURED_OUTPUT_END`` block.

Rules:

* Only the **last** block in the text counts (models often echo the format first).
* Inside it, ``KEY|value`` starts a field; keys are letters, digits, ``_`` and ``-``.
* Any other line (blank ones too) continues the previous field's value; leading and
  trailing blank lines of a value are dropped.
* Lines before the first key are ignored.
* With no complete block, the result is an empty dict; the full response text
  is still saved in the run directory.
"""

from __future__ import annotations

import re

START = "STRUCTURED_OUTPUT_START"
END = "STRUCTURED_OUTPUT_END"
_KEY = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_\-]*)\s*\|(.*)$")


def last_block(text: str) -> str | None:
    """The body of the last complete block, or None."""
    end = text.rfind(END)
    if end < 0:
        return None
    start = text.rfind(START, 0, end)
    if start < 0:
        return None
    return text[start + len(START) : end]


def parse_structured(text: str) -> dict[str, str]:
    """Parse the last structured block of ``text`` into ``{KEY: value}``."""
    body = last_block(text)
    if body is None:
        return {}
    result: dict[str, str] = {}
    current: str | None = None
    for raw in body.splitlines():
        match = _KEY.match(raw)
        if match:
            current = match.group(1)
            result[current] = match.group(2).strip()
        elif current is not None:
            result[current] = result[current] + "\n" + raw.rstrip()
    return {key: value.strip("\n") for key, value in result.items()}
