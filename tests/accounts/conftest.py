from __future__ import annotations

import pytest
from django.utils import timezone

from tests.conftest import Accounts


@pytest.fixture
def verified(accounts: Accounts) -> Accounts:
    """The usual cast, with every address verified (key creation needs it)."""
    for user in (accounts.owner, accounts.member, accounts.outsider):
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return accounts


@pytest.fixture(autouse=True)
def _account_tables_start_empty(db: None) -> None:
    """Other modules' live servers commit their own orgs and keys; inside this test's
    transaction they are removed, and the rollback at the end brings them back."""
    from accounts.models import ApiKey, Invitation, Membership, Organization, User

    for model in (ApiKey, Invitation, Membership, Organization, User):
        model.objects.all().delete()
