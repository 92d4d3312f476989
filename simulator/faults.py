"""Fault model: spec parsing, schedule evaluation and the per-(provider, model) fault table.

Everything here is synchronous and free of I/O; the server asks `FaultTable.resolve` once per
request and gets back the spec to apply (or None), and `error_for` turns a spec into the
error response it implies.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from simulator.model import ErrorSpec


class Kind(StrEnum):
    RESET = "reset"
    HANG = "hang"
    CUT_AFTER = "cut_after"
    STALL_AFTER = "stall_after"
    MALFORMED = "malformed"
    NO_DONE = "no_done"
    CONTEXT_LENGTH = "context_length"
    CONTENT_FILTER = "content_filter"
    AUTH = "auth"
    NOT_FOUND = "not_found"
    INVALID_OUTPUT = "invalid_output"  # tool arguments / structured answers that break their schema


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Latency:
    headers_delay: float = 0.0
    ttft: float = 0.0
    inter_token: float = 0.0

    @property
    def is_zero(self) -> bool:
        return not (self.headers_delay or self.ttft or self.inter_token)


NO_LATENCY = Latency()


@dataclass(frozen=True, slots=True)
class Outage:
    down: float
    every: float
    offset: float = 0.0  # phase shift, so several providers' outages need not coincide


@dataclass(frozen=True, slots=True)
class FaultSpec:
    headers_delay: float | None = None
    ttft: float | None = None
    inter_token: float | None = None
    status: int | None = None
    error_message: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    retry_after: str | None = None
    kind: Kind | None = None
    after: int = 0
    times: int | None = None
    outage: Outage | None = None
    availability: float | None = None
    seed: int = 0
    tokens: int | None = None

    def latency(self, base: Latency) -> Latency:
        """The fault's latencies, falling back to the provider's baseline for unset fields."""
        return Latency(
            base.headers_delay if self.headers_delay is None else self.headers_delay,
            base.ttft if self.ttft is None else self.ttft,
            base.inter_token if self.inter_token is None else self.inter_token,
        )


# ---------------------------------------------------------------- parsing


def _number(raw: Mapping[str, Any], key: str, *, minimum: float = 0.0) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise FaultSpecError(f"{key!r} must be a number >= {minimum}")
    return float(value)


def _integer(raw: Mapping[str, Any], key: str, *, minimum: int = 0) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FaultSpecError(f"{key!r} must be an integer >= {minimum}")
    return value


def _string(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FaultSpecError(f"{key!r} must be a string")
    return value


def _kind(raw: Mapping[str, Any]) -> Kind | None:
    value = raw.get("kind")
    if value is None:
        return None
    try:
        return Kind(value)
    except ValueError:
        choices = ", ".join(k.value for k in Kind)
        raise FaultSpecError(f"'kind' must be one of: {choices}") from None


def _status(raw: Mapping[str, Any]) -> int | None:
    status = _integer(raw, "status", minimum=100)
    if status is not None and not 400 <= status <= 599:
        raise FaultSpecError("'status' must be an HTTP error status (400-599)")
    return status


def _retry_after(raw: Mapping[str, Any]) -> str | None:
    value = raw.get("retry_after")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return _string(raw, "retry_after")


def _outage(raw: Mapping[str, Any]) -> Outage | None:
    value = raw.get("outage")
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) - {"down", "every", "offset"}:
        raise FaultSpecError("'outage' must be an object {down, every[, offset]}")
    down, every = _number(value, "down"), _number(value, "every")
    if down is None or every is None or every <= 0:
        raise FaultSpecError("'outage' needs 'down' >= 0 and 'every' > 0")
    return Outage(down, every, _number(value, "offset") or 0.0)


def _availability(raw: Mapping[str, Any]) -> float | None:
    value = _number(raw, "availability")
    if value is not None and value > 1:
        raise FaultSpecError("'availability' must be between 0 and 1")
    return value


FIELDS = frozenset(FaultSpec.__dataclass_fields__) | {"model"}


def parse_fault(raw: Any) -> tuple[str | None, FaultSpec]:
    """Validate a control-API fault body; returns (model scope, spec)."""
    if not isinstance(raw, Mapping):
        raise FaultSpecError("fault spec must be a JSON object")
    unknown = set(raw) - FIELDS
    if unknown:
        raise FaultSpecError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
    spec = FaultSpec(
        headers_delay=_number(raw, "headers_delay"),
        ttft=_number(raw, "ttft"),
        inter_token=_number(raw, "inter_token"),
        status=_status(raw),
        error_message=_string(raw, "error_message"),
        error_type=_string(raw, "error_type"),
        error_code=_string(raw, "error_code"),
        retry_after=_retry_after(raw),
        kind=_kind(raw),
        after=_integer(raw, "after") or 0,
        times=_integer(raw, "times", minimum=1),
        outage=_outage(raw),
        availability=_availability(raw),
        seed=_integer(raw, "seed") or 0,
        tokens=_integer(raw, "tokens", minimum=1),
    )
    return _string(raw, "model"), spec


# ---------------------------------------------------------------- errors

STATUS_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: (("Incorrect API key provided: sk-sim***. You can find your API key at "
           "https://platform.openai.com/account/api-keys."), "invalid_request_error",
          "invalid_api_key"),
    403: ("You are not allowed to access this resource.", "permission_error", None),
    404: ("The model does not exist or you do not have access to it.", "invalid_request_error",
          "model_not_found"),
    408: ("Request timed out.", "timeout_error", None),
    429: ("Rate limit reached for requests. Please try again in 2s.", "requests",
          "rate_limit_exceeded"),
    500: ("The server had an error while processing your request. Sorry about that!",
          "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The server is overloaded or not ready yet.", "server_error", None),
    504: ("Gateway timeout.", "server_error", None),
}  # fmt: skip

KIND_ERRORS: dict[Kind, ErrorSpec] = {
    Kind.CONTEXT_LENGTH: ErrorSpec(
        400,
        "This model's maximum context length is 8192 tokens. However, your messages "
        "resulted in 9000 tokens. Please reduce the length of the messages.",
        "invalid_request_error", "context_length_exceeded", "messages",
    ),
    Kind.CONTENT_FILTER: ErrorSpec(
        400,
        "The response was filtered due to the prompt triggering the content management "
        "policy. Please modify your prompt and retry.",
        "invalid_request_error", "content_filter", "prompt",
    ),
    Kind.AUTH: ErrorSpec(401, *STATUS_ERRORS[401]),
    Kind.NOT_FOUND: ErrorSpec(404, *STATUS_ERRORS[404], "model"),
}  # fmt: skip


def status_error(status: int) -> ErrorSpec:
    default = STATUS_ERRORS.get(status) or STATUS_ERRORS[500 if status >= 500 else 400]
    return ErrorSpec(status, *default)


def error_for(spec: FaultSpec) -> ErrorSpec | None:
    """The error response a fault implies, or None if it does not produce one."""
    base = KIND_ERRORS.get(spec.kind) if spec.kind else None
    if base is None and spec.status is None:
        return None
    if base is None:
        base = status_error(spec.status or 500)
    return replace(
        base,
        status=spec.status or base.status,
        message=spec.error_message or base.message,
        type=spec.error_type or base.type,
        code=spec.error_code or base.code,
        retry_after=spec.retry_after,
    )


# ---------------------------------------------------------------- schedules


def in_outage(outage: Outage, origin: float, now: float) -> bool:
    return (now - origin - outage.offset) % outage.every < outage.down


@dataclass(slots=True)
class Fault:
    """A spec installed in the table, plus the state its schedule needs."""

    spec: FaultSpec
    origin: float
    remaining: int | None
    rng: random.Random = field(repr=False)

    @classmethod
    def install(cls, spec: FaultSpec, origin: float) -> Fault:
        return cls(spec, origin, spec.times, random.Random(spec.seed))

    def scheduled(self, now: float) -> bool:
        """Whether the schedule selects this request; draws from the rng when needed."""
        spec = self.spec
        if spec.outage is not None and not in_outage(spec.outage, self.origin, now):
            return False
        return spec.availability is None or self.rng.random() >= spec.availability


FaultKey = tuple[str, str | None]


class FaultTable:
    def __init__(self) -> None:
        self._faults: dict[FaultKey, Fault] = {}

    def __bool__(self) -> bool:
        return bool(self._faults)

    def put(self, provider: str, model: str | None, spec: FaultSpec, origin: float) -> None:
        self._faults[(provider, model)] = Fault.install(spec, origin)

    def clear(self, provider: str | None = None) -> None:
        if provider is None:
            self._faults.clear()
            return
        for key in [key for key in self._faults if key[0] == provider]:
            del self._faults[key]

    def resolve(self, provider: str, model: str, now: float) -> FaultSpec | None:
        """The spec to apply to this request (consuming one of its `times`), or None."""
        key: FaultKey = (provider, model)
        fault = self._faults.get(key)
        if fault is None:
            key = (provider, None)
            fault = self._faults.get(key)
        if fault is None or not fault.scheduled(now):
            return None
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._faults[key]
        return fault.spec

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"provider": provider, "model": model, "remaining": fault.remaining,
             "spec": describe_spec(fault.spec)}
            for (provider, model), fault in self._faults.items()
        ]  # fmt: skip


def describe_spec(spec: FaultSpec) -> dict[str, Any]:
    defaults = FaultSpec()
    out: dict[str, Any] = {}
    for name in FaultSpec.__dataclass_fields__:
        value = getattr(spec, name)
        if value != getattr(defaults, name):
            out[name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Outage):
        return {"down": value.down, "every": value.every, "offset": value.offset}
    return value
