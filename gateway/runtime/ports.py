"""TCP port helpers: pick a free port, check one, wait for a service to listen on one."""

from __future__ import annotations

import socket
import time

from gateway.runtime.errors import ServiceStartError

_POLL_INTERVAL_S = 0.02


def free_port(host: str = "127.0.0.1") -> int:
    """Return a port that the kernel considers free on `host` right now.

    The port is released before returning, so another process could take it first; callers
    still check `port_is_free` right before starting a service, which names the port if it lost.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if a server could bind `host:port` now.

    SO_REUSEADDR mirrors what Mosquitto and PostgreSQL do, so connections of a previous run
    lingering in TIME_WAIT do not count as "in use", while a live listener does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def port_accepts(host: str, port: int, timeout_s: float = 0.2) -> bool:
    """True if something accepts a TCP connection on `host:port`."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout_s: float) -> None:
    """Block until `host:port` accepts TCP connections; raise ServiceStartError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not port_accepts(host, port):
        if time.monotonic() >= deadline:
            raise ServiceStartError(f"nothing accepted connections on {host}:{port} within {timeout_s:.0f} s")
        time.sleep(_POLL_INTERVAL_S)
