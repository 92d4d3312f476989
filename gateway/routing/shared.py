"""Deployment health shared by every worker and instance, through Redis.

The hot path never waits on Redis: each worker routes on its own HealthRegistry. What changes
there (a breaker opens or closes, a cool-down starts, rate-limit headroom crosses its low-water
mark) is queued and published in the background: the latest transition of each deployment is kept
in one hash (field ``breaker:<id>``, ``cooldown:<id>`` or ``headroom:<id>``; an open breaker, a
cool-down or a low headroom mark carries its own expiry and is ignored after it), and announced on
a channel (headroom only when it crosses the mark, so Redis traffic stays rare). A subscriber task
per worker applies the others' transitions to its registry, so a deployment one worker sees go down
is skipped by all within milliseconds. On every
(re)connect it first reloads the hash, so a worker that lost Redis catches up, and republishes
what it saw while Redis was away. Without Redis each worker simply goes on with its own view.

Times cross processes as wall-clock epochs; each registry works in its event loop's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import redis
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.routing.health import Health, HealthRegistry

log = logging.getLogger(__name__)

RETAIN_SECONDS = 7 * 24 * 3600  # the hash lives this long after its last write
OPENS_RETAIN_SECONDS = 3 * 24 * 3600
REDIS_TIMEOUT = 1.0
MAX_BACKOFF = 5.0


_FIELDS = {"cooldown": "cooldown", "low": "headroom", "headroom": "headroom"}


@dataclass(frozen=True, slots=True)
class Transition:
    deployment: str
    kind: str  # "open", "closed", "cooldown", "low" (headroom near zero) or "headroom" (room again)
    until: float  # wall clock: when an open breaker may take a trial, a cool-down or a low mark ends; else 0
    opens: int
    at: float  # wall clock of the change
    origin: str  # which worker saw it (its own messages come back to it and are skipped)

    @property
    def field(self) -> str:
        return f"{_FIELDS.get(self.kind, 'breaker')}:{self.deployment}"

    def live(self, now: float) -> bool:
        """Still in force: a closed breaker or restored headroom always is; the others until their end."""
        return self.kind in ("closed", "headroom") or self.until > now

    def encode(self) -> bytes:
        return orjson.dumps([self.deployment, self.kind, self.until, self.opens, self.at, self.origin])

    @classmethod
    def decode(cls, raw: bytes | str) -> Transition | None:
        try:
            deployment, kind, until, opens, at, origin = orjson.loads(raw)
            return cls(str(deployment), str(kind), float(until), int(opens), float(at), str(origin))
        except (orjson.JSONDecodeError, TypeError, ValueError):
            return None


def hash_key(prefix: str) -> str:
    return f"{prefix}:health:state"


def channel(prefix: str) -> str:
    return f"{prefix}:health:events"


def opens_key(prefix: str, now: float) -> str:
    return f"{prefix}:health:opens:{time.strftime('%Y%m%d', time.gmtime(now))}"


def _write(pipe: Any, prefix: str, transition: Transition) -> None:
    data = transition.encode()
    pipe.hset(hash_key(prefix), transition.field, data)
    pipe.expire(hash_key(prefix), RETAIN_SECONDS)
    pipe.publish(channel(prefix), data)
    if transition.kind == "open":
        key = opens_key(prefix, transition.at)
        pipe.hincrby(key, transition.deployment, 1)
        pipe.expire(key, OPENS_RETAIN_SECONDS)


# The Celery side (probes and health states): plain synchronous Redis.


def read_all(client: redis.Redis, prefix: str, now: float, *, live_only: bool = True) -> dict[str, Transition]:
    """Every transition (still in force, unless ``live_only`` is off), by hash field."""
    raw: dict[bytes, bytes] = client.hgetall(hash_key(prefix))  # type: ignore[assignment]
    found = {}
    for value in raw.values():
        transition = Transition.decode(value)
        if transition is not None and (transition.live(now) or not live_only):
            found[transition.field] = transition
    return found


def publish(client: redis.Redis, prefix: str, transition: Transition) -> None:
    pipe = client.pipeline(transaction=False)
    _write(pipe, prefix, transition)
    pipe.execute()


def opens_today(client: redis.Redis, prefix: str, now: float) -> dict[str, int]:
    raw: dict[bytes, bytes] = client.hgetall(opens_key(prefix, now))  # type: ignore[assignment]
    return {key.decode(): int(value) for key, value in raw.items()}


class SharedHealth:
    """One worker's link to the shared health: publishes its registry's transitions, applies others'."""

    def __init__(self, registry: Callable[[], HealthRegistry], redis_url: str, prefix: str) -> None:
        self.registry = registry  # the runtime's current registry (tests may swap it)
        self.prefix = prefix
        self.origin = uuid.uuid4().hex
        self.connected = False
        self._redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        # The latest unpublished transition per hash field: a newer one replaces an older one.
        self._unsent: dict[str, Transition] = {}
        self._known_at: dict[str, float] = {}  # per field, when the transition in force here happened
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def attach(self, registry: HealthRegistry) -> None:
        registry.listener = self.notify

    def notify(self, deployment_id: str, kind: str, health: Health) -> None:
        """The registry's listener, on the hot path: queue the transition, no I/O."""
        now, wall = asyncio.get_running_loop().time(), time.time()
        until = {"open": health.open_until, "cooldown": health.cooldown_until, "low": health.low_until}.get(kind)
        wall_until = wall + (until - now) if until is not None else 0.0
        transition = Transition(deployment_id, kind, wall_until, health.opens, wall, self.origin)
        self._known_at[transition.field] = wall
        self._unsent[transition.field] = transition
        if self._wake is not None:
            self._wake.set()

    async def start(self) -> None:
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._subscribe()), loop.create_task(self._publish())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._unsent:
            with contextlib.suppress(RedisError, OSError):
                await self._send()
        await self._redis.aclose()

    def apply(self, transition: Transition) -> bool:
        """Apply another worker's transition unless this worker knows of a later one."""
        if transition.origin == self.origin or self._known_at.get(transition.field, 0.0) >= transition.at:
            return False
        wall = time.time()
        if not transition.live(wall):
            return False
        self._known_at[transition.field] = transition.at
        registry = self.registry()
        until = asyncio.get_running_loop().time() + (transition.until - wall)
        if transition.kind == "open":
            registry.apply_open(transition.deployment, until, transition.opens)
        elif transition.kind == "closed":
            registry.apply_closed(transition.deployment)
        elif transition.kind == "cooldown":
            registry.apply_cooldown(transition.deployment, until)
        elif transition.kind == "low":
            registry.apply_low(transition.deployment, until)
        elif transition.kind == "headroom":
            registry.apply_headroom(transition.deployment)
        return True

    async def _subscribe(self) -> None:
        backoff = 0.1
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(channel(self.prefix))
                await self._catch_up()
                self.connected, backoff = True, 0.1
                if self._unsent and self._wake is not None:
                    self._wake.set()  # what happened here while Redis was away
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None:
                        transition = Transition.decode(message["data"])
                        if transition is not None:
                            self.apply(transition)
            except (RedisError, OSError) as exc:
                if self.connected:
                    log.warning("shared health: lost Redis (%s); going on with this worker's own view", exc)
                self.connected = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()

    async def _catch_up(self) -> None:
        raw = await self._redis.hgetall(hash_key(self.prefix))
        for value in raw.values():
            transition = Transition.decode(value)
            if transition is not None:
                self.apply(transition)

    async def _publish(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._unsent or not self.connected:
                continue  # the subscriber wakes us again once Redis is back
            try:
                await self._send()
            except (RedisError, OSError) as exc:
                log.warning("shared health: cannot publish (%s); will retry on reconnect", exc)

    async def _send(self) -> None:
        batch, self._unsent = self._unsent, {}
        try:
            pipe = self._redis.pipeline(transaction=False)
            for transition in batch.values():
                _write(pipe, self.prefix, transition)
            await pipe.execute()
        except BaseException:
            # Put back what newer transitions have not replaced, for the next connection.
            self._unsent = {**batch, **self._unsent}
            raise
