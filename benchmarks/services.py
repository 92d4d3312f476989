"""The Postgres (and Redis) of a stand-alone benchmark: DATABASE_URL / REDIS_URL when set, otherwise private
ones in a temporary directory, which ``Services.close`` stops and deletes. Import and call it before
django.setup(): settings read the environment once."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


class Services:
    def __init__(self, prefix: str, *, redis: bool = False, throwaway: bool = False) -> None:
        self._temp = tempfile.TemporaryDirectory(prefix=prefix)
        self.directory = Path(self._temp.name)
        self._servers: list[Any] = []
        if not os.environ.get("DATABASE_URL"):
            from config.embedded import start_postgres

            postgres = start_postgres(self.directory / "pg", throwaway=throwaway)
            self._servers.append(postgres)
            os.environ["DATABASE_URL"] = postgres.url
        if redis and not os.environ.get("REDIS_URL"):
            from config.embedded import start_redis

            server = start_redis(self.directory / "redis", throwaway=throwaway)
            self._servers.append(server)
            os.environ["REDIS_URL"] = server.url
        os.environ.setdefault("REDIS_URL", "redis://localhost")  # read by settings, never connected to
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("SECRET_KEY", "benchmark")
        os.environ.setdefault("LOG_LEVEL", "WARNING")

    def close(self) -> None:
        for server in self._servers:
            server.stop()
        self._temp.cleanup()
