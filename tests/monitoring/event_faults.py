"""What the event-pipeline fault tests share: a gateway in its own process (granian, as in
production), load with unique request ids, a cuttable path to Postgres, and the one assertion:
every answered request has exactly one request row, with its attempts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from django.conf import settings
from django.db.models import Count

from accounts.services import create_api_key, create_organization
from config.embedded import EmbeddedRedis
from config.env import celery_broker_url
from gateway.events.records import AttemptEvent, RequestEvent
from gateway.ids import uuid7
from monitoring.models import Attempt, Request
from simulator.harness import SimulatorServer
from tests.proxy.conftest import hi, test_config_yaml
from tests.live import database_url

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def new_key(**limits: int) -> str:
    """A key committed to the test database, where a gateway process can find it."""
    org = create_organization(name=f"Event faults {uuid.uuid4().hex[:8]}")
    return create_api_key(organization=org, name="event-faults", **limits).plaintext  # type: ignore[arg-type]


def request_events(request_id: str, started_at: float | None = None) -> list[AttemptEvent | RequestEvent]:
    """One answered request's events, as the gateway records them: its attempt, then itself."""
    started = time.time() if started_at is None else started_at
    attempt = AttemptEvent(
        id=uuid7(), request_id=request_id, attempt=1, started_at=started, org_id=1, key_id=1,
        requested_model="m", model="m", provider="p", deployment="p/m", stream=False, outcome="ok",
        status_code=None, error="", latency_ms=1.0, ttft_ms=1.0, prompt_tokens=1, completion_tokens=1,
        cached_tokens=None, rescued=False, final=True, malformed_events=0, cost_usd=0.5,
    )  # fmt: skip
    request = RequestEvent(
        id=uuid7(), request_id=request_id, started_at=started, org_id=1, key_id=1, inbound="openai.chat",
        requested_model="m", model="m", provider="p", stream=False, status=200, outcome="ok", error_code="",
        attempts=1, failovers=0, rescued=False, latency_ms=2.0, ttft_ms=1.0, prompt_tokens=1,
        completion_tokens=1, cost_usd=0.5,
    )  # fmt: skip
    return [attempt, request]


