"""The aiohttp application: provider routes, the control API and request accounting."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from simulator import anthropic_format
from simulator import bedrock_format
from simulator import gemini_format
from simulator import azure_format
from simulator import delivery, openai_format
from simulator import embeddings, legacy_completions
from simulator.answers import IdSource, build_reply
from simulator.faults import (
    NO_LATENCY,
    FaultSpec,
    FaultSpecError,
    FaultTable,
    Kind,
    Latency,
    error_for,
    parse_fault,
)
from simulator.model import ErrorSpec, InvalidRequest, WireFormat

DEFAULT_TOKENS = 20
DEFAULT_MODELS = ("gpt-4o-mini", "llama-3.3-70b")
SCENARIOS = ("none", "demo")
EARLY_KINDS = (Kind.RESET, Kind.HANG)


@dataclass(slots=True)
class RateLimit:
    """A provider's request and token budget, reported (never enforced: 429s are faults) in the
    rate-limit headers of the formats that have them (OpenAI's and Anthropic's)."""

    requests: int
    tokens: int
    used_requests: int = 0
    used_tokens: int = 0

    def take(self, tokens: int) -> tuple[int, int]:
        """Count one request of ``tokens``; returns the remaining requests and tokens."""
        self.used_requests += 1
        self.used_tokens += tokens
        return max(self.requests - self.used_requests, 0), max(self.tokens - self.used_tokens, 0)


RATE_HEADERS = web.RequestKey("rate_headers", dict[str, str])  # the headers a response gets


@dataclass(slots=True)
class SimulatorState:
    """Everything one simulator process remembers; shared by all simulated providers."""

    tokens: int = DEFAULT_TOKENS
    models: tuple[str, ...] = DEFAULT_MODELS
    faults: FaultTable = field(default_factory=FaultTable)
    # Baseline latency per provider, applied whether or not a fault is active (demo realism).
    latency: dict[str, Latency] = field(default_factory=dict)
    attempts: dict[tuple[str, str], int] = field(default_factory=dict)
    probes: dict[str, int] = field(default_factory=dict)  # model list/get calls per provider
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)
    last_requests: dict[str, tuple[Mapping[str, str], Any]] = field(default_factory=dict)
    ids: IdSource = field(default_factory=IdSource)
    started: float = field(default_factory=time.monotonic)

    def record(self, provider: str, model: str, headers: Mapping[str, str], body: Any) -> None:
        key = (provider, model)
        self.attempts[key] = self.attempts.get(key, 0) + 1
        # Keep references only; converting headers to a dict is left to the (rare) reader.
        self.last_requests[provider] = (headers, body)

    def reset(self) -> None:
        self.faults.clear()
        self.attempts.clear()
        self.probes.clear()
        self.rate_limits.clear()
        self.last_requests.clear()

    def stats(self) -> dict[str, dict[str, int]]:
        by_provider: dict[str, int] = {}
        for (provider, _), count in self.attempts.items():
            by_provider[provider] = by_provider.get(provider, 0) + count
        attempts = {f"{p}/{m}": n for (p, m), n in self.attempts.items()}
        return {"attempts": attempts, "by_provider": by_provider, "probes": dict(self.probes)}

    def models_for(self, provider: str) -> list[str]:
        seen = [m for (p, m) in self.attempts if p == provider and m]
        return list(dict.fromkeys((*self.models, *seen)))


def make_state(tokens: int = DEFAULT_TOKENS, scenario: str = "none") -> SimulatorState:
    state = SimulatorState(tokens=tokens)
    if scenario == "demo":
        from simulator.demo import apply_demo_scenario  # demo builds on this module

        apply_demo_scenario(state)
    elif scenario != "none":
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {SCENARIOS}")
    return state


STATE_KEY = web.AppKey("simulator_state", SimulatorState)


def ok(payload: Any = None, status: int = 200) -> web.Response:
    body = orjson.dumps({"ok": True} if payload is None else payload)
    return delivery.json_response(body, status)


def control_error(message: str, status: int = 400) -> web.Response:
    error = ErrorSpec(status, message, "invalid_request_error")
    return delivery.error_response(openai_format.OPENAI_CHAT, error)


# ---------------------------------------------------------------- provider routes


class ChatHandler:
    """Serves one wire format's chat endpoint for every simulated provider."""

    def __init__(self, state: SimulatorState, fmt: WireFormat) -> None:
        self.state = state
        self.fmt = fmt

    async def handle(self, request: web.Request) -> web.StreamResponse:
        state, fmt = self.state, self.fmt
        provider = request.match_info["provider"]
        body = fmt.decode(await request.read())
        model = fmt.model_of(body, request.match_info)
        state.record(provider, model, request.headers, body)  # counted before any fault
        if state.rate_limits:
            self.count_rate_limit(request, provider)
        spec = state.faults.resolve(provider, model, time.monotonic()) if state.faults else None
        base = state.latency.get(provider, NO_LATENCY) if state.latency else NO_LATENCY
        if spec is None:
            return await self.answer(request, provider, body, model, base, None)
        return await self.faulted(request, provider, body, model, spec, spec.latency(base))

    def count_rate_limit(self, request: web.Request, provider: str) -> None:
        limit = self.state.rate_limits.get(provider)
        names = getattr(self.fmt, "rate_limit_headers", None)  # (requests, tokens) x (limit, remaining)
        if limit is None or names is None:
            return
        requests, tokens = limit.take(self.state.tokens)
        values = (limit.requests, requests, limit.tokens, tokens)
        request[RATE_HEADERS] = {name: str(value) for name, value in zip(names, values, strict=True)}

    async def faulted(
        self,
        request: web.Request,
        provider: str,
        body: dict[str, Any] | None,
        model: str,
        spec: FaultSpec,
        latency: Latency,
    ) -> web.StreamResponse:
        if spec.kind in EARLY_KINDS:
            await delivery.pause(latency.headers_delay)
            if spec.kind is Kind.HANG:
                return await delivery.hang(request)
            return delivery.reset_connection(request)
        error = error_for(spec)
        if error is not None:
            await delivery.pause(latency.headers_delay)
            return delivery.error_response(self.fmt, error)
        return await self.answer(request, provider, body, model, latency, spec)

    async def answer(
        self,
        request: web.Request,
        provider: str,
        body: dict[str, Any] | None,
        model: str,
        latency: Latency,
        spec: FaultSpec | None,
    ) -> web.StreamResponse:
        try:
            chat = self.fmt.parse(body, model)
        except InvalidRequest as exc:
            return delivery.error_response(self.fmt, exc.error)
        tokens = spec.tokens if spec is not None and spec.tokens else self.state.tokens
        kind, after = (spec.kind, spec.after) if spec is not None else (None, 0)
        reply = build_reply(chat, provider, tokens, self.state.ids, invalid=kind is Kind.INVALID_OUTPUT)
        if not chat.stream:
            body_bytes = self.fmt.render_completion(reply)
            return await delivery.send_completion(request, body_bytes, latency, kind)
        script = self.fmt.render_stream(reply)
        return await delivery.send_stream(request, self.fmt, script, latency, kind, after)


