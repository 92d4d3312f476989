"""Deployment health: the one owner of circuit breakers, rate-limit cool-downs, provider rate-limit
headroom and latency.

Each worker keeps its registry in memory, so the hot path never waits on I/O. Transitions (a
breaker opens or closes, a cool-down starts, headroom falls below or rises above its low-water
mark) go to an optional listener, which gateway.routing.shared publishes through Redis; the
transitions other workers and instances publish come back through the ``apply_*`` methods. Nothing
else in the gateway mutates deployment health.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from gateway import metrics

FAILURE_THRESHOLD = 3
WINDOW_SECONDS = 30.0
WINDOW_MIN_REQUESTS = 10
WINDOW_FAILURE_RATE = 0.5
BASE_COOLDOWN = 1.0
MAX_COOLDOWN = 30.0
EWMA_ALPHA = 0.3
RATE_LIMIT_BASE_BACKOFF = 1.0
# Headroom is low when a provider's remaining requests or tokens fall under 5 % of the most seen
# (the limit, near enough: no third header is read) or under an absolute floor.
HEADROOM_LOW_FRACTION = 0.05
HEADROOM_MIN_REQUESTS = 2
HEADROOM_MIN_TOKENS = 1000
# A low mark holds this long unless a response shows headroom again: a deployment ranked last gets
# little traffic, so without it a mark from the window's end would outlive the window.
HEADROOM_HOLD = 15.0


# (deployment id, "open" | "closed" | "cooldown" | "low" | "headroom", its health after the change);
# must not block.
Listener = Callable[[str, str, "Health"], None]


class State(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(slots=True)
class Health:
    state: State = State.CLOSED
    consecutive_failures: int = 0
    opens: int = 0
    open_until: float = 0.0
    trial_in_flight: bool = False
    cooldown_until: float = 0.0
    rate_limit_streak: int = 0
    misconfigured: str | None = None
    ttft_ewma_ms: float | None = None
    peak_requests: int = 0  # the most remaining requests (tokens) a response reported
    peak_tokens: int = 0
    low_until: float = 0.0  # headroom near zero until then
    window: deque[tuple[float, bool]] = field(default_factory=deque)
    recent_failures: int = 0

    def _remember(self, now: float, ok: bool) -> None:
        self.window.append((now, ok))
        if not ok:
            self.recent_failures += 1
        horizon = now - WINDOW_SECONDS
        while self.window and self.window[0][0] < horizon:
            _, was_ok = self.window.popleft()
            if not was_ok:
                self.recent_failures -= 1


class HealthRegistry:
    def __init__(self, max_cooldown: float = MAX_COOLDOWN, listener: Listener | None = None) -> None:
        self.max_cooldown = max_cooldown
        self.listener = listener
        self._health: dict[str, Health] = {}

    def _changed(self, deployment_id: str, what: str, health: Health) -> None:
        if self.listener is not None:
            self.listener(deployment_id, what, health)

    def get(self, deployment_id: str) -> Health:
        health = self._health.get(deployment_id)
        if health is None:
            health = self._health[deployment_id] = Health()
        return health

    def snapshot(self) -> dict[str, Health]:
        return dict(self._health)

    def is_available(self, deployment_id: str, now: float) -> bool:
        """May a new attempt go to this deployment now? Half-open allows one trial at a time."""
        health = self.get(deployment_id)
        if now < health.cooldown_until:
            return False
        if health.state is State.OPEN:
            return now >= health.open_until
        if health.state is State.HALF_OPEN:
            return not health.trial_in_flight
        return True

    def begin_attempt(self, deployment_id: str, now: float) -> None:
        health = self.get(deployment_id)
        if health.state is State.OPEN and now >= health.open_until:
            health.state = State.HALF_OPEN
        if health.state is State.HALF_OPEN:
            health.trial_in_flight = True

    def record_success(self, deployment_id: str, now: float, ttft_ms: float | None) -> None:
        health = self.get(deployment_id)
        health._remember(now, True)
        health.consecutive_failures = 0
        health.rate_limit_streak = 0
        health.misconfigured = None
        health.trial_in_flight = False
        if health.state is not State.CLOSED:
            health.state = State.CLOSED
            health.opens = 0
            self._changed(deployment_id, "closed", health)
        if ttft_ms is not None:
            previous = health.ttft_ewma_ms
            health.ttft_ewma_ms = ttft_ms if previous is None else previous + EWMA_ALPHA * (ttft_ms - previous)

    def record_failure(self, deployment_id: str, now: float, *, misconfigured: str | None = None) -> None:
        health = self.get(deployment_id)
        health._remember(now, False)
        health.consecutive_failures += 1
        health.trial_in_flight = False
        if misconfigured is not None:
            health.misconfigured = misconfigured
        if health.state is State.HALF_OPEN or self._should_open(health):
            self._open(health, now)
            metrics.note_breaker_open(deployment_id)
            self._changed(deployment_id, "open", health)

    def record_neutral(self, deployment_id: str) -> None:
        """The deployment answered but the request itself was at fault (a client error)."""
        self.get(deployment_id).trial_in_flight = False

    def record_rate_limited(self, deployment_id: str, now: float, retry_after: float | None) -> float:
        """Start a cool-down; returns its length. Without Retry-After, back off with jitter."""
        health = self.get(deployment_id)
        health.trial_in_flight = False
        health.rate_limit_streak += 1
        if retry_after is None:
            backoff = RATE_LIMIT_BASE_BACKOFF * 2 ** (health.rate_limit_streak - 1)
            retry_after = min(backoff, self.max_cooldown) * random.uniform(0.5, 1.0)
        if now + retry_after > health.cooldown_until:
            health.cooldown_until = now + retry_after
            metrics.note_cooldown(deployment_id, retry_after)
            self._changed(deployment_id, "cooldown", health)
        return retry_after

    def record_headroom(self, deployment_id: str, now: float, headroom: tuple[int | None, int | None] | None) -> None:
        """The provider's remaining requests and tokens, from a successful answer's headers (or None).
        A transition only when headroom crosses its low-water mark (or a low mark nears its end)."""
        if headroom is None:
            return
        requests, tokens = headroom
        if requests is None and tokens is None:
            return
        health = self.get(deployment_id)
        low = _near_zero(requests, health.peak_requests, HEADROOM_MIN_REQUESTS) or _near_zero(
            tokens, health.peak_tokens, HEADROOM_MIN_TOKENS
        )
        if requests is not None and requests > health.peak_requests:
            health.peak_requests = requests
        if tokens is not None and tokens > health.peak_tokens:
            health.peak_tokens = tokens
        if low:
            if health.low_until - now < HEADROOM_HOLD / 2:
                health.low_until = now + HEADROOM_HOLD
                self._changed(deployment_id, "low", health)
        elif health.low_until > now:
            health.low_until = 0.0
            self._changed(deployment_id, "headroom", health)

    # What other workers saw: applied as is, and never passed on to the listener again.

    def apply_open(self, deployment_id: str, open_until: float, opens: int) -> None:
        health = self.get(deployment_id)
        was_open = health.state is State.OPEN
        health.state = State.OPEN
        health.open_until = max(health.open_until, open_until) if was_open else open_until
        health.opens = max(health.opens, opens)
        health.trial_in_flight = False

    def apply_closed(self, deployment_id: str) -> None:
        health = self.get(deployment_id)
        if health.state is not State.CLOSED:
            health.state = State.CLOSED
            health.opens = 0
            health.consecutive_failures = 0
            health.trial_in_flight = False

    def apply_cooldown(self, deployment_id: str, cooldown_until: float) -> None:
        health = self.get(deployment_id)
        health.cooldown_until = max(health.cooldown_until, cooldown_until)

    def apply_low(self, deployment_id: str, low_until: float) -> None:
        health = self.get(deployment_id)
        health.low_until = max(health.low_until, low_until)

    def apply_headroom(self, deployment_id: str) -> None:
        self.get(deployment_id).low_until = 0.0

    def _should_open(self, health: Health) -> bool:
        if health.state is State.OPEN:
            return False
        if health.consecutive_failures >= FAILURE_THRESHOLD:
            return True
        total = len(health.window)
        return total >= WINDOW_MIN_REQUESTS and health.recent_failures / total >= WINDOW_FAILURE_RATE

    def _open(self, health: Health, now: float) -> None:
        health.opens += 1
        cooldown = min(BASE_COOLDOWN * 2 ** (health.opens - 1), self.max_cooldown)
        health.state = State.OPEN
        health.open_until = now + cooldown * random.uniform(0.8, 1.0)

    def rank(self, deployment_id: str, now: float) -> tuple[int, float]:
        """Lower is better: (health tier, TTFT EWMA in 50 ms buckets). Recent failures or rate-limit
        headroom near zero put a deployment behind the ones without."""
        health = self.get(deployment_id)
        if health.state is State.HALF_OPEN or health.state is State.OPEN:
            tier = 2
        elif health.recent_failures or health.low_until > now:
            tier = 1
        else:
            tier = 0
        # Buckets keep the operator's order among deployments of similar speed.
        bucket = (health.ttft_ewma_ms or 0.0) // 50.0
        return tier, bucket


def _near_zero(remaining: int | None, peak: int, floor: int) -> bool:
    return remaining is not None and (remaining < floor or remaining < HEADROOM_LOW_FRACTION * peak)
