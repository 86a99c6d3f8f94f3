"""The Claude Code SessionStart hook: installing it and what it says.

sagaflow adds one command hook for Claude Code's ``SessionStart`` event to the
user settings (``$CLAUDE_CONFIG_DIR/settings.json``, else
``~/.claude/settings.json``). Claude Code runs it through a shell at every
session start; it runs ``hooks/session_start.py``, which prints
:func:`session_start_output` (from :mod:`sagaflow.session_context`, which says how
model text is marked as data) so unread inbox results reach the model
(``additionalContext``) and the user (``systemMessage``).

Our entries are recognised by :data:`MARKER`, a trailing shell comment
(``# sagaflow-hook``) on every command we write, or, should someone strip it,
by the path of our hook script in the command. Nothing else is ever modified.

The hook imports this module on every session start: stdlib and light sagaflow
modules only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagaflow.errors import HookError
from sagaflow.paths import HOME_ENV, Home, claude_dir
from sagaflow.session_context import EVENT, session_start_output

__all__ = [
    "BACKUP_SUFFIX", "EVENT", "MARKER", "HookChange", "hook_command", "hook_script", "install",
    "session_start_output", "settings_path", "status", "uninstall",
]

MARKER = "# sagaflow-hook"
MATCHER = "startup|resume|clear|compact"
TIMEOUT_SECONDS = 10
BACKUP_SUFFIX = ".sagaflow-backup"


@dataclass(frozen=True)
class HookChange:
    """What install or uninstall did to the settings file.

    Attributes:
        changed: Whether the file was written.
        path: The settings file.
        backup: Where the previous contents were saved, when there were any.
        message: One user-facing sentence describing the outcome.
    """

    changed: bool
    path: Path
    backup: Path | None
    message: str


def settings_path() -> Path:
    """Claude Code's user settings file, in :func:`sagaflow.paths.claude_dir`."""
    return claude_dir() / "settings.json"


def hook_script() -> Path:
    """The shim Claude Code runs: the wheel's bundled copy, else the checkout's."""
    package = Path(__file__).resolve().parent
    bundled = package / "_bundled" / "hooks" / "session_start.py"
    if bundled.is_file():
        return bundled
    return package.parent / "hooks" / "session_start.py"


def hook_command(home: Home) -> str:
    """The shell command for settings.json, ending with :data:`MARKER`."""
    parts = [shlex.quote(sys.executable), shlex.quote(str(hook_script())), MARKER]
    default = Path.home() / ".sagaflow"
    if os.path.abspath(home.root) != os.path.abspath(default):
        parts.insert(0, f"{HOME_ENV}={shlex.quote(str(home.root))}")
    return " ".join(parts)


def _is_ours(hook: object) -> bool:
    if not isinstance(hook, dict) or not isinstance(hook.get("command"), str):
        return False
    command: str = hook["command"]
    return MARKER in command or str(hook_script()) in command


def _well_formed(groups: object) -> list[dict[str, Any]]:
    """The hook groups shaped like ``{"hooks": [...]}``; others are left alone."""
    if not isinstance(groups, list):
        return []
    return [g for g in groups if isinstance(g, dict) and isinstance(g.get("hooks"), list)]


def _our_hooks(settings: dict[str, Any]) -> list[dict[str, Any]]:
    hooks = settings.get("hooks")
    groups = hooks.get(EVENT) if isinstance(hooks, dict) else None
    return [h for group in _well_formed(groups) for h in group["hooks"] if _is_ours(h)]


