"""The proxy's async selectors: organisations' provider keys changed since a time, and batched key last use."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from django.db import connection

from accounts import crypto
from accounts.selectors import provider_credentials_changed_since
from providers import services
from tests.accounts.factories import PROVIDER_SECRET, make_credential
from tests.conftest import Accounts


class _AsyncCursor:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _AsyncCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, query: str, params: Any = None) -> None:
        self._cursor.execute(query, params)

    async def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._cursor.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


class _AsyncOverTestConnection:
    """The real SQL, on this test's own (uncommitted) transaction, with psycopg's async cursor API."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self._raw = connection.connection

    def cursor(self) -> _AsyncCursor:
        return _AsyncCursor(self._raw.cursor())


def changed_since(since: Any) -> list[tuple[Any, ...]]:
    conn = _AsyncOverTestConnection()
    return asyncio.run(provider_credentials_changed_since(conn, since))  # type: ignore[arg-type]


def test_rows_carry_org_provider_ciphertext_and_updated_at(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    [(org_id, provider, ciphertext, updated_at)] = changed_since(None)
    assert (org_id, provider, updated_at) == (accounts.org.pk, "openai-main", credential.updated_at)
    assert PROVIDER_SECRET not in ciphertext
    assert crypto.decrypt_secret(ciphertext) == PROVIDER_SECRET


def test_only_rows_changed_since_are_returned_and_deletes_show_as_null(accounts: Accounts) -> None:
    old = make_credential(accounts.org, "old-provider")
    watermark = old.updated_at + timedelta(microseconds=1)
    assert changed_since(watermark) == []
    services.delete_provider_credential(credential=old)
    replaced = make_credential(accounts.other_org, "claude", "another-secret-value")
    rows = {(row[0], row[1]): row for row in changed_since(watermark)}
    assert rows[(accounts.org.pk, "old-provider")][2] is None  # deleted: fall back to the operator's key
    assert crypto.decrypt_secret(rows[(accounts.other_org.pk, "claude")][2]) == "another-secret-value"
    assert rows[(accounts.other_org.pk, "claude")][3] == replaced.updated_at


def test_key_last_use_is_recorded_in_one_batch_without_touching_updated_at(accounts: Accounts) -> None:
    from datetime import datetime

    from django.utils import timezone

    from accounts.selectors import record_keys_last_used
    from accounts.services import create_api_key

    first = create_api_key(organization=accounts.org, name="a").api_key
    second = create_api_key(organization=accounts.org, name="b").api_key
    now = timezone.now()
    later, earlier = now + timedelta(seconds=5), now - timedelta(seconds=5)

    def record(used: dict[int, datetime]) -> int:
        conn = _AsyncOverTestConnection()
        return asyncio.run(record_keys_last_used(conn, used))  # type: ignore[arg-type]

    assert record({}) == 0
    assert record({first.pk: now, second.pk: now}) == 2
    assert record({first.pk: earlier, second.pk: later}) == 1  # never backwards
    first_before, second_before = first.updated_at, second.updated_at
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.last_used_at, second.last_used_at) == (now, later)
    assert (first.updated_at, second.updated_at) == (first_before, second_before)
