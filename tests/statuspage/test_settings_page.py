"""The status page's settings: owners (and admins) publish it, title it, pick components from the models and
deployments the organisation uses, name, reorder and remove them; members read; outsiders get 404."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client

from statuspage.models import MAX_COMPONENTS, StatusComponent, StatusPage
from tests.accounts.helpers import assert_login_required, assert_not_found_for, client_for
from tests.conftest import Accounts
from tests.statuspage.seed import AZURE_4O, NOW, OPENAI_EMBED, SLUG, page, traffic


def url(accounts: Accounts, rest: str = "") -> str:
    return f"/orgs/{accounts.org.pk}/status-page/{rest}"


def _add(client: Client, accounts: Accounts, source: str, name: str) -> int:
    return client.post(url(accounts, "components/"), {"source": source, "name": name}).status_code


def test_an_owner_publishes_the_page_which_is_off_until_then(accounts: Accounts, frozen: datetime) -> None:
    owner = client_for(accounts.owner)
    response = owner.get(url(accounts))
    assert response.status_code == 200
    assert "gets its address when it is first saved" in response.content.decode()
    assert not StatusPage.objects.exists()  # a GET writes nothing
    assert owner.post(url(accounts), {"enabled": "on", "title": ""}).status_code == 400  # a title first
    assert owner.post(url(accounts), {"title": "Acme status"}).status_code == 302
    status_page = StatusPage.objects.get()
    assert (status_page.enabled, len(status_page.slug)) == (False, 24)
    assert Client().get(f"/status/{status_page.slug}/").status_code == 404
    assert owner.post(url(accounts), {"enabled": "on", "title": "Acme status"}).status_code == 302
    assert Client().get(f"/status/{status_page.slug}/").status_code == 200
    assert f"/status/{status_page.slug}/" in owner.get(url(accounts)).content.decode()


def test_a_new_address_retires_the_old_one(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org)
    assert client_for(accounts.owner).post(url(accounts, "address/")).status_code == 302
    new = StatusPage.objects.get().slug
    assert new != SLUG and len(new) == 24
    assert Client().get(f"/status/{SLUG}/").status_code == 404
    assert Client().get(f"/status/{new}/").status_code == 200


def test_components_are_chosen_from_the_models_and_deployments_used(accounts: Accounts, frozen: datetime) -> None:
    traffic(accounts.org, day=NOW - timedelta(days=3), ok=5, failed=0, model="legacy-model")  # used, not configured
    text = client_for(accounts.owner).get(url(accounts)).content.decode()
    for value in ("all_models:", "model:gpt-4o", "model:embed-small", "model:legacy-model",
                  f"deployment:{AZURE_4O}", f"deployment:{OPENAI_EMBED}"):  # fmt: skip
        assert f'value="{value}"' in text
    owner = client_for(accounts.owner)
    assert _add(owner, accounts, f"deployment:{AZURE_4O}", "Primary region") == 302
    assert _add(owner, accounts, "model:gpt-4o", "Chat") == 302
    assert _add(owner, accounts, "model:gpt-4o", "Chat again") == 400  # already on the page
    assert _add(owner, accounts, "model:not-used-anywhere", "Nope") == 400  # not a choice
    assert _add(owner, accounts, "all_models:", "") == 400  # a public name is required
    rows = list(StatusComponent.objects.values_list("kind", "target", "name", "position"))
    assert rows == [("deployment", AZURE_4O, "Primary region", 0), ("model", "gpt-4o", "Chat", 1)]


@pytest.mark.parametrize(
    ("name", "problem"),
    [("x" * 81, "at most 80 characters"), ("Chat\u202eevil", "control or invisible"), ("a\x00b", "Null characters")],
)
def test_public_names_are_limited(accounts: Accounts, frozen: datetime, name: str, problem: str) -> None:
    response = client_for(accounts.owner).post(url(accounts, "components/"), {"source": "all_models:", "name": name})
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert not StatusComponent.objects.exists()


def test_at_most_fifty_components(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org, *[("model", f"m{n}", f"Model {n}") for n in range(MAX_COMPONENTS)])
    owner = client_for(accounts.owner)
    assert "remove one to add another" in owner.get(url(accounts)).content.decode()
    response = owner.post(url(accounts, "components/"), {"source": "all_models:", "name": "One more"})
    assert response.status_code == 400
    assert "at most 50 components" in response.content.decode()
    assert StatusComponent.objects.count() == MAX_COMPONENTS


def test_rename_reorder_and_remove(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org, ("all_models", "", "API"), ("model", "gpt-4o", "Chat"), ("deployment", AZURE_4O, "Primary"))
    api, chat, primary = StatusComponent.objects.all()
    owner = client_for(accounts.owner)
    assert owner.post(url(accounts, f"components/{chat.pk}/"), {"name": "Chat completions"}).status_code == 302
    assert owner.post(url(accounts, f"components/{chat.pk}/"), {"name": ""}).status_code == 302  # refused, said so
    assert owner.post(url(accounts, f"components/{primary.pk}/move/"), {"direction": "up"}).status_code == 302
    assert owner.post(url(accounts, f"components/{api.pk}/move/"), {"direction": "up"}).status_code == 302  # top
    assert owner.post(url(accounts, f"components/{api.pk}/move/"), {"direction": "sideways"}).status_code == 400
    assert list(StatusComponent.objects.values_list("name", flat=True)) == ["API", "Primary", "Chat completions"]
    assert owner.post(url(accounts, f"components/{api.pk}/delete/")).status_code == 302
    assert list(StatusComponent.objects.values_list("name", flat=True)) == ["Primary", "Chat completions"]


def test_members_read_the_settings_and_change_nothing(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org, ("model", "gpt-4o", "Chat"))
    component = StatusComponent.objects.get()
    member = client_for(accounts.member)
    text = member.get(url(accounts)).content.decode()
    assert "<fieldset disabled>" in text and "Chat" in text
    assert "Add component" not in text and "New address" not in text and "Remove" not in text
    for path, data in [
        ("", {"enabled": "on", "title": "x"}),
        ("address/", {}),
        ("components/", {"source": "all_models:", "name": "x"}),
        (f"components/{component.pk}/", {"name": "x"}),
        (f"components/{component.pk}/move/", {"direction": "down"}),
        (f"components/{component.pk}/delete/", {}),
    ]:
        assert member.post(url(accounts, path), data).status_code == 403
    assert StatusPage.objects.get().slug == SLUG and StatusComponent.objects.get().name == "Chat"


def test_outsiders_get_404_everywhere(accounts: Accounts, frozen: datetime) -> None:
    page(accounts.org, ("model", "gpt-4o", "Chat"))
    component = StatusComponent.objects.get()
    for path in ("", "address/", "components/", f"components/{component.pk}/", f"components/{component.pk}/move/",
                 f"components/{component.pk}/delete/"):  # fmt: skip
        assert_not_found_for(accounts.outsider, url(accounts, path), method="post", data={"direction": "up"})
    assert_not_found_for(accounts.outsider, url(accounts))
    # Nor through their own organisation: the component is not theirs.
    other = f"/orgs/{accounts.other_org.pk}/status-page/components/{component.pk}/"
    assert_not_found_for(accounts.outsider, other, method="post", data={"name": "mine now"})
    assert_not_found_for(accounts.outsider, other + "delete/", method="post")
    assert StatusComponent.objects.get().name == "Chat"
    assert_not_found_for(accounts.owner, f"/orgs/{2**63}/status-page/")  # beyond any id: still 404
    assert_not_found_for(accounts.owner, url(accounts, f"components/{10**30}/delete/"), method="post")


def test_the_settings_need_a_login(accounts: Accounts) -> None:
    assert_login_required(url(accounts))
    assert_login_required(url(accounts, "components/"), method="post")
