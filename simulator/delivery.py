"""Putting bytes on the wire: timing and transport-level faults, for any wire format.

Handlers decide *what* to answer; these functions decide *how* it reaches the client — after
which delays, interleaved with which misbehaviour, and whether the connection survives.
"""

from __future__ import annotations

import asyncio
import socket
import struct

from aiohttp import web

from simulator.faults import Kind, Latency
from simulator.model import ErrorSpec, StreamScript, WireFormat

HANG_SECONDS = 600.0
JSON = "application/json"
LINGER_ZERO = struct.pack("ii", 1, 0)
INTERRUPTING = (Kind.CUT_AFTER, Kind.STALL_AFTER)


async def pause(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


def json_response(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, content_type=JSON)


def error_response(fmt: WireFormat, error: ErrorSpec) -> web.Response:
    response = json_response(fmt.render_error(error), error.status)
    if error.retry_after is not None:
        response.headers["Retry-After"] = error.retry_after
    return response


def reset_connection(request: web.BaseRequest) -> web.Response:
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0 turns close() into a TCP RST instead of an orderly FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)
        transport.abort()
    # Preparing this on the dead transport raises ConnectionError, which aiohttp treats as
    # a client disconnect: nothing is sent and nothing is logged.
    return web.Response()


async def hang(request: web.BaseRequest) -> web.Response:
    # The server runs with handler_cancellation, so a client disconnect cancels this sleep.
    await asyncio.sleep(HANG_SECONDS)
    return reset_connection(request)


async def interrupt(request: web.BaseRequest, kind: Kind | None) -> None:
    """End an answer early: `stall_after` goes silent first, `cut_after` drops at once."""
    if kind is Kind.STALL_AFTER:
        await asyncio.sleep(HANG_SECONDS)
    transport = request.transport
    if transport is not None:
        # close() (not abort()) so the chunks already written still reach the client.
        transport.close()


# ---------------------------------------------------------------- non-streaming


async def send_completion(
    request: web.BaseRequest, body: bytes, latency: Latency, kind: Kind | None
) -> web.StreamResponse:
    await pause(latency.headers_delay + latency.ttft)
    if kind is Kind.MALFORMED:
        return json_response(body[: len(body) // 2])
    if kind not in INTERRUPTING:
        return json_response(body)
    response = web.StreamResponse(headers={"Content-Type": JSON})
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: len(body) // 2])
    await interrupt(request, kind)
    return response


# ---------------------------------------------------------------- streaming


def content_events(script: StreamScript, fmt: WireFormat, kind: Kind | None, after: int) -> list[bytes]:
    events = list(script.content)
    if kind is Kind.MALFORMED:
        events.insert(min(after, len(events)), fmt.malformed_event)
    return events


def tail_bytes(script: StreamScript, kind: Kind | None) -> bytes:
    done = script.done if script.done is not None and kind is not Kind.NO_DONE else b""
    return b"".join(script.tail) + done


def stream_headers(fmt: WireFormat) -> dict[str, str]:
    return {"Content-Type": fmt.stream_content_type, "Cache-Control": "no-cache"}


async def send_stream(
    request: web.BaseRequest,
    fmt: WireFormat,
    script: StreamScript,
    latency: Latency,
    kind: Kind | None,
    after: int,
) -> web.StreamResponse:
    await pause(latency.headers_delay)
    events = content_events(script, fmt, kind, after)
    if kind not in INTERRUPTING and not latency.ttft and not latency.inter_token:
        # Nothing to time: one write of the whole stream is far cheaper than per-event writes.
        body = b"".join((*script.head, *events, tail_bytes(script, kind)))
        return web.Response(body=body, headers=stream_headers(fmt))
    response = web.StreamResponse(headers=stream_headers(fmt))
    await response.prepare(request)
    await play(request, response, script, events, latency, kind, after)
    return response


async def play(
    request: web.BaseRequest,
    response: web.StreamResponse,
    script: StreamScript,
    events: list[bytes],
    latency: Latency,
    kind: Kind | None,
    after: int,
) -> None:
    stop = after if kind in INTERRUPTING else None
    await pause(latency.ttft)
    pending = b"".join(script.head)  # the role event travels with the first token
    for index, event in enumerate(events):
        if index == stop:
            break
        if index:
            await pause(latency.inter_token)
        await response.write(pending + event)
        pending = b""
    if stop is not None:
        await interrupt(request, kind)
        return
    await pause(latency.inter_token)
    await response.write(pending + tail_bytes(script, kind))
