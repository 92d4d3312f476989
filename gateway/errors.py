"""Errors in OpenAI's shape, and the classes of upstream failure that drive failover."""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

from gateway.events.outcomes import Outcome


@dataclass
class AttemptError(Exception):
    """One upstream attempt failed; ``failure`` decides what the failover loop does next."""

    failure: Outcome
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
    # How the request ends when this is its answer: a client error unless the raiser knows better.
    outcome: Outcome = Outcome.CLIENT_ERROR

    def body(self) -> bytes:
        return error_body(self.message, self.type, self.code, self.param)


class Inexpressible(GatewayError):
    """This deployment's wire format cannot express the request (a parameter, a schema, a part).

    The deployment is skipped with no health penalty; the client gets this 400 only when no
    deployment of the model can express the request.
    """

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(400, message, code=code, param=param, outcome=Outcome.UNSUPPORTED)


def internal_error(request_id: str) -> GatewayError:
    return GatewayError(
        500,
        f"The gateway failed to handle this request (request id {request_id}); the error is logged.",
        type="server_error",
        code="internal_error",
        outcome=Outcome.ERROR,
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
