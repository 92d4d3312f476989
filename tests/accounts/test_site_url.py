"""Snippets and "Get started" steps point at the address ./gw up really serves: SITE_URL follows
HOST and PORT unless it is set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def site_url_with(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "HOST", "PORT")}
    code = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "8612"}, "http://127.0.0.1:8612"),
        ({"HOST": "localhost", "PORT": "9000"}, "http://localhost:9000"),
        ({"HOST": "0.0.0.0", "PORT": "8612"}, "http://127.0.0.1:8612"),
        ({"HOST": "::1", "PORT": "8612"}, "http://[::1]:8612"),
        ({"PORT": "8612", "SITE_URL": "https://gw.example.com"}, "https://gw.example.com"),
    ],
)
def test_site_url_follows_host_and_port_unless_set(env: dict[str, str], expected: str) -> None:
    assert site_url_with(**env) == expected


def test_a_bad_port_names_the_variable() -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "PORT")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "PORT": "eighty"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "PORT='eighty' is not an integer" in result.stderr
