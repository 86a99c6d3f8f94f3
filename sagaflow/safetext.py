"""Model output is data: untrusted text made safe for a terminal or a model's context.

Text a model wrote (summaries, results, error messages quoting it), and anything
else sagaflow did not write itself (a hand-edited INBOX.md, a skill's state), may
hold terminal control sequences: colours, cursor moves and erasures (CSI), window
titles, hyperlinks or clipboard writes (OSC), device strings (DCS), bidirectional
overrides that reorder what a line shows. Two treatments:

* :func:`for_terminal` — every line sagaflow prints goes through it (via
  :mod:`sagaflow.cli.render`): each such character is shown as a visible escape
  (``\\x1b``, ``\\x9b``, ``\\u202e``), so the text is seen, never executed.
  Newlines and tabs are kept.
* :func:`strip_controls` — for text handed to a model (the SessionStart hook):
  whole escape sequences and every other control character are removed.

Hand-written rather than taken from a library: the hook imports this on every
Claude Code session start and stays stdlib-only; ``rich.control.strip_control_codes``
removes only BEL, BS, VT, FF and CR, and leaves ESC (so every sequence) in place.
"""

from __future__ import annotations

import functools
import re

#: bidirectional embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069)
_BIDI = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
#: C0 except tab and newline, DEL, C1
_CONTROLS = [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)]
#: lone surrogates cannot be encoded to UTF-8: printing one would raise
_SURROGATES = range(0xD800, 0xE000)


def _visible(cp: int) -> str:
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}"


#: any character the tables below change but tab and newline (most text has none)
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@functools.cache
def _table(kind: str) -> dict[int, str | None]:
    """The translation tables, built on first use: about 2,100 entries each (the
    surrogates), which would cost every process that prints anything a few ms at import
    while most text needs none of them (see ``_UNSAFE``)."""
    escaped = (*_CONTROLS, *_BIDI, *_SURROGATES)
    if kind == "remove":
        return dict.fromkeys(escaped)
    shown = (*escaped, 0x09, 0x0A) if kind == "one_line" else escaped  # or "terminal"
    return {cp: _visible(cp) for cp in shown}


#: ECMA-48 sequences: a string command (OSC, DCS, SOS, PM, APC) with its terminator
#: (BEL or ST); CSI with its parameters; any other ESC + final byte. 7-bit (ESC x) and
#: 8-bit (C1) introducers alike. What is left (an unterminated string's text) is data.
_SEQUENCE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x90\x98\x9c-\x9f]*(?:\x07|\x1b\\|\x9c)"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
)


def for_terminal(text: str, *, one_line: bool = False) -> str:
    """``text`` with every control and bidi-control character shown as a visible escape.

    Args:
        text: Any text, trusted or not.
        one_line: Escape newlines and tabs too (table cells, status lines).

    Returns:
        Text that moves the cursor only by its newlines (and tabs), and changes
        no colour, title, clipboard or anything else of the terminal.
    """
    if _UNSAFE.search(text) is None and not (one_line and ("\n" in text or "\t" in text)):
        return text
    return text.translate(_table("one_line" if one_line else "terminal"))


def strip_controls(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` without escape sequences, control or bidi-control characters.

    Tabs become spaces; newlines are kept when ``keep_newlines``, else become spaces.
    """
    if _UNSAFE.search(text) is not None:
        text = _SEQUENCE.sub("", text).translate(_table("remove"))
    text = text.replace("\t", " ")
    return text if keep_newlines else text.replace("\n", " ")


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
