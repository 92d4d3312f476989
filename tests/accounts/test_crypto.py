"""Encryption at rest of provider credentials, and the CREDENTIALS_KEYS setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from accounts import crypto

ROOT = Path(__file__).resolve().parents[2]


def test_round_trip_and_fresh_ciphertexts() -> None:
    first, second = crypto.encrypt_secret("sk-secret-value"), crypto.encrypt_secret("sk-secret-value")
    assert first != second  # random IV: equal secrets are not recognisable
    assert "sk-secret-value" not in first
    assert crypto.decrypt_secret(first) == "sk-secret-value"


def test_without_configured_keys_a_key_derived_from_secret_key_is_used(settings: object) -> None:
    settings.CREDENTIALS_KEYS = []  # type: ignore[attr-defined]
    token = crypto.encrypt_secret("abc-secret-123")
    derived = Fernet(crypto.derived_key(settings.SECRET_KEY))  # type: ignore[attr-defined]
    assert derived.decrypt(token.encode()) == b"abc-secret-123"


def test_the_first_configured_key_encrypts_and_every_key_decrypts(settings: object) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [old]  # type: ignore[attr-defined]
    under_old = crypto.encrypt_secret("rotate-me-please")
    settings.CREDENTIALS_KEYS = [new, old]  # type: ignore[attr-defined]
    assert crypto.decrypt_secret(under_old) == "rotate-me-please"
    assert not crypto.uses_current_key(under_old)
    rotated = crypto.reencrypt(under_old)
    assert crypto.uses_current_key(rotated)
    settings.CREDENTIALS_KEYS = [new]  # type: ignore[attr-defined]
    assert crypto.decrypt_secret(rotated) == "rotate-me-please"
    with pytest.raises(crypto.CredentialDecryptError) as raised:
        crypto.decrypt_secret(under_old)
    assert "rotate-me-please" not in str(raised.value)


def test_the_derived_key_stays_a_decrypt_only_fallback(settings: object) -> None:
    settings.CREDENTIALS_KEYS = []  # type: ignore[attr-defined]
    under_default = crypto.encrypt_secret("from-the-default")
    settings.CREDENTIALS_KEYS = [Fernet.generate_key().decode()]  # type: ignore[attr-defined]
    assert crypto.decrypt_secret(under_default) == "from-the-default"
    assert crypto.uses_current_key(crypto.encrypt_secret("x" * 20))
    assert not crypto.uses_current_key(under_default)


@pytest.mark.parametrize("garbage", ["", "not-a-token", "gAAAAA" + "x" * 80, "é"])
def test_garbage_is_a_decrypt_error(garbage: str) -> None:
    with pytest.raises(crypto.CredentialDecryptError):
        crypto.decrypt_secret(garbage)


def test_a_bad_key_in_the_setting_stops_startup_without_showing_it() -> None:
    good = Fernet.generate_key().decode()
    env = {**os.environ, "CREDENTIALS_KEYS": f"{good},not-a-fernet-key-secret"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "CREDENTIALS_KEYS: key 2 is not a Fernet key" in result.stderr
    assert "not-a-fernet-key-secret" not in result.stderr and good not in result.stderr
    assert "Traceback" not in result.stderr
