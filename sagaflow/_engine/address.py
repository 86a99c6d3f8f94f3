"""Temporal addresses: parsing ``host[:port]``, "is it this machine", "does it answer".

Apart from :mod:`sagaflow._engine.server` so that ``launch`` (which asks whether the
embedded server must be started: :func:`sagaflow._engine.client.server_to_start`) does not
import the server's management code on every run.
"""

from __future__ import annotations

import ipaddress
import socket

from sagaflow.errors import ConfigError

DEFAULT_PORT = 7233


def parse_address(address: str) -> tuple[str, int]:
    """Split ``host[:port]`` (IPv6 as ``[::1]:7233`` or bare ``::1``); port defaults to 7233.

    Raises:
        ConfigError: The address is empty or its port is not a number from 1 to 65535.
    """
    host, port_text = address.strip(), ""
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif host.count(":") == 1:
        host, _, port_text = host.partition(":")
    port = int(port_text) if port_text.isdigit() else (-1 if port_text else DEFAULT_PORT)
    if not host or not 0 < port < 65536:
        raise ConfigError(f"Temporal address {address!r} is not host:port; set TEMPORAL_ADDRESS"
                          " or temporal.address in config.yaml to e.g. localhost:7233.")
    return host, port


def is_loopback(address: str) -> bool:
    """Whether ``address`` names this machine only (localhost, 127.0.0.0/8, ::1)."""
    try:
        host = parse_address(address)[0]
        return _is_localhost(host) or ipaddress.ip_address(host).is_loopback
    except (ConfigError, ValueError):
        return False


def answers(address: str, timeout: float = 0.3) -> bool:
    """Whether something accepts TCP connections at ``address`` (no gRPC, no temporalio)."""
    try:
        host, port = parse_address(address)
        # An ASCII host goes in as bytes: socket encodes a str host with the idna codec,
        # whose import (encodings.idna, stringprep, unicodedata) costs about 1 ms of every
        # launch; for ASCII names both spellings resolve alike.
        found = socket.getaddrinfo(host.encode("ascii") if host.isascii() else host, port,
                                   type=socket.SOCK_STREAM)
    except (OSError, ConfigError):
        return False
    for family, kind, proto, _name, sockaddr in found:  # as socket.create_connection does
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(sockaddr)
                return True
            except OSError:
                continue
    return False


def _is_localhost(host: str) -> bool:
    return host.lower().rstrip(".") == "localhost"
