"""/metrics of a real granian server with two worker processes, after real traffic through the simulator:
every worker's counts are in one scrape, every series of a metric has the same labels, and a worker
killed with -9 leaves its counts but not its liveness behind."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from accounts.services import create_api_key, create_organization
from config.launcher import fresh_metrics_dir
from monitoring.models import DeploymentStateChange
from simulator.harness import SimulatorServer
from tests.live import database_url

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-tests-0123456789"
TIMEOUTS = "{connect: 1, first_token: 2, idle: 2, total: 20}"
EXPLICIT_LABELS_FORBIDDEN = {"org", "org_id", "organization", "key", "key_id", "request_id"}


def _config(sim: SimulatorServer) -> str:
    providers = "".join(
        f"  - {{name: {name}, kind: openai, base_url: '{sim.url_for(name)}', api_key: sk-{name},"
        f" timeout: {TIMEOUTS}}}\n"
        for name in ("mp-a", "mp-b", "mp-c")
    )
    return f"""providers:
{providers}models:
  - name: chat
    deployments:
      - {{provider: mp-a, model: chat}}
  - name: flaky
    deployments:
      - {{provider: mp-c, model: flaky}}
      - {{provider: mp-b, model: flaky}}
"""


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    metrics_dir: Path
    key: str
    limited_key: str

    def scrape(self) -> list[Sample]:
        response = httpx.get(f"{self.url}/metrics", headers={"authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert response.status_code == 200, response.text[:300]
        families = list(text_string_to_metric_families(response.text))
        _assert_one_label_set_per_metric(families)
        return [sample for family in families for sample in family.samples]

    def workers(self) -> list[psutil.Process]:
        return [p for p in psutil.Process(self.process.pid).children(recursive=True) if p.is_running()]

    def chat(self, model: str, key: str | None = None) -> int:
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
        # A new connection each time, so that both workers get some of them.
        headers = {"authorization": f"Bearer {key or self.key}", "connection": "close"}
        return httpx.post(f"{self.url}/v1/chat/completions", json=body, headers=headers, timeout=30).status_code


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, transactional_db: None, simulator: SimulatorServer) -> Iterator[Served]:
    simulator.reset()
    org = create_organization(name=f"Metrics {uuid.uuid4().hex[:6]}", by_operator=True)
    key = create_api_key(organization=org, name="traffic").plaintext
    limited_key = create_api_key(organization=org, name="limited", rpm_limit=1).plaintext
    DeploymentStateChange.objects.create(
        deployment="mp-a/chat", provider="mp-a", at="2026-03-01T10:00Z", old="unknown", new="up"
    )
    (tmp_path / "gateway.yaml").write_text(_config(simulator))
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DATA_DIR": str(tmp_path),
        "GATEWAY_CONFIG": str(tmp_path / "gateway.yaml"),
        "PROMETHEUS_MULTIPROC_DIR": str(fresh_metrics_dir(tmp_path)),
        "METRICS_TOKEN": TOKEN,
        "CACHE_PREFIX": f"metrics-{uuid.uuid4().hex[:8]}",
    }
    command = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "2", "--respawn-failed-workers", "--no-ws", "--log-level", "warning"]
    process = subprocess.Popen([*command, "config.asgi:application"], cwd=ROOT, env=env, start_new_session=True)
    server = Served(f"http://127.0.0.1:{port}", process, tmp_path / "metrics", key, limited_key)
    try:
        _wait_until(lambda: _answers(server), "granian never served /v1/models", timeout=60)
        yield server
    finally:
        simulator.reset()
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _answers(server: Served) -> bool:
    assert server.process.poll() is None, "granian exited"
    try:
        response = httpx.get(f"{server.url}/v1/models", headers={"authorization": f"Bearer {server.key}"}, timeout=2)
    except httpx.TransportError:
        return False
    return response.status_code == 200


def _wait_until(condition: object, message: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, message
        time.sleep(0.2)


def _assert_one_label_set_per_metric(families: list) -> None:  # type: ignore[type-arg]
    series = Counter((s.name, tuple(sorted(s.labels.items()))) for family in families for s in family.samples)
    assert [key for key, count in series.items() if count > 1] == []
    names = Counter(family.name for family in families)
    assert [name for name, count in names.items() if count > 1] == []
    for family in families:
        label_sets = {frozenset(set(s.labels) - {"le"}) for s in family.samples}
        assert len(label_sets) <= 1, (family.name, label_sets)
        assert not set().union(*label_sets) & EXPLICIT_LABELS_FORBIDDEN, family.name


def _total(samples: list[Sample], name: str, **labels: str) -> float:
    return sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())


def _per_process(metrics_dir: Path, kind: str, name: str, scratch: Path) -> dict[int, float]:
    """One metric's value in each process, each read from that process's own file alone."""
    counted = {}
    for path in metrics_dir.glob(f"{kind}_*.db"):
        alone = scratch / uuid.uuid4().hex
        alone.mkdir(parents=True)
        shutil.copy(path, alone)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        pid = int(path.stem.rsplit("_", 1)[1])
        counted[pid] = sum(s.value for m in registry.collect() for s in m.samples if s.name == name)
    return counted


def test_one_scrape_sums_every_worker_with_one_label_set_per_metric(
    served: Served, simulator: SimulatorServer, tmp_path: Path
) -> None:
    simulator.set_fault("mp-a", headers_delay=0.2)  # keeps requests in flight, so that both workers take some
    simulator.set_fault("mp-c", status=500)
    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda _: served.chat("chat"), range(40)))
    assert statuses == [200] * 40
    assert [served.chat("flaky") for _ in range(2)] == [200, 200]
    limited = [served.chat("chat", served.limited_key) for _ in range(3)]
    assert limited.count(429) >= 1
    sent = 45

    _wait_until(lambda: _total(served.scrape(), "gateway_requests_total") == sent, "the scrape never summed them")
    samples = served.scrape()
    assert _total(samples, "gateway_worker_processes") == 2
    per_process = _per_process(served.metrics_dir, "counter", "gateway_requests_total", tmp_path / "scratch")
    assert len([pid for pid, count in per_process.items() if count]) == 2, per_process
    assert sum(per_process.values()) == sent

    ok_on_a = 40 + limited.count(200)
    assert _total(samples, "gateway_requests_total", provider="mp-a", model="chat", outcome="ok") == ok_on_a
    assert _total(samples, "gateway_request_duration_seconds_count", provider="mp-a", model="chat") == ok_on_a
    assert _total(samples, "gateway_attempt_duration_seconds_bucket", provider="mp-a", le="0.1") == 0  # 0.2 s delay
    assert _total(samples, "gateway_attempts_total", provider="mp-c", outcome="server_error") >= 1
    assert _total(samples, "gateway_failovers_total", provider="mp-b", model="flaky") >= 1
    assert _total(samples, "gateway_rescued_requests_total", provider="mp-b", model="flaky") >= 1
    assert _total(samples, "gateway_limiter_refusals_total", reason="rate_limit") == limited.count(429)
    assert _total(samples, "gateway_deployment_state", deployment="mp-a/chat", state="up") == 1
    assert _total(samples, "gateway_event_spool_files") == 0

    workers_before = served.workers()
    victim = workers_before[0]
    victim.kill()
    victim.wait(timeout=10)
    _wait_until(lambda: len(served.workers()) == 2, "granian did not respawn the worker")
    (newcomer,) = {p.pid for p in served.workers()} - {p.pid for p in workers_before}

    def newcomer_reports() -> bool:
        live = _per_process(served.metrics_dir, "gauge_livesum", "gateway_worker_processes", tmp_path / "scratch")
        return live.get(newcomer) == 1

    _wait_until(newcomer_reports, "the new worker never started its metrics")
    after = served.scrape()
    assert _total(after, "gateway_worker_processes") == 2  # the survivor and the newcomer, not the dead one
    assert _total(after, "gateway_requests_total") == sent  # the dead one's counts stay: counters never go back


def test_each_run_of_the_product_starts_from_an_empty_metrics_dir(tmp_path: Path) -> None:
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_123.db").write_bytes(b"last run's counts")
    assert list(fresh_metrics_dir(tmp_path).iterdir()) == []
