"""The shipped catalog loads; a broken catalog stops start-up with file, line and field."""

from __future__ import annotations

import pytest

from gateway.upstream.adapters import ADAPTERS
from gateway.conf.catalog import CAPABILITIES, default_catalog, parse_catalog
from gateway.conf.domain import ConfigFileError

NAMED_IN_THE_ISSUE = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "o3",
    "o4-mini",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "claude-opus-4-1",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.0-flash",
    "llama-3.3-70b",
    "llama-3.1-8b",
    "mistral-large",
    "mistral-small",
    "deepseek-v3",
    "deepseek-r1",
    "qwen3-235b-a22b",
]

VALID = """as_of: "2025-11"
models:
  alpha:
    family: a
    context_window: 1000
    capabilities: [tools, streaming]
    deployments:
      openai: {model: alpha-1, input: 1, output: 2}
      groq: {model: alpha-g}
  beta:
    family: b
    context_window: 2000
    deployments:
      openai: {model: beta-1, input: 0.5, output: 1.5, cached_input: 0.25}
"""


def test_the_shipped_catalog_covers_the_widely_used_models_with_known_kinds() -> None:
    catalog = default_catalog()
    assert set(NAMED_IN_THE_ISSUE) <= set(catalog.models)
    for model in catalog.models.values():
        assert model.context_window > 0
        assert model.capabilities <= CAPABILITIES
        assert set(model.offers) <= set(ADAPTERS), model.name
    assert catalog.models["gpt-4o-mini"].offers["openai"].price is not None
    assert catalog.by_upstream[("groq", "llama-3.3-70b-versatile")].price is not None


def test_a_valid_catalog_indexes_offers_by_kind_and_model_id() -> None:
    catalog = parse_catalog(VALID, source="cat.yaml")
    alpha = catalog.models["alpha"]
    assert (alpha.family, alpha.context_window, alpha.capabilities) == ("a", 1000, {"tools", "streaming"})
    assert alpha.offers["groq"].price is None
    price = catalog.by_upstream[("openai", "beta-1")].price
    assert price is not None and price.as_json() == {"input": 0.5, "output": 1.5, "cached_input": 0.25}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "      groq: {model: alpha-g}",
            "      telepathy: {model: x}",
            "cat.yaml:9: models.alpha.deployments.telepathy: unknown provider kind 'telepathy'",
        ),
        ("  beta:", "  alpha:", "cat.yaml:10: models.alpha: appears twice"),
        (
            "      groq: {model: alpha-g}",
            "      openai: {model: x}",
            "cat.yaml:9: models.alpha.deployments.openai: appears twice",
        ),
        (
            "{model: beta-1,",
            "{model: alpha-1,",
            "cat.yaml:14: models.beta.deployments.openai: openai model 'alpha-1' is already listed under 'alpha'",
        ),
        (
            "[tools, streaming]",
            "[tools, telepathy]",
            "cat.yaml:6: models.alpha.capabilities[1]: unknown capability 'telepathy'",
        ),
        (
            "input: 1, output: 2}",
            "input: 1}",
            "cat.yaml:8: models.alpha.deployments.openai.output: is required with a price",
        ),
        (
            "input: 0.5,",
            "input: -0.5,",
            "cat.yaml:14: models.beta.deployments.openai.input: must be a number of USD per million tokens",
        ),
        ("    context_window: 2000\n", "", "cat.yaml:11: models.beta.context_window: is required"),
    ],
)
def test_a_broken_catalog_names_file_line_and_field(old: str, new: str, expected: str) -> None:
    assert old in VALID
    with pytest.raises(ConfigFileError) as caught:
        parse_catalog(VALID.replace(old, new), source="cat.yaml")
    assert str(caught.value).startswith(expected), str(caught.value)
