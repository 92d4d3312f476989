"""With no origin listed by the operator or any organisation, /v1/ sends no CORS header at all."""

from __future__ import annotations

import httpx

from tests.proxy.conftest import LiveGateway, hi

APP = "https://app.example.com"


def test_no_cors_header_on_answers_or_preflights(gw: LiveGateway) -> None:
    headers = {"authorization": f"Bearer {gw.key}", "origin": APP}
    response = httpx.post(f"{gw.url}/v1/chat/completions", json=hi(), headers=headers, timeout=30)
    assert response.status_code == 200
    assert not [name for name in response.headers if name.startswith("access-control-")]
    options = httpx.options(
        f"{gw.url}/v1/chat/completions",
        headers={"origin": APP, "access-control-request-method": "POST"},
        timeout=10,
    )
    assert not [name for name in options.headers if name.startswith("access-control-")]
    assert options.status_code == 401
