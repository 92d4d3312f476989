"""Probing every configured deployment, and turning probes and live traffic into health states.

Each cycle (a Celery beat task, every few seconds) claims the deployments whose next probe is due
with a conditional UPDATE (so two workers never probe one twice), probes them concurrently, records a
Probe row each, then re-evaluates every deployment's state (monitoring/states.py).

- Liveness: the provider's free, authenticated model list or model-get (the adapter's probe_request).
- Completion: paid, so only where the operator enabled it, only when live traffic did not already
  probe the deployment in the last interval (or its breaker waits for a trial), and only under the
  deployment's daily cost cap. Its cost is the operator's spend, kept on the probe row.
A 4xx other than 408/429 means the probe itself is wrong: "misconfigured", neither up nor down.
A successful completion probe closes an open breaker, for every worker, through the shared health.
"""

from __future__ import annotations

import contextlib
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import redis
from django.conf import settings
from django.db.models import Avg, Count, Q, Sum

from gateway import metrics
from gateway.conf.domain import Deployment, GatewayConfig
from gateway.errors import AttemptError
from gateway.events.outcomes import Kind, Outcome, kind_of
from gateway.routing import shared
from gateway.upstream.adapters import ADAPTERS
from monitoring import states
from monitoring.models import Attempt, DeploymentStatus, Probe

TIMEOUT = 10.0
WINDOW = timedelta(minutes=5)
STALE_BREAKER = timedelta(minutes=5)  # an open breaker nobody has tried since says little
# Room for a reasoning model to think before it answers: max_tokens=1 fails on those.
COMPLETION_BODY = {"messages": [{"role": "user", "content": "Reply with the single word OK."}], "max_tokens": 256}
FAILURES = tuple(o.value for o in Outcome if kind_of(o) is Kind.FAILURE)
SUCCESSES = tuple(o.value for o in Outcome if kind_of(o) is Kind.SUCCESS)


@dataclass(frozen=True)
class ProbeOutcome:
    result: str
    status: int | None
    latency_ms: float
    detail: str
    cost: Decimal = Decimal(0)


def _classify(status: int) -> tuple[str, str]:
    if status < 400:
        return Probe.Result.OK, f"HTTP {status}"
    if status in (408, 429):
        return Probe.Result.FAILED, f"HTTP {status}: {'throttled' if status == 429 else 'timed out'}"
    if status < 500:
        return Probe.Result.MISCONFIGURED, f"HTTP {status}: the probe is refused (key, model or endpoint)"
    return Probe.Result.FAILED, f"HTTP {status}"


def _unsigned(error: AttemptError) -> ProbeOutcome:
    """Credentials that cannot be had (a refused or unreachable token endpoint): nothing was sent."""
    result = Probe.Result.MISCONFIGURED if error.failure is Outcome.MISCONFIGURED else Probe.Result.FAILED
    return ProbeOutcome(result, None, 0.0, f"credentials: {error.failure.value}")


def probe_liveness(client: httpx.Client, deployment: Deployment) -> ProbeOutcome | None:
    try:
        request = ADAPTERS[deployment.provider.kind].probe_request(deployment)
    except AttemptError as error:
        return _unsigned(error)
    if request is None:
        return None
    started = time.perf_counter()
    try:
        response = client.get(request.url, headers=request.headers)
    except httpx.HTTPError as exc:  # the class only: its text may hold an address
        return ProbeOutcome(Probe.Result.FAILED, None, (time.perf_counter() - started) * 1000, type(exc).__name__)
    result, detail = _classify(response.status_code)
    return ProbeOutcome(result, response.status_code, (time.perf_counter() - started) * 1000, detail)


def probe_completion(client: httpx.Client, deployment: Deployment) -> ProbeOutcome:
    adapter = ADAPTERS[deployment.provider.kind]
    try:
        upstream = adapter.build_request(deployment, COMPLETION_BODY)
    except AttemptError as error:
        return _unsigned(error)
    started = time.perf_counter()
    try:
        response = client.post(upstream.url, headers=upstream.headers, content=upstream.content)
    except httpx.HTTPError as exc:
        return ProbeOutcome(Probe.Result.FAILED, None, (time.perf_counter() - started) * 1000, type(exc).__name__)
    latency = (time.perf_counter() - started) * 1000
    result, detail = _classify(response.status_code)
    cost = _cost(deployment, response.content) if result == Probe.Result.OK else Decimal(0)
    return ProbeOutcome(result, response.status_code, latency, detail, cost)


