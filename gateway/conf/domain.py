"""The gateway's domain types: providers, deployments, models and the loaded config.

This module imports no adapter and nothing else of the gateway: every layer may use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_TIMEOUTS = {"connect": 3.0, "first_token": 20.0, "idle": 20.0, "total": 600.0}
PRICE_FIELDS = ("input", "output", "cached_input")
CHAT, EMBEDDING = "chat", "embedding"
MODES = (CHAT, EMBEDDING)
_PER_MILLION = 1_000_000


class ConfigFileError(Exception):
    """The gateway config is invalid. str() is one line naming file, line and field."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float
    first_token: float
    idle: float
    total: float


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """How this provider's deployments are probed (monitoring/probes.py runs them)."""

    interval: float = 30.0  # seconds between two probes of a deployment, before jitter
    # The paid completion probe: off, on for every model of the provider, or on for these names
    # (gateway model names or upstream model ids).
    completion: bool = False
    completion_models: frozenset[str] = frozenset()
    daily_cost_cap: float = 0.05  # USD per deployment per UTC day, for completion probes

    def completes(self, deployment: Deployment, model_names: frozenset[str]) -> bool:
        if self.completion:
            return True
        return bool(self.completion_models & (model_names | {deployment.upstream_model}))


DEFAULT_PROBE = ProbeSettings()


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    kind: str
    base_url: str
    api_key: str = field(repr=False)
    region: str | None
    timeouts: Timeouts
    # Format-specific settings (api_version, project, ...), checked by the adapter's validate().
    options: dict[str, str] = field(default_factory=dict)
    probe: ProbeSettings = DEFAULT_PROBE


@dataclass(frozen=True, slots=True)
class Price:
    """List price in USD per million tokens; ``cost`` uses per-token rates computed once."""

    input: float
    output: float
    cached_input: float | None = None
    rates: tuple[float, float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        cached = self.input if self.cached_input is None else self.cached_input
        rates = (self.input / _PER_MILLION, cached / _PER_MILLION, self.output / _PER_MILLION)
        object.__setattr__(self, "rates", rates)

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int) -> float:
        """USD for one answer. Cached tokens are part of prompt_tokens, billed at the cached rate."""
        fresh, cached, output = self.rates
        return (prompt_tokens - cached_tokens) * fresh + cached_tokens * cached + completion_tokens * output

    def as_json(self) -> dict[str, float | None]:
        return {"input": self.input, "output": self.output, "cached_input": self.cached_input}


@dataclass(frozen=True, slots=True)
class Deployment:
    """One provider serving one model. ``id`` is what health and logs are keyed by."""

    id: str
    provider: Provider
    upstream_model: str
    price: Price | None = None
    # What the adapter precomputed for this deployment at load time (URL, headers, ...), if anything.
    prepared: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    deployments: tuple[Deployment, ...]
    fallbacks: tuple[str, ...]
    context_window: int | None
    max_output: int | None = None
    # Which endpoints may use it: "chat" (chat, messages, legacy completions) or "embedding".
    mode: str = CHAT
    # An embedding model's vector size, and whether the client's `dimensions` may shorten it.
    dimensions: int | None = None
    shortens: bool = False


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    source: str
    providers: dict[str, Provider]
    models: dict[str, Model]

    def model_names(self, deployment_id: str) -> frozenset[str]:
        """The gateway models served (among others) by this deployment."""
        return frozenset(m.name for m in self.models.values() if any(d.id == deployment_id for d in m.deployments))

    def embeds_only(self, deployment_id: str) -> bool:
        """Whether every model this deployment serves is an embedding model (no chat probe fits it)."""
        modes = {m.mode for m in self.models.values() if any(d.id == deployment_id for d in m.deployments)}
        return modes == {EMBEDDING}

    def deployments(self) -> list[Deployment]:
        seen: dict[str, Deployment] = {}
        for model in self.models.values():
            for deployment in model.deployments:
                seen.setdefault(deployment.id, deployment)
        return list(seen.values())


def resolve_model(config: GatewayConfig, requested: str) -> tuple[Model, Deployment | None] | None:
    """Map a client's ``model`` to (model, pinned deployment or None); None if unknown."""
    model = config.models.get(requested)
    if model is not None:
        return model, None
    provider_name, _, rest = requested.partition("/")
    if not rest or provider_name not in config.providers:
        return None
    for candidate in config.models.values():
        for deployment in candidate.deployments:
            if deployment.provider.name == provider_name and rest in (candidate.name, deployment.upstream_model):
                return candidate, deployment
    return None
