"""Health probes against the simulator over real HTTP, with the real database and Redis: free liveness
probes, opt-in paid completion probes under a daily cap, 4xx as "misconfigured", states from probes."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis
from django.conf import settings

from gateway.conf.domain import ConfigFileError, GatewayConfig
from gateway.conf.loader import parse_config
from gateway.routing import shared
from monitoring import probes
from accounts.services import create_organization
from monitoring.models import Attempt, DeploymentStateChange, DeploymentStatus, Probe
from simulator.harness import SimulatorServer
from tests.accounts.factories import make_attempt

T0 = datetime(2026, 10, 31, 23, 59, 0, tzinfo=UTC)  # a month end
PRICE = "{input: 1000000, output: 1000000}"  # a dollar a token: any probe cost shows


def _config(sim: SimulatorServer, name: str, probe: str = "{}", kind: str = "openai") -> GatewayConfig:
    yaml = f"""providers:
  - {{name: {name}, kind: {kind}, base_url: '{sim.url_for(name)}', api_key: sk-probe-secret-0001, probe: {probe}}}
models:
  - name: chat
    deployments:
      - {{provider: {name}, model: chat-up, price: {PRICE}}}
"""
    return parse_config(yaml, source="probes.yaml")


@pytest.fixture
def name(simulator: SimulatorServer) -> str:
    return f"probed-{uuid.uuid4().hex[:8]}"


def _cycle(config: GatewayConfig, at: datetime) -> list[Probe]:
    rows = probes.run_probes(config=config, now=at)
    probes.evaluate_states(config=config, now=at)
    return rows


def test_a_liveness_probe_reads_the_model_list_and_the_state_becomes_up(
    simulator: SimulatorServer, name: str, db: None
) -> None:
    config = _config(simulator, name)
    [row] = _cycle(config, T0)
    assert (row.kind, row.result, row.status, row.deployment) == ("liveness", "ok", 200, f"{name}/chat-up")
    assert simulator.probes(name) == 1 and simulator.attempts(name) == 0  # free: no completion
    status = DeploymentStatus.objects.get(deployment=f"{name}/chat-up")
    assert (status.state, status.since) == ("up", T0)
    assert _cycle(config, T0 + timedelta(seconds=10)) == []  # not due yet: every 30 s, jittered
    assert len(_cycle(config, T0 + timedelta(seconds=37))) == 1


def test_anthropic_probes_get_the_model_itself(simulator: SimulatorServer, name: str, db: None) -> None:
    [row] = _cycle(_config(simulator, name, kind="anthropic"), T0)
    assert (row.result, row.status) == ("ok", 200)
    assert simulator.probes(name) == 1


def test_probes_failing_in_a_row_take_a_deployment_down_after_confirmation(
    simulator: SimulatorServer, name: str, db: None
) -> None:
    config = _config(simulator, name, probe="{interval: 5}")
    _cycle(config, T0)
    simulator.set_fault(name, status=503)
    try:
        for step in range(1, 7):
            [row] = _cycle(config, T0 + timedelta(seconds=10 * step))
            assert (row.result, row.detail) == ("failed", "HTTP 503")
    finally:
        simulator.clear_faults(name)
    [change] = DeploymentStateChange.objects.filter(deployment=f"{name}/chat-up", new="down")
    # Third failure in a row at +30 s is when it was seen; confirmed 30 s later, dated +30 s.
    assert (change.old, change.at) == ("up", T0 + timedelta(seconds=30))
    assert change.reason.endswith("probes failed in a row")


def test_a_refused_probe_is_misconfigured_and_counts_neither_up_nor_down(
    simulator: SimulatorServer, name: str, db: None
) -> None:
    config = _config(simulator, name, probe="{interval: 5}")
    simulator.set_fault(name, kind="auth")
    try:
        for step in range(5):
            [row] = _cycle(config, T0 + timedelta(seconds=10 * step))
            assert (row.result, row.status) == ("misconfigured", 401)
    finally:
        simulator.clear_faults(name)
    assert "sk-probe" not in row.detail and "127.0.0.1" not in row.detail
    assert DeploymentStatus.objects.get(deployment=f"{name}/chat-up").state == "unknown"
    assert not DeploymentStateChange.objects.exists()


def test_no_completion_probe_unless_enabled(simulator: SimulatorServer, name: str, db: None) -> None:
    rows = _cycle(_config(simulator, name), T0)
    assert [r.kind for r in rows] == ["liveness"] and simulator.attempts(name) == 0


def test_an_enabled_completion_probe_costs_what_it_answered_and_stops_at_the_daily_cap(
    simulator: SimulatorServer, name: str, db: None
) -> None:
    config = _config(simulator, name, probe="{interval: 5, completion: [chat], daily_cost_cap: 30}")
    rows = _cycle(config, T0)
    assert [(r.kind, r.result) for r in rows] == [("liveness", "ok"), ("completion", "ok")]
    completion = rows[1]
    assert completion.cost_usd > 0  # the simulator's usage, at a dollar a token
    body = simulator.last_request(name)["body"]
    assert body["max_tokens"] >= 64 and "temperature" not in body  # works on reasoning models
    spent = completion.cost_usd
    at = T0
    while spent < 30:
        at += timedelta(seconds=10)
        [_, more] = _cycle(config, at)
        spent += more.cost_usd
    [only_liveness] = _cycle(config, at + timedelta(seconds=10))
    assert only_liveness.kind == "liveness"
    # Past midnight UTC the cap starts again.
    assert len(_cycle(config, at + timedelta(days=1))) == 2
    assert spent == sum(p.cost_usd for p in Probe.objects.filter(kind="completion", at__lt=T0 + timedelta(hours=1)))
    assert isinstance(spent, Decimal)


def test_live_traffic_makes_the_completion_probe_unnecessary(simulator: SimulatorServer, name: str, db: None) -> None:
    config = _config(simulator, name, probe="{completion: true}")
    make_attempt(create_organization(name="Live"), started_at=T0 - timedelta(seconds=5), deployment=f"{name}/chat-up")
    assert Attempt.objects.filter(deployment=f"{name}/chat-up").exists()
    assert [r.kind for r in _cycle(config, T0)] == ["liveness"]


def test_a_successful_completion_probe_closes_an_open_breaker_for_every_worker(
    simulator: SimulatorServer, name: str, db: None
) -> None:
    config = _config(simulator, name, probe="{completion: true}")
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "gw")
    opened = shared.Transition(f"{name}/chat-up", "open", time.time() - 1, 1, time.time() - 2, "a-worker")
    shared.publish(client, prefix, opened)
    rows = _cycle(config, datetime.now(UTC))
    assert [(r.kind, r.result) for r in rows] == [("liveness", "ok"), ("completion", "ok")]  # a half-open trial
    breaker = shared.read_all(client, prefix, time.time())[f"breaker:{name}/chat-up"]
    assert (breaker.kind, breaker.origin) == ("closed", "probe")


def test_a_completion_probe_on_a_model_the_provider_does_not_serve_stops_start_up(
    simulator: SimulatorServer, name: str
) -> None:
    with pytest.raises(ConfigFileError) as error:
        _config(simulator, name, probe="{completion: [chat, gpt-9]}")
    assert str(error.value).startswith("probes.yaml:2: providers[0].probe.completion[1]: ")
    assert "serves no model 'gpt-9'" in str(error.value)
