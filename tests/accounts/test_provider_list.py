from __future__ import annotations

from accounts.models import ProviderCredential
from providers import services
from tests.accounts.factories import PROVIDER_SECRET, make_credential
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts


def url(accounts: Accounts) -> str:
    return f"/orgs/{accounts.org.pk}/providers/"


def test_owner_sees_provider_and_last_four_only(accounts: Accounts) -> None:
    credential = make_credential(accounts.org, by=accounts.owner)
    response = client_for(accounts.owner).get(url(accounts))
    assert response.status_code == 200
    page = response.content.decode()
    assert "openai-main" in page and f"…{PROVIDER_SECRET[-4:]}" in page
    assert PROVIDER_SECRET not in page and PROVIDER_SECRET[:-4] not in page
    ciphertext = ProviderCredential.objects.values_list("ciphertext", flat=True).get()
    assert ciphertext is not None and ciphertext not in page
    assert "untested" in page
    assert f"/providers/{credential.pk}/delete/" in page and "Test</button>" in page


def test_a_member_sees_the_list_without_actions(accounts: Accounts) -> None:
    make_credential(accounts.org)
    page = client_for(accounts.member).get(url(accounts)).content.decode()
    assert "openai-main" in page
    assert "/delete/" not in page and "Test</button>" not in page and "Add a key" not in page


def test_deleted_credentials_are_not_listed(accounts: Accounts) -> None:
    services.delete_provider_credential(credential=make_credential(accounts.org))
    page = client_for(accounts.owner).get(url(accounts)).content.decode()
    assert "openai-main" not in page and "No provider keys yet" in page


def test_another_organisations_credentials_are_not_listed(accounts: Accounts) -> None:
    make_credential(accounts.other_org, provider="theirs")
    assert b"theirs" not in client_for(accounts.owner).get(url(accounts)).content


def test_requires_login(accounts: Accounts) -> None:
    assert_login_required(url(accounts))


def test_outsider_gets_404(accounts: Accounts) -> None:
    make_credential(accounts.org)
    response = assert_not_found_for(accounts.outsider, url(accounts))
    assert b"openai-main" not in response.content
