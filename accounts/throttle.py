"""Fixed-window attempt counters in Django's cache (Redis), for login and password reset."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class Throttle:
    scope: str
    limit: int
    window_seconds: int

    def _key(self, email: str, ip: str) -> str:
        # Hashed so that cache keys never hold an address in clear.
        digest = hashlib.sha256(f"{email.strip().lower()}|{ip}".encode()).hexdigest()[:32]
        return f"throttle:{self.scope}:{digest}"

    def is_blocked(self, email: str, ip: str) -> bool:
        return int(cache.get(self._key(email, ip), 0)) >= self.limit

    def hit(self, email: str, ip: str) -> None:
        key = self._key(email, ip)
        # add() starts the window; incr() never extends it.
        if not cache.add(key, 1, timeout=self.window_seconds):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, timeout=self.window_seconds)

    def reset(self, email: str, ip: str) -> None:
        cache.delete(self._key(email, ip))


LOGIN_FAILURES = Throttle("login", limit=5, window_seconds=15 * 60)
PASSWORD_RESETS = Throttle("password-reset", limit=5, window_seconds=15 * 60)
VERIFICATION_EMAILS = Throttle("verify-email", limit=3, window_seconds=15 * 60)


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a proxy rewrites it.
    return str(request.META.get("REMOTE_ADDR") or "unknown")
