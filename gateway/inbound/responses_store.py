"""The Responses API's store: stored responses and their items, per organisation, in Redis, expiring.

A response stored (``store`` true, the API's default) keeps its response object and the input it
answered (with ``previous_response_id`` and ``item_reference`` items already resolved), so a
``previous_response_id`` is one GET and never a walk up a chain; each output item is also kept
under its own id for ``item_reference``. Every key holds the organisation's id: another
organisation's id is simply not found. Everything expires after RESPONSES_STORE_TTL_SECONDS, and
a response whose stored form is over MAX_STORED_BYTES is not stored (its answer says
``"store": false``), which bounds what one organisation can hold to its request rate.

Redis, not Postgres: a write per Responses request would be a database query on the proxy's hot
path. A Redis failure never fails a request that only wanted to store (it is answered ``"store":
false``, logged and counted); one that needs stored state gets a 503, since it cannot be served.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
import redis.asyncio as aioredis
from prometheus_client import Counter
from redis.exceptions import RedisError

from gateway.errors import GatewayError

log = logging.getLogger(__name__)
MAX_STORED_BYTES = 1024 * 1024
MAX_ID_LENGTH = 128
STORE_TIMEOUT = 0.5
STORE_FAILURES = Counter(
    "gateway_responses_store_failures_total", "Responses store reads and writes that failed because Redis failed"
)


class StoreUnavailable(GatewayError):
    def __init__(self) -> None:
        super().__init__(
            503, "The response store is unavailable; try again, or send the whole conversation in 'input'.",
            type="server_error", code="store_unavailable",
        )  # fmt: skip


class ResponsesStore:
    def __init__(
        self, redis_url: str, prefix: str, ttl: int, max_bytes: int = MAX_STORED_BYTES, timeout: float = STORE_TIMEOUT
    ) -> None:
        self.prefix = prefix
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=timeout, socket_connect_timeout=timeout, max_connections=64
        )
        self._last_warning = 0.0

    def _response_key(self, org_id: int, response_id: str) -> str:
        return f"{self.prefix}:responses:{org_id}:r:{response_id}"

    def _item_key(self, org_id: int, item_id: str) -> str:
        return f"{self.prefix}:responses:{org_id}:i:{item_id}"

    async def load(self, org_id: int, response_id: str) -> dict[str, Any] | None:
        """The stored record ({"response": ..., "input": [...]}), None if unknown or expired."""
        try:
            raw = await self._redis.get(self._response_key(org_id, response_id))
        except (RedisError, OSError) as exc:
            self._failed(exc)
            raise StoreUnavailable from None
        return orjson.loads(raw) if raw is not None else None

    async def items(self, org_id: int, item_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The stored output items among ``item_ids``, by id."""
        unique = list(dict.fromkeys(item_ids))
        try:
            found = await self._redis.mget([self._item_key(org_id, item_id) for item_id in unique])
        except (RedisError, OSError) as exc:
            self._failed(exc)
            raise StoreUnavailable from None
        return {item_id: orjson.loads(raw) for item_id, raw in zip(unique, found, strict=True) if raw is not None}

    async def put(self, org_id: int, response: dict[str, Any], input_items: list[dict[str, Any]]) -> bool:
        """Store a response and what it answered; False (never an exception) if it was not stored."""
        record = orjson.dumps({"response": response, "input": input_items})
        items = [(item["id"], orjson.dumps(item)) for item in response["output"]]
        if len(record) + sum(len(raw) for _, raw in items) > self.max_bytes:
            return False
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.set(self._response_key(org_id, response["id"]), record, ex=self.ttl)
                for item_id, raw in items:
                    pipe.set(self._item_key(org_id, item_id), raw, ex=self.ttl)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return False
        return True

    async def delete(self, org_id: int, response_id: str) -> bool:
        """Forget a response and its output items; False if there was none."""
        record = await self.load(org_id, response_id)
        if record is None:
            return False
        keys = [self._item_key(org_id, item["id"]) for item in record["response"]["output"]]
        try:
            return bool(await self._redis.delete(self._response_key(org_id, response_id), *keys))
        except (RedisError, OSError) as exc:
            self._failed(exc)
            raise StoreUnavailable from None

    def _failed(self, exc: BaseException) -> None:
        STORE_FAILURES.inc()
        now = time.monotonic()
        if now - self._last_warning > 10:
            self._last_warning = now
            log.warning("responses store: Redis unavailable: %s", exc.__class__.__name__)

    async def aclose(self) -> None:
        await self._redis.aclose()
