"""/healthz and /readyz against the real Postgres and Redis the suite runs on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from typing import Any as SettingsWrapper

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_answers_without_touching_dependencies(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_postgres_and_redis_answer(client: Client, db: None) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_redis_when_it_is_unreachable_and_logs_why(
    client: Client, db: None, settings: SettingsWrapper, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    socket_path = f"{tmp_path}/nothing-here.sock"
    settings.REDIS_URL = f"unix://{socket_path}"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "redis": "down"}
    assert "nothing-here" not in response.content.decode()
    assert "nothing-here" in caplog.text  # the reason is for the operator's log


def test_readyz_names_postgres_when_it_is_unreachable_without_its_error() -> None:
    script = "from django.test import Client; r = Client().get('/readyz'); print(r.status_code, r.content.decode())"
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing", "ALLOWED_HOSTS": "testserver"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503", result.stderr
    assert json.loads(body) == {"status": "unavailable", "postgres": "down"}
    assert "127.0.0.1" not in body and "nobody" not in body and "refused" not in body.lower()


def test_healthz_is_exempt_from_the_https_redirect(client: Client, settings: SettingsWrapper) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/").status_code == 301
