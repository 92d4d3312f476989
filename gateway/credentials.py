"""Organisations' own provider keys, which take precedence over the operator's for their requests.

A deployment served with an organisation's key is a separate deployment to the router: its own
id (``<deployment>@org<id>``), so its own health, and a bad key there cannot open the breaker
that every other organisation relies on.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from accounts.selectors import provider_credentials_changed_since, provider_secret
from gateway.upstream.adapters import ADAPTERS
from gateway.conf.domain import Deployment, Provider
from gateway.polling import PolledTable, Rows

log = logging.getLogger(__name__)


class CredentialCache(PolledTable):
    name = "credential"

    def __init__(self, refresh_seconds: float) -> None:
        super().__init__(provider_credentials_changed_since, refresh_seconds)
        # (org, provider name) -> the key; None when no configured key decrypts it.
        self._secrets: dict[tuple[int, str], str | None] = {}
        self._deployments: dict[tuple[int, str], Deployment | None] = {}

    def apply(self, rows: Rows, *, full: bool) -> datetime | None:
        secrets = {} if full else dict(self._secrets)
        newest = None
        for org_id, provider, ciphertext, updated_at in rows:
            newest = updated_at if newest is None or updated_at > newest else newest
            if ciphertext is None:
                secrets.pop((org_id, provider), None)
                continue
            secret = provider_secret(ciphertext)
            if secret is None:
                log.error(
                    "organisation %s's key for provider %s cannot be decrypted; its requests "
                    "to that provider are refused until the key is set again",
                    org_id,
                    provider,
                )
            secrets[(org_id, provider)] = secret
        if secrets != self._secrets:
            self._deployments = {}
        self._secrets = secrets
        return newest

    def deployments_for(self, org_id: int, deployments: tuple[Deployment, ...]) -> tuple[Deployment, ...]:
        if not self._secrets:
            return deployments
        mapped = (self._for(org_id, deployment) for deployment in deployments)
        return tuple(deployment for deployment in mapped if deployment is not None)

    def _for(self, org_id: int, deployment: Deployment) -> Deployment | None:
        if (org_id, deployment.provider.name) not in self._secrets:
            return deployment
        cache_key = (org_id, deployment.id)
        if cache_key not in self._deployments:
            secret = self._secrets[(org_id, deployment.provider.name)]
            # An organisation whose own key is unreadable, or cannot apply, must not silently
            # spend the operator's.
            refused = secret is None or _refused(org_id, deployment.provider)
            self._deployments[cache_key] = None if refused else _with_key(deployment, org_id, secret or "")
        return self._deployments[cache_key]


def key_problem(provider: Provider) -> str | None:
    """Why an organisation's own key cannot apply to this provider, or None when it can."""
    if provider.kind == "vertex" and provider.options.get("credentials_file"):
        return (
            f"Provider {provider.name!r} signs in with the operator's service account (options.credentials_file): "
            "an organisation's own key cannot apply to it."
        )
    if provider.kind == "bedrock":
        return (
            f"Provider {provider.name!r} signs requests with the operator's AWS credentials: "
            "an organisation's own key cannot apply to it."
        )
    return None


def _refused(org_id: int, provider: Provider) -> bool:
    problem = key_problem(provider)
    if problem is not None:
        log.warning("organisation %s's own key is refused: %s Its requests skip that provider.", org_id, problem)
    return problem is not None


def _with_key(deployment: Deployment, org_id: int, secret: str) -> Deployment:
    provider = replace(deployment.provider, api_key=secret)
    own = replace(deployment, id=f"{deployment.id}@org{org_id}", provider=provider, prepared=None)
    return replace(own, prepared=ADAPTERS[provider.kind].prepare(own))
