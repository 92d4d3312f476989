"""Encryption at rest for organisations' provider credentials: Fernet (AES-128-CBC + HMAC-SHA256).

Keys come from settings.CREDENTIALS_KEYS (the first encrypts, all decrypt), followed by a key
derived from SECRET_KEY with HKDF, which is the only key when CREDENTIALS_KEYS is unset and stays
a decrypt-only fallback otherwise. See the "Provider credentials" block of config/settings.py.

``decrypt_secret`` is what the proxy calls on the ciphertexts that
``accounts.selectors.provider_credentials_changed_since`` returns.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_HKDF_INFO = b"llm-gateway provider credentials v1"


class CredentialDecryptError(Exception):
    """A ciphertext no configured key opens: a key was dropped too early, or SECRET_KEY changed."""


@lru_cache(maxsize=2)
def derived_key(secret_key: str) -> str:
    """The Fernet key derived from SECRET_KEY (HKDF-SHA256, no salt, a fixed context string)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw).decode()


def current_keys() -> tuple[str, ...]:
    """Every key in use, the encrypting one first."""
    keys = [*settings.CREDENTIALS_KEYS, derived_key(settings.SECRET_KEY)]
    return tuple(dict.fromkeys(keys))


@lru_cache(maxsize=4)
def _fernets(keys: tuple[str, ...]) -> tuple[Fernet, MultiFernet]:
    fernets = [Fernet(key) for key in keys]
    return fernets[0], MultiFernet(fernets)


def encrypt_secret(plaintext: str) -> str:
    _, multi = _fernets(current_keys())
    return multi.encrypt(plaintext.encode()).decode("ascii")


def decrypt_secret(ciphertext: str) -> str:
    """The plaintext of a stored credential. Raises CredentialDecryptError, never with the data."""
    _, multi = _fernets(current_keys())
    try:
        return multi.decrypt(ciphertext.encode("ascii")).decode()
    except (InvalidToken, UnicodeError):
        raise CredentialDecryptError("no configured credentials key decrypts this credential") from None


def uses_current_key(ciphertext: str) -> bool:
    """Whether the encrypting (first) key already opens this ciphertext."""
    primary, _ = _fernets(current_keys())
    try:
        primary.decrypt(ciphertext.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def reencrypt(ciphertext: str) -> str:
    """The same plaintext, encrypted with the first key. Raises CredentialDecryptError."""
    _, multi = _fernets(current_keys())
    try:
        return multi.rotate(ciphertext.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise CredentialDecryptError("no configured credentials key decrypts this credential") from None


def last_four(secret: str) -> str:
    return secret[-4:]
