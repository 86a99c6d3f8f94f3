"""Output helpers: results to stdout, diagnostics to stderr, JSON on request.

On a terminal, tables, colours and the live status line are drawn with rich
(imported only then: piped output, ``--help``, ``inbox``, ``path`` and the hook
never load it). Colour honours ``NO_COLOR`` (rich reads it). Piped output is plain
text whose shape tests pin.

Model output is data: every line printed here (:func:`out`, :func:`err`, table
cells, the status line) passes through :func:`sagaflow.safetext.for_terminal`, so
control characters and escape sequences in it (C0, C1, CSI, OSC, bidi overrides)
are shown as visible escapes, never executed by the terminal. The only escape
sequences written are the colours of :func:`paint` parts, which rich renders from
a style name. JSON is escaped by ``json.dumps`` (``ensure_ascii``).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from sagaflow.safetext import for_terminal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status
    from rich.text import Text

#: rich styles of run, step and schedule statuses (terminal only)
STATUS_STYLES = {
    "completed": "green", "ok": "green", "active": "green", "OK": "green",
    "running": "cyan", "scheduled": "cyan", "waiting": "yellow", "paused": "yellow",
    "pending_retry": "yellow", "WARN": "yellow",
    "failed": "red", "timed_out": "red", "terminated": "red", "error": "red", "FAIL": "red",
    "canceled": "magenta",
}


def status_style(value: str) -> str | None:
    """The rich style of a status value (None: unstyled)."""
    return STATUS_STYLES.get(value)


class Styled(str):
    """Text to show in a rich ``style`` on a colour terminal (as plain text elsewhere,
    and when formatted into another string)."""

    style: str | None

    def __new__(cls, text: str, style: str | None) -> Styled:
        made = super().__new__(cls, text)
        made.style = style
        return made


def paint(text: str, style: str | None) -> Styled:
    """``text`` to be drawn in a rich ``style`` when passed as a part to :func:`out`/:func:`err`."""
    return Styled(text, style)


def _line(parts: Sequence[str], stream: IO[str]) -> str:
    """The parts as one safe line: escapes made visible, painted parts coloured on a terminal."""
    if not any(isinstance(p, Styled) and p.style for p in parts):
        return "".join(for_terminal(p) for p in parts)
    shown = console(stream)
    if shown is None:
        return "".join(for_terminal(p) for p in parts)
    from rich.text import Text

    text = Text.assemble(*(
        (for_terminal(p), (p.style or "") if isinstance(p, Styled) else "") for p in parts
    ))
    with shown.capture() as captured:
        shown.print(text, end="", soft_wrap=True)
    return captured.get()


def out(*parts: str) -> None:
    """One line on stdout: the parts joined, each made safe (see the module docstring)."""
    sys.stdout.write(_line(parts, sys.stdout) + "\n")


def err(*parts: str) -> None:
    """One line on stderr, like :func:`out`, flushed at once."""
    sys.stderr.write(_line(parts, sys.stderr) + "\n")
    sys.stderr.flush()


def emit_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (``ensure_ascii``: no raw control characters)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def console(stream: IO[str] | None = None) -> Console | None:
    """A rich console for ``stream`` (stdout by default) when it is a terminal, else None."""
    stream = stream or sys.stdout
    if not stream.isatty():
        return None
    from rich.console import Console

    return Console(file=stream, highlight=False)


def word(value: Any) -> str:
    """A value as people read it: yes/no, ``-`` for nothing, lists and mappings spelled out.

    Human output never shows Python's ``True``, ``None``, ``{}`` or ``['a']``; ``--json``
    keeps the real values.
    """
    if value is None or value == "" or value == [] or value == {}:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {word(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(word(v) for v in value)
    return str(value)


def skill_args(args: Any) -> str:
    """Skill arguments as they are typed: ``--name bob --topic 'two words'`` (``-`` for none)."""
    import shlex

    from sagaflow.skills.args import EXTRA, skill_view

    if not isinstance(args, Mapping) or not args:
        return word(args)
    view = skill_view({str(k): str(v) for k, v in args.items()})
    words = [shlex.quote(w) for w in view.pop(EXTRA, [])]  # free text, after the options
    return " ".join([
        *(f"--{k.replace('_', '-')} {shlex.quote(str(v))}" for k, v in view.items()), *words,
    ])


def fields(info: Mapping[str, Any]) -> None:
    """``key  value`` lines on stdout, each value through :func:`word`."""
    width = max((len(k) for k in info), default=0)
    for key, value in info.items():
        out(f"{key.replace('_', ' '):<{width}}  {word(value)}")


def _cell(value: Any) -> str:
    return for_terminal(word(value), one_line=True)


#: columns whose values users copy into commands: never shortened or wrapped on a terminal
ID_COLUMNS = frozenset({"run_id", "name", "schedule_id", "workflow_id"})


def table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
    styles: Mapping[str, Callable[[str], str | None]] | None = None,
) -> None:
    """An aligned table on stdout: plain text when piped, a rich table on a terminal.

    ``styles`` maps a column to a function giving a cell's rich style (default:
    the ``status`` column coloured by :data:`STATUS_STYLES`).
    """
    if not rows:
        return
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    shown = console()
    if shown is None:
        widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
        out("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
        for row in cells:
            out("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    styled = {"status": status_style, **(styles or {})}
    grid = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, header_style="bold")
    for i, column in enumerate(columns):
        # a narrow terminal shrinks the other columns and folds their text: an id cut to
        # "gated-202611…" cannot be copied into the next command, a folded cell loses nothing
        whole = max(len(column), *(len(row[i]) for row in cells)) if column in ID_COLUMNS else None
        grid.add_column(column.upper(), justify="right" if column in ("cost", "runs") else "left",
                        min_width=whole, no_wrap=whole is not None, overflow="fold")
    for row in cells:
        grid.add_row(*(
            Text(v, style=(styled[c](v) or "") if c in styled else "")
            for c, v in zip(columns, row, strict=True)
        ))
    shown.print(grid)


class _Line:
    """The status line's text, its elapsed time recomputed at every redraw."""

    def __init__(self, status: StatusLine) -> None:
        self.status = status

    def __rich__(self) -> Text:
        from rich.text import Text

        return Text(self.status.line())  # a Text: brackets in it are not rich markup


class StatusLine:
    """A live one-line status on stderr (a rich spinner on a TTY, printed on change otherwise)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.last = ""
        self.live: Status | None = None

    def line(self) -> str:
        line = f"{self.prefix} {time.monotonic() - self.started:5.1f}s · {self.last}"[:200]
        return for_terminal(line, one_line=True)

    def update(self, text: str) -> None:
        if self.tty:
            self.last = text
            if self.live is None:
                from rich.console import Console
                from rich.status import Status

                self.live = Status(_Line(self), console=Console(file=sys.stderr, highlight=False))
                self.live.start()
            return
        if text != self.last:
            err(f"{self.prefix} {time.monotonic() - self.started:.1f}s · {text}")
        self.last = text

    def clear(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
