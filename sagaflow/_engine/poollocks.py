"""Which workers of a pool are alive on this host: one ``flock``-ed file per worker process.

Temporal's poller list keeps a dead worker for minutes (about 290 s seen), so
"a poller is listed" does not mean "a worker is alive". Every worker process
(the daemon and each ``worker run --pool P``) therefore holds an exclusive
``flock`` on ``<home>/worker/pools/<pool>.<pid>.lock`` while it polls: the
kernel drops the lock the moment the process dies, however it dies. The file's
mtime is touched every :data:`TOUCH_SECONDS`, so a file left by a killed worker
says roughly when it stopped; a clean exit stamps ``<pool>.last`` and removes it.

Hand-written because the question is per pool and per process, which the
daemon's single ``worker.lock`` cannot answer.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sagaflow.paths import Home

TOUCH_SECONDS = 30.0


def pools_dir(home: Home) -> Path:
    return home.worker / "pools"


@dataclass(frozen=True)
class LocalWorkers:
    """This host's workers of one pool.

    Attributes:
        pids: Live worker processes (each holds its lock).
        last_seen: When a worker of the pool was last known alive here (aware UTC),
            from a stale lock's mtime or the last clean exit; None when never.
    """

    pids: tuple[int, ...]
    last_seen: datetime | None


class PoolLock:
    """The lock a worker process holds on its pool while it polls (see the module doc)."""

    def __init__(self, home: Home, pool: str) -> None:
        folder = pools_dir(home)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = folder / f"{pool}.{os.getpid()}.lock"
        self.last = folder / f"{pool}.last"
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # our own pid: never contended
        self._stop = threading.Event()
        self._toucher = threading.Thread(target=self._touch, name="pool-lock", daemon=True)
        self._toucher.start()

    def _touch(self) -> None:
        while not self._stop.wait(TOUCH_SECONDS):
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def release(self) -> None:
        """Stamp the pool's last clean exit, remove the lock file and drop the lock."""
        self._stop.set()
        with contextlib.suppress(OSError):
            fd = os.open(self.last, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, datetime.now(UTC).isoformat(timespec="seconds").encode())
            finally:
                os.close(fd)
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            os.close(self._fd)


def _held(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def local_workers(home: Home, pool: str) -> LocalWorkers:
    """Live pids and last-seen time of ``pool``'s workers on this host (no locks taken)."""
    folder = pools_dir(home)
    pids: list[int] = []
    seen: list[datetime] = []
    with contextlib.suppress(OSError, ValueError):
        seen.append(datetime.fromisoformat((folder / f"{pool}.last").read_text().strip()))
    with contextlib.suppress(FileNotFoundError):
        for path in folder.glob(f"{pool}.*.lock"):
            pid = path.name[len(pool) + 1:-len(".lock")]
            if not pid.isdigit():
                continue
            if _held(path):
                pids.append(int(pid))
                continue
            with contextlib.suppress(OSError):
                seen.append(datetime.fromtimestamp(path.stat().st_mtime, UTC))
    return LocalWorkers(tuple(sorted(pids)), max(seen) if seen else None)
