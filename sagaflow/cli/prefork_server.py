"""The home's launcher: imports what a launch needs once, then forks one launch per request.

Started detached by a launch that found none (:func:`spawn`); one per home (it holds
``<home>/launcher.lock`` for its life), recorded in ``<home>/launcher.json`` (pid, start
time) so ``sagaflow worker stop`` stops it; exits after :data:`IDLE_SECONDS` without a
request, and at once when sagaflow's code changed since it started (the launch it was
asked for then runs in-process, and starts a new launcher).

Per request (see :mod:`sagaflow.cli.prefork` for the client): the peer must be this uid;
the request's Python (executable, ``sys.path``) and start-up variables must be this
process's, else it answers ``no <reason>``. Then it forks a relay, which forks the
launch: the launch takes the client's streams, directory, umask, environment and
arguments and runs :func:`sagaflow.cli.main.run` as a fresh process would; the relay
sends ``ok <pid>``, waits for the launch (a pidfd) or the client going away (then kills
the launch, as the client's death would have), and sends ``exit N`` or ``signal N``.
Fork without exec is safe here because this process only imports: no threads, no
Temporal runtime, no event loop exist when it forks.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from typing import Any

from sagaflow.cli.prefork import (
    LOCK_NAME,
    MAX_REQUEST,
    SOCKET_NAME,
    STATE_NAME,
    python_identity,
    socket_address,
    startup_env,
)

#: a launcher with no request for this long exits (seconds)
IDLE_SECONDS = 1800.0
#: how often an idle launcher checks its idle time and that its home still exists (s)
CHECK_SECONDS = 60.0
#: how long a new launcher waits for the launch that started it to create the home (s)
HOME_WAIT_SECONDS = 30.0
#: one line per request under ``<home>/logs``: the launch's pid, or why it was declined
LOG_NAME = "launcher.log"
_log_path: list[str] = []
#: descriptors only the launcher itself may hold (the home, its lock): closed in every fork,
#: or a long launch would keep the lock and no new launcher could start after this one
_held: list[int] = []


def _log(line: str) -> None:
    """Append one line to the launcher's log (one ``write``; a failure is ignored)."""
    if not _log_path:
        return
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    with contextlib.suppress(OSError):
        fd = os.open(_log_path[0], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{stamp} pid {os.getpid()}: {line}\n".encode())
        finally:
            os.close(fd)


def spawn(home_root: str) -> None:
    """Start the home's launcher in the background (it exits at once if one runs)."""
    boot = ("import sys; sys.path[:] = sys.argv[2:]; "
            "from sagaflow.cli.prefork_server import serve; serve(sys.argv[1])")
    with contextlib.suppress(OSError):
        subprocess.Popen(
            [sys.executable, "-c", boot, home_root, *sys.path], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            close_fds=True, cwd="/",  # the home may not exist yet; nothing is pinned
        )


def _warm() -> None:
    """Import what every launch imports (not the skills: they depend on the directory)."""
    import sagaflow.cli.launching
    import sagaflow.cli.main
    import sagaflow.runs.launch
    import sagaflow.runs.payload_size
    import sagaflow.skills.prepare
    import sagaflow.workflow
    from sagaflow._engine import activity_check, converter, search_attributes, seeds

    del activity_check, converter, search_attributes, seeds, sagaflow


def serve(home_root: str) -> None:
    """Run the launcher of ``home_root`` until idle, stale or replaced; never returns."""
    import fcntl

    os.umask(0o077)  # not paths.make_private: a launch records the client's umask itself
    deadline = time.monotonic() + HOME_WAIT_SECONDS
    while not os.path.isdir(home_root) and time.monotonic() < deadline:
        time.sleep(0.05)  # the first launch creates the home a moment after starting this
    try:
        dirfd = os.open(home_root, os.O_RDONLY | os.O_DIRECTORY)
        # held for this process's life, released by the kernel when it ends; non-blocking,
        # which sagaflow.locks.exclusive (a waiting lock) does not offer
        lock_fd = os.open(os.path.join(home_root, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os._exit(0)  # no home yet, or another launcher holds it
    _held.extend((dirfd, lock_fd))
    _warm()
    from sagaflow import procs

    stamp = _stamp()
    address = socket_address(dirfd)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(address)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(16)
    listener.settimeout(CHECK_SECONDS)
    state = {"pid": os.getpid(), "create_time": procs.create_time(os.getpid())}
    with open(os.path.join(home_root, STATE_NAME), "w", encoding="utf-8") as fh:
        json.dump(state, fh)
    with contextlib.suppress(OSError):
        os.makedirs(os.path.join(home_root, "logs"), mode=0o700, exist_ok=True)
        _log_path.append(os.path.join(home_root, "logs", LOG_NAME))
    _log(f"launcher ready on {os.path.join(home_root, SOCKET_NAME)}")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # relays are reaped by the kernel
    mine = {**python_identity(), "startup": startup_env(dict(os.environ))}
    last = time.monotonic()
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                if time.monotonic() - last >= IDLE_SECONDS:
                    _log(f"idle for {IDLE_SECONDS:g} s: exiting")
                    return
                if not os.path.isdir(home_root):  # the home was deleted: nothing to serve
                    return
                continue
            last = time.monotonic()
            with conn:
                if _serve_one(conn, listener, mine, stamp) == "stale":
                    return
    finally:
        with contextlib.suppress(OSError):
            os.unlink(address)
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(home_root, STATE_NAME))
        os._exit(0)


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    conn.settimeout(5.0)
    data, fds, _flags, _addr = socket.recv_fds(conn, MAX_REQUEST + 4, 3)
    if len(data) < 4:
        raise ValueError("short request")
    (size,) = struct.unpack("!I", data[:4])
    if size > MAX_REQUEST:
        raise ValueError("request too large")
    body = data[4:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise ValueError("truncated request")
        body += chunk
    request = json.loads(body.decode("utf-8", "surrogateescape"))
    if not isinstance(request, dict) or not isinstance(request.get("env"), dict):
        raise ValueError("not a launch request")
    return request, fds


def _stamp() -> str:
    """sagaflow's own modules (size, mtime) and each import-path directory's mtime (a package
    installed, upgraded or removed there changes it): what this process imported may be stale."""
    from sagaflow._engine.daemon import _code_stamp

    dirs = []
    for entry in sys.path:
        with contextlib.suppress(OSError):
            dirs.append(f"{entry}:{os.stat(entry or '.').st_mtime_ns}")
    return _code_stamp() + "|" + "|".join(dirs)


def _serve_one(conn: socket.socket, listener: socket.socket, mine: dict[str, Any],
               stamp: str) -> str:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    fds: list[int] = []
    try:
        if uid != os.getuid():
            return "refused"
        request, fds = _receive(conn)
        if len(fds) != 3:
            reason = "streams"
        elif any(request.get(key) != mine[key] for key in ("executable", "path", "xoptions",
                                                            "flags")):
            reason = "python"
        elif startup_env(request.get("env", {})) != mine["startup"]:
            reason = "startup-variables"
        elif _stamp() != stamp:
            reason = "stale"
        else:
            reason = ""
        if reason:
            _log(f"declined ({reason}): the launch runs in its own process")
            conn.sendall(f"no {reason}\n".encode())
            return reason
        if os.fork() == 0:
            _relay(conn, listener, fds, request)  # never returns
        return "forked"
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return "bad-request"
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _relay(conn: socket.socket, listener: socket.socket, fds: list[int],
           request: dict[str, Any]) -> None:
    """The relay: fork the launch, report its pid and status; kill it if the client dies."""
    try:
        listener.close()
        for fd in _held:
            os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        pid = os.fork()
        if pid == 0:
            _launch(conn, fds, request)  # never returns
        for fd in fds:
            os.close(fd)
        _log(f"launch pid {pid}: sagaflow {' '.join(request['argv'])[:200]}")
        pidfd = os.pidfd_open(pid)
        conn.settimeout(None)
        conn.sendall(f"ok {pid}\n".encode())
        while True:
            ready, _, _ = select.select([conn.fileno(), pidfd], [], [])
            if pidfd in ready:
                break
            if not conn.recv(1):  # the client is gone: so is its launch
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                break
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            message = f"signal {os.WTERMSIG(status)}\n"
        else:
            message = f"exit {os.waitstatus_to_exitcode(status)}\n"
        with contextlib.suppress(OSError):
            conn.sendall(message.encode())
    finally:
        os._exit(0)


def _launch(conn: socket.socket, fds: list[int], request: dict[str, Any]) -> None:
    """The launch: become the client's process (streams, directory, umask, environment,
    arguments, default signal handling) and run the CLI as its fresh process would."""
    code = 1
    try:
        conn.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.umask(int(request["umask"]))
        os.environ.clear()
        os.environ.update(request["env"])
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _reopen_streams()
        sys.argv = [request["argv0"], *request["argv"]]
        from sagaflow import paths
        from sagaflow.cli.main import run

        paths.make_private()  # records the client's umask (set above) as the user's
        code = run(list(request["argv"]))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # reported like an unexpected error, then exit
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _reopen_streams() -> None:
    """New ``sys.stdin/stdout/stderr`` on descriptors 0–2, set up as Python's start-up does
    (same encodings: the start-up variables match; stdout line-buffered on a terminal,
    stderr always)."""
    old = sys.stdin, sys.stdout, sys.stderr
    reader = io.BufferedReader(io.FileIO(0, "rb", closefd=False))
    writers = [io.BufferedWriter(io.FileIO(fd, "wb", closefd=False)) for fd in (1, 2)]
    stdin = io.TextIOWrapper(reader, encoding=old[0].encoding, errors=old[0].errors)
    stdout = io.TextIOWrapper(writers[0], encoding=old[1].encoding, errors=old[1].errors,
                              line_buffering=os.isatty(1))
    stderr = io.TextIOWrapper(writers[1], encoding=old[2].encoding, errors=old[2].errors,
                              line_buffering=True)
    sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = stdin, stdout, stderr  # type: ignore[misc]
    time.tzset()


def stop(home_root: str, timeout: float = 5.0) -> int | None:
    """Stop the home's launcher (recorded pid and start time, so a reused pid is never
    signalled); returns its pid, or None when none ran. Launches it forked go on."""
    from sagaflow import procs

    state_path = os.path.join(home_root, STATE_NAME)
    try:
        with open(state_path, encoding="utf-8") as fh:
            state = json.load(fh)
        proc = procs.find(int(state["pid"]), created=state.get("create_time"), arg=home_root)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if proc is None:
        return None
    procs.stop(proc, timeout)
    for name in (STATE_NAME, SOCKET_NAME):
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(home_root, name))
    return int(proc.pid)
