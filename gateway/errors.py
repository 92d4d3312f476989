"""Errors in OpenAI's shape, and the classes of upstream failure that drive failover."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import orjson


class Failure(StrEnum):
    CONNECT = "connect_error"
    TIMEOUT = "timeout"
    STALL = "stall"
    STREAM_CUT = "stream_cut"
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    MISCONFIGURED = "misconfigured"
    CONTEXT_LENGTH = "context_length"
    CLIENT_ERROR = "client_error"
    UNSUPPORTED = "unsupported"
    BAD_RESPONSE = "bad_response"


@dataclass
class AttemptError(Exception):
    """One upstream attempt failed; ``failure`` decides what the failover loop does next."""

    failure: Failure
    message: str
    status: int | None = None
    retry_after: float | None = None
    code: str | None = None
    param: str | None = None
    error_type: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass
class GatewayError(Exception):
    """An error returned to the client, in OpenAI's error shape."""

    status: int
    message: str
    type: str = "invalid_request_error"
    code: str | None = None
    param: str | None = None
    headers: tuple[tuple[bytes, bytes], ...] = ()

    def body(self) -> bytes:
        return error_body(self.message, self.type, self.code, self.param)


def internal_error(request_id: str) -> GatewayError:
    return GatewayError(
        500,
        f"The gateway failed to handle this request (request id {request_id}); the error is logged.",
        type="server_error",
        code="internal_error",
    )


def error_body(message: str, type_: str, code: str | None = None, param: str | None = None) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": type_, "param": param, "code": code}})


_TOKENISH = re.compile(r"\b(sk|key|gsk|xai|pk)[-_][A-Za-z0-9_\-*.]{8,}", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(https?://)[^/\s:@]+:[^/\s@]+@")


def redact(text: str, *secrets: str) -> str:
    """Strip provider keys and URL credentials from text bound for a client or a log."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    text = _URL_CREDENTIALS.sub(r"\1[redacted]@", text)
    return _TOKENISH.sub("[redacted]", text)
