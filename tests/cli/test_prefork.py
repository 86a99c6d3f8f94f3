"""Launches through the home's launcher (sagaflow.cli.prefork): same output, exit codes,
signals and files as an in-process launch; declined cases launch in-process.

The rest of the suite launches in-process (conftest sets SAGAFLOW_NO_PREFORK=1); here
it is unset, and every launcher is stopped by its recorded pid at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sandbox import Sandbox, one_line_failure

#: the console script, as users run it: its ``sys.path`` does not depend on the directory
#: (``python -m sagaflow`` puts the working directory first, and a launcher only serves
#: launches whose ``sys.path`` is its own)
SAGAFLOW = str(Path(sys.executable).parent / "sagaflow")


@pytest.fixture
def box(sf: Sandbox) -> Iterator[Sandbox]:
    sf.env.pop("SAGAFLOW_NO_PREFORK", None)
    yield sf


def _run(box: Sandbox, *args: str, check: bool = False, cwd: Path | None = None,
         **env: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([SAGAFLOW, *args], env={**box.env, **env}, cwd=cwd or box.root,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert not check or proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


def _popen(box: Sandbox, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([SAGAFLOW, *args], env=box.env, cwd=box.root, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    box.spawned.append(proc.pid)
    return proc


def _log(box: Sandbox) -> str:
    path = box.home / "logs" / "launcher.log"
    return path.read_text("utf-8") if path.exists() else ""


def _launcher_ready(box: Sandbox, timeout: float = 30.0, *, not_pid: int = 0) -> int:
    """The launcher's pid once it listens (the first launch starts it); ``not_pid``: wait
    for a new one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, KeyError):
            pid = int(json.loads((box.home / "launcher.json").read_text())["pid"])
            if pid != not_pid and f"pid {pid}: launcher ready" in _log(box):
                return pid
        time.sleep(0.05)
    raise AssertionError(f"no launcher started; log: {_log(box)!r}")


def _forked(box: Sandbox) -> list[int]:
    return [int(pid) for pid in re.findall(r"launch pid (\d+)", _log(box))]


def _gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_a_second_launch_goes_through_the_launcher_with_the_same_output(box: Sandbox) -> None:
    first = _run(box, "launch", "hello-world", "--name", "a", "--await", "--transport", "scripted",
                    check=True)
    _launcher_ready(box)
    second = _run(box, "launch", "hello-world", "--name", "b", "--await", "--transport",
                     "scripted", check=True)
    assert len(_forked(box)) == 1
    assert (first.stdout, second.stdout) == ("hello, a\n", "hello, b\n")
    for proc in (first, second):  # the first one also installed the hook, started a worker
        lines = proc.stderr.splitlines()
        assert any(ln.startswith("run hello-world-") for ln in lines), proc.stderr
        assert lines[-1].startswith("note: replies were scripted"), proc.stderr
    listed = json.loads(_run(box, "list", "--json", check=True).stdout)
    assert [r["status"] for r in listed if r["skill"] == "hello-world"] == ["completed"] * 2
    as_json = json.loads(_run(box, "launch", "hello-world", "--json", "--transport", "scripted",
                                 check=True).stdout)
    assert as_json["started"] is True and len(_forked(box)) == 2


def test_a_failing_launch_keeps_its_one_line_and_exit_code(box: Sandbox) -> None:
    _run(box, "launch", "hello-world", "--transport", "scripted", check=True)
    _launcher_ready(box)
    in_process = _run(box, "launch", "no-such-skill", SAGAFLOW_NO_PREFORK="1")
    forked = _run(box, "launch", "no-such-skill")
    assert len(_forked(box)) == 1
    assert one_line_failure(forked, in_process.returncode, "no-such-skill") == \
        one_line_failure(in_process, in_process.returncode, "no-such-skill")


def test_ctrl_c_detaches_and_killing_the_client_kills_its_launch(box: Sandbox) -> None:
    _run(box, "launch", "hello-world", "--transport", "scripted", check=True)
    _launcher_ready(box)
    waiting = _popen(box, "launch", "book-trip", "--destination", "Oslo", "--await",
                        "--transport", "scripted")
    _until(lambda: _asks_approval(box))
    waiting.send_signal(signal.SIGINT)
    _out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 130 and "detached; run book-trip-" in err, err
    run_id = re.search(r"run (book-trip-\S+)", err).group(1)  # type: ignore[union-attr]
    shown = json.loads(_run(box, "show", run_id, "--json", check=True).stdout)
    assert shown["status"] == "running"  # detaching never stops the run

    killed = _popen(box, "launch", "book-trip", "--destination", "Rome", "--await",
                       "--transport", "scripted")
    _until(lambda: len(_forked(box)) == 2)
    launch_pid = _forked(box)[-1]
    killed.kill()
    killed.wait(10)
    assert _gone(launch_pid), "the launch outlived the process that asked for it"


def _asks_approval(box: Sandbox) -> bool:
    """Whether a run put a NEEDS APPROVAL entry in the inbox (book-trip waits at its gate)."""
    inbox = box.home / "INBOX.md"
    return inbox.exists() and "NEEDS APPROVAL" in inbox.read_text("utf-8")


