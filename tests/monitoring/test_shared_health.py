"""Shared health: two gateway instances (separate processes, separate ports) and one Redis. When
one instance sees a deployment go down (or its provider's rate-limit headroom near zero), the other
stops sending it traffic within a second; without Redis each goes on with its own view, and catches
up when Redis is back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from accounts.services import create_api_key, create_organization
from config.embedded import EmbeddedRedis, start_redis
from gateway.routing.shared import Transition, channel, hash_key
from simulator.harness import SimulatorServer
from tests.monitoring.instances import GatewayProcess

TIMEOUTS = "{connect: 1, first_token: 2.0, idle: 2.0, total: 20}"


@dataclass
class Pair:
    a: GatewayProcess
    b: GatewayProcess
    key: str
    flaky: str  # the provider the tests break
    steady: str
    solo: str
    prefix: str
    redis: EmbeddedRedis
    redis_dir: Path


def _config(sim: SimulatorServer, flaky: str, steady: str, solo: str) -> str:
    providers = "".join(
        f"  - {{name: {name}, kind: openai, base_url: '{sim.url_for(name)}', api_key: sk-x, timeout: {TIMEOUTS}}}\n"
        for name in (flaky, steady, solo)
    )
    return f"""providers:
{providers}models:
  - name: shared
    deployments:
      - {{provider: {flaky}, model: shared}}
      - {{provider: {steady}, model: shared}}
  - name: lone
    deployments:
      - {{provider: {flaky}, model: shared}}
  - name: solo
    deployments:
      - {{provider: {solo}, model: solo}}
"""


@pytest.fixture
def pair(tmp_path: Path, simulator: SimulatorServer, transactional_db: None) -> Iterator[Pair]:
    tag = uuid.uuid4().hex[:8]
    flaky, steady, solo = f"flaky-{tag}", f"steady-{tag}", f"solo-{tag}"
    config = tmp_path / "gateway.yaml"
    config.write_text(_config(simulator, flaky, steady, solo))
    key = create_api_key(organization=create_organization(name="Shared health"), name="k").plaintext
    store: list[EmbeddedRedis] = [start_redis(tmp_path / "redis", throwaway=True)]
    prefix = f"shared-{tag}"
    log = tmp_path / "gateways.log"
    a = GatewayProcess(config=config, redis_url=store[0].url, prefix=prefix, log=log)
    b = GatewayProcess(config=config, redis_url=store[0].url, prefix=prefix, log=log)
    try:
        a.wait_ready(key)
        b.wait_ready(key)
        yield Pair(a, b, key, flaky, steady, solo, prefix, store[0], tmp_path / "redis")
    finally:
        a.stop()
        b.stop()
        simulator.clear_faults(flaky)
        for server in store:
            server.stop()


def _subscribers(client: redis.Redis, prefix: str) -> int:
    [(_, count)] = client.pubsub_numsub(channel(prefix))
    return int(count)


def test_a_breaker_opened_on_one_instance_is_skipped_by_the_other_within_a_second(
    pair: Pair, simulator: SimulatorServer
) -> None:
    simulator.set_fault(pair.flaky, status=500)
    for _ in range(5):  # three failures in a row open the breaker
        if simulator.attempts(pair.flaky) >= 3:
            break
        assert pair.a.chat(pair.key, "lone").status_code == 502
    opened = time.monotonic()
    seen = simulator.attempts(pair.flaky)
    time.sleep(0.1)
    for _ in range(5):  # B has never seen it fail: it would try it first, in the configured order
        assert pair.b.chat(pair.key, "shared").status_code == 200
    # The first open lasts ~1 s, then one trial may go through: B must not have tried before that.
    assert time.monotonic() - opened < 0.8
    assert simulator.attempts(pair.flaky) == seen, "instance B still sent traffic to the open deployment"
    assert simulator.attempts(pair.steady) >= 5


def test_without_redis_each_instance_serves_on_its_own_view_and_catches_up_after(
    pair: Pair, simulator: SimulatorServer
) -> None:
    client = redis.Redis.from_url(pair.redis.url)
    deadline = time.monotonic() + 10
    while _subscribers(client, pair.prefix) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pair.redis.stop()
    time.sleep(0.2)
    # Redis is gone: both instances still answer; A sees the flaky provider rate-limited for 30 s.
    simulator.set_fault(pair.flaky, status=429, retry_after="30")
    assert pair.a.chat(pair.key, "shared").status_code == 200
    assert pair.b.chat(pair.key, "solo").status_code == 200
    assert simulator.attempts(pair.flaky) == 1

    restarted = start_redis(pair.redis_dir, throwaway=True)
    try:
        client = redis.Redis.from_url(restarted.url)
        deadline = time.monotonic() + 15
        while _subscribers(client, pair.prefix) < 2 or not client.hlen(hash_key(pair.prefix)):
            assert time.monotonic() < deadline, "the instances did not reconnect and republish"
            time.sleep(0.05)
        time.sleep(0.3)
        simulator.clear_faults(pair.flaky)  # if B tried it now, it would answer (and count)
        for _ in range(3):
            assert pair.b.chat(pair.key, "shared").status_code == 200
        assert simulator.attempts(pair.flaky) == 1, "instance B did not catch up on A's cool-down"
    finally:
        restarted.stop()


def _published(pubsub: redis.client.PubSub, kind: str, deployment: str) -> int:
    """How many such transitions were announced (read until the channel is quiet)."""
    found = 0
    while (message := pubsub.get_message(timeout=0.1)) is not None:
        transition = Transition.decode(message["data"]) if message["type"] == "message" else None
        found += transition is not None and (transition.kind, transition.deployment) == (kind, deployment)
    return found


def test_headroom_near_zero_on_one_instance_sends_the_other_to_a_deployment_with_room(
    pair: Pair, simulator: SimulatorServer
) -> None:
    flaky = f"{pair.flaky}/shared"
    pubsub = redis.Redis.from_url(pair.redis.url).pubsub()
    pubsub.subscribe(channel(pair.prefix))
    simulator.set_rate_limit(pair.flaky, requests=10, tokens=1_000_000)
    try:
        for _ in range(9):  # the provider reports 9, 8, ... 1 requests left: 1 is under the low-water mark
            assert pair.a.chat(pair.key, "lone").status_code == 200
        time.sleep(0.2)
        # One message for nine answers: only the crossing is published.
        assert _published(pubsub, "low", flaky) == 1
        for _ in range(3):  # B has sent the flaky provider nothing, and it comes first in B's order
            assert pair.b.chat(pair.key, "shared").status_code == 200
        assert simulator.attempts(pair.flaky) == 9, "instance B did not prefer the deployment with headroom"
        assert simulator.attempts(pair.steady) == 3

        simulator.set_rate_limit(pair.flaky, requests=10, tokens=1_000_000)  # a new window
        assert pair.a.chat(pair.key, "lone").status_code == 200
        time.sleep(0.2)
        assert _published(pubsub, "headroom", flaky) == 1
        assert pair.b.chat(pair.key, "shared").status_code == 200
        assert simulator.attempts(pair.flaky) == 11, "instance B did not learn that the headroom came back"
    finally:
        simulator.clear_rate_limit(pair.flaky)
        pubsub.close()
