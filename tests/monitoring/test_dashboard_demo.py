"""Demo mode: ./gw up's traffic generator sends to the organisation its admin lands on, so that the dashboard
the newcomer opens is the one that fills."""

from __future__ import annotations

from pathlib import Path

from accounts.models import ApiKey, User
from accounts.services import bootstrap_local_operator, create_organization, issue_demo_traffic_key
from accounts.tokens import hash_key
from tests.accounts.helpers import client_for


def test_demo_traffic_goes_to_the_organisation_the_admin_lands_on(db: None, tmp_path: Path) -> None:
    someone = User.objects.create_user("early@example.org", "early-password-123")
    create_organization(name="Aardvark", owner=someone)  # made before the admin, and first by name
    bootstrap_local_operator(data_dir=tmp_path)
    admin = User.objects.get(email="admin@localhost")
    create_organization(name="Another of the admin's", owner=admin)
    key = ApiKey.objects.get(hashed=hash_key(issue_demo_traffic_key()))
    landing = client_for(admin).get("/")
    assert landing["Location"] == f"/orgs/{key.organization_id}/"
