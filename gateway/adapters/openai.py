"""OpenAI chat-completions wire format: the pass-through adapter."""

from __future__ import annotations

import email.utils
import time
from typing import TYPE_CHECKING, Any

import orjson

from gateway.adapters.base import Chunk, UpstreamRequest
from gateway.errors import AttemptError, Failure, redact
from gateway.sse import DONE, SSEParser

if TYPE_CHECKING:
    from gateway.config import Deployment, Provider

MAX_RETRY_AFTER = 3600.0
_CONTEXT_MARKERS = ("context_length_exceeded", "maximum context length", "context window", "too many tokens")


def build_request(deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
    """Always stream upstream: it gives first-token deadlines and TTFT for every request."""
    payload = dict(body)
    payload["model"] = deployment.upstream_model
    payload["stream"] = True
    options = payload.get("stream_options")
    payload["stream_options"] = {**options, "include_usage": True} if options else {"include_usage": True}
    headers = {"content-type": "application/json", "accept": "text/event-stream"}
    if deployment.provider.api_key:
        headers["authorization"] = f"Bearer {deployment.provider.api_key}"
    return UpstreamRequest(f"{deployment.provider.base_url}/chat/completions", headers, orjson.dumps(payload))


def classify_error(deployment: Deployment, status: int, body: bytes, headers: Any) -> AttemptError:
    message, code, error_type, param = _error_details(body)
    message = redact(message or f"HTTP {status}", deployment.provider.api_key)
    error = AttemptError(Failure.SERVER_ERROR, message, status=status, code=code, param=param, error_type=error_type)
    if status == 429:
        error.failure = Failure.RATE_LIMITED
        error.retry_after = parse_retry_after(headers)
    elif status in (401, 403, 404):
        error.failure = Failure.MISCONFIGURED
    elif 400 <= status < 500 and status != 408:
        lowered = f"{code or ''} {message}".lower()
        context = any(marker in lowered for marker in _CONTEXT_MARKERS)
        error.failure = Failure.CONTEXT_LENGTH if context else Failure.CLIENT_ERROR
    return error


def _error_details(body: bytes) -> tuple[str, str | None, str | None, str | None]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:300].decode("utf-8", "replace").strip(), None, None, None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return (
            str(error.get("message") or ""),
            _str_or_none(error.get("code")),
            _str_or_none(error.get("type")),
            _str_or_none(error.get("param")),
        )
    if isinstance(error, str):
        return error, None, None, None
    return str(data)[:300], None, None, None


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait, from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return min(max(float(millis) / 1000.0, 0.0), MAX_RETRY_AFTER)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(moment.timestamp() - time.time(), 0.0), MAX_RETRY_AFTER)


def is_stream(content_type: str) -> bool:
    return content_type.startswith("text/event-stream")


class SSEDecoder:
    """OpenAI's stream: each ``data:`` event is already the chunk the client wants."""

    __slots__ = ("_parser", "done", "malformed")

    def __init__(self) -> None:
        self._parser = SSEParser()
        self.done = False
        self.malformed = 0

    def feed(self, data: bytes) -> list[Chunk]:
        return self._chunks(self._parser.feed(data))

    def flush(self) -> list[Chunk]:
        return self._chunks(self._parser.flush())

    def _chunks(self, payloads: list[bytes]) -> list[Chunk]:
        chunks: list[Chunk] = []
        for payload in payloads:
            if payload == DONE:
                self.done = True
                break
            try:
                chunk = orjson.loads(payload)
            except orjson.JSONDecodeError:
                self.malformed += 1
                continue
            if isinstance(chunk, dict):
                chunks.append((payload, chunk))
            else:
                self.malformed += 1
        return chunks


def decoder(deployment: Deployment) -> SSEDecoder:
    return SSEDecoder()


def parse_completion(deployment: Deployment, body: bytes) -> dict[str, Any]:
    try:
        completion = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise AttemptError(Failure.BAD_RESPONSE, f"{deployment.provider.name} sent an unreadable answer") from None
    if not isinstance(completion, dict) or not isinstance(completion.get("choices"), list):
        raise AttemptError(Failure.BAD_RESPONSE, f"{deployment.provider.name} sent an answer without choices")
    return completion


def validate(provider: Provider) -> str | None:
    return None


class _OpenAIAdapter:
    validate = staticmethod(validate)
    build_request = staticmethod(build_request)
    classify_error = staticmethod(classify_error)
    is_stream = staticmethod(is_stream)
    decoder = staticmethod(decoder)
    parse_completion = staticmethod(parse_completion)


ADAPTER = _OpenAIAdapter()
