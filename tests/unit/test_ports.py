"""sagaflow.ports: reserved free ports (the Temporal CLI's TIME_WAIT technique)."""

from __future__ import annotations

import socket
import sys

import pytest

from sagaflow._engine.server import _last_log_line
from sagaflow.ports import free_port, free_ports


def test_ports_are_distinct_free_and_skip_the_excluded() -> None:
    first = free_port()
    found = free_ports("127.0.0.1", 5, exclude={first})
    assert len(set(found)) == 5 and first not in found
    for port in found:  # usable at once by a server that sets SO_REUSEADDR, as Go does
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux randomizes bind(0)")
def test_a_reserved_port_is_not_handed_to_the_next_bind_zero() -> None:
    reserved = set(free_ports("127.0.0.1", 3))
    handed: set[int] = set()
    for _ in range(300):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            handed.add(int(sock.getsockname()[1]))
    assert not reserved & handed


def test_a_long_log_line_keeps_the_cause_at_its_end() -> None:
    cause = "listen tcp 127.0.0.1:53227: bind: address already in use"
    line = "Error: failed starting server: could not build arguments for function " * 8 + cause
    shown = _last_log_line(f"first\n{line}\n\n")
    assert shown.startswith("last log line: Error: failed starting") and shown.endswith(cause)
    assert len(shown) < 330
    assert _last_log_line(" \n") == "the server wrote nothing to its log"
