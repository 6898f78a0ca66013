"""The SSE stream's hang-up check on real sockets: a closed peer is noticed, a live or chatty
one is not, and sockets it cannot inspect are never called closed."""

from __future__ import annotations

import socket

from search_api.client_gone import hang_up_check


def test_a_peer_that_closed_is_noticed_and_a_live_one_is_not() -> None:
    server_end, client_end = socket.socketpair()
    with server_end:
        gone = hang_up_check({"gunicorn.socket": server_end})
        assert gone() is False
        client_end.sendall(b"x")  # pending bytes are not a hang-up, and are left unread
        assert gone() is False
        assert server_end.recv(1) == b"x"
        client_end.close()
        assert gone() is True


def test_without_a_raw_socket_it_never_claims_the_client_left() -> None:
    assert hang_up_check({})() is False
    assert hang_up_check({"gunicorn.socket": "not a socket"})() is False
