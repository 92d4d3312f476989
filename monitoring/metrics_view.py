"""GET /metrics: the Prometheus exposition, behind METRICS_TOKEN (docs/metrics.md).

The proxy's counters come from every worker process (gateway.metrics); deployment state and the
event pipeline's backlog are read here, at scrape time, so that nothing on the hot path computes them.
"""

from __future__ import annotations

import hmac
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from monitoring.models import DeploymentState, DeploymentStateChange

_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db")


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        # Not configured: the endpoint does not exist, rather than announce a door without a lock.
        raise Http404
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return HttpResponse("A valid bearer token is required.\n", status=401, headers={"WWW-Authenticate": "Bearer"})
    # The format Prometheus asks for (OpenMetrics, or the classic text format by default).
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(_registry()), content_type=content_type)


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        _forget_dead_processes(Path(directory))
        MultiProcessCollector(registry, path=directory)
    else:
        # One process (tests, or a single worker run by hand): its own values are the whole story.
        registry.register(_ThisProcess())
    registry.register(_DeploymentStates())
    registry.register(_SpoolBacklog(settings.GATEWAY_SPOOL_DIR))
    return registry


def _forget_dead_processes(directory: Path) -> None:
    """Drop the live gauges of workers that died without a shutdown (kill -9, a respawn)."""
    for path in directory.glob("gauge_live*.db"):
        match = _LIVE_GAUGE_FILE.fullmatch(path.name)
        if match and not _alive(int(match.group(1))):
            mark_process_dead(int(match.group(1)), str(directory))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _ThisProcess:
    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def _latest_states() -> list[tuple[str, str, str, float]]:
    """Each deployment's last recorded state: (deployment, provider, state, since as Unix time)."""
    rows = (
        DeploymentStateChange.objects.order_by("deployment", "-at", "-id")
        .distinct("deployment")
        .values_list("deployment", "provider", "new", "at")
    )
    return [(deployment, provider, new, at.timestamp()) for deployment, provider, new, at in rows]


class _DeploymentStates:
    def collect(self) -> Iterator[Metric]:
        state = GaugeMetricFamily(
            "gateway_deployment_state",
            "1 for the deployment's current state, 0 for the others.",
            labels=["provider", "deployment", "state"],
        )
        since = GaugeMetricFamily(
            "gateway_deployment_state_since_timestamp_seconds",
            "When the deployment entered its current state (Unix time).",
            labels=["provider", "deployment"],
        )
        for deployment, provider, current, at in _latest_states():
            for choice in DeploymentState.values:
                state.add_metric([provider, deployment, choice], 1.0 if choice == current else 0.0)
            since.add_metric([provider, deployment], at)
        yield state
        yield since


class _SpoolBacklog:
    """Events spooled to disk and not yet loaded into Postgres: the loader deletes a file once loaded."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def collect(self) -> Iterator[Metric]:
        files, size, oldest = 0, 0, None
        for path in self.directory.glob("events-*.jsonl"):
            try:
                stat = path.stat()
            except FileNotFoundError:  # loaded meanwhile
                continue
            files, size = files + 1, size + stat.st_size
            oldest = stat.st_mtime if oldest is None else min(oldest, stat.st_mtime)
        yield GaugeMetricFamily("gateway_event_spool_files", "Spooled event files not yet loaded.", value=files)
        yield GaugeMetricFamily("gateway_event_spool_bytes", "Size of the spooled event files.", value=size)
        lag = max(0.0, time.time() - oldest) if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "gateway_event_spool_lag_seconds", "Age of the oldest spooled event file; 0 when none.", value=lag
        )
