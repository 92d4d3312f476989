"""Rotating a key keeps its limits and its month's spend: the new key carries on the old one's lineage."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx

from accounts.models import ApiKey, User
from accounts.services import create_api_key, create_organization, rotate_api_key
from accounts.tokens import hash_key
from tests.accounts.helpers import client_for
from tests.conftest import Accounts


def _limited_key(accounts: Accounts) -> ApiKey:
    return create_api_key(
        organization=accounts.org,
        name="ci",
        created_by=accounts.owner,
        allowed_models=["chat"],
        scopes=["management"],
        rpm_limit=7,
        tpm_limit=7000,
        monthly_budget_usd=Decimal("12.50"),
    ).api_key


def test_the_new_key_keeps_rpm_tpm_budget_models_and_scopes(verified: Accounts) -> None:
    old = _limited_key(verified)
    response = client_for(verified.owner).post(f"/orgs/{verified.org.pk}/keys/{old.pk}/rotate/")
    assert response.status_code == 200
    new = ApiKey.objects.exclude(pk=old.pk).get()
    assert (new.rpm_limit, new.tpm_limit, new.monthly_budget_usd) == (7, 7000, Decimal("12.50"))
    assert (new.allowed_models, new.scopes) == (["chat"], ["management"])


def test_every_key_of_a_rotation_chain_has_the_first_keys_lineage(verified: Accounts) -> None:
    first = _limited_key(verified)
    assert first.lineage == first.pk and first.lineage_id is None
    second = rotate_api_key(api_key=first, rotated_by=verified.owner).api_key
    third = rotate_api_key(api_key=second, rotated_by=verified.owner).api_key
    assert (second.lineage_id, third.lineage_id) == (first.pk, first.pk)


def _post(url: str, key: str, model: str) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"authorization": f"Bearer {key}"}
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers, timeout=10).status_code


def test_a_rotated_key_does_not_get_a_fresh_months_budget(gateway_url: str, transactional_db: None) -> None:
    org = create_organization(name="Budgeted")
    created = create_api_key(organization=org, name="k", monthly_budget_usd=Decimal("1.00"))
    # One answer costs tens of dollars: the budget is spent after the first.
    assert _post(gateway_url, created.plaintext, "dear") == 200
    deadline = time.monotonic() + 5
    while _post(gateway_url, created.plaintext, "dear") != 402:
        assert time.monotonic() < deadline, "the budget was never enforced"
        time.sleep(0.05)

    owner = User.objects.create_user("owner@example.org", "owner-password-123")
    rotated = rotate_api_key(api_key=created.api_key, rotated_by=owner)
    assert ApiKey.objects.get(hashed=hash_key(rotated.plaintext)).monthly_budget_usd == Decimal("1.00")
    assert _post(gateway_url, rotated.plaintext, "dear") == 402
