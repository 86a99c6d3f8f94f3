"""Rendering: plain text when piped (no rich import), rich tables and colour on a terminal."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import pytest

ROWS = "[{'run_id': 'r-1', 'status': 'completed', 'cost': '$0.01'}, {'run_id': 'r-22', 'status': 'failed'}]"
SCRIPT = (
    "import sys\n"
    "from sagaflow.cli.render import StatusLine, out, paint, table\n"
    f"table({ROWS}, ['run_id', 'status', 'cost'])\n"
    "out(paint('failed', 'red'))\n"
    "line = StatusLine('r-1'); line.update('step 1'); line.update('step 2'); line.clear()\n"
    "print('RICH=' + str('rich' in sys.modules))\n"
)


def _run(env: dict[str, str], tty: bool) -> str:
    """Run SCRIPT with stdout and stderr on a pseudo-terminal (or pipes); both outputs."""
    full = {**os.environ, **env}
    if not tty:
        proc = subprocess.run([sys.executable, "-c", SCRIPT], env=full, capture_output=True,
                              text=True, check=True)
        return proc.stdout + proc.stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], env=full, stdout=follower,
                            stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=30) == 0
    return b"".join(chunks).decode()


def test_piped_output_is_plain_and_imports_no_rich() -> None:
    text = re.sub(r"\d+\.\ds ·", "T ·", _run({"NO_COLOR": ""}, tty=False))
    assert text == (
        "RUN_ID  STATUS     COST\n"
        "r-1     completed  $0.01\n"
        "r-22    failed     -\n"
        "failed\n"
        "RICH=False\n"
        "r-1 T · step 1\n"
        "r-1 T · step 2\n"
    )


@pytest.mark.parametrize("no_color", ["", "1"])
def test_terminal_output_uses_rich_and_honours_no_color(no_color: str) -> None:
    text = _run({"NO_COLOR": no_color, "TERM": "xterm-256color", "COLUMNS": "80"}, tty=True)
    assert "RICH=True" in text
    assert "RUN_ID" in text and "r-22" in text and "$0.01" in text
    red = "\x1b[31m"
    if no_color:
        assert red not in text
    else:
        assert red in text and "\x1b[32m" in text  # failed red, completed green


def test_a_narrow_terminal_never_cuts_a_run_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """On an 80-column terminal `list` showed "gated-202611…": an id nobody can copy."""
    import io

    from rich.console import Console

    from sagaflow.cli import render

    buffer = io.StringIO()
    monkeypatch.setattr(render, "console", lambda stream=None: Console(
        file=buffer, width=60, force_terminal=True, no_color=True))
    run_id = "gated-20261129-134202-yyibcr"
    render.table([{"run_id": run_id, "status": "running",
                   "state": "waiting for a worker of pool gpu (none polling since 2026-11-29)",
                   "started": "2026-11-29T13:42:02+00:00"}],
                 ["run_id", "status", "state", "started"])
    text = re.sub(r"\x1b\[[0-9;]*m", "", buffer.getvalue())
    assert run_id in text and "…" not in text  # other cells fold onto more lines instead
