"""Which models are embedding models: the catalog says (by name or by a deployment's model id), or
the config's `mode:`; a chat model and an embedding model cannot fall back to each other."""

from __future__ import annotations

import pytest

from gateway.conf.domain import CHAT, EMBEDDING, ConfigFileError
from gateway.conf.loader import parse_config

PROVIDERS = """providers:
  - {name: oai, kind: openai, base_url: "http://127.0.0.1:9/v1", api_key: x}
  - {name: az, kind: azure, base_url: "http://127.0.0.1:9", api_key: x}
"""


def _models(models: str) -> dict[str, tuple[str, int | None, bool]]:
    config = parse_config(PROVIDERS + "models:\n" + models)
    return {name: (m.mode, m.dimensions, m.shortens) for name, m in config.models.items()}


def test_catalog_embedding_models_by_name_by_reference_and_by_model_id() -> None:
    models = _models(
        """  - text-embedding-3-large
  - {name: ada, catalog: text-embedding-ada-002}
  - name: small
    deployments: [{provider: oai, model: text-embedding-3-small}]
  - name: chat
    deployments: [{provider: oai, model: gpt-4o-mini}]
"""
    )
    assert models["text-embedding-3-large"] == (EMBEDDING, 3072, True)
    assert models["ada"] == (EMBEDDING, 1536, False)
    assert models["small"] == (EMBEDDING, 1536, True)
    assert models["chat"] == (CHAT, None, False)


def test_a_model_outside_the_catalog_is_an_embedding_model_by_its_mode() -> None:
    models = _models(
        """  - name: house-embed
    mode: embedding
    dimensions: 384
    deployments: [{provider: oai, model: bge-small}]
"""
    )
    assert models["house-embed"] == (EMBEDDING, 384, False)


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        (
            "  - {name: e, mode: vector, deployments: [{provider: oai, model: m}]}\n",
            "models[0].mode: must be one of: chat, embedding",
        ),
        (
            "  - {name: e, dimensions: 8, deployments: [{provider: oai, model: m}]}\n",
            "models[0].dimensions: is only for mode: embedding",
        ),
        (
            "  - {name: e, deployments: [{provider: oai, model: text-embedding-3-small}], fallbacks: [c]}\n"
            "  - {name: c, deployments: [{provider: oai, model: gpt-4o-mini}]}\n",
            "'e' (embedding) cannot fall back to 'c' (chat)",
        ),
    ],
)
def test_a_wrong_mode_is_a_startup_error_naming_the_field(models: str, expected: str) -> None:
    with pytest.raises(ConfigFileError) as caught:
        parse_config(PROVIDERS + "models:\n" + models)
    assert expected in str(caught.value)
