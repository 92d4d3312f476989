"""Realistic data for the pages a newcomer sees first: an organisation with members, keys with
limits and spend, and a day of traffic with failovers. Shared by the layout test and screenshots."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Invitation, Membership, Organization, User
from accounts.services import create_api_key, create_organization
from monitoring.models import Attempt, Request

PASSWORD = "a long enough passphrase 9"


@dataclass
class Seeded:
    owner: User
    org: Organization


def seed() -> Seeded:
    owner = User.objects.create_user("maria.example-owner@acme-industries.example.com", PASSWORD)
    owner.email_verified_at = timezone.now()
    owner.save(update_fields=["email_verified_at"])
    org = create_organization(name="Acme Industries (production)", owner=owner)
    for n, role in enumerate(["admin", "member", "member"]):
        user = User.objects.create_user(f"teammate{n}@acme-industries.example.com", PASSWORD)
        Membership.objects.create(organization=org, user=user, role=role)
    Invitation.objects.create(organization=org, email="new.hire@acme-industries.example.com", invited_by=owner)
    keys = [
        create_api_key(
            organization=org,
            name="checkout-service production",
            created_by=owner,
            rpm_limit=600,
            tpm_limit=200_000,
            monthly_budget_usd=Decimal("250.00"),
            allowed_models=["gpt-4o-mini"],
        ).api_key,
        create_api_key(
            organization=org,
            name="support chatbot",
            created_by=owner,
            rpm_limit=120,
            monthly_budget_usd=Decimal("0.05"),
        ).api_key,
        create_api_key(organization=org, name="ops automation", created_by=owner, scopes=["management"]).api_key,
        create_api_key(
            organization=org, name="nightly evals", created_by=owner, expires_at=timezone.now() + timedelta(days=30)
        ).api_key,
    ]
    _traffic(org, keys)
    return Seeded(owner=owner, org=org)


CHAINS = [
    [("sim-openai", 200, "ok", 212.0)],
    [("sim-openai", 503, "server_error", 48.0), ("sim-azure", 200, "ok", 318.0)],
    [("sim-azure", None, "timeout", 3004.0), ("sim-groq", 200, "ok", 164.0)],
    [
        ("sim-groq", 429, "rate_limited", 22.0),
        ("sim-openai", 503, "server_error", 51.0),
        ("sim-azure", 200, "ok", 290.0),
    ],
    [
        ("sim-openai", 503, "server_error", 40.0),
        ("sim-azure", None, "timeout", 3001.0),
        ("sim-groq", 429, "rate_limited", 19.0),
    ],
]


def _traffic(org: Organization, keys: list) -> None:
    now = timezone.now()
    requests, attempts = [], []
    for n in range(140):
        chain = CHAINS[(n * 7) % len(CHAINS)] if n % 3 else CHAINS[0]
        key = keys[n % 2]
        started = now - timedelta(minutes=n * 9 + 1)
        request_id = uuid.uuid4().hex
        ok = chain[-1][2] == "ok"
        cost = Decimal("0.000049") * (1 + n % 4) if ok else None
        requests.append(
            Request(
                id=uuid.uuid4(),
                request_id=request_id,
                started_at=started,
                org_id=org.pk,
                key_id=key.pk,
                inbound="openai.chat",
                requested_model="gpt-4o-mini",
                model="gpt-4o-mini" if ok else "",
                provider=chain[-1][0] if ok else "",
                stream=n % 2 == 0,
                status=200 if ok else 503,
                outcome=chain[-1][2],
                error_code="" if ok else "all_deployments_failed",
                attempts=len(chain),
                failovers=len(chain) - 1,
                rescued=ok and len(chain) > 1,
                latency_ms=sum(c[3] for c in chain),
                ttft_ms=None,
                prompt_tokens=120 + n,
                completion_tokens=40 + n % 30,
                cost_usd=cost,
            )
        )
        offset = 0.0
        for i, (provider, status, outcome, latency) in enumerate(chain, 1):
            attempts.append(
                Attempt(
                    id=uuid.uuid4(),
                    request_id=request_id,
                    attempt=i,
                    started_at=started + timedelta(milliseconds=offset),
                    org_id=org.pk,
                    key_id=key.pk,
                    requested_model="gpt-4o-mini",
                    model="gpt-4o-mini",
                    provider=provider,
                    deployment=f"{provider}/gpt-4o-mini",
                    stream=False,
                    outcome=outcome,
                    status_code=status,
                    error="",
                    latency_ms=latency,
                    prompt_tokens=120 + n if outcome == "ok" else None,
                    completion_tokens=40 + n % 30 if outcome == "ok" else None,
                    rescued=outcome == "ok" and i > 1,
                    final=i == len(chain),
                    cost_usd=cost if outcome == "ok" else None,
                )
            )
            offset += latency
    Request.objects.bulk_create(requests)
    Attempt.objects.bulk_create(attempts)
