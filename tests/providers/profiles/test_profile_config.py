"""Provider entries of profiled kinds: defaults, options, and start-up errors naming file and line."""

from __future__ import annotations

import orjson
import pytest

from gateway.upstream.adapters import ADAPTERS
from gateway.conf.domain import ConfigFileError, GatewayConfig
from gateway.conf.loader import parse_config


def load(providers: str, model: str = "m") -> GatewayConfig:
    text = f"providers:\n{providers}models:\n  - {{name: chat, deployments: [{{provider: p, model: {model}}}]}}\n"
    return parse_config(text, source="gw.yaml")


def sent(config: GatewayConfig, **body: object) -> dict[str, object]:
    deployment = config.models["chat"].deployments[0]
    request = ADAPTERS[deployment.provider.kind].build_request(
        deployment, {"model": "chat", "messages": [{"role": "user", "content": "hi"}], **body}
    )
    payload: dict[str, object] = orjson.loads(request.content)
    return payload


def test_base_url_defaults_to_the_providers_own() -> None:
    config = load("  - {name: p, kind: deepseek, api_key: k}\n")
    assert config.providers["p"].base_url == "https://api.deepseek.com"


def test_a_configured_base_url_wins_and_keeps_the_profile() -> None:
    config = load("  - {name: p, kind: dashscope, base_url: 'https://dashscope.aliyuncs.com/compatible-mode/v1/'}\n")
    assert config.providers["p"].base_url == "https://dashscope.aliyuncs.com/compatible-mode/v1"
    assert "logit_bias" not in sent(config, logit_bias={"1": 2})


def test_cloudflare_without_an_account_id_or_base_url_is_a_startup_error() -> None:
    with pytest.raises(ConfigFileError) as caught:
        load("  - {name: p, kind: cloudflare, api_key: k}\n")
    assert str(caught.value).startswith("gw.yaml:2: providers[0]: options.account_id: is required")


def test_an_unknown_option_is_named() -> None:
    with pytest.raises(ConfigFileError) as caught:
        load("  - {name: p, kind: cloudflare, api_key: k, options: {acount_id: x}}\n")
    assert str(caught.value).startswith(
        "gw.yaml:2: providers[0]: options.acount_id: unknown option for kind cloudflare"
    )


def test_a_kind_without_a_default_needs_a_base_url() -> None:
    with pytest.raises(ConfigFileError) as caught:
        load("  - {name: p, kind: custom, api_key: k}\n")
    assert str(caught.value) == "gw.yaml:2: providers[0].base_url: is required (kind custom has no default)"


def test_stream_usage_must_be_true_or_false() -> None:
    with pytest.raises(ConfigFileError, match=r"providers\[0\]: options.stream_usage: must be true or false"):
        load("  - {name: p, kind: mistral, options: {stream_usage: maybe}}\n")


def test_stream_usage_and_drop_params_override_the_profile() -> None:
    config = load("  - {name: p, kind: mistral, options: {stream_usage: 'true', drop_params: 'temperature, top_p'}}\n")
    body = sent(config, temperature=0.1, top_p=0.5, stream_options={"include_usage": False})
    assert body["stream_options"] == {"include_usage": True}
    assert not {"temperature", "top_p"} & body.keys()


def test_deepseek_reasoner_gets_no_logprobs_but_deepseek_chat_keeps_them() -> None:
    reasoner = load("  - {name: p, kind: deepseek}\n", model="deepseek-reasoner")
    chat = load("  - {name: p, kind: deepseek}\n", model="deepseek-chat")
    assert "logprobs" not in sent(reasoner, logprobs=True)
    assert sent(chat, logprobs=True)["logprobs"] is True