def _load(path: Path) -> tuple[dict[str, Any], bytes | None]:
    """Parse settings, returning (settings, original bytes or None if absent)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        raise HookError(f"Cannot read {path}: {exc.strerror or exc}; fix its permissions.") from exc
    fix = "fix it by hand (or move it away) and try again"
    try:
        text = raw.decode("utf-8-sig")
        data = json.loads(text) if text.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HookError(f"{path} is not valid JSON ({exc}); {fix}.") from exc
    if not isinstance(data, dict):
        raise HookError(f"{path} does not hold a JSON object at the top level; {fix}.")
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict):
        raise HookError(f'The "hooks" key in {path} is not a JSON object; {fix}.')
    if not isinstance(hooks.get(EVENT, []), list):
        raise HookError(f'"hooks.{EVENT}" in {path} is not a JSON list; {fix}.')
    return data, raw


def _atomic_write(path: Path, data: bytes, mode: int | None) -> None:
    import tempfile  # only needed when writing; keeps the hook's import light

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _save(path: Path, settings: dict[str, Any], original: bytes | None) -> Path | None:
    """Back up the old file (if any), then atomically write the new settings."""
    backup = path.with_name(path.name + BACKUP_SUFFIX) if original is not None else None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o7777 if original is not None else None
        if (path.read_bytes() if path.exists() else None) != original:
            raise HookError(f"{path} changed while sagaflow was editing it; try again.")
        if backup is not None and original is not None:  # (both or neither)
            _atomic_write(backup, original, mode)
        text = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
        _atomic_write(path, text.encode("utf-8"), mode)
    except OSError as exc:
        raise HookError(
            f"Cannot write {path}: {exc.strerror or exc}; fix its permissions."
        ) from exc
    return backup


def _target() -> Path:
    path = settings_path()
    # Write through a symlink (dotfile managers) instead of replacing the link.
    return path.resolve() if path.is_symlink() else path


def install(home: Home) -> HookChange:
    """Add (or refresh) our SessionStart hook, leaving everything else intact.

    Raises:
        HookError: if the settings file is unreadable or not the expected shape,
            or the hook script is missing; nothing is written then.
    """
    path = _target()
    settings, original = _load(path)
    if not hook_script().is_file():
        raise HookError(f"The hook script {hook_script()} is missing; reinstall sagaflow.")
    command = hook_command(home)
    ours = _our_hooks(settings)
    if ours and ours[0]["command"] == command and len(ours) == 1:
        return HookChange(False, path, None, f"The sagaflow hook is already installed in {path}.")
    if ours:
        ours[0]["command"] = command
        _remove(settings, ours[1:])
        verb = "Updated"
    else:
        hooks = settings.setdefault("hooks", {})
        hooks.setdefault(EVENT, []).append(
            {
                "matcher": MATCHER,
                "hooks": [{"type": "command", "command": command, "timeout": TIMEOUT_SECONDS}],
            }
        )
        verb = "Installed"
    backup = _save(path, settings, original)
    saved = f" (previous version saved as {backup.name})" if backup else ""
    return HookChange(
        True, path, backup, f"{verb} the sagaflow SessionStart hook in {path}{saved}."
    )


def _remove(settings: dict[str, Any], doomed: list[dict[str, Any]]) -> None:
    """Drop the given hook dicts, and containers that only they filled."""
    if not doomed:
        return
    groups = settings["hooks"][EVENT]
    emptied = []
    for group in _well_formed(groups):
        kept = [h for h in group["hooks"] if all(h is not d for d in doomed)]
        if len(kept) < len(group["hooks"]):
            group["hooks"] = kept
            emptied += [] if kept else [group]
    groups[:] = [g for g in groups if all(g is not e for e in emptied)]
    if not groups:
        del settings["hooks"][EVENT]
        if not settings["hooks"]:
            del settings["hooks"]


def uninstall() -> HookChange:
    """Remove only our SessionStart hook entries.

    Raises:
        HookError: if the settings file is unreadable or not the expected shape.
    """
    path = _target()
    settings, original = _load(path)
    ours = _our_hooks(settings)
    if not ours:
        return HookChange(False, path, None, f"The sagaflow hook is not installed in {path}.")
    _remove(settings, ours)
    backup = _save(path, settings, original)
    saved = f" (previous version saved as {backup.name})" if backup else ""
    return HookChange(True, path, backup, f"Removed the sagaflow hook from {path}{saved}.")


def status(home: Home) -> dict[str, Any]:
    """Whether our hook is installed and current; never raises."""
    path = settings_path()
    command: str | None = None
    current = False
    problem: str | None = None
    try:
        found = _our_hooks(_load(path)[0])
        command = found[0]["command"] if found else None
        current = command == hook_command(home)
    except HookError as exc:
        problem = exc.message
    except Exception as exc:  # a health check reports, it never crashes
        problem = f"Cannot inspect {path}: {exc}."
    return {
        "installed": command is not None,
        "path": str(path),
        "command": command,
        "current": current,
        "problem": problem,
    }