def _cost(deployment: Deployment, body: bytes) -> Decimal:
    decoder = ADAPTERS[deployment.provider.kind].decoder(deployment)
    usage: dict[str, int] = {}
    for _, chunk in [*decoder.feed(body), *decoder.flush()]:
        usage = chunk.get("usage") or usage
    if deployment.price is None:
        return Decimal(0)
    prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    return Decimal(str(deployment.price.cost(prompt, completion, 0))).quantize(Decimal("1e-12"))


# The cycle


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)


def _prefix() -> str:
    return str(settings.CACHES["default"].get("KEY_PREFIX", "gw"))


def _breakers(now: float) -> dict[str, shared.Transition]:
    """The last breaker transition of each deployment; empty when Redis cannot be read."""
    try:
        found = shared.read_all(_redis(), _prefix(), now, live_only=False)
    except (redis.RedisError, OSError):
        return {}
    return {t.deployment: t for t in found.values() if t.kind in ("open", "closed")}


def ensure_rows(*, config: GatewayConfig, now: datetime) -> None:
    rows = [DeploymentStatus(deployment=d.id, provider=d.provider.name, since=now, next_probe_at=now)
            for d in config.deployments()]  # fmt: skip
    DeploymentStatus.objects.bulk_create(rows, ignore_conflicts=True)


def claim_due(*, config: GatewayConfig, now: datetime) -> list[Deployment]:
    """The deployments whose probe is due, each claimed by exactly one caller."""
    by_id = {d.id: d for d in config.deployments()}
    claimed = []
    due = DeploymentStatus.objects.filter(deployment__in=list(by_id), next_probe_at__lte=now)
    for deployment_id, next_at in due.values_list("deployment", "next_probe_at"):
        deployment = by_id[deployment_id]
        jitter = deployment.provider.probe.interval * random.uniform(0.8, 1.2)
        updated = DeploymentStatus.objects.filter(deployment=deployment_id, next_probe_at=next_at).update(
            next_probe_at=now + timedelta(seconds=jitter)
        )
        if updated == 1:
            claimed.append(deployment)
    return claimed


def wants_completion(
    *, config: GatewayConfig, deployment: Deployment, now: datetime, breaker: shared.Transition | None
) -> bool:
    settings_ = deployment.provider.probe
    if not settings_.completes(deployment, config.model_names(deployment.id)) or config.embeds_only(deployment.id):
        return False
    half_open = breaker is not None and breaker.kind == "open" and breaker.until <= now.timestamp()
    recent = now - timedelta(seconds=settings_.interval)
    if not half_open and Attempt.objects.filter(deployment=deployment.id, started_at__gte=recent).exists():
        return False  # live traffic already is a probe
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    spent = Probe.objects.filter(deployment=deployment.id, kind=Probe.Kind.COMPLETION, at__gte=midnight).aggregate(
        total=Sum("cost_usd")
    )["total"] or Decimal(0)
    return spent < Decimal(str(settings_.daily_cost_cap))


def _probe_one(deployment: Deployment, completion: bool) -> list[tuple[str, ProbeOutcome]]:
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        done = []
        liveness = probe_liveness(client, deployment)
        if liveness is not None:
            done.append((Probe.Kind.LIVENESS.value, liveness))
        if completion and (liveness is None or liveness.result == Probe.Result.OK):
            done.append((Probe.Kind.COMPLETION.value, probe_completion(client, deployment)))
        return done