@dataclass
class CeleryWorker:
    """A real Celery worker process on ``redis``, loading spooled events from ``data_dir``/spool."""

    data_dir: Path
    redis: EmbeddedRedis
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> CeleryWorker:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DATA_DIR": str(self.data_dir),
            "REDIS_URL": self.redis.url,
        }
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING"]
        log = (self.data_dir / "celery.log").open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def ingest(self) -> None:
        """Queue the ingest task on this worker's broker, as beat does."""
        from config.celery import app
        from monitoring.tasks import ingest_spooled_events

        with app.connection_for_write(celery_broker_url(self.redis.url)) as connection:
            ingest_spooled_events.apply_async(connection=connection)

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class GatewayProcess:
    """granian serving config.asgi with one worker, respawned if it dies, as `./gw up` runs it."""

    data_dir: Path
    sim: SimulatorServer
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def spool(self) -> Path:
        return self.data_dir / "spool"

    def log_tail(self) -> str:
        return (self.data_dir / "gateway.log").read_text(errors="replace")[-3000:]

    def start(self, key: str) -> GatewayProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "gateway.yaml"
        config.write_text(test_config_yaml(self.sim))
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DATA_DIR": str(self.data_dir),
            "GATEWAY_CONFIG": str(config),
            **self.env,
        }
        command = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", "1", "--respawn-failed-workers", "--no-ws"]
        command += ["--log-level", "warning", "config.asgi:application"]
        log = (self.data_dir / "gateway.log").open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not self._answers(key):
            assert self.process.poll() is None, (self.data_dir / "gateway.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the gateway never answered"
            time.sleep(0.2)
        return self

    def _answers(self, key: str) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            headers = {"authorization": f"Bearer {key}", "x-request-id": f"warm-{uuid.uuid4().hex}"}
            return httpx.post(f"{self.url}/v1/chat/completions", json=hi(), headers=headers, timeout=5).is_success
        return False

    def worker_pid(self) -> int:
        assert self.process is not None
        children = psutil.Process(self.process.pid).children()
        assert children, "granian has no worker"
        return children[0].pid

    def kill_worker(self) -> int:
        pid = self.worker_pid()
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        """As an operator stops it: every live worker flushes what it holds."""
        if self.process is None or self.process.poll() is not None:
            return
        family = psutil.Process(self.process.pid).children(recursive=True)
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for process in family:  # a worker must never outlive the test, whatever granian did
            with contextlib.suppress(psutil.Error):
                process.kill()


class Load:
    """Clients posting chat requests with unique ids; ``answered`` holds the ids of every response
    that arrived whole (whatever its status)."""

    def __init__(self, url: str, key: str, *, clients: int = 6) -> None:
        self.prefix = f"fault-{uuid.uuid4().hex[:10]}"
        self.answered: list[str] = []
        self._url, self._key = f"{url}/v1/chat/completions", key
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _client(self, number: int) -> None:
        with httpx.Client(timeout=15) as client:
            sent = 0
            while not self._stop.is_set():
                request_id = f"{self.prefix}-{number}-{sent}"
                sent += 1
                headers = {"authorization": f"Bearer {self._key}", "x-request-id": request_id}
                try:
                    client.post(self._url, json=hi(), headers=headers).read()
                except httpx.HTTPError:
                    time.sleep(0.05)  # the worker died under us: this request was not answered
                    continue
                self.answered.append(request_id)

    def wait_for(self, count: int, timeout: float = 20, why: Callable[[], str] = str) -> None:
        deadline = time.monotonic() + timeout
        start = len(self.answered)
        while len(self.answered) < start + count:
            assert time.monotonic() < deadline, f"only {len(self.answered) - start} of {count} answered\n{why()}"
            time.sleep(0.05)


def assert_each_answered_once(load: Load, timeout: float = 20) -> None:
    """Every answered request has exactly one request row with all its attempts; nothing twice."""
    answered = set(load.answered)
    assert len(answered) > 50, len(answered)
    deadline = time.monotonic() + timeout
    while True:
        requests = dict(
            Request.objects.filter(request_id__startswith=load.prefix)
            .values("request_id")
            .annotate(n=Count("id"))
            .values_list("request_id", "n")
        )
        missing = answered - set(requests)
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not missing, f"{len(missing)} of {len(answered)} answered requests have no row: {sorted(missing)[:5]}"
    assert {rid: n for rid, n in requests.items() if n != 1} == {}
    expected = dict(Request.objects.filter(request_id__in=answered).values_list("request_id", "attempts"))
    attempts = (
        Attempt.objects.filter(request_id__in=answered)
        .values("request_id")
        .annotate(n=Count("id"), numbers=Count("attempt", distinct=True))
    )
    found = {row["request_id"]: (row["n"], row["numbers"]) for row in attempts}
    wrong = {rid: found.get(rid) for rid, n in expected.items() if found.get(rid, (0, 0)) != (n, n)}
    assert not wrong, f"requests whose attempts are not each recorded once: {list(wrong.items())[:5]}"


class PostgresPath:
    """A TCP path from the gateway to the test Postgres that a test can cut: every connection
    severed and new ones refused, as during an outage or a restart of the server."""

    def __init__(self) -> None:
        db = settings.DATABASES["default"]
        host, port = str(db["HOST"]), int(db["PORT"] or 5432)
        self._unix = f"{host}/.s.PGSQL.{port}" if host.startswith("/") else None
        self._target = (host, port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._links: set[asyncio.StreamWriter] = set()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self.restore()

    @property
    def url(self) -> str:
        return database_url("127.0.0.1", self.port)

    def _call(self, work: object) -> None:
        asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=10)  # type: ignore[arg-type]

    def restore(self) -> None:
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._cut())

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._unix:
            up_reader, up_writer = await asyncio.open_unix_connection(self._unix)
        else:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._links.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)


@contextlib.contextmanager
def running(gateway: GatewayProcess, key: str) -> Iterator[GatewayProcess]:
    try:
        yield gateway.start(key)
    finally:
        gateway.stop()
