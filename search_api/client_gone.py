"""Notice that the client of a long response has hung up, without writing to it.

A Server-Sent Events stream only learns that a console closed when a write fails, and a write
into a socket the peer has closed still succeeds once (the kernel takes it; the peer answers
with a reset): with 5 s heartbeats a closed tab held its stream slot and its gunicorn thread for
up to 10 s. A half-closed socket is readable with nothing to read, so a peek at it between polls
frees the slot within one poll instead.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Callable, Mapping
from typing import Any


def hang_up_check(environ: Mapping[str, Any]) -> Callable[[], bool]:
    """A cheap test, `True` once the client has closed its end; never `True` when it cannot tell.

    It needs the raw socket, which gunicorn puts in `environ["gunicorn.socket"]`. A TLS socket
    cannot be peeked without consuming record bytes, and other servers do not expose theirs:
    there the heartbeat's failed write remains the signal.
    """
    sock = environ.get("gunicorn.socket")
    if not isinstance(sock, socket.socket) or isinstance(sock, ssl.SSLSocket):
        return lambda: False

    def closed() -> bool:
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            # Readable with zero bytes pending is the peer's FIN; bytes pending (a client that
            # pipelines something after an SSE request) are left for the server to read.
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):  # reset, or a descriptor already closed: gone either way
            return True

    return closed
