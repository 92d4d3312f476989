"""GET /v1/models for Anthropic's SDKs (x-api-key): Anthropic's model objects, its paged envelope and errors.
Bearer callers keep OpenAI's list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from simulator.harness import SimulatorServer
from tests.proxy.surface import SLASHED, Surface, live_surface

ALL = ["chat", "backup", "solo", "wide", "tiny", "refused-first", SLASHED]

# The gateway reads keys from the test database: every test here needs it set up.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def surface(django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer) -> Iterator[Surface]:
    keys = {"all": ("org", []), "two": ("org", ["chat", SLASHED])}
    with live_surface(simulator, django_db_blocker, keys=keys) as live:
        yield live


def page(surface: Surface, query: str, key: str = "all") -> Any:
    headers = {"x-api-key": surface.keys[key], "anthropic-version": "2023-06-01"}
    return surface.get(f"/v1/models{query}", **headers)


def test_the_anthropic_sdk_lists_every_model_across_pages(surface: Surface) -> None:
    client = surface.anthropic()
    assert [model.id for model in client.models.list()] == ALL
    assert [model.id for model in client.models.list(limit=2)] == ALL  # auto-paging by after_id
    first = client.models.list(limit=3)
    assert (first.has_more, first.first_id, first.last_id) == (True, "chat", "solo")
    assert all(model.type == "model" and model.display_name == model.id for model in first.data)


def test_the_envelope_and_paging_after_and_before_an_id(surface: Surface) -> None:
    assert page(surface, "?limit=2&after_id=solo").json() == {
        "data": [
            {"type": "model", "id": "wide", "display_name": "wide", "created_at": "1970-01-01T00:00:00Z"},
            {"type": "model", "id": "tiny", "display_name": "tiny", "created_at": "1970-01-01T00:00:00Z"},
        ],
        "has_more": True,
        "first_id": "wide",
        "last_id": "tiny",
    }
    last = page(surface, "?after_id=tiny").json()
    assert ([m["id"] for m in last["data"]], last["has_more"]) == (["refused-first", SLASHED], False)
    before = page(surface, "?limit=2&before_id=wide").json()
    assert ([m["id"] for m in before["data"]], before["has_more"]) == (["backup", "solo"], True)
    start = page(surface, "?limit=5&before_id=backup").json()
    assert ([m["id"] for m in start["data"]], start["has_more"]) == (["chat"], False)


def test_the_sdk_pages_backwards_with_before_id(surface: Surface) -> None:
    listed = surface.anthropic().models.list(limit=2, before_id=SLASHED)
    # Each page keeps the list's order; the SDK then asks for the page before its first id.
    assert [model.id for model in listed] == ["tiny", "refused-first", "solo", "wide", "chat", "backup"]


def test_a_restricted_key_pages_through_its_own_models_only(surface: Surface) -> None:
    assert [model.id for model in surface.anthropic("two").models.list(limit=1)] == ["chat", SLASHED]
    assert page(surface, "?after_id=backup", key="two").status_code == 400


@pytest.mark.parametrize(
    "query",
    ["?limit=0", "?limit=1001", "?limit=-1", "?limit=abc", "?limit=" + "9" * 500, "?limit=²",
     "?after_id=chat&before_id=tiny", "?after_id=nope", "?before_id=" + "x" * 5000],
)  # fmt: skip
def test_bad_paging_is_an_anthropic_400(surface: Surface, query: str) -> None:
    response = page(surface, query)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert len(body["error"]["message"]) < 200


def test_the_sdk_raises_its_bad_request_error(surface: Surface) -> None:
    with pytest.raises(anthropic.BadRequestError):
        surface.anthropic().models.list(limit=5000)


def test_a_missing_or_bad_key_gets_anthropics_401(surface: Surface) -> None:
    with pytest.raises(anthropic.AuthenticationError) as caught:
        surface.anthropic("sk-gw-wrong").models.list()
    body = caught.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "authentication_error"
    missing = surface.get("/v1/models", **{"anthropic-version": "2023-06-01"})
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "authentication_error"


def test_bearer_callers_keep_openais_list(surface: Surface) -> None:
    listed = surface.openai().models.list()
    assert [model.id for model in listed.data] == ALL
    raw = surface.get("/v1/models?limit=1", authorization=f"Bearer {surface.keys['all']}").json()
    assert raw["object"] == "list" and len(raw["data"]) == len(ALL) and raw["data"][0]["object"] == "model"
