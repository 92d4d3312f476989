"""Every provider documented in docs/providers.md: its config example loads, and the request it
produces goes to the provider's URL with the provider's auth; the documented drop list is the real one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.upstream.adapters import ADAPTERS, gemini
from gateway.upstream.adapters.azure import PROFILE as AZURE
from gateway.conf.loader import parse_config
from gateway.upstream.profiles import PROFILES, Profile
from tests.providers.gemini.conftest import service_account_file

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


# ---------------------------------------------------------------- kinds with a wire format of their own

NATIVE_SECTION = re.compile(r"^#### [^\n]*`kind: (\w+)`\n(.*?)(?=^#{2,4} |\Z)", re.M | re.S)
NATIVE: dict[str, tuple[str, str | None, str | None]] = {
    "anthropic": ("https://api.anthropic.com/v1/messages", "x-api-key", KEY),
    "gemini": (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        "x-goog-api-key",
        KEY,
    ),
    "vertex": (
        "https://us-central1-aiplatform.googleapis.com/v1/projects/my-project/locations/us-central1"
        "/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        None,  # a service account's OAuth token: minted over HTTP, tested in tests/providers/gemini
        None,
    ),
    "bedrock": (
        "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0"
        "/converse-stream",
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential={KEY}/",
    ),
}


def native_example(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    sections = {match.group(1): match.group(2) for match in NATIVE_SECTION.finditer(DOC.read_text())}
    example = YAML.search(sections[kind])
    assert example is not None, f"no yaml example for {kind}"
    for variable in re.findall(r"_env: (\w+)", example.group(1)):
        monkeypatch.setenv(variable, KEY)
    if "credentials_file" in example.group(1):
        account = service_account_file(tmp_path, "https://oauth2.googleapis.com/token")
        return example.group(1).replace("/secrets/vertex-sa.json", str(account))
    return example.group(1)


def test_every_kind_with_its_own_adapter_is_documented_with_an_example() -> None:
    documented_kinds = {match.group(1) for match in NATIVE_SECTION.finditer(DOC.read_text())}
    assert documented_kinds == set(NATIVE) == set(ADAPTERS) - set(PROFILES) - {"azure"}


@pytest.mark.parametrize("kind", sorted(NATIVE))
def test_the_native_config_example_loads_and_requests_the_providers_url_with_its_auth(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = parse_config(native_example(kind, tmp_path, monkeypatch), source=f"docs/providers.md ({kind})")
    deployment = next(iter(config.models.values())).deployments[0]
    assert deployment.provider.kind == kind
    url, header, value = NATIVE[kind]
    if header is None:
        assert gemini.stream_url(deployment) == url
        return
    request = ADAPTERS[kind].build_request(deployment, {"model": "x", "messages": [{"role": "user", "content": "hi"}]})
    assert request.url == url
    assert str(request.headers[header]).startswith(value)
