"""Layout of the sagaflow home: every piece of user state lives under it.

The home is ``$SAGAFLOW_HOME`` (``$SAGAFLOW_ROOT`` is accepted as an alias),
defaulting to ``~/.sagaflow``::

    <home>/
      config.yaml          settings (see sagaflow.config)
      INBOX.md             findings, newest last
      runs/<run_id>/       per-run files: run.json, prompts, model outputs
      server/              embedded Temporal: temporal.db, state.json, server.log
      worker/builds/<b>/   each build's worker: worker.lock, state.json, used
      builds/              build snapshots: blobs/, <build>/manifest.json + skills/
      payloads/<ns>/<run>/ payloads stored outside history (sagaflow._engine.payload_store)
      logs/                worker.log

Everything in it is private to its owner: sagaflow's processes run with the
umask :data:`PRIVATE_UMASK` (set by :func:`make_private` at process start, and
handed to the children they spawn), so what they create is ``0700`` / ``0600``;
:meth:`Home.ensure` also takes group and other access away from the home itself,
so files an older sagaflow (or another tool) left readable stay unreachable.
:func:`loose_permissions` finds what is still looser, for ``doctor``.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path

from sagaflow.errors import HomeError, UsageError

HOME_ENV = "SAGAFLOW_HOME"
HOME_ENV_ALIAS = "SAGAFLOW_ROOT"
#: relocates Claude Code's config directory (default ``~/.claude``)
CLAUDE_CONFIG_ENV = "CLAUDE_CONFIG_DIR"
#: the umask of every sagaflow process and child: files 0600, directories 0700
PRIVATE_UMASK = 0o077


#: the umask the process started with, before :func:`make_private` (see :func:`user_umask`)
_STARTED_WITH: list[int] = []


def make_private() -> int:
    """Set this process's umask to :data:`PRIVATE_UMASK`; returns the previous one
    (remembered for :func:`user_umask`).

    Called once at process start by sagaflow's entry points (the CLI, hence the
    worker daemon, and the SessionStart hook). Children inherit it; the embedded
    server and the worker daemon are also spawned with it explicitly
    (``subprocess.Popen(umask=...)``), whoever starts them. SQLite and the
    ``temporal`` server create their files through the umask too.
    """
    previous = os.umask(PRIVATE_UMASK)
    if not _STARTED_WITH:
        _STARTED_WITH.append(previous)
    return previous


def user_umask() -> int:
    """The user's own umask: the one the process started with, before :func:`make_private`.

    What sagaflow writes for the user outside its home (a skill ``sagaflow new``
    scaffolds into a project) follows it, as any editor's files would, rather than the
    home's owner-only :data:`PRIVATE_UMASK`.
    """
    if _STARTED_WITH:
        return _STARTED_WITH[0]
    current = os.umask(0)
    os.umask(current)
    return current


#: a name that becomes part of a path or a Temporal id: no separators, no newline, no
#: leading punctuation (so never ``.`` or ``..``); checked with ``fullmatch``, because
#: ``re.match(r"...$")`` also accepts a trailing newline
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
#: length caps of the names sagaflow accepts
RUN_ID_MAX = 200
SKILL_NAME_MAX = 100


def check_name(value: str, what: str, limit: int) -> str:
    """Return ``value`` if it is usable as a run id, skill, schedule or pool name.

    Args:
        value: The name as given.
        what: How the message names it (``"Run id"``, ``"Schedule name"``...).
        limit: The maximum length in characters.

    Raises:
        UsageError: ``value`` is empty, longer than ``limit``, starts with
            punctuation, or holds anything but letters, digits, ``.``, ``_``, ``-``.
    """
    if not isinstance(value, str) or len(value) > limit or not _NAME.fullmatch(value):
        raise UsageError(
            f"{what} {value!r} is not usable; use letters, digits, '.', '_' or '-' "
            f"(at most {limit} characters, starting with a letter or digit)."
        )
    return value


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
    def payloads(self) -> Path:
        """Payloads stored outside history (:mod:`sagaflow._engine.payload_store`)."""
        return self.root / "payloads"

    @property
    def worker_log(self) -> Path:
        return self.logs / "worker.log"

    def run_dir(self, run_id: str) -> Path:
        """Directory holding one run's files.

        Raises:
            UsageError: ``run_id`` is not a usable name (:func:`check_name`), so no
                id can point outside ``runs/``.
        """
        return self.runs / check_name(run_id, "Run id", RUN_ID_MAX)

    def ensure(self, *subdirs: Path) -> None:
        """Create the home (and the given subdirectories) owner-only, failing clearly.

        New directories are ``0700`` whatever the umask; an existing home that
        group or others may enter loses that access (its contents are left as
        they are: :func:`loose_permissions` reports them).

        Raises:
            HomeError: A directory cannot be created, or the home is not writable.
        """
        for path in (self.root, *subdirs):
            try:
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise HomeError(
                    f"Cannot create {path}: {exc.strerror or exc}. "
                    f"Set {HOME_ENV} to a writable directory."
                ) from exc
        _tighten(self.root)
        if not os.access(self.root, os.W_OK):
            raise HomeError(
                f"The sagaflow home {self.root} is not writable. "
                f"Fix its permissions or set {HOME_ENV} to a writable directory."
            )


def _tighten(path: Path) -> None:
    """Drop group/other access from a directory we own (someone else's is left alone)."""
    try:
        st = path.stat()
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(path, stat.S_IMODE(st.st_mode) & 0o700)
    except OSError:
        pass  # not ours to fix: doctor reports it


def loose_permissions(root: Path, limit: int = 20) -> tuple[list[tuple[Path, int]], int]:
    """Paths under ``root`` (itself included) that group or others may access.

    Symlinks are not followed (a link's own mode means nothing on Linux).

    Returns:
        Up to ``limit`` ``(path, mode)`` pairs (mode as ``stat.S_IMODE``) and the total
        count found; ``([], 0)`` when ``root`` does not exist.
    """
    found: list[tuple[Path, int]] = []
    total = 0

    def check(path: Path) -> None:
        nonlocal total
        try:
            st = path.lstat()
        except OSError:
            return
        if not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) & 0o077:
            total += 1
            if len(found) < limit:
                found.append((path, stat.S_IMODE(st.st_mode)))

    if not root.exists():
        return [], 0
    check(root)
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            check(Path(folder) / name)
    return found, total


def private_fix(root: Path) -> str:
    """The shell command that makes ``root`` and everything in it owner-only."""
    return f"chmod -R go-rwx {shlex.quote(str(root))}"


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
