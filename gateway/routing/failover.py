"""Same-request failover: try a model's deployments in the router's order, then its fallbacks.

The table in the README ("Failover semantics") is implemented here, one branch per row.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.routing import router
from gateway.upstream.adapters import ADAPTERS
from gateway.events.records import AttemptEvent
from gateway.ids import uuid7 as new_event_id
from gateway.conf.domain import Deployment, Model
from gateway.errors import AttemptError, GatewayError
from gateway.events.outcomes import Kind, Outcome, kind_of
from gateway.keys import KeyInfo
from gateway.upstream.attempt import Deadlines, OpenAttempt, StreamBroken, open_attempt, read_rest
from gateway.upstream.chunks import StreamState
from gateway.upstream.operation import Operation
from gateway.usage import charge

if TYPE_CHECKING:
    from gateway.runtime import Runtime

log = logging.getLogger(__name__)

RETRY_BACKOFF = (0.05, 0.25)
_RETRYABLE = {Outcome.CONNECT, Outcome.SERVER_ERROR, Outcome.STREAM_CUT, Outcome.BAD_RESPONSE}
_BANNED = {Outcome.TIMEOUT, Outcome.STALL}


@dataclass
class Job:
    """One client request, validated."""

    request_id: str
    key: KeyInfo
    body: dict[str, Any]
    stream: bool
    wants_usage: bool
    choices: int
    requested: str
    model: Model
    pinned: Deployment | None
    budget_until: float
    estimated_tokens: int = 0
    limit_window: int = 0  # the limiter minute charged with the estimate
    rate_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    # Every attempt event recorded for this request: what settling charges.
    events: list[AttemptEvent] = field(default_factory=list)
    settled: bool = False
    served: Served | None = None
    # None for chat, the upstream operation otherwise (embeddings, legacy completions).
    operation: Operation | None = None
    # The body as each adapter's upstream_body hook shaped it, computed once per hook.
    _bodies: dict[Any, dict[str, Any]] = field(default_factory=dict, repr=False)

    def body_for(self, deployment: Deployment) -> dict[str, Any]:
        """The body as this deployment's adapter should see it."""
        shape = ADAPTERS[deployment.provider.kind].upstream_body
        body = self._bodies.get(shape)
        if body is None:
            body = self._bodies[shape] = shape(self.body)
        return body


@dataclass
class Served:
    opened: OpenAttempt
    model: Model
    attempt_no: int
    event: AttemptEvent
    clock_started: float
    chunks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Retry:
    deployment: Deployment
    wait: float