def _until(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_other_start_up_variables_launch_in_process(box: Sandbox) -> None:
    _run(box, "launch", "hello-world", "--transport", "scripted", check=True)
    _launcher_ready(box)
    proc = _run(box, "launch", "hello-world", "--await", "--transport", "scripted",
                   PYTHONHASHSEED="7", check=True)
    assert proc.stdout == "hello, world\n"
    assert "declined (startup-variables)" in _log(box) and _forked(box) == []


def test_the_launch_works_in_the_clients_directory(box: Sandbox, tmp_path: Path) -> None:
    """Project skills are found from the directory the user launched in, not the launcher's."""
    project = tmp_path / "project"
    project.mkdir()
    _run(box, "new", "proj-skill", "--kind", "skillmd", "--dir", str(project / ".claude" / "skills"),
            check=True)
    _run(box, "launch", "hello-world", "--transport", "scripted", check=True)
    _launcher_ready(box)
    elsewhere = _run(box, "launch", "proj-skill", "--transport", "scripted")
    assert elsewhere.returncode != 0 and "proj-skill" in elsewhere.stderr
    here = _run(box, "launch", "proj-skill", "--await", "--transport", "scripted", cwd=project)
    assert here.returncode == 0, here.stderr
    assert len(_forked(box)) == 2


def test_worker_stop_stops_the_launcher(box: Sandbox) -> None:
    _run(box, "launch", "hello-world", "--transport", "scripted", check=True)
    pid = _launcher_ready(box)
    stopped = json.loads(_run(box, "worker", "stop", "--json", check=True).stdout)
    assert stopped["launcher_pid"] == pid and _gone(pid)
    assert not (box.home / "launcher.sock").exists()
    again = _run(box, "launch", "hello-world", "--await", "--transport", "scripted", check=True)
    assert again.stdout == "hello, world\n"  # in-process, and it starts a new launcher
    _launcher_ready(box, not_pid=pid)


def test_launchers_are_off_when_asked(box: Sandbox) -> None:
    _run(box, "launch", "hello-world", "--transport", "scripted", SAGAFLOW_NO_PREFORK="1",
            check=True)
    time.sleep(1.0)
    assert not (box.home / "launcher.json").exists()


def test_no_launcher_answers_a_stale_socket(box: Sandbox) -> None:
    """A socket file left by a launcher that died is not an answer: launch in-process."""
    _run(box, "launch", "hello-world", "--transport", "scripted", check=True)
    pid = _launcher_ready(box)
    os.kill(pid, signal.SIGKILL)
    assert _gone(pid)
    proc = _run(box, "launch", "hello-world", "--await", "--transport", "scripted", check=True)
    assert proc.stdout == "hello, world\n"
    _launcher_ready(box, not_pid=pid)


def test_a_changed_import_path_makes_the_launcher_step_aside(box: Sandbox, tmp_path: Path) -> None:
    """A package installed or upgraded after the launcher imported its modules: it declines
    (the launch runs in-process, with the code on disk) and exits; a new one takes over."""
    extra = tmp_path / "extra"
    extra.mkdir()
    box.env["PYTHONPATH"] = str(extra)
    _run(box, "launch", "hello-world", "--transport", "scripted", check=True)
    pid = _launcher_ready(box)
    (extra / "newpkg").mkdir()  # as pip would add a package here
    proc = _run(box, "launch", "hello-world", "--await", "--transport", "scripted", check=True)
    assert proc.stdout == "hello, world\n"
    assert "declined (stale)" in _log(box) and _gone(pid)
    _launcher_ready(box, not_pid=pid)


def test_garbage_on_the_socket_is_dropped_and_the_next_launch_served(box: Sandbox) -> None:
    import socket

    _run(box, "launch", "hello-world", "--transport", "scripted", check=True)
    pid = _launcher_ready(box)
    junks = (b"", b"\x00\x00\x00\x05{no", b"\xff\xff\xff\xff" + b"x" * 100,
             b"GET / HTTP/1.1\r\n", b"\x00\x00\x00\x02[]", b'\x00\x00\x00\x0b{"env": 1}')
    for junk in junks:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(box.home / "launcher.sock"))
            sock.sendall(junk)
            sock.shutdown(socket.SHUT_WR)
            assert sock.recv(100) == b""  # no answer, no launch
    proc = _run(box, "launch", "hello-world", "--await", "--transport", "scripted", check=True)
    assert proc.stdout == "hello, world\n" and len(_forked(box)) == 1
    assert int(json.loads((box.home / "launcher.json").read_text())["pid"]) == pid


def test_a_long_launch_does_not_keep_a_new_launcher_out(box: Sandbox) -> None:
    """A launch forked by a launcher that then died holds none of its descriptors (its lock):
    the next launch starts a new launcher while the first still waits."""
    _run(box, "launch", "hello-world", "--transport", "scripted", check=True)
    pid = _launcher_ready(box)
    waiting = _popen(box, "launch", "book-trip", "--destination", "Oslo", "--await",
                     "--transport", "scripted")
    _until(lambda: _asks_approval(box))
    os.kill(pid, signal.SIGKILL)
    assert _gone(pid)
    _run(box, "launch", "hello-world", "--transport", "scripted", check=True)
    _launcher_ready(box, not_pid=pid)
    assert waiting.poll() is None  # still waiting on its gate, through its relay
    waiting.send_signal(signal.SIGINT)
    assert waiting.wait(30) == 130