async def list_models(request: web.Request) -> web.StreamResponse:
    provider = request.match_info["provider"]
    state = request.app[STATE_KEY]
    faulted = await model_endpoint_fault(request, provider, "")
    if faulted is not None:
        return faulted
    return delivery.json_response(openai_format.models_list(provider, state.models_for(provider)))


async def get_model(request: web.Request) -> web.StreamResponse:
    """Anthropic's (and OpenAI's) model-get: any model is served unless a fault says otherwise."""
    provider, model = request.match_info["provider"], request.match_info["model"]
    faulted = await model_endpoint_fault(request, provider, model)
    if faulted is not None:
        return faulted
    payload = {"id": model, "type": "model", "object": "model", "display_name": model, "owned_by": provider}
    return delivery.json_response(orjson.dumps(payload))


ErrorRender = Callable[[ErrorSpec], web.StreamResponse]


def _openai_error(error: ErrorSpec) -> web.StreamResponse:
    return delivery.error_response(openai_format.OPENAI_CHAT, error)


async def model_endpoint_fault(
    request: web.Request, provider: str, model: str, render: ErrorRender = _openai_error
) -> web.StreamResponse | None:
    """The liveness probes' endpoints fail like the chat endpoint: a provider's (or model's) faults
    apply, with errors in the provider's own shape (``render``). Counted as a probe, not an attempt."""
    state = request.app[STATE_KEY]
    state.probes[provider] = state.probes.get(provider, 0) + 1
    spec = state.faults.resolve(provider, model, time.monotonic()) if state.faults else None
    if spec is None:
        return None
    if spec.kind in EARLY_KINDS:
        await delivery.pause(spec.latency(NO_LATENCY).headers_delay)
        return await delivery.hang(request) if spec.kind is Kind.HANG else delivery.reset_connection(request)
    error = error_for(spec)
    return None if error is None else render(error)


