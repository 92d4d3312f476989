"""Bad settings stop start-up with one line naming the variable, never a traceback."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from config.env import ConfigError, env_bool, env_int, parse_database_url

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("DATABASE_URL", "mysql://u:p@localhost/db", "DATABASE_URL has unsupported scheme 'mysql'"),
        ("REDIS_URL", "memcached://localhost", "REDIS_URL has unsupported scheme 'memcached'"),
        ("GATEWAY_MAX_BODY_BYTES", "lots", "GATEWAY_MAX_BODY_BYTES='lots' is not an integer"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL='LOUD' is not a log level"),
        ("RESPONSES_STORE_TTL_SECONDS", "0", "RESPONSES_STORE_TTL_SECONDS=0 must be at least 1"),
        ("RESPONSES_STORE_TTL_SECONDS", "1h", "RESPONSES_STORE_TTL_SECONDS='1h' is not an integer"),
    ],
)
def test_bad_variable_stops_startup_with_one_line(variable: str, value: str, expected: str) -> None:
    result = _manage("check", **{variable: value})
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {result.stderr.strip().removeprefix('error: ')}"
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_secret_key_is_required_in_production() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "DEBUG": "false"},
    )
    assert result.returncode == 2
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_pass_check_deploy_without_warnings() -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECURE_SSL_REDIRECT="",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="gateway.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "WARNINGS" not in result.stderr


def test_env_bool_accepts_the_usual_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, expected in [("1", True), ("yes", True), ("ON", True), ("0", False), ("False", False)]:
        monkeypatch.setenv("FLAG", raw)
        assert env_bool("FLAG", not expected) is expected


def test_env_int_enforces_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKERS", "0")
    with pytest.raises(ConfigError, match="WORKERS=0 must be at least 1"):
        env_int("WORKERS", 2, minimum=1)


def test_database_url_with_socket_host_and_password() -> None:
    params = parse_database_url("DATABASE_URL", "postgresql://app:p%40ss@/gateway?host=/run/pg&sslmode=disable")
    assert (params.user, params.password, params.host, params.name) == ("app", "p@ss", "/run/pg", "gateway")
    assert params.options == {"sslmode": "disable"}


def test_database_url_without_database_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL names no database"):
        parse_database_url("DATABASE_URL", "postgresql://app@db.internal:5432")
