"""Free TCP ports that stay free for the process about to bind them.

A port found by binding port 0 and closing the socket is free at that instant only: the
kernel may hand the same number to the next ``bind(0)`` anywhere on the machine (another
Temporal dev server choosing its history and matching ports, another test), and the
server we start then dies with "address already in use". On Linux and the BSDs each port
found here is also parked in TIME_WAIT, by accepting one connection to it and closing that
connection from the listening side: while it lingers (60 s on Linux) the kernel does not
hand that number to a ``bind(0)``, yet a server that sets SO_REUSEADDR (Go always does)
binds it at once. This is the Temporal CLI's own technique (``devserver.GetFreePort``).
Hand-written because no maintained library reserves ports this way (``portpicker`` picks
a free port but does not keep it from being handed out again).
"""

from __future__ import annotations

import contextlib
import socket
import sys


def free_ports(host: str = "127.0.0.1", count: int = 1, *,
               exclude: frozenset[int] | set[int] = frozenset()) -> list[int]:
    """``count`` distinct TCP ports on ``host`` that nothing listens on, parked as described.

    Args:
        host: the local address the ports are for (an IPv4 or IPv6 literal).
        count: how many ports.
        exclude: ports never returned (e.g. the gRPC port the caller already has).

    Returns:
        The port numbers, in the order found.

    Raises:
        OSError: The OS would not bind or connect on ``host``.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    park = not sys.platform.startswith(("darwin", "win"))  # those hand out ports in order
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        while len(ports) < count:
            listener = stack.enter_context(socket.socket(family, socket.SOCK_STREAM))
            # the parked end inherits this: Linux lets a later SO_REUSEADDR bind take the port
            # over a TIME_WAIT socket only when both set it (Go's net.Listen sets it too)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, 0))
            port = int(listener.getsockname()[1])
            if port in exclude or port in ports:
                continue
            if park:
                listener.listen(1)
                client = stack.enter_context(socket.create_connection((host, port), timeout=2))
                accepted, _ = listener.accept()
                accepted.close()  # the listening side closes first: its end is in TIME_WAIT
                client.close()
            ports.append(port)
        return ports


def free_port(host: str = "127.0.0.1") -> int:
    """One port from :func:`free_ports`."""
    return free_ports(host, 1)[0]
