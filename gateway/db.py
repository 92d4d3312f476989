"""Direct async Postgres access for the proxy's background tasks (never on the request path)."""

from __future__ import annotations

from typing import Any

import psycopg
from django.conf import settings
from psycopg.conninfo import make_conninfo


def conninfo() -> str:
    db = settings.DATABASES["default"]
    params: dict[str, str] = {
        "dbname": str(db["NAME"]),
        "user": str(db["USER"]),
        "password": str(db["PASSWORD"]),
        "host": str(db["HOST"]),
        "port": str(db["PORT"]),
    }
    options: dict[str, Any] = db.get("OPTIONS") or {}  # type: ignore[assignment]
    params.update({key: str(value) for key, value in options.items()})
    return make_conninfo("", **{key: value for key, value in params.items() if value})


async def connect() -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(conninfo(), autocommit=True, connect_timeout=5)
