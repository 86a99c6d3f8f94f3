"""Private homes, program lookup, plain logs and the server's environment (no Temporal)."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from pathlib import Path

import pytest

from sagaflow import procs
from sagaflow._engine.temporal_cli import server_env
from sagaflow._engine.worker import PlainFormatter
from sagaflow.errors import ModelError
from sagaflow.models import claude_cli
from sagaflow.paths import PRIVATE_UMASK, Home, loose_permissions, make_private, private_fix


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ensure_makes_the_home_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        home = Home(tmp_path / "home")
        home.ensure(home.runs, home.logs)
        assert [_mode(p) for p in (home.root, home.runs, home.logs)] == [0o700] * 3
        shared = Home(tmp_path / "shared")  # an existing home others could enter
        shared.root.mkdir(mode=0o755)
        shared.root.chmod(0o775)
        shared.ensure()
        assert _mode(shared.root) == 0o700
    finally:
        os.umask(old)


def test_make_private_sets_the_umask() -> None:
    old = make_private()
    try:
        assert os.umask(PRIVATE_UMASK) == PRIVATE_UMASK == 0o077
    finally:
        os.umask(old)


def test_loose_permissions_lists_what_others_may_read(tmp_path: Path) -> None:
    root = tmp_path / "home"
    (root / "runs" / "r1").mkdir(parents=True, mode=0o700)
    root.chmod(0o700)
    (root / "runs").chmod(0o700)
    private = root / "runs" / "r1" / "run.json"
    private.write_text("{}")
    private.chmod(0o600)
    (root / "runs" / "r1").chmod(0o700)
    assert loose_permissions(root) == ([], 0)
    for i in range(4):
        (root / f"f{i}").write_text("x")
        (root / f"f{i}").chmod(0o644)
    (root / "link").symlink_to("/etc/passwd")  # a link's own mode means nothing: skipped
    found, total = loose_permissions(root, limit=2)
    assert total == 4 and len(found) == 2
    assert all(mode == 0o644 for _, mode in found)
    assert loose_permissions(tmp_path / "missing") == ([], 0)
    assert private_fix(Path("/x/my home")) == "chmod -R go-rwx '/x/my home'"


def test_locate_tells_missing_from_not_executable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, on_path = tmp_path / "first", tmp_path / "path"
    first.mkdir()
    on_path.mkdir()
    monkeypatch.setenv("PATH", str(on_path))
    assert procs.locate("tool", [first]) == procs.Located("tool", None, False)
    (on_path / "tool").write_text("#!/bin/sh\n")
    (on_path / "tool").chmod(0o644)
    assert procs.locate("tool", [first]) == procs.Located("tool", on_path / "tool", False)
    (first / "tool").write_text("#!/bin/sh\n")
    (first / "tool").chmod(0o600)
    assert procs.locate("tool", [first]) == procs.Located("tool", first / "tool", False)
    (on_path / "tool").chmod(0o755)  # an executable anywhere wins
    assert procs.locate("tool", [first]) == procs.Located("tool", on_path / "tool", True)
    (first / "tool").chmod(0o700)
    assert procs.locate("tool", [first]) == procs.Located("tool", first / "tool", True)


def test_plain_formatter_escapes_terminal_sequences() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1,
                               "model said \x1b[31mred\x1b[0m \x1b]0;title\x07 \x9b2J\x00 ok\tend",
                               None, None)
    line = PlainFormatter("%(levelname)s %(message)s").format(record)
    assert line == r"WARNING model said \x1b[31mred\x1b[0m \x1b]0;title\x07 \x9b2J\x00 ok" + "\tend"


def test_server_env_keeps_no_secrets() -> None:
    env = server_env({
        "PATH": "/bin", "HOME": "/h", "LANG": "C.UTF-8", "LC_ALL": "C", "TZ": "UTC",
        "ANTHROPIC_API_KEY": "k", "ANTHROPIC_AUTH_TOKEN": "t", "CLAUDE_CODE_OAUTH_TOKEN": "o",
        "AWS_SECRET_ACCESS_KEY": "s", "TEMPORAL_ADDRESS": "x:1", "SAGAFLOW_HOME": "/s",
    })
    assert env == {"PATH": "/bin", "HOME": "/h", "LANG": "C.UTF-8", "LC_ALL": "C", "TZ": "UTC",
                   "NO_COLOR": "1"}


def _claude(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None, mode: int) -> str:
    monkeypatch.setenv("PATH", str(tmp_path))
    if text is not None:
        (tmp_path / "claude").write_text(text)
        (tmp_path / "claude").chmod(mode)
    with pytest.raises(ModelError) as caught:
        asyncio.run(claude_cli.call(model="m", system="s", user="u", max_tokens=10))
    assert not caught.value.retryable
    return caught.value.message


def test_claude_cli_missing_not_executable_unrunnable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "not on PATH" in _claude(tmp_path, monkeypatch, None, 0)
    assert f"{tmp_path / 'claude'} is not executable; run `chmod +x" in _claude(
        tmp_path, monkeypatch, "#!/bin/sh\n", 0o644)
    assert "could not be started (Exec format error)" in _claude(
        tmp_path, monkeypatch, "\x7fELF junk\n", 0o755)
