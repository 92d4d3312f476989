"""CORS on /v1/: off by default; preflights for the operator's and organisations' origins; actual
answers (errors and streams too) judged by the key's own organisation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.utils import timezone

from accounts.models import Organization
from gateway.cors import allow_headers
from simulator.harness import SimulatorServer
from tests.proxy.conftest import hi
from tests.proxy.surface import Surface, committed, live_surface, wait_for

pytestmark = pytest.mark.django_db

APP = "https://app.example.com"
OTHER_APP = "https://other.example.com"
OPERATOR = "https://console.example.net"
EVIL = "https://evil.example"
SDK_HEADERS = (
    "authorization, content-type, x-stainless-os, x-stainless-lang, x-stainless-package-version, "
    "x-stainless-runtime, x-stainless-arch, x-stainless-retry-count, x-stainless-timeout"
)


@pytest.fixture(scope="module")
def surface(django_db_setup: None, django_db_blocker: Any, simulator: SimulatorServer) -> Iterator[Surface]:
    keys = {"a": ("org-a", []), "b": ("org-b", []), "plain": ("org-plain", [])}
    origins = {"org-a": [APP], "org-b": [OTHER_APP]}
    with live_surface(simulator, django_db_blocker, keys=keys, origins=origins, static_origins=(OPERATOR,)) as live:
        yield live


def preflight(
    surface: Surface, origin: str, path: str = "/v1/chat/completions", method: str = "POST"
) -> httpx.Response:
    headers = {"origin": origin, "access-control-request-method": method, "access-control-request-headers": SDK_HEADERS}
    return surface.request("OPTIONS", path, **headers)


def chat(surface: Surface, key: str, origin: str, **extra: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {surface.keys.get(key, key)}", "origin": origin}
    return httpx.post(f"{surface.url}/v1/chat/completions", json=hi(**extra), headers=headers, timeout=30)


@pytest.mark.parametrize(
    ("path", "method"),
    [("/v1/chat/completions", "POST"), ("/v1/messages", "POST"), ("/v1/messages/count_tokens", "POST"),
     ("/v1/models", "GET"), ("/v1/models/anthropic/claude-x:2025", "GET")],
)  # fmt: skip
@pytest.mark.parametrize("origin", [APP, OTHER_APP, OPERATOR])
def test_a_browser_preflight_from_a_listed_origin_is_a_204_that_allows_the_sdks_headers(
    surface: Surface, path: str, method: str, origin: str
) -> None:
    response = preflight(surface, origin, path, method)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == origin
    assert set(response.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST", "OPTIONS"}
    allowed = set(response.headers["access-control-allow-headers"].split(", "))
    assert {
        "authorization",
        "x-api-key",
        "content-type",
        "anthropic-version",
        "anthropic-beta",
        "openai-beta",
    } <= allowed
    assert {"x-stainless-os", "x-stainless-retry-count", "x-stainless-timeout"} <= allowed
    assert int(response.headers["access-control-max-age"]) > 0
    assert "Origin" in response.headers["vary"]
    assert "*" not in response.headers["access-control-allow-origin"]


def test_a_preflight_from_an_unlisted_origin_gets_no_allowance(surface: Surface) -> None:
    response = preflight(surface, EVIL)
    assert response.status_code == 204
    assert not [name for name in response.headers if name.startswith("access-control-")]


def test_an_answer_to_a_listed_origin_carries_allow_origin_and_exposed_headers(surface: Surface) -> None:
    response = chat(surface, "a", APP)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP
    exposed = set(response.headers["access-control-expose-headers"].split(", "))
    assert {"x-request-id", "x-gateway-attempts", "retry-after", "x-ratelimit-remaining-requests"} <= exposed
    assert response.headers["vary"] == "Origin"


def test_the_keys_own_organisation_decides_the_actual_answer(surface: Surface) -> None:
    # org-b allows OTHER_APP only: its key from APP's page is served, but the browser may not read it.
    response = chat(surface, "b", APP)
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in chat(surface, "plain", APP).headers
    # The operator's origins are allowed for every organisation's keys.
    assert chat(surface, "plain", OPERATOR).headers["access-control-allow-origin"] == OPERATOR


def test_errors_carry_the_headers_so_the_page_can_read_them(surface: Surface) -> None:
    unknown_model = chat(surface, "a", APP, model="no-such-model")
    assert unknown_model.status_code == 404 and unknown_model.headers["access-control-allow-origin"] == APP
    bad_key = chat(surface, "sk-gw-not-a-key", APP)
    assert bad_key.status_code == 401 and bad_key.headers["access-control-allow-origin"] == APP
    assert "access-control-allow-origin" not in chat(surface, "sk-gw-not-a-key", EVIL).headers
    route = surface.request("GET", "/v1/nowhere", authorization=f"Bearer {surface.keys['a']}", origin=APP)
    assert route.status_code == 404 and route.headers["access-control-allow-origin"] == APP


def test_streams_carry_the_headers(surface: Surface) -> None:
    headers = {"authorization": f"Bearer {surface.keys['a']}", "origin": APP}
    body = hi(stream=True)
    with httpx.stream("POST", f"{surface.url}/v1/chat/completions", json=body, headers=headers, timeout=30) as response:
        text = response.read()
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["access-control-allow-origin"] == APP
    assert text.endswith(b"data: [DONE]\n\n")


def test_the_anthropic_model_list_from_a_browser(surface: Surface) -> None:
    headers = {"x-api-key": surface.keys["a"], "anthropic-version": "2023-06-01", "origin": APP}
    response = surface.get("/v1/models", **headers)
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == APP


def test_a_new_origin_reaches_the_gateway_within_a_second_and_a_removed_one_leaves(surface: Surface) -> None:
    org = surface.orgs["org-plain"]
    newcomer = "http://localhost:5173"

    def set_origins(origins: list[str]) -> None:
        committed(
            lambda: Organization.objects.filter(pk=org.pk).update(
                cors_allowed_origins=origins, updated_at=timezone.now()
            )
        )

    set_origins([newcomer])
    try:
        assert wait_for(lambda: preflight(surface, newcomer).headers.get("access-control-allow-origin") == newcomer)
        assert chat(surface, "plain", newcomer).headers["access-control-allow-origin"] == newcomer
        assert "access-control-allow-origin" not in chat(surface, "a", newcomer).headers
    finally:
        set_origins([])
    assert wait_for(lambda: "access-control-allow-origin" not in preflight(surface, newcomer).headers)


def test_the_sdk_headers_are_echoed_and_nothing_else_is_added() -> None:
    echoed = allow_headers(b"X-Stainless-OS, x-custom, x-stainless-" + b"a" * 100 + b", x-stainless-arch")
    assert echoed.endswith("x-request-id, x-stainless-os, x-stainless-arch")
    assert "x-custom" not in echoed
    many = allow_headers(b", ".join(b"x-stainless-h%d" % i for i in range(10_000)))
    assert many.count("x-stainless-") <= 40
