"""Everything one gateway worker process holds while it serves: built at ASGI start-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from gateway import metrics
from gateway.upstream import google_auth
from gateway.events.log import EventLog, month_spend_micros
from gateway.routing.health import HealthRegistry
from gateway.routing.shared import SharedHealth
from gateway.conf.domain import ConfigFileError, GatewayConfig
from gateway.conf.loader import load_config
from gateway.cors import Cors
from gateway.credentials import CredentialCache
from gateway.deadlines import BodyDeadlines
from gateway.inbound.responses_store import ResponsesStore
from gateway.keys import KeyCache
from gateway.limits import Limiter
from gateway.upstream.transport import AiohttpTransport, create_transport

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: GatewayConfig
    health: HealthRegistry
    transport: AiohttpTransport
    keys: KeyCache
    credentials: CredentialCache
    limiter: Limiter
    log: EventLog
    responses: ResponsesStore
    max_body_bytes: int
    request_budget: float
    max_retry_after_wait: float
    body_deadlines: BodyDeadlines = field(default_factory=lambda: BodyDeadlines(30.0))
    shared: SharedHealth | None = None
    cors: Cors = field(init=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.cors = Cors(frozenset(settings.CORS_ALLOWED_ORIGINS), self.keys)

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` beyond the request's own task, so that cancelling the request cannot skip it."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        await self.keys.start()
        await self.credentials.start()
        # Vertex tokens are minted here, so that no request waits for Google's token endpoint.
        await google_auth.prime(self.config)
        self.log.start()
        self.body_deadlines.start()
        metrics.start()
        if self.shared is not None:
            self.shared.attach(self.health)
            await self.shared.start()

    async def stop(self) -> None:
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), timeout=5)
        await self.body_deadlines.stop()
        if self.shared is not None:
            await self.shared.stop()
        await self.log.stop()
        await metrics.stop()
        await self.keys.stop()
        await self.credentials.stop()
        await self.limiter.aclose()
        await self.responses.aclose()
        await self.transport.aclose()


def load_gateway_config() -> GatewayConfig:
    path = settings.GATEWAY_CONFIG
    if not path:
        raise ConfigFileError("GATEWAY_CONFIG is not set: name a YAML file of providers and models")
    return load_config(path)


def build_runtime(config: GatewayConfig | None = None) -> Runtime:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "gw")
    runtime = Runtime(
        config=config or load_gateway_config(),
        health=HealthRegistry(),
        transport=create_transport(),
        keys=KeyCache(settings.GATEWAY_KEY_REFRESH_SECONDS),
        credentials=CredentialCache(settings.GATEWAY_KEY_REFRESH_SECONDS),
        limiter=Limiter(
            settings.REDIS_URL,
            prefix=prefix,
            spend_source=month_spend_micros,
        ),
        log=EventLog(
            flush_seconds=settings.GATEWAY_LOG_FLUSH_SECONDS,
            spool_dir=settings.GATEWAY_SPOOL_DIR,
            max_buffer=settings.GATEWAY_LOG_MAX_BUFFER,
        ),
        responses=ResponsesStore(settings.REDIS_URL, prefix, settings.RESPONSES_STORE_TTL_SECONDS),
        max_body_bytes=settings.GATEWAY_MAX_BODY_BYTES,
        request_budget=settings.GATEWAY_REQUEST_BUDGET,
        max_retry_after_wait=settings.GATEWAY_MAX_RETRY_AFTER_WAIT,
        body_deadlines=BodyDeadlines(settings.GATEWAY_BODY_TIMEOUT),
    )
    # It follows runtime.health, which tests may replace with a fresh registry.
    runtime.shared = SharedHealth(lambda: runtime.health, settings.REDIS_URL, prefix)
    return runtime
