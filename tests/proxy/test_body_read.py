"""Reading the request body: linear in its size, and bounded in time for slow or silent clients."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.errors import GatewayError
from gateway.deadlines import BodyDeadlines
from gateway.pipeline import read_body
from tests.proxy.conftest import LiveGateway


def _pieces(count: int, size: int) -> Any:
    messages = iter([{"type": "http.request", "body": b"x" * size, "more_body": i < count - 1} for i in range(count)])

    async def receive() -> dict[str, Any]:
        return next(messages)

    return receive


def test_a_body_in_many_small_pieces_is_read_in_linear_time() -> None:
    # 8 MiB in 1 KiB pieces: quadratic concatenation took ~16 s of CPU; a join takes milliseconds.
    started = time.process_time()
    body = asyncio.run(read_body(_pieces(8192, 1024), 16 * 1024 * 1024, -1, BodyDeadlines(30)))
    assert len(body) == 8 * 1024 * 1024
    assert time.process_time() - started < 2.0


def test_a_body_over_the_limit_in_small_pieces_is_a_413() -> None:
    with pytest.raises(GatewayError) as refused:
        asyncio.run(read_body(_pieces(100, 1024), 50 * 1024, -1, BodyDeadlines(30)))
    assert refused.value.status == 413


@pytest.fixture
def short_body_timeout(gw: LiveGateway) -> Iterator[LiveGateway]:
    before = gw.runtime.body_deadlines.seconds
    gw.runtime.body_deadlines.seconds = 0.5
    try:
        yield gw
    finally:
        gw.runtime.body_deadlines.seconds = before


def _request_head(gw: LiveGateway, length: int) -> bytes:
    return (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {gw.key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def _read_response(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    data = b""
    while True:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    return data


def test_a_client_that_never_sends_its_body_gets_a_408(short_body_timeout: LiveGateway) -> None:
    gw = short_body_timeout
    port = int(gw.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.monotonic()
        sock.sendall(_request_head(gw, 200) + b'{"model": "chat"')
        response = _read_response(sock)
    assert response.startswith(b"HTTP/1.1 408")
    assert b'"code":"request_timeout"' in response
    assert time.monotonic() - started < 3


def test_a_body_that_trickles_in_past_the_deadline_gets_a_408(short_body_timeout: LiveGateway) -> None:
    gw = short_body_timeout
    port = int(gw.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(_request_head(gw, 200))
        with contextlib.suppress(OSError):  # the server answers and closes mid-trickle
            for _ in range(8):
                sock.sendall(b" ")
                time.sleep(0.1)
        response = _read_response(sock)
    assert response.startswith(b"HTTP/1.1 408")
