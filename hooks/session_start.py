"""Claude Code SessionStart hook for sagaflow: surface unread inbox results.

Claude Code runs this script (see ``sagaflow.hook.hook_command``) with the
SessionStart payload as JSON on stdin. It prints the JSON answer of
``sagaflow.hook.session_start_output`` on stdout, or nothing when there is
nothing unread. It always exits 0 so it can never block a session; failures
are appended to ``<sagaflow home>/logs/hook.log`` when that home exists.

Only the standard library and the light parts of sagaflow are imported, so
the whole run takes a few tens of milliseconds.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType

LOG_LIMIT = 1_000_000


def _import_hook() -> ModuleType:
    """Import sagaflow.hook, falling back to the checkout or wheel around us."""
    try:
        import sagaflow.hook as hook
    except ImportError:
        here = Path(__file__).resolve().parent
        # Checkout: <repo>/hooks/ ; wheel: <site-packages>/sagaflow/_bundled/hooks/
        for root in (here.parent, here.parent.parent.parent):
            if (root / "sagaflow" / "__init__.py").is_file() and str(root) not in sys.path:
                sys.path.insert(0, str(root))
        import sagaflow.hook as hook
    return hook


def _read_payload() -> dict[str, object] | None:
    try:
        if sys.stdin is None or sys.stdin.isatty():
            return None
        data = json.loads(sys.stdin.read() or "null")
    except (ValueError, OSError):
        return None
    return data if isinstance(data, dict) else None


def _log_failure() -> None:
    """Append the current exception to <home>/logs/hook.log, never raising."""
    try:
        raw = os.environ.get("SAGAFLOW_HOME") or os.environ.get("SAGAFLOW_ROOT")
        home = Path(raw).expanduser() if raw else Path.home() / ".sagaflow"
        if not home.is_dir():
            return
        log = home / "logs" / "hook.log"
        log.parent.mkdir(exist_ok=True)
        if log.exists() and log.stat().st_size > LOG_LIMIT:
            os.replace(log, log.with_name("hook.log.1"))
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(traceback.format_exc())
    except BaseException:
        pass


def main() -> None:
    """Print the hook's answer; swallow every failure."""
    try:
        hook = _import_hook()
        payload = _read_payload()
        from sagaflow.paths import Home

        output = hook.session_start_output(Home.current(), payload)
        if output is not None:
            sys.stdout.write(json.dumps(output) + "\n")
        sys.stdout.flush()
    except BaseException:
        _log_failure()


if __name__ == "__main__":
    os.umask(0o077)  # sagaflow.paths.PRIVATE_UMASK: whatever the hook writes is owner-only
    try:
        main()
    finally:
        os._exit(0)  # skip interpreter teardown: nothing there may change the exit code
