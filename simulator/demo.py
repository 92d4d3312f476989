"""The demo scenario: three flaky providers serving the same two models.

Outage windows are measured from simulator start, so a running demo shows sim-openai failing
with 503s for 20 s every 90 s, sim-azure hanging for 15 s every 120 s (phase-shifted; the
two overlap for only 5 s in every 6 minutes) and sim-groq throwing the odd 429.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.faults import Latency, parse_fault
from simulator.server import SimulatorState

DEMO_MODELS = ("gpt-4o-mini", "llama-3.3-70b")
DEMO_API_KEY = "demo-not-a-secret"
DEMO_TIMEOUTS = "{connect: 2, first_token: 3, idle: 5, total: 60}"


@dataclass(frozen=True, slots=True)
class DemoProvider:
    name: str
    latency: Latency
    fault: dict[str, Any]  # a control-API fault spec


DEMO_PROVIDERS: tuple[DemoProvider, ...] = (
    DemoProvider(
        "sim-openai",
        Latency(headers_delay=0.05, ttft=0.03, inter_token=0.01),
        {"status": 503, "outage": {"down": 20, "every": 90}},
    ),
    DemoProvider(
        "sim-azure",
        Latency(headers_delay=0.08, ttft=0.04, inter_token=0.012),
        {"kind": "hang", "outage": {"down": 15, "every": 120, "offset": 45}},
    ),
    DemoProvider(
        "sim-groq",
        Latency(headers_delay=0.03, ttft=0.01, inter_token=0.008),
        {"status": 429, "retry_after": "2", "availability": 0.97, "seed": 7},
    ),
)


def apply_demo_scenario(state: SimulatorState) -> None:
    state.models = DEMO_MODELS
    for provider in DEMO_PROVIDERS:
        state.latency[provider.name] = provider.latency
        model, spec = parse_fault(provider.fault)
        state.faults.put(provider.name, model, spec, origin=state.started)


def _provider_yaml(provider: DemoProvider, base_url: str) -> str:
    return (
        f"  - name: {provider.name}\n"
        f"    kind: openai\n"
        f"    base_url: {base_url}/{provider.name}/v1\n"
        f"    api_key: {DEMO_API_KEY}\n"
        f"    timeout: {DEMO_TIMEOUTS}\n"
    )


def _model_yaml(model: str, fallbacks: list[str]) -> str:
    deployments = "".join(f"      - {{provider: {p.name}, model: {model}}}\n" for p in DEMO_PROVIDERS)
    return f"  - name: {model}\n    deployments:\n{deployments}    fallbacks: [{', '.join(fallbacks)}]\n"


def demo_gateway_config(simulator_base_url: str) -> str:
    """Gateway YAML config routing both demo models across the three simulated providers."""
    base_url = simulator_base_url.rstrip("/")
    providers = "".join(_provider_yaml(p, base_url) for p in DEMO_PROVIDERS)
    # Fallback only one way, so a gateway without cycle detection still terminates.
    models = _model_yaml("gpt-4o-mini", ["llama-3.3-70b"]) + _model_yaml("llama-3.3-70b", [])
    return f"providers:\n{providers}models:\n{models}"


def describe_schedule() -> list[str]:
    """The demo's faults in words, one line per provider, for the pages' demo-mode banner."""
    return [_describe(provider) for provider in DEMO_PROVIDERS]


def _describe(provider: DemoProvider) -> str:
    fault = provider.fault
    what = "hangs" if fault.get("kind") == "hang" else f"answers {fault.get('status', 500)}"
    outage = fault.get("outage")
    if outage:
        return f"{provider.name} {what} for {outage['down']} s every {outage['every']} s"
    failing = round((1 - float(fault.get("availability", 1))) * 100)
    return f"{provider.name} {what} to about {failing}% of requests"
