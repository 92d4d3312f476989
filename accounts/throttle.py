"""Fixed-window attempt counters in Django's cache (Redis), for logins, password resets, emails."""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class Throttle:
    scope: str
    limit: int
    window_seconds: int

    def _key(self, parts: tuple[str, ...]) -> str:
        # Hashed so that cache keys never hold an address in clear.
        digest = hashlib.sha256("|".join(part.strip().lower() for part in parts).encode()).hexdigest()[:32]
        return f"throttle:{self.scope}:{digest}"

    def is_blocked(self, *parts: str) -> bool:
        return int(cache.get(self._key(parts), 0)) >= self.limit

    def hit(self, *parts: str) -> None:
        key = self._key(parts)
        # add() starts the window; incr() never extends it.
        if not cache.add(key, 1, timeout=self.window_seconds):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, timeout=self.window_seconds)

    def reset(self, *parts: str) -> None:
        cache.delete(self._key(parts))


# Logins: one account from one address; one account from anywhere (guessing spread over many
# addresses); one address against any accounts (guessing many accounts).
LOGIN_FAILURES = Throttle("login", limit=5, window_seconds=15 * 60)
LOGIN_FAILURES_PER_ACCOUNT = Throttle("login-account", limit=20, window_seconds=15 * 60)
LOGIN_FAILURES_PER_ADDRESS = Throttle("login-address", limit=50, window_seconds=15 * 60)
PASSWORD_RESETS = Throttle("password-reset", limit=5, window_seconds=15 * 60)
VERIFICATION_EMAILS = Throttle("verify-email", limit=3, window_seconds=15 * 60)
INVITATIONS_PER_ORGANIZATION = Throttle("invite-org", limit=20, window_seconds=60 * 60)


def login_blocked(email: str, ip: str) -> bool:
    return (
        LOGIN_FAILURES.is_blocked(email, ip)
        or LOGIN_FAILURES_PER_ACCOUNT.is_blocked(email)
        or LOGIN_FAILURES_PER_ADDRESS.is_blocked(ip)
    )


def record_login_failure(email: str, ip: str) -> None:
    LOGIN_FAILURES.hit(email, ip)
    LOGIN_FAILURES_PER_ACCOUNT.hit(email)
    LOGIN_FAILURES_PER_ADDRESS.hit(ip)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind TRUSTED_PROXIES the right-most X-Forwarded-For address that is not
    one of them: anything left of it was written by the client and proves nothing."""
    remote = str(request.META.get("REMOTE_ADDR") or "unknown")
    if not _trusted(remote):
        return remote
    forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    for address in reversed([part for part in forwarded if part]):
        if not _trusted(address):
            return address
    return remote
