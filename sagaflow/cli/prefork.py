"""``sagaflow launch`` through the home's launcher: a process that has already imported
what a launch needs (temporalio's client and workflow modules, sagaflow's launch path)
and forks a copy of itself per launch.

Importing those modules is most of a launch's time (about 0.25 s of CPU here, the same
for a bare temporalio client); the launcher pays it once. The forked process runs exactly
the code an in-process launch runs, with this process's arguments, environment, working
directory, umask and standard streams (passed over the socket with ``SCM_RIGHTS``), so
its output, exit code and files are the ones an in-process launch gives. This process
only relays: the forked launch's pid comes back first (Ctrl-C and other terminal signals
are forwarded to it), then its exit status. If this process dies, the launch is killed,
as it would have died with it.

The launcher (:mod:`sagaflow.cli.prefork_server`) listens on ``<home>/launcher.sock``
(the home is owner-only; the launcher also checks the peer's uid). When none answers,
or it declines (other sagaflow code, another Python, other start-up variables), the
launch runs in this process as before and a launcher is started for the next one.
``SAGAFLOW_NO_PREFORK=1`` turns this off. Linux only (a Unix socket reached through
``/proc/self/fd``, so a long home path fits; ``pidfd``).

This module is imported by every ``sagaflow`` process: it uses the standard library only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys
from typing import Any

SOCKET_NAME = "launcher.sock"
STATE_NAME = "launcher.json"
LOCK_NAME = "launcher.lock"
DISABLE_ENV = "SAGAFLOW_NO_PREFORK"
#: variables Python reads while starting (stream encodings, hash seed, paths, locale, time
#: zone): a launch forked from a launcher started with other values would not be the one
#: a fresh process gives, so the launcher declines it
STARTUP_PREFIXES = ("PYTHON", "LC_")
STARTUP_NAMES = ("LANG", "LANGUAGE", "TZ")
#: the signals a terminal or a supervisor sends to the process it started; forwarded
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGWINCH)
#: largest request accepted (argv and environment), bytes
MAX_REQUEST = 1 << 20


def supported() -> bool:
    """Whether launches may go through a launcher here (Linux; not turned off)."""
    return sys.platform.startswith("linux") and os.environ.get(DISABLE_ENV) != "1"


def startup_env(env: dict[str, str]) -> dict[str, str]:
    """The part of ``env`` Python reads at start-up (see :data:`STARTUP_PREFIXES`)."""
    return {k: v for k, v in env.items() if k.startswith(STARTUP_PREFIXES) or k in STARTUP_NAMES}


def python_identity() -> dict[str, Any]:
    """What makes this Python this Python for a launch: the interpreter, its import path,
    its ``-X`` options and flags (``-O``, ``-I``...). A launcher serves only its own."""
    return {"executable": sys.executable, "path": list(sys.path),
            "xoptions": {str(k): str(v) for k, v in sys._xoptions.items()},
            "flags": repr(sys.flags)}


def socket_address(dirfd: int) -> str:
    """The launcher socket's path through an open directory descriptor of the home: short
    whatever the home's path (a Unix socket path holds at most 107 bytes)."""
    return f"/proc/self/fd/{dirfd}/{SOCKET_NAME}"


def _request(argv: list[str], umask: int) -> bytes:
    body: dict[str, Any] = {
        "argv0": sys.argv[0], "argv": argv, "env": dict(os.environ), "cwd": os.getcwd(),
        "umask": umask, **python_identity(),
    }
    data = json.dumps(body).encode("utf-8", "surrogateescape")
    return struct.pack("!I", len(data)) + data


def delegate(home_root: str, argv: list[str], umask: int) -> int | None:
    """Run ``sagaflow launch`` (``argv``) in a process forked by the home's launcher, with
    ``umask`` (the one this process started with: :func:`sagaflow.paths.user_umask`).

    Returns:
        The launch's exit code (128 + N when signal N ended it); None when no launcher
        took it (none runs, it declined, or this process cannot pass its streams), in
        which case nothing was started and the caller launches in-process.
    """
    try:
        dirfd = os.open(home_root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        try:
            sock.connect(socket_address(dirfd))
            request = _request(argv, umask)
            socket.send_fds(sock, [request], [0, 1, 2])
        except (OSError, ValueError, UnicodeError):  # no launcher, a closed std stream...
            return None
        finally:
            os.close(dirfd)
        return _relay(sock)
    finally:
        sock.close()


def _relay(sock: socket.socket) -> int | None:
    """Follow the forked launch: its pid, then its exit status."""
    reader = sock.makefile("r", encoding="utf-8")
    try:
        first = reader.readline().split()
    except OSError:
        return None
    if len(first) != 2 or first[0] != "ok" or not first[1].isdigit():
        return None  # declined ("no <reason>"), or the launcher went away first
    pid = int(first[1])

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)

    for signum in FORWARDED:
        signal.signal(signum, forward)
    try:
        while True:
            try:
                line = reader.readline().split()
                break
            except InterruptedError:  # a forwarded signal; keep waiting for the status
                continue
    except OSError:
        line = []
    if len(line) == 2 and line[1].lstrip("-").isdigit():
        if line[0] == "exit":
            return int(line[1])
        if line[0] == "signal":
            return 128 + int(line[1])
    sys.stderr.write("sagaflow: the launcher stopped before the launch reported its exit "
                     "status; check the run with 'sagaflow list', and set "
                     f"{DISABLE_ENV}=1 to launch without it.\n")
    return 1