class Failover:
    def __init__(self, runtime: Runtime, job: Job) -> None:
        self.runtime = runtime
        self.job = job
        self.loop = asyncio.get_running_loop()
        self.attempts = 0
        self.banned: set[str] = set()
        self.errors: list[AttemptError] = []
        self.failed_on: list[str] = []  # the provider of each error, for the client's message
        self.context_error: AttemptError | None = None

    async def run(self) -> Served:
        job = self.job
        tiers = [job.model]
        # Another embedding model's vectors would not match the client's index: no fallbacks.
        if job.pinned is None and not (job.operation is not None and job.operation.whole):
            allowed = job.key.allowed_models
            # A key limited to some models must not reach others through a fallback.
            tiers += [self.runtime.config.models[n] for n in job.model.fallbacks if not allowed or n in allowed]
        for tier in tiers:
            if self.context_error is not None and not _may_fit(tier, job.model):
                continue
            served = await self._try_model(tier)
            if served is not None:
                return served
        raise self._final_error()

    async def _try_model(self, model: Model) -> Served | None:
        deployments = (self.job.pinned,) if self.job.pinned else model.deployments
        deployments = self.runtime.credentials.deployments_for(self.job.key.org_id, deployments)
        operation = self.job.operation
        if operation is not None:
            deployments = tuple(d for d in deployments if operation.offered(d))
        tried: set[str] = set()
        retries: list[_Retry] = []
        retried = False
        health = self.runtime.health
        while self.loop.time() < self.job.budget_until:
            now = self.loop.time()
            queue = router.plan(deployments, health, now=now, exclude=self.banned | tried)
            if queue:
                deployment = queue[0]
            elif retries and not retried:
                retried = True
                retry = min(retries, key=lambda r: r.wait)
                if now + retry.wait >= self.job.budget_until:
                    return None
                await asyncio.sleep(retry.wait)
                deployment = retry.deployment
            else:
                return None
            result = await self._attempt(deployment, model)
            if isinstance(result, Served):
                return result
            allowed = self._after_failure(deployment, result, tried)
            if allowed is not None:
                retries.append(allowed)
            if result.failure is Outcome.CONTEXT_LENGTH:
                return None
        return None

    def _after_failure(self, deployment: Deployment, error: AttemptError, tried: set[str]) -> _Retry | None:
        """Update health per the failover table; return a same-deployment retry if allowed."""
        health = self.runtime.health
        now = self.loop.time()
        self.errors.append(error)
        failure = error.failure
        if failure in _BANNED:
            self.banned.add(deployment.id)
            health.record_failure(deployment.id, now)
            return None
        tried.add(deployment.id)
        if failure is Outcome.RATE_LIMITED:
            wait = health.record_rate_limited(deployment.id, now, error.retry_after)
            if wait <= self.runtime.max_retry_after_wait:
                return _Retry(deployment, wait)
            return None
        if failure is Outcome.MISCONFIGURED:
            health.record_failure(deployment.id, now, misconfigured=error.message)
            return None
        if failure is Outcome.UNSUPPORTED:
            health.record_neutral(deployment.id)
            return None
        if failure is Outcome.CONTEXT_LENGTH:
            health.record_neutral(deployment.id)
            self.context_error = error
            return None
        if failure is Outcome.CLIENT_ERROR:
            health.record_neutral(deployment.id)
            raise GatewayError(
                error.status or 400,
                error.message,
                type=error.error_type or "invalid_request_error",
                code=error.code,
                param=error.param,
            )
        health.record_failure(deployment.id, now)
        if failure in _RETRYABLE and health.is_available(deployment.id, now):
            return _Retry(deployment, random.uniform(*RETRY_BACKOFF))
        return None

    async def _attempt(self, deployment: Deployment, model: Model) -> Served | AttemptError:
        job = self.job
        self.attempts += 1
        attempt_no = self.attempts
        clock_started = time.perf_counter()
        now = self.loop.time()
        self.runtime.health.begin_attempt(deployment.id, now)
        timeouts = deployment.provider.timeouts
        deadlines = Deadlines(
            first_token=now + timeouts.first_token,
            total=min(now + timeouts.total, job.budget_until),
            idle=timeouts.idle,
        )
        state = StreamState(target_model=model.name, choices=job.choices)
        event = self._event(deployment, model, attempt_no)
        try:
            body = job.body_for(deployment) if job.operation is None else job.body
            opened = await open_attempt(self.runtime.transport, deployment, body, state, deadlines, job.operation)
            chunks = await _collect(opened) if not job.stream else []
        except AttemptError as error:
            self._log_failure(event, error, clock_started)
            return error
        except StreamBroken as broken:
            cut = AttemptError(broken.failure, str(broken))
            self._log_failure(event, cut, clock_started)
            return cut
        except Exception as exc:
            # A fault of the gateway's, not of the deployment: the client gets a 500.
            self.runtime.health.record_neutral(deployment.id)
            event.outcome = Outcome.ERROR.value
            event.error = f"gateway error: {exc.__class__.__name__}"
            self._record_ended(event, state, deployment, clock_started)
            raise
        except BaseException:
            # The client went away (or we are shutting down): the attempt is still logged, and
            # whatever the provider already generated is charged.
            self.runtime.health.record_neutral(deployment.id)
            event.outcome = Outcome.CANCELLED.value
            self._record_ended(event, state, deployment, clock_started)
            raise
        ttft_ms = opened.ttft * 1000 if opened.ttft is not None else None
        done = self.loop.time()
        self.runtime.health.record_success(deployment.id, done, ttft_ms)
        headroom = ADAPTERS[deployment.provider.kind].headroom(opened.response.headers)
        self.runtime.health.record_headroom(deployment.id, done, headroom)
        event.ttft_ms = ttft_ms
        event.rescued = attempt_no > 1
        event.final = True
        return Served(
            opened=opened, model=model, attempt_no=attempt_no, event=event, clock_started=clock_started, chunks=chunks
        )

    def _event(self, deployment: Deployment, model: Model, attempt_no: int) -> AttemptEvent:
        job = self.job
        return AttemptEvent(
            id=new_event_id(),
            request_id=job.request_id,
            attempt=attempt_no,
            started_at=time.time(),
            org_id=job.key.org_id,
            key_id=job.key.id,
            requested_model=job.requested,
            model=model.name,
            provider=deployment.provider.name,
            deployment=deployment.id,
            stream=job.stream,
            outcome=Outcome.OK.value,
            status_code=None,
            error="",
            latency_ms=0.0,
            ttft_ms=None,
            prompt_tokens=None,
            completion_tokens=None,
            cached_tokens=None,
            rescued=False,
            final=False,
            malformed_events=0,
        )

    def _log_failure(self, event: AttemptEvent, error: AttemptError, clock_started: float) -> None:
        event.outcome = error.failure.value
        event.status_code = error.status
        event.error = error.message[:500]
        event.latency_ms = (time.perf_counter() - clock_started) * 1000
        self.failed_on.append(event.provider)
        self._record(event)

    def _record_ended(self, event: AttemptEvent, state: StreamState, deployment: Deployment, started: float) -> None:
        event.latency_ms = (time.perf_counter() - started) * 1000
        charge(event, self.job.body, state, deployment)
        self._record(event)

    def _record(self, event: AttemptEvent) -> None:
        self.job.events.append(event)
        self.runtime.log.record(event)

    def _final_error(self) -> GatewayError:
        name = self.job.model.name
        if self.context_error is not None and all(
            e.failure in (Outcome.CONTEXT_LENGTH, Outcome.RATE_LIMITED, Outcome.MISCONFIGURED) for e in self.errors
        ):
            error = self.context_error
            return GatewayError(
                error.status or 400,
                error.message,
                code=error.code or "context_length_exceeded",
                param=error.param or "messages",
                outcome=Outcome.CONTEXT_LENGTH,
            )
        if not self.errors:
            return self._nothing_available(name)
        if all(e.failure is Outcome.UNSUPPORTED for e in self.errors):
            # No deployment could express the request: the client must change it.
            first = self.errors[0]
            return GatewayError(
                first.status or 400,
                first.message,
                type=first.error_type or "invalid_request_error",
                code=first.code,
                param=first.param,
                outcome=Outcome.UNSUPPORTED,
            )
        # The client learns which provider failed and how; the upstream's own text (addresses,
        # hosts, echoed input) stays in the attempt log and the server log.
        last = f"{self.failed_on[-1]}: {self.errors[-1].failure.value}" if self.failed_on else "unknown"
        summary = f"all {self.attempts} upstream attempts for model {name!r} failed; last error: {last}"
        log.info("request %s: %s (%s)", self.job.request_id, summary, self.errors[-1].message)
        if all(e.failure is Outcome.RATE_LIMITED for e in self.errors):
            return self._rate_limited(name, summary)
        if all(e.failure in _BANNED for e in self.errors):
            return GatewayError(504, summary, type="server_error", code="upstream_timeout", outcome=Outcome.TIMEOUT)
        last_failure = self.errors[-1].failure
        return GatewayError(502, summary, type="server_error", code="upstream_error", outcome=last_failure)

    def _nothing_available(self, name: str) -> GatewayError:
        health = self.runtime.health
        deployments = (self.job.pinned,) if self.job.pinned else self.job.model.deployments
        cooldowns = [health.get(d.id).cooldown_until for d in deployments]
        now = self.loop.time()
        if cooldowns and min(cooldowns) > now:
            return self._rate_limited(name, f"every deployment of model {name!r} is rate-limited upstream")
        return GatewayError(
            503,
            f"no healthy deployment for model {name!r}",
            type="server_error",
            code="no_healthy_deployment",
            outcome=Outcome.NO_DEPLOYMENT,
        )

    def _rate_limited(self, name: str, message: str) -> GatewayError:
        health = self.runtime.health
        deployments = (self.job.pinned,) if self.job.pinned else self.job.model.deployments
        now = self.loop.time()
        wait = max(1, int(min(health.get(d.id).cooldown_until for d in deployments) - now + 0.999))
        return GatewayError(
            429,
            message,
            type="requests",
            code="rate_limit_exceeded",
            headers=((b"retry-after", str(wait).encode()),),
            outcome=Outcome.RATE_LIMITED,
        )


def finish_served(runtime: Runtime, job: Job, served: Served, outcome: Outcome) -> None:
    """Close the served attempt's record once the client has what it will get: its outcome,
    latency, tokens and cost; a cut after content counts against the deployment's health."""
    event = served.event
    event.outcome = outcome.value
    event.latency_ms = (time.perf_counter() - served.clock_started) * 1000
    # Without the provider's usage, the estimate still bills and limits the request.
    charge(event, job.body, served.opened.state, served.opened.deployment)
    if kind_of(outcome) is Kind.FAILURE:
        runtime.health.record_failure(served.opened.deployment.id, asyncio.get_running_loop().time())
    job.events.append(event)
    runtime.log.record(event)


def _may_fit(tier: Model, original: Model) -> bool:
    """After a context-length error, skip fallbacks known to have no larger window."""
    if tier.context_window is None or original.context_window is None:
        return True
    return tier.context_window > original.context_window


async def _collect(opened: OpenAttempt) -> list[dict[str, Any]]:
    """Non-streaming: read the rest of the answer inside the attempt, so a cut is still retryable."""
    chunks: list[dict[str, Any]] = []
    async for batch in read_rest(opened):
        chunks.extend(chunk for _, chunk in batch)
    return chunks
