"""/healthz and /readyz against the real Postgres and Redis the suite runs on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def test_readyz_names_redis_when_it_is_unreachable(
    client: Client, db: None, settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.REDIS_URL = f"unix://{tmp_path}/nothing-here.sock"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert set(body["problems"]) == {"redis"}


def test_readyz_names_postgres_when_it_is_unreachable() -> None:
    script = (
        "from django.test import Client; r = Client().get('/readyz'); "
        "print(r.status_code, sorted(r.json()['problems']))"
    )
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing", "ALLOWED_HOSTS": "testserver"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "503 ['postgres']", result.stderr


def test_healthz_is_exempt_from_the_https_redirect(client: Client, settings: SettingsWrapper) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/").status_code == 301
