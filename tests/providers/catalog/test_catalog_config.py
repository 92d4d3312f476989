"""Config models that refer to the catalog: expansion, overrides, prices, and errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.conf.domain import ConfigFileError, GatewayConfig
from gateway.conf.loader import parse_config

PROVIDERS = """providers:
  - {name: openai, kind: openai, api_key: k}
  - {name: az-east, kind: azure, base_url: 'https://east.openai.azure.com', api_key: k}
  - {name: groq, kind: groq, api_key: k}
  - {name: together, kind: together, api_key: k}
models:
"""


def load(models: str) -> GatewayConfig:
    return parse_config(PROVIDERS + models, source="gw.yaml")


def ids(config: GatewayConfig, model: str) -> list[str]:
    return [deployment.id for deployment in config.models[model].deployments]


def test_a_bare_name_expands_to_every_configured_provider_that_serves_it() -> None:
    config = load("  - gpt-4o-mini\n  - llama-3.3-70b\n")
    assert ids(config, "gpt-4o-mini") == ["openai/gpt-4o-mini", "az-east/gpt-4o-mini"]
    assert ids(config, "llama-3.3-70b") == [
        "groq/llama-3.3-70b-versatile",
        "together/meta-llama/Llama-3.3-70B-Instruct-Turbo",
    ]
    model = config.models["llama-3.3-70b"]
    assert (model.context_window, model.max_output) == (131072, 32768)
    prices = [d.price.as_json() if d.price else None for d in model.deployments]
    assert prices == [
        {"input": 0.59, "output": 0.79, "cached_input": None},
        {"input": 0.88, "output": 0.88, "cached_input": None},
    ]


def test_a_catalog_model_under_another_name_with_fallbacks_and_its_own_context_window() -> None:
    config = load(
        "  - name: fast\n    catalog: llama-3.1-8b\n    fallbacks: [big]\n    context_window: 8000\n"
        "  - {name: big, catalog: llama-3.3-70b}\n"
    )
    assert ids(config, "fast") == ["groq/llama-3.1-8b-instant", "together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"]
    assert config.models["fast"].context_window == 8000
    assert config.models["fast"].fallbacks == ("big",)


def test_an_explicit_deployment_replaces_the_catalogs_on_its_provider_and_keeps_the_price() -> None:
    config = load("  - name: gpt-4o\n    catalog: true\n    deployments:\n      - {provider: az-east, model: my-4o}\n")
    assert ids(config, "gpt-4o") == ["az-east/my-4o", "openai/gpt-4o"]
    price = config.models["gpt-4o"].deployments[0].price
    assert price is not None and price.as_json() == {"input": 2.5, "output": 10.0, "cached_input": 1.25}


def test_an_explicit_deployment_may_leave_the_model_id_to_the_catalog() -> None:
    config = load("  - name: gpt-4.1\n    catalog: true\n    deployments: [{provider: az-east}]\n")
    assert ids(config, "gpt-4.1") == ["az-east/gpt-4.1", "openai/gpt-4.1"]


def test_plain_deployments_are_priced_from_the_catalog_or_their_own_price() -> None:
    config = load(
        "  - {name: a, deployments: [{provider: groq, model: llama-3.1-8b-instant}]}\n"
        "  - {name: b, deployments: [{provider: groq, model: mine, price: {input: 1, output: 3, cached_input: 0.1}}]}\n"
        "  - {name: c, deployments: [{provider: groq, model: unknown-to-the-catalog}]}\n"
    )
    a, b, c = (config.models[name].deployments[0].price for name in "abc")
    assert a is not None and (a.input, a.output) == (0.05, 0.08)
    assert b is not None and b.as_json() == {"input": 1.0, "output": 3.0, "cached_input": 0.1}
    assert c is None
    assert config.models["a"].context_window is None  # only catalog references take the catalog's window


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        ("  - gpt4o-mini\n", "gw.yaml:7: models[0]: unknown catalog model 'gpt4o-mini' (did you mean: gpt-4o-mini"),
        (
            "  - {name: x, catalog: lama-3.3-70b}\n",
            "gw.yaml:7: models[0].catalog: unknown catalog model 'lama-3.3-70b'",
        ),
        (
            "  - claude-sonnet-4-5\n",
            "gw.yaml:7: models[0]: no configured provider serves catalog model 'claude-sonnet-4-5' "
            "(provider kinds that do: anthropic, bedrock, openrouter)",
        ),
        (
            "  - name: gpt-4o\n    catalog: true\n    deployments: [{provider: nowhere}]\n",
            "gw.yaml:9: models[0].deployments[0].provider: unknown provider 'nowhere'",
        ),
        ("  - {name: x, deployments: [{provider: groq}]}\n", "gw.yaml:7: models[0].deployments[0].model: is required"),
        (
            "  - {name: x, deployments: [{provider: groq, model: m, price: {input: 1}}]}\n",
            "gw.yaml:7: models[0].deployments[0].price.output: is required",
        ),
        ("  - {name: x}\n", "gw.yaml:7: models[0].deployments: is required (or name a catalog model"),
    ],
)
def test_a_bad_catalog_reference_is_a_startup_error_naming_file_and_line(models: str, expected: str) -> None:
    with pytest.raises(ConfigFileError) as caught:
        load(models)
    assert str(caught.value).startswith(expected), str(caught.value)


def test_the_catalog_example_in_the_docs_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "providers.md").read_text()
    section = text[text.index("## The model catalog") :]
    example = section[section.index("```yaml\n") + 8 : section.index("```\n", section.index("```yaml"))]
    for variable in ("OPENAI_API_KEY", "AZURE_KEY", "GROQ_API_KEY", "TOGETHER_API_KEY"):
        monkeypatch.setenv(variable, "k")
    config = parse_config(example, source="docs/providers.md")
    assert ids(config, "gpt-4o") == ["azure-eastus/my-gpt4o-deployment", "openai/gpt-4o"]
    assert ids(config, "fast") == ["groq/llama-3.1-8b-instant", "together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"]