# ---------------------------------------------------------------- control API


async def put_fault(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        model, spec = parse_fault(orjson.loads(await request.read()))
    except orjson.JSONDecodeError:
        return control_error("fault spec is not valid JSON")
    except FaultSpecError as exc:
        return control_error(str(exc))
    state.faults.put(request.match_info["provider"], model, spec, time.monotonic())
    return ok()


async def put_rate_limit(request: web.Request) -> web.Response:
    """``{"requests": N, "tokens": M}``: the provider's budget from now (usage starts at zero)."""
    try:
        raw = orjson.loads(await request.read())
        requests, tokens = raw["requests"], raw["tokens"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return control_error('rate limit must be {"requests": N, "tokens": M}')
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (requests, tokens)):
        return control_error("requests and tokens must be integers >= 0")
    request.app[STATE_KEY].rate_limits[request.match_info["provider"]] = RateLimit(requests, tokens)
    return ok()


async def delete_rate_limit(request: web.Request) -> web.Response:
    request.app[STATE_KEY].rate_limits.pop(request.match_info["provider"], None)
    return ok()


async def _rate_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    headers = request.get(RATE_HEADERS)
    if headers is not None:
        response.headers.update(headers)


async def list_faults(request: web.Request) -> web.Response:
    return ok({"faults": request.app[STATE_KEY].faults.describe()})


async def delete_faults(request: web.Request) -> web.Response:
    request.app[STATE_KEY].faults.clear(request.match_info.get("provider"))
    return ok()


async def stats(request: web.Request) -> web.Response:
    return ok(request.app[STATE_KEY].stats())


async def reset(request: web.Request) -> web.Response:
    request.app[STATE_KEY].reset()
    return ok()


async def last_request(request: web.Request) -> web.Response:
    provider = request.match_info["provider"]
    seen = request.app[STATE_KEY].last_requests.get(provider)
    if seen is None:
        return control_error(f"no request seen for provider {provider!r}", 404)
    headers, body = seen
    # Lower-cased names: HTTP header names are case-insensitive, so give callers one spelling.
    return ok({"headers": {k.lower(): v for k, v in headers.items()}, "body": body})


async def health(request: web.Request) -> web.Response:
    return ok({"status": "ok"})


# ---------------------------------------------------------------- application


def add_chat_route(app: web.Application, path: str, fmt: WireFormat) -> None:
    """Mount a wire format; later formats (Anthropic, Gemini, ...) plug in the same way."""
    app.router.add_post(path, ChatHandler(app[STATE_KEY], fmt).handle)


def build_app(state: SimulatorState | None = None) -> web.Application:
    app = web.Application(client_max_size=64 * 1024**2)
    app[STATE_KEY] = state or SimulatorState()
    add_chat_route(app, "/{provider}/v1/chat/completions", openai_format.OPENAI_CHAT)
    add_chat_route(app, "/{provider}/v1/messages", anthropic_format.ANTHROPIC_MESSAGES)
    bedrock_format.add_routes(app)
    gemini_format.mount(app)
    azure_format.add_azure_route(app)
    embeddings.mount(app)
    legacy_completions.mount(app)
    app.router.add_get("/{provider}/v1/models", list_models)
    app.router.add_get("/{provider}/v1/models/{model}", get_model)
    app.router.add_get("/{provider}/openai/models", list_models)  # Azure's
    app.router.add_get("/_control/health", health)
    app.router.add_get("/_control/faults", list_faults)
    app.router.add_put("/_control/faults/{provider}", put_fault)
    app.router.add_delete("/_control/faults", delete_faults)
    app.router.add_delete("/_control/faults/{provider}", delete_faults)
    app.router.add_put("/_control/rate_limits/{provider}", put_rate_limit)
    app.router.add_delete("/_control/rate_limits/{provider}", delete_rate_limit)
    app.on_response_prepare.append(_rate_headers)
    app.router.add_get("/_control/stats", stats)
    app.router.add_post("/_control/reset", reset)
    app.router.add_get("/_control/last_request/{provider}", last_request)
    return app


def make_runner(app: web.Application, shutdown_timeout: float = 1.0) -> web.AppRunner:
    # handler_cancellation: a client that hangs up must cancel `hang`/`stall_after` handlers.
    return web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=shutdown_timeout)
