"""./gw manage rotate_credentials_key: re-encrypt every credential with the first key."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from accounts import crypto
from accounts.models import ProviderCredential
from providers import services
from tests.accounts.factories import make_credential
from tests.conftest import Accounts


def _raw(credential: ProviderCredential) -> str:
    value = ProviderCredential.objects.values_list("ciphertext", flat=True).get(pk=credential.pk)
    assert value is not None
    return value


def test_rotation_reencrypts_every_row_once(accounts: Accounts, settings: object) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [old]  # type: ignore[attr-defined]
    first = make_credential(accounts.org, "openai-main", "first-secret-value-1")
    second = make_credential(accounts.other_org, "claude", "second-secret-value-2")
    before = {c.pk: (_raw(c), c.updated_at) for c in (first, second)}

    settings.CREDENTIALS_KEYS = [new, old]  # type: ignore[attr-defined]
    out = StringIO()
    call_command("rotate_credentials_key", stdout=out)
    assert "Re-encrypted 2 credential(s); 0 already" in out.getvalue()
    for credential, plaintext in ((first, "first-secret-value-1"), (second, "second-secret-value-2")):
        raw = _raw(credential)
        assert raw != before[credential.pk][0]
        assert Fernet(new.encode()).decrypt(raw.encode()).decode() == plaintext
        credential.refresh_from_db()
        assert credential.updated_at == before[credential.pk][1]  # same plaintext: the proxy has nothing to reload

    again = StringIO()
    call_command("rotate_credentials_key", stdout=again)
    assert "Re-encrypted 0 credential(s); 2 already used the first key." in again.getvalue()

    settings.CREDENTIALS_KEYS = [new]  # type: ignore[attr-defined]  # the old key can go now
    assert crypto.decrypt_secret(_raw(first)) == "first-secret-value-1"


def test_deleted_credentials_are_skipped(accounts: Accounts, settings: object) -> None:
    credential = make_credential(accounts.org)
    services.delete_provider_credential(credential=credential)
    settings.CREDENTIALS_KEYS = [Fernet.generate_key().decode()]  # type: ignore[attr-defined]
    out = StringIO()
    call_command("rotate_credentials_key", stdout=out)
    assert "Re-encrypted 0 credential(s); 0 already" in out.getvalue()


def test_a_row_replaced_during_rotation_is_not_overwritten(
    accounts: Accounts, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [old]  # type: ignore[attr-defined]
    credential = make_credential(accounts.org, secret="the-old-secret-1234")
    settings.CREDENTIALS_KEYS = [new, old]  # type: ignore[attr-defined]
    real = crypto.reencrypt

    def replaced_meanwhile(ciphertext: str) -> str:
        fresh = real(ciphertext)
        make_credential(accounts.org, secret="the-new-secret-5678")  # someone saves a new key now
        return fresh

    monkeypatch.setattr(crypto, "reencrypt", replaced_meanwhile)
    out = StringIO()
    call_command("rotate_credentials_key", stdout=out)
    assert "1 credential(s) changed while rotating" in out.getvalue()
    assert crypto.decrypt_secret(_raw(credential)) == "the-new-secret-5678"


def test_unreadable_rows_are_reported_by_id_and_fail_the_command(accounts: Accounts, settings: object) -> None:
    settings.CREDENTIALS_KEYS = [Fernet.generate_key().decode()]  # type: ignore[attr-defined]
    credential = make_credential(accounts.org, secret="lost-key-secret-999")
    settings.CREDENTIALS_KEYS = [Fernet.generate_key().decode()]  # type: ignore[attr-defined]  # the old key is gone
    with pytest.raises(CommandError) as raised:
        call_command("rotate_credentials_key", stdout=StringIO())
    assert f"ids {credential.pk}" in str(raised.value)
    assert "lost-key-secret-999" not in str(raised.value)
