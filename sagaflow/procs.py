"""Process identity through psutil: is a recorded pid still the process sagaflow started?

A pid alone is not an identity: once a process exits the kernel may hand its pid to
an unrelated one. sagaflow therefore records a process's start time (psutil's
``create_time``, seconds since the epoch) next to its pid and, where it knows one,
an argument the process must carry (the embedded server's database path). The same
checks work on Linux and macOS (psutil reads ``/proc`` or ``sysctl`` for us).

psutil is imported inside the functions: the launch fast path never needs it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

#: seconds two readings of one process's create time may differ by (psutil derives it
#: from boot time plus clock ticks, so readings agree to far better than this)
CREATE_TIME_SLACK = 0.5


def create_time(pid: int) -> float | None:
    """Start time of ``pid`` in seconds since the epoch, or None if no such live process."""
    found = find(pid)
    if found is None:
        return None
    import psutil

    try:
        return float(found.create_time())
    except psutil.Error:
        return None


def find(pid: int, *, created: float | None = None, arg: str | None = None) -> psutil.Process | None:
    """The live process ``pid`` if it is the one described, else None.

    Args:
        pid: The recorded pid; 0 and negative pids (process groups) are never matched.
        created: Its recorded create time (from :func:`create_time`); a different one
            means the pid now belongs to another process.
        arg: An exact command-line argument it must have.

    A zombie (exited, not yet reaped) is not live. A process we may not inspect
    (another user's) is not ours, so it is not matched either.
    """
    if pid <= 0:
        return None
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        if created is not None and abs(proc.create_time() - created) > CREATE_TIME_SLACK:
            return None
        if arg is not None and arg not in proc.cmdline():
            return None
    except psutil.Error:  # NoSuchProcess, ZombieProcess, AccessDenied
        return None
    return proc


def running(proc: psutil.Process) -> bool:
    """Whether ``proc`` (from :func:`find`) is still that same process and has not exited.

    psutil's ``is_running`` compares the create time, so a reused pid reads as gone.
    """
    import psutil

    try:
        return bool(proc.is_running()) and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stop(proc: psutil.Process, timeout: float, *, kill_after: float = 5.0) -> bool:
    """SIGTERM ``proc``, then SIGKILL if it lives on after ``timeout`` seconds.

    Returns:
        Whether the process is gone (waited up to ``kill_after`` more seconds after SIGKILL).
        A process that is already gone counts as stopped. Our own children are reaped.

    Raises:
        PermissionError: We may not signal it (it belongs to another user).
    """
    import psutil

    try:
        proc.terminate()  # psutil refuses to signal a pid that now names another process
        try:
            proc.wait(timeout)
            return True
        except psutil.TimeoutExpired:
            proc.kill()
        proc.wait(kill_after)
        return True
    except psutil.TimeoutExpired:
        return False
    except psutil.NoSuchProcess:
        return True
    except psutil.AccessDenied as exc:
        raise PermissionError(f"not allowed to signal pid {proc.pid}") from exc


def send(proc: psutil.Process, sig: int) -> bool:
    """Send ``sig`` to ``proc`` unless its pid now names another process; False if gone or not ours."""
    import psutil

    try:
        proc.send_signal(sig)
        return True
    except psutil.Error:
        return False


@dataclass(frozen=True)
class Located:
    """Where a program was looked for and what was found.

    Attributes:
        name: The program's name (``temporal``, ``claude``).
        path: The executable found, else the first file of that name that is not
            executable, else None (nothing of that name anywhere).
        executable: Whether ``path`` may be executed by us.
    """

    name: str
    path: Path | None
    executable: bool


def locate(name: str, first: Iterable[Path] = ()) -> Located:
    """Find the program ``name``: in the folders ``first``, in order, then on PATH.

    An executable anywhere wins; a file that exists but may not be executed is
    reported as such (``shutil.which`` with ``mode=os.F_OK`` finds it on PATH), so
    callers can say "not executable" instead of "not found".
    """
    stranded: Path | None = None
    for folder in first:
        candidate = folder / name
        if candidate.is_file():
            if os.access(candidate, os.X_OK):
                return Located(name, candidate, True)
            stranded = stranded or candidate
    import shutil  # here, not at import: shutil pulls in bz2, lzma, zlib (launch path)

    if found := shutil.which(name):
        return Located(name, Path(found), True)
    if stranded is None and (present := shutil.which(name, mode=os.F_OK)):
        stranded = Path(present) if Path(present).is_file() else None
    return Located(name, stranded, False)


def kill_group(child: subprocess.Popen[bytes], wait: float = 5.0) -> None:
    """SIGKILL the whole process group of ``child`` (started with ``start_new_session``).

    Its pid is its group's id. While the child is unreaped its pid (hence the group
    id) cannot be reused, so the signal reaches only processes it started; it is
    then reaped. Grandchildren that started their own session are not reached.
    """
    if child.returncode is None:  # not reaped yet: the group id is still ours
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=wait)
