"""Layout of the sagaflow home: every piece of user state lives under it.

The home is ``$SAGAFLOW_HOME`` (``$SAGAFLOW_ROOT`` is accepted as an alias),
defaulting to ``~/.sagaflow``::

    <home>/
      config.yaml          settings (see sagaflow.config)
      INBOX.md             findings, newest last
      runs/<run_id>/       per-run files: run.json, prompts, model outputs
      server/              embedded Temporal: temporal.db, state.json, server.log
      worker/              worker daemon: worker.lock, state.json
      logs/                worker.log
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sagaflow.errors import HomeError

HOME_ENV = "SAGAFLOW_HOME"
HOME_ENV_ALIAS = "SAGAFLOW_ROOT"
#: relocates Claude Code's config directory (default ``~/.claude``)
CLAUDE_CONFIG_ENV = "CLAUDE_CONFIG_DIR"


def claude_dir() -> Path:
    """Claude Code's config directory: ``$CLAUDE_CONFIG_DIR``, else ``~/.claude``.

    It holds the user's ``settings.json`` (the SessionStart hook) and ``skills/``.
    """
    raw = os.environ.get(CLAUDE_CONFIG_ENV)
    return Path(raw).expanduser() if raw else Path.home() / ".claude"


def home_dir() -> Path:
    """Return the sagaflow home directory (not necessarily existing yet)."""
    raw = os.environ.get(HOME_ENV) or os.environ.get(HOME_ENV_ALIAS)
    if raw:
        return Path(raw).expanduser().absolute()
    return Path.home() / ".sagaflow"


@dataclass(frozen=True)
class Home:
    """Paths inside one sagaflow home."""

    root: Path

    @classmethod
    def current(cls) -> Home:
        """The home selected by the environment."""
        return cls(home_dir())

    @property
    def config_file(self) -> Path:
        return self.root / "config.yaml"

    @property
    def inbox(self) -> Path:
        return self.root / "INBOX.md"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def server(self) -> Path:
        return self.root / "server"

    @property
    def worker(self) -> Path:
        return self.root / "worker"

    @property
    def worker_log(self) -> Path:
        return self.logs / "worker.log"

    def run_dir(self, run_id: str) -> Path:
        """Directory holding one run's files."""
        return self.runs / run_id

    def ensure(self, *subdirs: Path) -> None:
        """Create the home (and the given subdirectories), failing clearly."""
        for path in (self.root, *subdirs):
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise HomeError(
                    f"Cannot create {path}: {exc.strerror or exc}. "
                    f"Set {HOME_ENV} to a writable directory."
                ) from exc
        if not os.access(self.root, os.W_OK):
            raise HomeError(
                f"The sagaflow home {self.root} is not writable. "
                f"Fix its permissions or set {HOME_ENV} to a writable directory."
            )


NAMED_PATHS = ("home", "inbox", "runs", "logs", "config", "server", "worker")


def named_path(home: Home, name: str) -> Path:
    """Resolve one of :data:`NAMED_PATHS` for ``sagaflow path``."""
    table = {
        "home": home.root,
        "inbox": home.inbox,
        "runs": home.runs,
        "logs": home.logs,
        "config": home.config_file,
        "server": home.server,
        "worker": home.worker,
    }
    return table[name]
