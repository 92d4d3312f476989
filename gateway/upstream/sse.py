"""Incremental Server-Sent Events parsing: bytes in, ``data`` payloads out."""

from __future__ import annotations

DONE = b"[DONE]"


class SSEParser:
    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """Return the data payloads of every event completed by this chunk."""
        buffer = self._pending + chunk if self._pending else chunk
        carried_cr = b""
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):
                # A CRLF split across reads: keep the CR until its LF arrives.
                buffer, carried_cr = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n")
        parts = buffer.split(b"\n\n")
        self._pending = parts.pop() + carried_cr
        payloads = []
        for part in parts:
            data = _data_of(part)
            if data is not None:
                payloads.append(data)
        return payloads

    def flush(self) -> list[bytes]:
        """Payload of a final event the upstream did not terminate with a blank line."""
        rest, self._pending = self._pending.strip(), b""
        data = _data_of(rest) if rest else None
        return [data] if data is not None else []


def _data_of(event: bytes) -> bytes | None:
    if event.startswith(b"data: ") and b"\n" not in event:
        return event[6:]
    lines = [line for line in event.split(b"\n") if line.startswith(b"data:")]
    if not lines:
        return None  # comments (": keep-alive") and events without data
    return b"\n".join(line[5:].removeprefix(b" ") for line in lines)