def run_probes(*, config: GatewayConfig, now: datetime) -> list[Probe]:
    ensure_rows(config=config, now=now)
    due = claim_due(config=config, now=now)
    if not due:
        return []
    breakers = _breakers(now.timestamp())
    plans = [(d, wants_completion(config=config, deployment=d, now=now, breaker=breakers.get(d.id))) for d in due]
    with ThreadPoolExecutor(max_workers=min(16, len(plans))) as pool:
        results = list(pool.map(lambda plan: _probe_one(*plan), plans))
    rows = [
        Probe(deployment=d.id, provider=d.provider.name, at=now, kind=kind, result=o.result, status=o.status,
              latency_ms=o.latency_ms, cost_usd=o.cost, detail=o.detail[:200])
        for (d, _), done in zip(plans, results, strict=True) for kind, o in done
    ]  # fmt: skip
    Probe.objects.bulk_create(rows)
    for row in rows:
        metrics.note_probe(row.provider, row.deployment, row.kind, row.result, float(row.cost_usd or 0))
        breaker = breakers.get(row.deployment)
        if row.kind == Probe.Kind.COMPLETION and row.result == Probe.Result.OK and breaker and breaker.kind == "open":
            _close_breaker(row.deployment, now.timestamp())
    return rows


def _close_breaker(deployment_id: str, now: float) -> None:
    closed = shared.Transition(deployment_id, "closed", 0.0, 0, now, origin="probe")
    # If Redis is away, the next successful probe (or live traffic) closes it.
    with contextlib.suppress(redis.RedisError, OSError):
        shared.publish(_redis(), _prefix(), closed)


def prune_probes(*, now: datetime) -> int:
    """Delete probe rows older than RAW_RETENTION_DAYS, but each deployment's last one (the operator's status
    page shows it, however old). Returns the rows deleted."""
    latest = Probe.objects.order_by("deployment", "-at", "-id").distinct("deployment").values("pk")
    cutoff = now - timedelta(days=settings.RAW_RETENTION_DAYS)
    return Probe.objects.filter(at__lt=cutoff).exclude(pk__in=latest).delete()[0]


# States


def evidence(*, deployment_id: str, now: datetime, breaker: shared.Transition | None) -> states.Evidence:
    since = now - WINDOW
    probes = list(
        Probe.objects.filter(deployment=deployment_id, at__gte=since)
        .exclude(result=Probe.Result.MISCONFIGURED)
        .order_by("-at", "-id")
        .values_list("result", flat=True)[:20]
    )
    in_row = 0
    for result in probes:
        if result != Probe.Result.FAILED:
            break
        in_row += 1
    live = Attempt.objects.filter(deployment=deployment_id, started_at__gte=since).aggregate(
        requests=Count("id", filter=Q(outcome__in=FAILURES + SUCCESSES)),
        failures=Count("id", filter=Q(outcome__in=FAILURES)),
        ttft=Avg("ttft_ms", filter=Q(outcome__in=SUCCESSES)),
    )
    open_ = breaker is not None and breaker.kind == "open" and breaker.until > (now - STALE_BREAKER).timestamp()
    return states.Evidence(
        breaker_open=open_,
        probe_failures=in_row,
        probed=bool(probes),
        requests=int(live["requests"]),
        failures=int(live["failures"]),
        ttft_ms=live["ttft"],
    )


def evaluate_states(*, config: GatewayConfig, now: datetime) -> int:
    """Re-evaluate every configured deployment; returns how many state changes were recorded."""
    ensure_rows(config=config, now=now)
    breakers = _breakers(now.timestamp())
    changes = 0
    for status in DeploymentStatus.objects.filter(deployment__in=[d.id for d in config.deployments()]):
        current = states.Current(status.state, status.since, status.pending, status.pending_since)
        found = evidence(deployment_id=status.deployment, now=now, breaker=breakers.get(status.deployment))
        decision = states.decide(current, found, now)
        if decision != states.Decision(status.state, status.since, decision.reason, status.pending,
                                       status.pending_since, changed=False):  # fmt: skip
            changes += states.save(status=status, decision=decision)
    return changes


def shared_view(*, now: float) -> states.SharedView:
    """Cool-downs in force and breaker opens today, from the shared health; empty without Redis."""
    try:
        client = _redis()
        found = shared.read_all(client, _prefix(), now)
        opens = shared.opens_today(client, _prefix(), now)
    except (redis.RedisError, OSError):
        return states.SharedView({}, {})
    cooldowns = {t.deployment: datetime.fromtimestamp(t.until, tz=UTC) for t in found.values() if t.kind == "cooldown"}
    return states.SharedView(cooldowns, opens)
