"""Direct async Postgres access for the proxy's background tasks (never on the request path)."""

from __future__ import annotations

import psycopg
from django.conf import settings
from psycopg.conninfo import make_conninfo


def conninfo() -> str:
    db = settings.DATABASES["default"]
    params = {
        "dbname": db["NAME"], "user": db["USER"] or None, "password": db["PASSWORD"] or None,
        "host": db["HOST"] or None, "port": db["PORT"] or None, **db.get("OPTIONS", {}),
    }
    return make_conninfo(**{key: value for key, value in params.items() if value})


async def connect() -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(conninfo(), autocommit=True, connect_timeout=5)
