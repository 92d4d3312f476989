"""OAuth access tokens for Vertex AI service accounts, kept fresh off the request path.

The request path only reads the cached token. A background thread refreshes it once it is
within ``REFRESH_AHEAD`` seconds of expiry, so no request waits for Google's token endpoint,
except the very first one when nothing primed the cache at start-up (see ``prime``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

import urllib3
from google.auth import exceptions as google_exceptions
from google.auth.transport.urllib3 import Request
from google.oauth2 import service_account

from gateway.errors import AttemptError
from gateway.events.outcomes import Outcome

if TYPE_CHECKING:
    from gateway.conf.domain import GatewayConfig

log = logging.getLogger(__name__)

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
REFRESH_AHEAD = 300.0  # Google's tokens live an hour; start renewing five minutes before the end
RETRY_PAUSE = 10.0  # after a failed background refresh, before the next try
MINT_TIMEOUT = 10.0

_SOURCES: dict[str, TokenSource] = {}
_SOURCES_LOCK = threading.Lock()
_HTTP = urllib3.PoolManager(timeout=urllib3.Timeout(total=MINT_TIMEOUT), retries=urllib3.Retry(total=1, redirect=0))


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires_at: float  # time.time()


class TokenSource:
    """One service account's current access token."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._credentials = service_account.Credentials.from_service_account_file(path, scopes=list(SCOPES))
        self._token: _Token | None = None
        self._lock = threading.Lock()  # held while minting
        self._flag_lock = threading.Lock()  # guards _refreshing; never held across I/O
        self._refreshing = False
        self._next_try = 0.0
        self.mints = 0

    def token(self) -> str:
        """The cached token; starts a background refresh when it is near expiry."""
        current = self._token
        now = time.time()
        if current is None or current.expires_at <= now:
            return self.refresh_now().value
        if current.expires_at - now < REFRESH_AHEAD and not self._refreshing and now >= self._next_try:
            self._refresh_in_background()
        return current.value

    def refresh_now(self) -> _Token:
        """Mint a token synchronously: only when none is usable (first use without ``prime``)."""
        with self._lock:
            current = self._token
            if current is not None and current.expires_at > time.time():
                return current  # another caller minted it while we waited for the lock
            try:
                return self._mint()
            except google_exceptions.RefreshError as exc:
                raise AttemptError(Outcome.MISCONFIGURED, f"Vertex AI token refused: {_short(exc)}") from None
            except google_exceptions.TransportError as exc:
                raise AttemptError(Outcome.CONNECT, f"cannot reach the OAuth token endpoint: {_short(exc)}") from None

    def _refresh_in_background(self) -> None:
        with self._flag_lock:
            if self._refreshing:
                return
            self._refreshing = True
        threading.Thread(target=self._refresh_quietly, name="vertex-token", daemon=True).start()

    def _refresh_quietly(self) -> None:
        try:
            with self._lock:
                self._mint()
        except Exception as exc:
            # The current token is still valid for a while: keep serving it and try again soon.
            self._next_try = time.time() + RETRY_PAUSE
            log.warning("Vertex AI token refresh for %s failed: %s", self.path, _short(exc))
        finally:
            self._refreshing = False

    def _mint(self) -> _Token:
        self._credentials.refresh(Request(_HTTP))
        expiry = self._credentials.expiry
        expires_at = expiry.replace(tzinfo=UTC).timestamp() if expiry else time.time() + 3600
        token = _Token(str(self._credentials.token), expires_at)
        self._token = token
        self.mints += 1
        return token


def source_for(path: str) -> TokenSource:
    """The shared token source of a service-account file; raises ValueError if it is unusable."""
    key = str(Path(path).expanduser().resolve())
    with _SOURCES_LOCK:
        source = _SOURCES.get(key)
        if source is None:
            try:
                source = _SOURCES[key] = TokenSource(key)
            except (OSError, ValueError, KeyError) as exc:
                raise ValueError(f"cannot load service-account credentials from {path}: {_short(exc)}") from None
        return source


def prime_sync(config: GatewayConfig) -> None:
    """Mint the first token of every Vertex service account, so no request has to."""
    for provider in config.providers.values():
        path = provider.options.get("credentials_file") if provider.kind == "vertex" else None
        if path:
            try:
                source_for(path).refresh_now()
            except AttemptError as exc:
                log.warning("Vertex AI provider %s has no token yet: %s", provider.name, exc)


async def prime(config: GatewayConfig) -> None:
    """``prime_sync`` in a worker thread: call once at start-up (``Runtime.start``)."""
    await asyncio.to_thread(prime_sync, config)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else exc.__class__.__name__
