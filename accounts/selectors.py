from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

_KEY_COLUMNS = "id, organization_id, hashed, prefix, allowed_models, expires_at, revoked_at, updated_at"


async def api_keys_changed_since(
    conn: psycopg.AsyncConnection, since: datetime | None
) -> list[tuple[Any, ...]]:
    """Key rows for the proxy's in-process cache: all of them, or those changed since ``since``."""
    async with conn.cursor() as cursor:
        if since is None:
            await cursor.execute(f"SELECT {_KEY_COLUMNS} FROM accounts_apikey")
        else:
            await cursor.execute(
                f"SELECT {_KEY_COLUMNS} FROM accounts_apikey WHERE updated_at >= %s", (since,)
            )
        return await cursor.fetchall()


async def api_key_by_hash(conn: psycopg.AsyncConnection, hashed: str) -> tuple[Any, ...] | None:
    async with conn.cursor() as cursor:
        await cursor.execute(f"SELECT {_KEY_COLUMNS} FROM accounts_apikey WHERE hashed = %s", (hashed,))
        return await cursor.fetchone()
