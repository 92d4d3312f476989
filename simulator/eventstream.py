"""An encoder for AWS's binary event-stream framing (``application/vnd.amazon.eventstream``).

Only the simulator writes frames; the gateway reads them with botocore's own parser, so a
framing mistake here shows up as a decode failure in the tests rather than being mirrored.

Frame: total length (u32) | headers length (u32) | prelude CRC32 | headers | payload | message CRC32,
all big-endian; each header is name length (u8) | name | type (u8) | value.
"""

from __future__ import annotations

import struct
import zlib

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7  # header value type: u16 length + UTF-8 bytes
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")
_OVERHEAD = _PRELUDE.size + 2 * _CRC.size


def encode_headers(headers: dict[str, str]) -> bytes:
    parts = []
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        parts.append(bytes((len(raw_name),)) + raw_name + bytes((_STRING,)) + struct.pack(">H", len(raw_value)))
        parts.append(raw_value)
    return b"".join(parts)


def encode_frame(headers: dict[str, str], payload: bytes) -> bytes:
    raw_headers = encode_headers(headers)
    prelude = _PRELUDE.pack(_OVERHEAD + len(raw_headers) + len(payload), len(raw_headers))
    head = prelude + _CRC.pack(zlib.crc32(prelude))
    body = head + raw_headers + payload
    return body + _CRC.pack(zlib.crc32(body))


def event_frame(event_type: str, payload: bytes) -> bytes:
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_frame(headers, payload)


def exception_frame(exception_type: str, payload: bytes) -> bytes:
    headers = {":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"}
    return encode_frame(headers, payload)
