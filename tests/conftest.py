from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings

from accounts.models import Membership, Organization, User
from accounts.services import create_organization
from simulator.harness import SimulatorServer
from tests.live import restore_kept_keys

# xdist workers share one Redis but each has its own database, where ids start alike: each worker
# keeps its own Redis keys, or one worker's key 5 would spend another's key 5's budget.
if os.environ.get("PYTEST_XDIST_WORKER"):
    settings.CACHES["default"]["KEY_PREFIX"] = f"{settings.CACHES['default'].get('KEY_PREFIX', 'gw')}-" + os.environ[
        "PYTEST_XDIST_WORKER"
    ]


@dataclass
class Accounts:
    """The healthchecks-style cast: an owner, a member of the same org, and an outsider."""

    owner: User
    member: User
    outsider: User
    org: Organization
    other_org: Organization


@pytest.fixture
def accounts(db: None) -> Accounts:
    owner = User.objects.create_user("owner@example.org", "owner-password-123")
    member = User.objects.create_user("member@example.org", "member-password-123")
    outsider = User.objects.create_user("outsider@example.org", "outsider-password-123")
    org = create_organization(name="Acme", owner=owner)
    Membership.objects.create(organization=org, user=member, role=Membership.Role.MEMBER)
    other_org = create_organization(name="Other", owner=outsider)
    return Accounts(owner=owner, member=member, outsider=outsider, org=org, other_org=other_org)


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer() as sim:
        yield sim


@pytest.fixture(autouse=True)
def _kept_keys_survive_truncation(django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        restore_kept_keys()
