"""GET /v1/models/{id}: one model, seen as the list shows it, with the SDKs' retrieve calls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import anthropic
import openai
import pytest

from simulator.harness import SimulatorServer
from tests.proxy.surface import SLASHED, Surface, live_surface

# The gateway reads keys from the test database: every test here needs it set up.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def surface(django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer) -> Iterator[Surface]:
    keys = {"all": ("org", []), "only-chat": ("org", ["chat"])}
    with live_surface(simulator, django_db_blocker, keys=keys) as live:
        yield live


def test_the_openai_sdk_retrieves_a_model_as_the_list_shows_it(surface: Surface) -> None:
    client = surface.openai()
    model = client.models.retrieve("chat")
    listed = next(m for m in client.models.list().data if m.id == "chat")
    assert (model.id, model.object, model.owned_by) == ("chat", "model", "gateway")
    assert model.model_dump() == listed.model_dump()
    assert model.model_dump()["context_window"] == 8000


def test_ids_with_slashes_and_colons_are_found(surface: Surface) -> None:
    assert surface.openai().models.retrieve(SLASHED).id == SLASHED
    assert surface.anthropic().models.retrieve(SLASHED).id == SLASHED
    response = surface.get(f"/v1/models/{SLASHED}", authorization=f"Bearer {surface.keys['all']}")
    assert response.status_code == 200 and response.json()["id"] == SLASHED


@pytest.mark.parametrize("name", ["nope", "backup", "chat/extra", "x" * 5000])
def test_an_unknown_or_hidden_model_is_a_404_model_not_found(surface: Surface, name: str) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        surface.openai("only-chat").models.retrieve(name)
    error = caught.value.body
    assert isinstance(error, dict) and error["code"] == "model_not_found" and error["type"] == "invalid_request_error"
    assert len(error["message"]) < 300


def test_a_hidden_model_looks_exactly_like_a_missing_one(surface: Surface) -> None:
    hidden = surface.get("/v1/models/backup", authorization=f"Bearer {surface.keys['only-chat']}")
    assert hidden.status_code == 404
    assert hidden.json()["error"]["message"] == "The model 'backup' does not exist or you do not have access to it."
    assert surface.openai("only-chat").models.retrieve("chat").id == "chat"


def test_the_anthropic_sdk_retrieves_anthropic_model_info(surface: Surface) -> None:
    model = surface.anthropic().models.retrieve("chat")
    assert (model.type, model.id, model.display_name) == ("model", "chat", "chat")
    assert model.created_at == datetime(1970, 1, 1, tzinfo=UTC)
    raw = surface.get("/v1/models/chat", **{"x-api-key": surface.keys["all"], "anthropic-version": "2023-06-01"})
    assert raw.json() == {"type": "model", "id": "chat", "display_name": "chat", "created_at": "1970-01-01T00:00:00Z"}
    assert raw.headers["request-id"] == raw.headers["x-request-id"]


def test_the_anthropic_sdk_gets_its_own_404(surface: Surface) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        surface.anthropic("only-chat").models.retrieve("backup")
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error" and body["error"]["type"] == "not_found_error"


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_a_bad_key_is_a_401_before_any_lookup(surface: Surface, sdk: str) -> None:
    if sdk == "openai":
        with pytest.raises(openai.AuthenticationError):
            surface.openai("sk-gw-not-a-key").models.retrieve("chat")
    else:
        with pytest.raises(anthropic.AuthenticationError):
            surface.anthropic("sk-gw-not-a-key").models.retrieve("chat")


def test_posting_to_a_model_is_a_405_that_names_get(surface: Surface) -> None:
    response = surface.request("POST", "/v1/models/chat", authorization=f"Bearer {surface.keys['all']}")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.json()["error"]["code"] == "method_not_allowed"
