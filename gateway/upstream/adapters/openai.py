"""OpenAI chat-completions wire format: the pass-through adapter, shaped per provider by a profile.

One ``ProfiledAdapter`` serves every OpenAI-compatible provider kind (see ``gateway.upstream.profiles``).
What a profile changes is computed once per deployment at start-up (``prepare``), so a request
costs the same body copy as a plain pass-through plus the few field moves its provider needs.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from gateway.upstream.adapters.base import BaseAdapter, Chunk, ProbeRequest, UpstreamRequest
from gateway.errors import AttemptError, Inexpressible, redact
from gateway.events.outcomes import Outcome
from gateway.upstream.profiles import PROFILES, Profile, parse_param_list
from gateway.upstream.sse import DONE, SSEParser
from gateway.upstream.tool_ids import short_tool_id, with_tool_ids

if TYPE_CHECKING:
    from gateway.conf.domain import Deployment, Provider

MAX_RETRY_AFTER = 3600.0
_CONTEXT_MARKERS = ("context_length_exceeded", "maximum context length", "context window", "too many tokens")


@dataclass(frozen=True, slots=True)
class Wire:
    """One deployment's request shape: URL, headers and the body fields its provider needs changed."""

    url: str
    headers: dict[str, str]
    drop: frozenset[str]
    rename: tuple[tuple[str, str], ...]
    stream_usage: bool
    multiple_choices: bool
    message_names: bool
    short_tool_ids: bool
    max_temperature: float | None
    provider: str
    reshape: bool  # False when the body passes through untouched (besides model and streaming)


def prepare(profile: Profile, deployment: Deployment) -> Wire:
    provider = deployment.provider
    values = profile.option_values(provider.options)
    drop = set(profile.drop) | set(parse_param_list(values.get("drop_params")))
    if values.get("allow_store") != "true":
        # store: true keeps the tenant's prompts and answers in the operator's provider account.
        drop.add("store")
    rename = list(profile.rename)
    for rule in profile.model_rules:
        if rule.matches(deployment.upstream_model):
            drop |= rule.drop
            rename += rule.rename
    stream_usage = values["stream_usage"] == "true" if "stream_usage" in values else profile.stream_usage
    quoted = {name: quote(value, safe="") for name, value in values.items()}
    path = profile.path.format_map({**quoted, "model": quote(deployment.upstream_model, safe="")})
    reshape = bool(drop or rename) or not (profile.multiple_choices and profile.message_names)
    reshape = reshape or profile.short_tool_ids
    return Wire(
        url=f"{provider.base_url}{path}",
        headers=_headers(profile, provider, values),
        drop=frozenset(drop),
        rename=tuple(rename),
        stream_usage=stream_usage,
        multiple_choices=profile.multiple_choices,
        message_names=profile.message_names,
        short_tool_ids=profile.short_tool_ids,
        max_temperature=profile.max_temperature,
        provider=provider.name,
        reshape=reshape or profile.max_temperature is not None,
    )


def _headers(profile: Profile, provider: Provider, values: dict[str, str]) -> dict[str, str]:
    headers = {"content-type": "application/json", "accept": "text/event-stream", **dict(profile.headers)}
    for option, header in profile.option_headers:
        if values.get(option):
            headers[header] = values[option]
    if provider.api_key:
        custom = values.get("auth_header")
        if custom:
            headers[custom.lower()] = provider.api_key
        else:
            headers[profile.auth_header] = f"{profile.auth_prefix}{provider.api_key}"
    return headers


