"""Serve an ASGI app over real HTTP on 127.0.0.1 from a background thread, for tests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import uvicorn
from django.conf import settings


class LiveServer:
    def __init__(self, app: Any) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("live server failed to start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


# Keys of gateways that outlive one test (module or session scope). A transactional test truncates
# every table when it ends, and the proxy's key cache then forgets the key within a poll, as it
# must in production; so before each test, a missing key is put back as it was.
_KEPT: list[Any] = []


def keep_key(api_key: Any) -> None:
    """Remember ``api_key`` (an accounts ApiKey row) so that it survives other tests' truncation."""
    _KEPT.append(api_key)


def restore_kept_keys() -> None:
    """Put back remembered keys that are gone, committed, whatever transaction the test is in."""
    if not _KEPT:
        return
    missing: list[Any] = []

    def check_and_restore() -> None:
        from django.db import connection

        from accounts.models import ApiKey, Organization

        try:
            present = set(ApiKey.objects.filter(pk__in=[k.pk for k in _KEPT]).values_list("pk", flat=True))
            for row in _KEPT:
                if row.pk not in present:
                    missing.append(row)
                    Organization.objects.get_or_create(pk=row.organization_id, defaults={"name": "Kept for tests"})
                    row.save(force_insert=True)
        finally:
            connection.close()

    # Its own thread, so its own connection: committed even while the test runs inside a transaction.
    worker = threading.Thread(target=check_and_restore)
    worker.start()
    worker.join()


def database_url(host: str | None = None, port: int | None = None) -> str:
    """The test database's URL, for processes a test starts; or the same database through host:port."""
    db = settings.DATABASES["default"]  # the test database, once pytest-django has set it up
    if host is not None:
        return f"postgresql://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}"
    query = f"?host={db['HOST']}" if str(db["HOST"]).startswith("/") else ""
    netloc = "" if query else f"{db['HOST']}:{db['PORT'] or 5432}"
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{netloc}/{db['NAME']}{query}"


@contextlib.contextmanager
def gateway_for_new_org(blocker: Any, config_yaml: str, *, name: str) -> Iterator[tuple[str, Any, Any]]:
    """A live gateway on ``config_yaml`` and a new organisation's key (kept across truncations), as
    (url, the created key, the runtime); the organisation is deleted afterwards, so that its committed rows
    do not leak into other modules run by this worker. ``blocker``: pytest-django's django_db_blocker."""
    from accounts.models import Organization
    from accounts.services import create_api_key, create_organization
    from gateway.asgi import GatewayApp
    from gateway.conf.loader import parse_config
    from gateway.runtime import build_runtime

    with blocker.unblock():
        org = create_organization(name=f"{name} {uuid.uuid4().hex[:8]}")
        created = create_api_key(organization=org, name=name)
        keep_key(created.api_key)
    runtime = build_runtime(parse_config(config_yaml, source=f"{name}.yaml"))
    server = LiveServer(GatewayApp(runtime)).start()
    try:
        yield server.url, created, runtime
    finally:
        server.stop()
        with blocker.unblock():
            Organization.objects.filter(pk=org.pk).delete()
