"""In-process simulator for tests: a background thread with its own event loop.

    with SimulatorServer() as sim:
        client = openai.OpenAI(base_url=sim.url_for("alpha"), api_key="x")
        sim.set_fault("alpha", status=429, retry_after="1", times=1)
        ...
        assert sim.attempts("alpha", "gpt-4o-mini") == 2

All helpers go through the real HTTP control API, exactly as an out-of-process user would.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from types import TracebackType
from typing import Any, Self

import httpx
from aiohttp import web

from simulator.server import DEFAULT_TOKENS, SCENARIOS, build_app, make_runner, make_state


class SimulatorServer:
    def __init__(self, *, tokens: int = DEFAULT_TOKENS, scenario: str = "none",
                 host: str = "127.0.0.1") -> None:  # fmt: skip
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; expected one of {SCENARIOS}")
        self.host = host
        self.port = 0
        self.tokens = tokens
        self.scenario = scenario
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._client: httpx.Client | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        sock = socket.create_server((self.host, 0))
        self.port = sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="simulator",
                                        daemon=True)  # fmt: skip
        self._thread.start()
        try:
            self._call(self._serve(sock))
        except BaseException:
            sock.close()
            self.stop()
            raise
        self._client = httpx.Client(base_url=self.base_url, timeout=10.0)
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._client is not None:
            self._client.close()
        if self._runner is not None:
            self._call(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = self._runner = self._client = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.stop()

    async def _serve(self, sock: socket.socket) -> None:
        app = build_app(make_state(self.tokens, self.scenario))
        self._runner = make_runner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    def _call(self, coro: Any) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    # ------------------------------------------------------------ addresses

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url_for(self, provider: str) -> str:
        return f"{self.base_url}/{provider}/v1"

    # ------------------------------------------------------------ control API

    @property
    def control(self) -> httpx.Client:
        if self._client is None:
            raise RuntimeError("simulator is not running")
        return self._client

    def set_fault(self, provider: str, model: str | None = None, **spec: Any) -> None:
        if model is not None:
            spec["model"] = model
        response = self.control.put(f"/_control/faults/{provider}", json=spec)
        if response.status_code == 400:
            raise ValueError(response.json()["error"]["message"])
        response.raise_for_status()

    def clear_faults(self, provider: str | None = None) -> None:
        path = "/_control/faults" if provider is None else f"/_control/faults/{provider}"
        self.control.delete(path).raise_for_status()

    def set_rate_limit(self, provider: str, *, requests: int, tokens: int) -> None:
        """Report this budget (usage from zero) in the provider's rate-limit headers."""
        self.control.put(
            f"/_control/rate_limits/{provider}", json={"requests": requests, "tokens": tokens}
        ).raise_for_status()

    def clear_rate_limit(self, provider: str) -> None:
        self.control.delete(f"/_control/rate_limits/{provider}").raise_for_status()

    def reset(self) -> None:
        self.control.post("/_control/reset").raise_for_status()

    def stats(self) -> dict[str, Any]:
        response = self.control.get("/_control/stats")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def attempts(self, provider: str, model: str | None = None) -> int:
        stats = self.stats()
        if model is None:
            return int(stats["by_provider"].get(provider, 0))
        return int(stats["attempts"].get(f"{provider}/{model}", 0))

    def probes(self, provider: str) -> int:
        """Calls of the provider's model list or model-get endpoint (the liveness probes)."""
        return int(self.stats()["probes"].get(provider, 0))

    def last_request(self, provider: str) -> dict[str, Any]:
        response = self.control.get(f"/_control/last_request/{provider}")
        if response.status_code == 404:
            raise LookupError(f"simulator has seen no request for provider {provider!r}")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result