def build_upstream(wire: Wire, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
    """Always stream upstream: it gives first-token deadlines and TTFT for every request."""
    payload = dict(body)
    payload["model"] = deployment.upstream_model
    payload["stream"] = True
    if wire.stream_usage:
        options = payload.get("stream_options")
        payload["stream_options"] = {**options, "include_usage": True} if options else {"include_usage": True}
    elif "stream_options" in payload:
        del payload["stream_options"]
    if wire.reshape:
        _reshape(wire, payload)
    return UpstreamRequest(wire.url, wire.headers, orjson.dumps(payload))


def _reshape(wire: Wire, payload: dict[str, Any]) -> None:
    """Drop or map what this provider cannot take, so it never turns into a provider 400."""
    if not wire.drop.isdisjoint(payload):
        for name in wire.drop.intersection(payload):
            del payload[name]
    for source, target in wire.rename:
        if source in payload:
            payload[target] = payload.pop(source)
    if not wire.multiple_choices:
        choices = payload.pop("n", None)
        if isinstance(choices, int) and choices > 1:
            raise Inexpressible(
                f"Provider {wire.provider!r} cannot return more than one choice: send n=1.",
                code="unsupported_parameter",
                param="n",
            )
    if not wire.message_names and any("name" in message for message in payload["messages"]):
        payload["messages"] = [_without_name(message) for message in payload["messages"]]
    if wire.short_tool_ids:
        payload["messages"] = [with_tool_ids(message, short_tool_id) for message in payload["messages"]]
    limit = wire.max_temperature
    temperature = payload.get("temperature")
    if limit is not None and isinstance(temperature, int | float) and temperature > limit:
        payload["temperature"] = limit


def _without_name(message: Any) -> Any:
    if isinstance(message, dict) and "name" in message:
        return {key: value for key, value in message.items() if key != "name"}
    return message


def classify_error(deployment: Deployment, status: int, body: bytes, headers: Any) -> AttemptError:
    message, code, error_type, param = _error_details(body)
    message = redact(message or f"HTTP {status}", deployment.provider.api_key)
    error = AttemptError(Outcome.SERVER_ERROR, message, status=status, code=code, param=param, error_type=error_type)
    if status == 429:
        error.failure = Outcome.RATE_LIMITED
        error.retry_after = parse_retry_after(headers)
    elif status in (401, 403, 404):
        error.failure = Outcome.MISCONFIGURED
    elif 400 <= status < 500 and status != 408:
        lowered = f"{code or ''} {message}".lower()
        context = any(marker in lowered for marker in _CONTEXT_MARKERS)
        error.failure = Outcome.CONTEXT_LENGTH if context else Outcome.CLIENT_ERROR
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
        raise AttemptError(Outcome.BAD_RESPONSE, f"{deployment.provider.name} sent an unreadable answer") from None
    if not isinstance(completion, dict) or not isinstance(completion.get("choices"), list):
        raise AttemptError(Outcome.BAD_RESPONSE, f"{deployment.provider.name} sent an answer without choices")
    return completion


class ProfiledAdapter(BaseAdapter):
    """The OpenAI wire format for one provider kind, shaped by its profile."""

    # OpenAI's, Azure's and most compatible providers' (absent ones read as None).
    headroom_headers = ("x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens")
    classify_error = staticmethod(classify_error)
    is_stream = staticmethod(is_stream)
    decoder = staticmethod(decoder)
    parse_completion = staticmethod(parse_completion)

    def __init__(self, profile: Profile, check: Callable[[Provider], str | None] | None = None) -> None:
        self.profile = self.wire_profile = profile
        self._check = check

    def validate(self, provider: Provider) -> str | None:
        problem = self.wire_profile.check_options(provider.options)
        if problem is None and self._check is not None:
            problem = self._check(provider)
        return problem

    def default_base_url(self, options: dict[str, str], region: str | None) -> str | None:
        problem = self.wire_profile.check_options(options)  # a misspelt option explains a missing one
        if problem is not None:
            raise ValueError(problem)
        return self.wire_profile.default_base_url(options)

    def prepare(self, deployment: Deployment) -> Wire:
        return prepare(self.wire_profile, deployment)

    def probe_request(self, deployment: Deployment) -> ProbeRequest:
        """GET the provider's model list: free, authenticated, served by every compatible API."""
        provider = deployment.provider
        values = self.wire_profile.option_values(provider.options)
        path = self.wire_profile.probe_path.format_map({k: quote(v, safe="") for k, v in values.items()})
        headers = _headers(self.wire_profile, provider, values)
        del headers["content-type"], headers["accept"]
        return ProbeRequest(f"{provider.base_url}{path}", headers)

    def build_request(self, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
        wire = deployment.prepared
        if not isinstance(wire, Wire):
            wire = prepare(self.wire_profile, deployment)
        return build_upstream(wire, deployment, body)


ADAPTER = ProfiledAdapter(PROFILES["openai"])
