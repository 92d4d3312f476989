"""The "Test" button: one cheap call to the operator's provider with the organisation's key."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.models import Membership, ProviderCredential
from tests.accounts.factories import (
    GOOD_KEY,
    PROVIDER_SECRET,
    fake_provider,
    make_credential,
    write_gateway_config,
)
from tests.accounts.helpers import (
    assert_login_required,
    assert_not_found_for,
    assert_not_in_logs,
    capturing_all_logs,
    client_for,
)
from tests.conftest import Accounts


def url(credential: ProviderCredential) -> str:
    return f"/orgs/{credential.organization_id}/providers/{credential.pk}/test/"


@pytest.mark.parametrize("provider", ["openai-main", "claude"])
def test_a_good_key_passes(accounts: Accounts, settings: object, tmp_path: Path, provider: str) -> None:
    with fake_provider() as upstream:
        settings.GATEWAY_CONFIG = str(write_gateway_config(tmp_path, upstream.url))  # type: ignore[attr-defined]
        credential = make_credential(accounts.org, provider, GOOD_KEY)
        response = client_for(accounts.owner).post(url(credential), follow=True)
    assert response.status_code == 200
    assert upstream.seen_keys == [GOOD_KEY]  # the organisation's key, not the operator's
    assert b"accepted the key" in response.content
    credential.refresh_from_db()
    assert credential.last_test_ok is True and credential.last_tested_at is not None
    assert credential.test_status == "ok"


@pytest.mark.parametrize("provider", ["openai-main", "claude"])
def test_a_refused_key_shows_why_without_the_key(
    accounts: Accounts, settings: object, tmp_path: Path, provider: str, caplog: pytest.LogCaptureFixture
) -> None:
    with fake_provider() as upstream:
        settings.GATEWAY_CONFIG = str(write_gateway_config(tmp_path, upstream.url))  # type: ignore[attr-defined]
        credential = make_credential(accounts.org, provider, PROVIDER_SECRET)
        with capturing_all_logs(caplog):
            response = client_for(accounts.owner).post(url(credential), follow=True)
    assert upstream.seen_keys == [PROVIDER_SECRET]  # and the provider echoed it back in its error
    page = response.content.decode()
    assert "the test failed" in page and "HTTP 401" in page and "Incorrect API key provided" in page
    assert PROVIDER_SECRET not in page
    credential.refresh_from_db()
    assert credential.last_test_ok is False
    assert "HTTP 401" in credential.last_test_message and PROVIDER_SECRET not in credential.last_test_message
    assert_not_in_logs(caplog, PROVIDER_SECRET)


def test_an_unreachable_provider_is_reported(accounts: Accounts, settings: object, tmp_path: Path) -> None:
    settings.GATEWAY_CONFIG = str(write_gateway_config(tmp_path, "http://127.0.0.1:9/v1"))  # type: ignore[attr-defined]
    credential = make_credential(accounts.org)
    response = client_for(accounts.owner).post(url(credential), follow=True)
    assert b"Could not reach the provider" in response.content
    credential.refresh_from_db()
    assert credential.last_test_ok is False


def test_a_provider_missing_from_the_config_is_reported(accounts: Accounts) -> None:
    credential = make_credential(accounts.org, "gone-provider")
    response = client_for(accounts.owner).post(url(credential), follow=True)
    assert b"not in the gateway configuration" in response.content
    credential.refresh_from_db()
    assert credential.last_test_ok is False


def test_a_get_tests_nothing_and_goes_back_to_the_list(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    response = client_for(accounts.owner).get(url(credential))
    assert response.status_code == 302 and response["Location"] == f"/orgs/{accounts.org.pk}/providers/"
    credential.refresh_from_db()
    assert credential.last_tested_at is None


def test_a_member_cannot_test(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    assert client_for(accounts.member).post(url(credential)).status_code == 403
    credential.refresh_from_db()
    assert credential.last_tested_at is None


def test_an_admin_can_test(accounts: Accounts) -> None:
    Membership.objects.filter(user=accounts.member).update(role=Membership.Role.ADMIN)
    credential = make_credential(accounts.org)
    assert client_for(accounts.member).post(url(credential)).status_code == 302
    credential.refresh_from_db()
    assert credential.last_tested_at is not None


def test_csrf_is_enforced(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    assert client_for(accounts.owner, enforce_csrf_checks=True).post(url(credential)).status_code == 403


def test_requires_login(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    assert_login_required(url(credential), method="post")


def test_outsider_gets_404(accounts: Accounts) -> None:
    credential = make_credential(accounts.org)
    assert_not_found_for(accounts.outsider, url(credential), method="post")
    credential.refresh_from_db()
    assert credential.last_tested_at is None
