"""A bounded schemathesis pass over the management API, against our own schema: no 500, ever."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode

from tests.accounts.factories import make_credential, make_management_key
from tests.conftest import Accounts

EXAMPLES_PER_RUN = 20


@pytest.fixture
def wsgi_app(db: None) -> Iterator[Any]:
    """Django as a WSGI app, in this thread and this test's transaction (as Django's test client
    does, requests must not close the connection that holds the transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_no_operation_answers_500(verified: Accounts, wsgi_app: Any) -> None:
    started = time.monotonic()
    key, plaintext = make_management_key(verified.org, verified.owner)
    make_credential(verified.org)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    headers = {"Authorization": f"Bearer {plaintext}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 14
    for operation in operations:
        runs = [
            (GenerationMode.POSITIVE, {"org_id": verified.org.pk}),  # inside our organisation
            (GenerationMode.NEGATIVE, {"org_id": verified.org.pk}),
            (GenerationMode.POSITIVE, None),  # any organisation id at all
        ]
        for mode, path_parameters in runs:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

            @given(case=strategy)
            @hypothesis_settings(
                max_examples=EXAMPLES_PER_RUN,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def call(case: Any) -> None:
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} {case.as_curl_command(headers=headers)}")

            call()
            # The revoke operation may have revoked the key the fuzzer authenticates with.
            key.refresh_from_db()
            if key.revoked_at is not None:
                key, plaintext = make_management_key(verified.org, verified.owner, name=f"ops-{time.monotonic_ns()}")
                headers["Authorization"] = f"Bearer {plaintext}"
    assert not failures, "\n".join(failures[:10])
    assert time.monotonic() - started < 60
