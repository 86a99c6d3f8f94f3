"""Tests for sagaflow.hook and the hooks/session_start.py shim.

Every test points HOME and CLAUDE_CONFIG_DIR at temporary directories, so the
real ~/.claude is never read or written.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sagaflow import hook, inbox
from sagaflow.errors import HookError
from sagaflow.paths import Home

REPO = Path(__file__).resolve().parent.parent.parent
SHIM = REPO / "hooks" / "session_start.py"
PAYLOAD = {"session_id": "s", "source": "startup", "cwd": "/tmp", "hook_event_name": "SessionStart"}
LIMIT = 10_000

OTHERS: dict[str, Any] = {
    "model": "opus",
    "permissions": {"allow": ["Bash(ls:*)"], "deny": []},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo pre"}]}],
        "SessionStart": [
            {"matcher": "startup", "hooks": [{"type": "command", "command": "echo theirs"}]}
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done", "timeout": 5}]}],
    },
    "env": {"FOO": "bar"},
    "zzzUnknownKey": [1, {"nested": None}],
}


@pytest.fixture
def claude_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake HOME and CLAUDE_CONFIG_DIR; returns the config dir."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    monkeypatch.delenv("SAGAFLOW_HOME", raising=False)
    monkeypatch.delenv("SAGAFLOW_ROOT", raising=False)
    (tmp_path / "home").mkdir()
    return tmp_path / "claude"


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "sf home")


def write_settings(path: Path, data: Any) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = (json.dumps(data, indent=2) + "\n").encode()
    path.write_bytes(raw)
    return raw


def ours(settings: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        h
        for group in settings.get("hooks", {}).get("SessionStart", [])
        for h in group["hooks"]
        if "sagaflow-hook" in h["command"]
    ]


def keys_deep(value: Any) -> Any:
    """The structure with key order made visible, for order-sensitive equality."""
    if isinstance(value, dict):
        return [(k, keys_deep(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [keys_deep(v) for v in value]
    return value


def add_entries(home: Home, *entries: tuple[str, str, str, str]) -> None:
    for run_id, status, skill, summary in entries:
        inbox.append(home.inbox, inbox.Entry(run_id, status, skill, summary, ""))


# --- paths and command ---------------------------------------------------------


def test_settings_path_honours_claude_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    assert hook.settings_path() == tmp_path / "h" / ".claude" / "settings.json"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert hook.settings_path() == tmp_path / "cfg" / "settings.json"


def test_hook_script_is_the_checkout_shim() -> None:
    assert hook.hook_script() == SHIM
    assert SHIM.is_file()


def test_hook_command_quotes_and_prefixes_only_non_default_home(
    claude_dir: Path, tmp_path: Path
) -> None:
    default = Home(Path.home() / ".sagaflow")
    words = shlex.split(hook.hook_command(default), comments=True)
    assert words == [sys.executable, str(SHIM)]
    assert hook.hook_command(default).endswith(hook.MARKER)

    odd = Home(tmp_path / "it's a home")
    words = shlex.split(hook.hook_command(odd), comments=True)
    assert words == [f"SAGAFLOW_HOME={odd.root}", sys.executable, str(SHIM)]


# --- install / uninstall -------------------------------------------------------


def test_install_and_uninstall_preserve_everything_else(claude_dir: Path, home: Home) -> None:
    path = claude_dir / "settings.json"
    original = write_settings(path, OTHERS)

    change = hook.install(home)
    assert change.changed and change.path == path
    assert change.backup == claude_dir / "settings.json.sagaflow-backup"
    assert change.backup.read_bytes() == original
    after = json.loads(path.read_text())
    assert path.read_text().startswith('{\n  "model": "opus",\n  "permissions": {\n    "allow"')
    mine = ours(after)
    assert len(mine) == 1
    assert mine[0] == {"type": "command", "command": hook.hook_command(home), "timeout": 10}
    groups = after["hooks"]["SessionStart"]
    assert groups[0] == OTHERS["hooks"]["SessionStart"][0]
    assert groups[1]["matcher"] == "startup|resume|clear|compact"
    without_ours = json.loads(path.read_text())
    without_ours["hooks"]["SessionStart"].pop()
    assert keys_deep(without_ours) == keys_deep(OTHERS)

    installed = path.read_bytes()
    again = hook.install(home)
    assert not again.changed and again.backup is None
    assert path.read_bytes() == installed
    assert hook.status(home) == {
        "installed": True,
        "path": str(path),
        "command": hook.hook_command(home),
        "current": True,
        "problem": None,
    }

    removed = hook.uninstall()
    assert removed.changed
    assert removed.backup is not None and removed.backup.read_bytes() == installed
    assert keys_deep(json.loads(path.read_text())) == keys_deep(OTHERS)
    assert not hook.uninstall().changed
    assert hook.status(home)["installed"] is False
    assert sorted(p.name for p in claude_dir.iterdir()) == [
        "settings.json",
        "settings.json.sagaflow-backup",
    ]


def test_install_creates_missing_settings_and_dir(claude_dir: Path, home: Home) -> None:
    change = hook.install(home)
    path = claude_dir / "settings.json"
    assert change.changed and change.backup is None
    assert "Installed" in change.message and str(path) in change.message
    assert ours(json.loads(path.read_text()))[0]["command"] == hook.hook_command(home)
    assert not (claude_dir / "settings.json.sagaflow-backup").exists()


def test_outdated_command_is_replaced_in_place(
    claude_dir: Path, home: Home, tmp_path: Path
) -> None:
    path = claude_dir / "settings.json"
    write_settings(path, OTHERS)
    hook.install(Home(tmp_path / "old home"))
    assert hook.status(home)["current"] is False
    settings = json.loads(path.read_text())
    settings["hooks"]["SessionStart"].append({"hooks": [{"type": "command", "command": "x"}]})
    ours(settings)[0]["timeout"] = 3  # a user's own tweak survives the update
    write_settings(path, settings)

    change = hook.install(home)
    assert change.changed and "Updated" in change.message
    after = json.loads(path.read_text())
    assert after["hooks"]["SessionStart"][1]["hooks"] == [
        {"type": "command", "command": hook.hook_command(home), "timeout": 3}
    ]
    assert after["hooks"]["SessionStart"][2] == {"hooks": [{"type": "command", "command": "x"}]}
    assert hook.status(home)["current"] is True


def test_duplicates_are_collapsed_and_shared_groups_kept(claude_dir: Path, home: Home) -> None:
    path = claude_dir / "settings.json"
    entry = {"type": "command", "command": "python /old/session_start.py # sagaflow-hook"}
    write_settings(
        path,
        {
            "hooks": {
                "SessionStart": [
                    {"hooks": [dict(entry), {"type": "command", "command": "echo shared"}]},
                    {"matcher": "startup", "hooks": [dict(entry)]},
                    {"matcher": "empty-before", "hooks": []},
                ]
            }
        },
    )
    assert hook.install(home).changed
    after = json.loads(path.read_text())
    assert len(ours(after)) == 1
    groups = after["hooks"]["SessionStart"]
    assert [g.get("matcher") for g in groups] == [None, "empty-before"]
    assert groups[0]["hooks"][0]["command"] == hook.hook_command(home)

    hook.uninstall()
    assert json.loads(path.read_text()) == {
        "hooks": {
            "SessionStart": [
                {"hooks": [{"type": "command", "command": "echo shared"}]},
                {"matcher": "empty-before", "hooks": []},
            ]
        }
    }


def test_uninstall_drops_only_containers_left_empty_by_our_removal(
    claude_dir: Path, home: Home
) -> None:
    path = claude_dir / "settings.json"
    for before in ({}, {"hooks": {"Stop": []}, "x": 1}, {"hooks": {"SessionStart": [{}]}}):
        write_settings(path, before)
        hook.install(home)
        hook.uninstall()
        assert keys_deep(json.loads(path.read_text())) == keys_deep(before)
    # Install cannot tell a pre-existing empty list from one it created: both go.
    write_settings(path, {"hooks": {"SessionStart": []}, "y": 2})
    hook.install(home)
    hook.uninstall()
    assert json.loads(path.read_text()) == {"y": 2}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"hooks": {',
        b"[]",
        b'"just a string"',
        b'{"hooks": []}',
        b'{"hooks": null}',
        b'{"hooks": {"SessionStart": {"matcher": "x"}}}',
        b'{"hooks": {"SessionStart": null}}',
        b"\xff\xfe not utf-8",
    ],
)
def test_corrupt_settings_raise_and_touch_nothing(claude_dir: Path, home: Home, raw: bytes) -> None:
    claude_dir.mkdir()
    path = claude_dir / "settings.json"
    path.write_bytes(raw)
    for action in (lambda: hook.install(home), hook.uninstall):
        with pytest.raises(HookError) as info:
            action()
        assert str(path) in str(info.value)
        assert "\n" not in str(info.value)
    assert path.read_bytes() == raw
    assert [p.name for p in claude_dir.iterdir()] == ["settings.json"]
    report = hook.status(home)
    assert report["installed"] is False and str(path) in report["problem"]


def test_symlinked_settings_and_file_mode_are_kept(
    claude_dir: Path, home: Home, tmp_path: Path
) -> None:
    real = tmp_path / "dotfiles" / "claude-settings.json"
    write_settings(real, {"model": "sonnet"})
    real.chmod(0o640)
    claude_dir.mkdir()
    (claude_dir / "settings.json").symlink_to(real)
    hook.install(home)
    assert (claude_dir / "settings.json").is_symlink()
    assert ours(json.loads(real.read_text()))
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_status_never_raises(claude_dir: Path, home: Home) -> None:
    assert hook.status(home)["installed"] is False
    claude_dir.mkdir()
    (claude_dir / "settings.json").mkdir()  # a directory where the file should be
    report = hook.status(home)
    assert report["installed"] is False and report["problem"]


# --- session_start_output --------------------------------------------------------


def test_no_output_without_unread_entries(home: Home) -> None:
    assert hook.session_start_output(home) is None  # no inbox at all
    add_entries(home, ("r1", "DONE", "hello-world", "hi"))
    inbox.dismiss(home.inbox, ["r1"])
    assert hook.session_start_output(home, PAYLOAD) is None


def test_output_lists_unread_newest_first(home: Home) -> None:
    add_entries(
        home,
        ("hello-world-1", "DONE", "hello-world", "hello, alice\nsecond line"),
        ("old-read", "DONE", "old", "already seen"),
        ("review-2", "FAILED", "review", "model refused"),
    )
    inbox.dismiss(home.inbox, ["old-read"])
    out = hook.session_start_output(home, PAYLOAD)
    assert out is not None
    assert set(out) == {"hookSpecificOutput", "systemMessage"}
    assert out["hookSpecificOutput"]["hookEventName"] == "SessionStart"
    context = out["hookSpecificOutput"]["additionalContext"]
    assert context.index("review-2") < context.index("hello-world-1")
    assert "hello, alice second line" in context and "model refused" in context
    assert "FAILED · review" in context and "old-read" not in context
    assert "2 unread results" in context
    assert "`sagaflow inbox`" in context and "`sagaflow dismiss <run_id>`" in context
    assert out["systemMessage"] == "sagaflow: 2 unread results — review FAILED, hello-world DONE"


def test_output_size_caps_with_500_huge_entries(home: Home) -> None:
    home.root.mkdir(parents=True)
    blocks = [
        inbox.render_entry(
            inbox.Entry(f"run-{i:03d}-" + "x" * 300, "DONE", "skill" * 50, f"S{i} " * 20_000, "t")
        )
        for i in range(500)
    ]
    home.inbox.write_text(inbox.HEADER + "".join(blocks))
    out = hook.session_start_output(home)
    assert out is not None
    context = out["hookSpecificOutput"]["additionalContext"]
    assert len(context) < LIMIT and len(out["systemMessage"]) < LIMIT
    assert context.startswith("sagaflow") and "500 unread results" in context
    assert "1. DONE" in context and "S499" in context and "run-499" in context
    assert "more unread results." in context and context.rstrip().endswith("as read.")
    assert out["systemMessage"].endswith("+497 more")


# --- the shim, as Claude Code runs it --------------------------------------------


def run_shim(
    home_root: Path | str, stdin: str = json.dumps(PAYLOAD), *args: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGAFLOW_")}
    env["SAGAFLOW_HOME"] = str(home_root)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *args, str(SHIM)],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    print(f"shim wall time: {time.perf_counter() - started:.3f}s")
    return proc


def test_shim_prints_session_start_json(home: Home) -> None:
    add_entries(home, ("hello-world-20261121-k3f9", "DONE", "hello-world", "hello, alice"))
    for stdin in (json.dumps(PAYLOAD), "", "not json {"):
        proc = run_shim(home.root, stdin)
        assert proc.returncode == 0 and proc.stderr == ""
        out = json.loads(proc.stdout)
        assert out["hookSpecificOutput"]["hookEventName"] == "SessionStart"
        context = out["hookSpecificOutput"]["additionalContext"]
        assert "hello-world-20261121-k3f9" in context and "hello, alice" in context
        assert "hello-world DONE" in out["systemMessage"]


def test_shim_imports_no_heavy_modules_and_works_without_site(home: Home) -> None:
    add_entries(home, ("r-site", "DONE", "hello-world", "from the checkout"))
    proc = run_shim(home.root, json.dumps(PAYLOAD), "-S", "-X", "importtime")
    assert proc.returncode == 0
    assert "r-site" in json.loads(proc.stdout)["hookSpecificOutput"]["additionalContext"]
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
    assert "sagaflow.hook" in imported
    assert not {m for m in imported if m.split(".")[0] in {"temporalio", "anthropic", "typer"}}


def test_installed_command_runs_through_a_shell(claude_dir: Path, tmp_path: Path) -> None:
    home = Home(tmp_path / "it's home")
    add_entries(home, ("r-shell", "FAILED", "review", "quoted path works"))
    hook.install(home)
    command = ours(json.loads((claude_dir / "settings.json").read_text()))[0]["command"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGAFLOW_")}
    proc = subprocess.run(
        command, shell=True, input=json.dumps(PAYLOAD), capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0
    assert "r-shell" in json.loads(proc.stdout)["hookSpecificOutput"]["additionalContext"]


def test_shim_empty_inbox_prints_nothing(home: Home) -> None:
    proc = run_shim(home.root)
    assert (proc.returncode, proc.stdout) == (0, "")
    home.root.mkdir(parents=True)
    home.inbox.write_text(inbox.HEADER)
    proc = run_shim(home.root)
    assert (proc.returncode, proc.stdout) == (0, "")


def test_shim_survives_garbled_inbox_and_unusable_home(home: Home, tmp_path: Path) -> None:
    home.root.mkdir(parents=True)
    home.inbox.write_bytes(b"<!-- sagaflow:entry run=x status=DONE state=unread -->\n\xff\x00junk")
    proc = run_shim(home.root)
    # nothing unread: the user hears of the damaged region, the model hears nothing
    assert proc.returncode == 0 and json.loads(proc.stdout) == {
        "systemMessage": "sagaflow: no unread results; 1 damaged region was skipped "
                         "('sagaflow inbox' names the lines)"
    }
    assert not (home.logs / "hook.log").exists()

    home.inbox.unlink()
    home.inbox.mkdir()  # a directory where INBOX.md should be
    proc = run_shim(home.root)
    assert (proc.returncode, proc.stdout) == (0, "")
    assert "InboxError" in (home.logs / "hook.log").read_text()

    home.inbox.rmdir()
    home.inbox.write_text("# sagaflow inbox\n\n<!-- sagaflow:entry run=half\n### broken\n")
    proc = run_shim(home.root)
    assert proc.returncode == 0 and "1 damaged region" in json.loads(proc.stdout)["systemMessage"]

    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("x")
    proc = run_shim(not_a_dir)
    assert (proc.returncode, proc.stdout) == (0, "")


def test_shim_caps_output_with_500_entries(home: Home) -> None:
    home.root.mkdir(parents=True)
    blocks = [
        inbox.render_entry(inbox.Entry(f"run-{i}", "DONE", "big", "word " * 5_000, "t"))
        for i in range(500)
    ]
    home.inbox.write_text(inbox.HEADER + "".join(blocks))
    proc = run_shim(home.root)
    assert proc.returncode == 0
    out = json.loads(proc.stdout)
    assert len(out["hookSpecificOutput"]["additionalContext"]) < LIMIT
    assert len(out["systemMessage"]) < LIMIT


def test_output_puts_pending_approvals_first_with_the_answer(home: Home) -> None:
    add_entries(home, ("done-1", "DONE", "hello-world", "hello, alice"))
    inbox.append(home.inbox, inbox.Entry(
        run_id="gated-1", status="NEEDS APPROVAL", skill="review", key="publish-1",
        summary="Publish?\n\napprove: sagaflow approve gated-1 --step publish", timestamp="",
    ))
    add_entries(home, ("done-2", "DONE", "hello-world", "hello, bob"))
    out = hook.session_start_output(home, PAYLOAD)
    assert out is not None
    context = out["hookSpecificOutput"]["additionalContext"]
    assert "(1 waiting on an approval)" in context
    assert context.index("gated-1") < context.index("done-2") < context.index("done-1")
    assert "NEEDS APPROVAL · review" in context
    assert "sagaflow approve gated-1 --step publish" in context
    assert out["systemMessage"].startswith("sagaflow: 3 unread results — review NEEDS APPROVAL")
    inbox.retire(home.inbox, "gated-1", "NEEDS APPROVAL", "publish-1")
    out = hook.session_start_output(home, PAYLOAD)
    assert out is not None and "gated-1" not in out["hookSpecificOutput"]["additionalContext"]
