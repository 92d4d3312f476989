"""Every provider documented in docs/providers.md: its config example loads, and the request it
produces goes to the provider's URL with the provider's auth; the documented drop list is the real one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.adapters import ADAPTERS
from gateway.adapters.azure import PROFILE as AZURE
from gateway.config import parse_config
from gateway.profiles import PROFILES, Profile

DOC = Path(__file__).resolve().parents[3] / "docs" / "providers.md"
SECTION = re.compile(r"^### [^\n]*`kind: (\w+)`\n(.*?)(?=^### |\Z)", re.M | re.S)
YAML = re.compile(r"```yaml\n(.*?)```", re.S)
KEY = "test-key-0123456789"

# kind: (URL of the example's first deployment, auth header, its value); None: no key sent.
EXPECTED: dict[str, tuple[str, str | None, str | None]] = {
    "openai": ("https://api.openai.com/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "azure": (
        "https://myresource-eastus.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions"
        "?api-version=2024-10-21",
        "api-key",
        KEY,
    ),
    "groq": ("https://api.groq.com/openai/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "together": ("https://api.together.xyz/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "fireworks": ("https://api.fireworks.ai/inference/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "deepinfra": ("https://api.deepinfra.com/v1/openai/chat/completions", "authorization", f"Bearer {KEY}"),
    "mistral": ("https://api.mistral.ai/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "xai": ("https://api.x.ai/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "deepseek": ("https://api.deepseek.com/chat/completions", "authorization", f"Bearer {KEY}"),
    "perplexity": ("https://api.perplexity.ai/chat/completions", "authorization", f"Bearer {KEY}"),
    "cerebras": ("https://api.cerebras.ai/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "openrouter": ("https://openrouter.ai/api/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "nebius": ("https://api.tokenfactory.nebius.com/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "novita": ("https://api.novita.ai/v3/openai/chat/completions", "authorization", f"Bearer {KEY}"),
    "sambanova": ("https://api.sambanova.ai/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "moonshot": ("https://api.moonshot.ai/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "dashscope": (
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions",
        "authorization",
        f"Bearer {KEY}",
    ),
    "zai": ("https://api.z.ai/api/paas/v4/chat/completions", "authorization", f"Bearer {KEY}"),
    "nvidia": ("https://integrate.api.nvidia.com/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "cloudflare": (
        "https://api.cloudflare.com/client/v4/accounts/0123456789abcdef0123456789abcdef/ai/v1/chat/completions",
        "authorization",
        f"Bearer {KEY}",
    ),
    "hyperbolic": ("https://api.hyperbolic.xyz/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "cohere": ("https://api.cohere.ai/compatibility/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "vllm": ("http://gpu-box.internal:8000/v1/chat/completions", "authorization", f"Bearer {KEY}"),
    "ollama": ("http://localhost:11434/v1/chat/completions", None, None),
    "lmstudio": ("http://localhost:1234/v1/chat/completions", None, None),
    "custom": ("https://llm.internal.example.com/v1/chat/completions", "x-api-key", KEY),
}


def documented() -> dict[str, str]:
    """kind -> its section of docs/providers.md."""
    return {match.group(1): match.group(2) for match in SECTION.finditer(DOC.read_text())}


def profile_of(kind: str) -> Profile:
    return AZURE if kind == "azure" else PROFILES[kind]


def test_every_openai_compatible_kind_and_azure_is_documented_and_checked_here() -> None:
    kinds = set(PROFILES) | {"azure"}
    assert set(documented()) == kinds == set(EXPECTED)
    assert len(kinds) >= 25
    assert kinds <= set(ADAPTERS)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_the_config_example_loads_and_requests_the_providers_url_with_its_auth(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = YAML.search(documented()[kind])
    assert example is not None, f"no yaml example for {kind}"
    for variable in re.findall(r"api_key_env: (\w+)", example.group(1)):
        monkeypatch.setenv(variable, KEY)
    config = parse_config(example.group(1), source=f"docs/providers.md ({kind})")
    deployment = next(iter(config.models.values())).deployments[0]
    assert deployment.provider.kind == kind
    request = ADAPTERS[kind].build_request(deployment, {"model": "x", "messages": [{"role": "user", "content": "hi"}]})
    url, header, value = EXPECTED[kind]
    assert request.url == url
    if header is None:
        assert "authorization" not in request.headers
    else:
        assert request.headers[header] == value


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_the_documented_drops_and_mappings_are_the_profiles(kind: str) -> None:
    section = documented()[kind]
    profile = profile_of(kind)
    dropped = re.search(r"^- Dropped: (.*)$", section, re.M)
    mapped = re.search(r"^- Mapped: (.*)$", section, re.M)
    assert dropped is not None and mapped is not None
    assert set(re.findall(r"`(\w+)`", dropped.group(1))) == set(profile.drop)
    assert re.findall(r"`(\w+)` → `(\w+)`", mapped.group(1)) == list(profile.rename)
    supports_n = "`n > 1`: passed through" in section
    assert supports_n == profile.multiple_choices
