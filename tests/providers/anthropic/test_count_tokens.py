"""POST /v1/messages/count_tokens with the official anthropic SDK: an estimate, no upstream call."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from tests.providers.anthropic.conftest import AnthropicGateway
from tests.providers.anthropic.test_inbound_messages import HI, WEATHER


def test_the_sdk_gets_an_input_token_estimate_without_an_upstream_call(gw: AnthropicGateway) -> None:
    short = gw.anthropic().messages.count_tokens(model="claude", messages=HI)
    longer = gw.anthropic().messages.count_tokens(
        model="claude", system="Answer in French.", messages=[{"role": "user", "content": "hi " * 400}]
    )
    assert 1 <= short.input_tokens < longer.input_tokens
    assert 250 <= longer.input_tokens <= 450  # 1,200 characters at about 4 a token
    assert gw.sim.attempts("anth-a") == 0


def test_tool_definitions_count_as_input(gw: AnthropicGateway) -> None:
    plain = gw.anthropic().messages.count_tokens(model="claude", messages=HI)
    with_tools = gw.anthropic().messages.count_tokens(model="claude", messages=HI, tools=[WEATHER])  # type: ignore[list-item]
    assert with_tools.input_tokens > plain.input_tokens


def test_an_unknown_model_is_the_sdks_not_found_error(gw: AnthropicGateway) -> None:
    with pytest.raises(anthropic.NotFoundError):
        gw.anthropic().messages.count_tokens(model="no-such-model", messages=HI)


def test_a_bad_key_and_a_bad_body_get_anthropics_error_shape(gw: AnthropicGateway) -> None:
    url = f"{gw.url}/v1/messages/count_tokens"
    refused = httpx.post(url, json={"model": "claude", "messages": HI}, headers={"x-api-key": "sk-gw-nope"})
    assert refused.status_code == 401 and refused.json()["type"] == "error"
    bad = httpx.post(url, json={"model": "claude", "messages": []}, headers={"x-api-key": gw.key})
    assert bad.status_code == 400
    assert bad.json()["error"]["type"] == "invalid_request_error"
