"""The sockets a node listens on: ``HOST:PORT`` read, and a listening socket bound."""

from __future__ import annotations

import socket

from hotline.domain.errors import InvalidInput


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput("listen", f"{text!r} is not HOST:PORT", hint="e.g. 127.0.0.1:8100")
    return host, int(port)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket the workers share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInput(
            "listen", f"cannot listen on {host}:{port}: {exc.strerror}", hint="pick a free port"
        ) from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
