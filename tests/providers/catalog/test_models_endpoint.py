"""/v1/models shows each enabled model's context window and, when known, its prices per provider."""

from __future__ import annotations

from tests.providers.profiles.harness import Gateway


def test_catalog_models_list_context_window_max_output_and_prices(gw: Gateway) -> None:
    llama = gw.models()["llama-3.3-70b"]
    assert (llama["context_window"], llama["max_output_tokens"]) == (131072, 32768)
    assert llama["pricing"] == [
        {"provider": "cat-groq", "input": 0.59, "output": 0.79, "cached_input": None},
        {"provider": "cat-together", "input": 0.88, "output": 0.88, "cached_input": None},
    ]
    assert gw.models()["gpt-4o-mini"]["pricing"] == [
        {"provider": "cat-openai", "input": 0.15, "output": 0.6, "cached_input": 0.075}
    ]


def test_models_outside_the_catalog_show_their_own_or_the_catalogs_price(gw: Gateway) -> None:
    models = gw.models()
    assert models["custom-priced"]["pricing"] == [
        {"provider": "cat-openai", "input": 1.5, "output": 4.0, "cached_input": None}
    ]
    assert models["plain"]["pricing"][0]["input"] == 0.1
    assert "pricing" not in models["unpriced"] and "context_window" not in models["unpriced"]
