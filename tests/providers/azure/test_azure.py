"""Azure OpenAI over real HTTP: deployment URLs, api-version, the api-key header, regions, 429s."""

from __future__ import annotations

import httpx
import pytest

from gateway.conf.domain import ConfigFileError
from gateway.conf.loader import parse_config
from tests.providers.azure.conftest import EAST_KEY, last_path
from tests.providers.profiles.harness import Gateway, hi

STREAM = [False, True]


@pytest.mark.parametrize("stream", STREAM)
def test_request_goes_to_the_deployment_url_with_api_version_and_api_key(gw: Gateway, stream: bool) -> None:
    response = gw.post(hi("chat", stream=stream))
    assert response.status_code == 200, response.text
    assert response.headers["x-gateway-provider"] == "az-east"
    assert (
        last_path(gw, "az-east") == "/az-east/openai/deployments/prod-4o-mini/chat/completions?api-version=2024-10-21"
    )
    headers = gw.sent("az-east")["headers"]
    assert headers["api-key"] == EAST_KEY
    assert "authorization" not in headers


def test_non_streaming_answer_parses_in_the_openai_sdk(gw: Gateway) -> None:
    completion = gw.client().chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
    assert completion.choices[0].message.content
    assert completion.model == "chat"
    assert completion.usage is not None and completion.usage.completion_tokens > 0


def test_streaming_answer_parses_in_the_openai_sdk_with_usage(gw: Gateway) -> None:
    stream = gw.client().chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert gw.sent("az-east")["body"]["stream_options"] == {"include_usage": True}


def test_a_regions_api_version_option_is_sent(gw: Gateway) -> None:
    response = gw.post(hi("az-west/chat"))
    assert response.status_code == 200, response.text
    assert last_path(gw, "az-west").endswith(
        "/az-west/openai/deployments/prod-4o-mini/chat/completions?api-version=2025-04-01-preview"
    )


def test_catalog_model_is_served_by_every_region_under_its_model_name(gw: Gateway) -> None:
    deployments = gw.runtime.config.models["gpt-4o-mini"].deployments
    assert [d.id for d in deployments] == ["az-east/gpt-4o-mini", "az-west/gpt-4o-mini"]
    assert gw.post(hi("gpt-4o-mini")).status_code == 200
    assert "/openai/deployments/gpt-4o-mini/chat/completions" in last_path(gw, "az-east")


@pytest.mark.parametrize("stream", STREAM)
def test_429_with_retry_after_cools_the_region_down_and_the_other_region_answers(gw: Gateway, stream: bool) -> None:
    gw.sim.set_fault("az-east", status=429, retry_after="30")
    for _ in range(3):
        response = gw.post(hi("chat", stream=stream))
        assert response.status_code == 200, response.text
        assert response.headers["x-gateway-provider"] == "az-west"
    assert gw.sim.attempts("az-east") == 1
    assert gw.sim.attempts("az-west") == 3


def test_reasoning_deployment_gets_max_completion_tokens(gw: Gateway) -> None:
    assert gw.post(hi("thinker", max_tokens=64, temperature=0.3)).status_code == 200
    body = gw.sent("az-east")["body"]
    assert body["max_completion_tokens"] == 64
    assert not {"max_tokens", "temperature"} & body.keys()


def test_the_simulator_answers_404_without_api_version_as_azure_does(gw: Gateway) -> None:
    url = f"{gw.sim.base_url}/az-east/openai/deployments/prod-4o-mini/chat/completions"
    response = httpx.post(url, json=hi("x"), headers={"api-key": EAST_KEY})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        (
            "{name: az, kind: azure, base_url: 'https://r.openai.azure.com', options: {api_version: latest}}",
            "gw.yaml:2: providers[0]: options.api_version: 'latest' is not an Azure OpenAI API version",
        ),
        (
            "{name: az, kind: azure, base_url: 'https://r.openai.azure.com/openai'}",
            "gw.yaml:2: providers[0]: base_url: give the resource endpoint only",
        ),
        ("{name: az, kind: azure}", "gw.yaml:2: providers[0].base_url: is required (kind azure has no default)"),
    ],
)
def test_a_bad_azure_provider_is_a_startup_error_naming_file_and_line(provider: str, expected: str) -> None:
    text = f"providers:\n  - {provider}\nmodels:\n  - {{name: m, deployments: [{{provider: az, model: d}}]}}\n"
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text, source="gw.yaml")
    assert str(caught.value).startswith(expected), str(caught.value)
