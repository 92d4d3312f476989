"""The gateway config: a bad file stops start-up naming the file, the line and the field."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.conf.domain import ConfigFileError, resolve_model
from gateway.conf.loader import load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
GOOD = """\
providers:
  - name: openai-main
    kind: openai
    base_url: https://api.openai.com/v1/
    api_key_env: TEST_OPENAI_KEY
    region: us-east
    timeout: {connect: 2, first_token: 10, idle: 15, total: 600}
  - {name: backup, kind: openai, base_url: "http://127.0.0.1:9/v1"}
models:
  - name: gpt-4o-mini
    deployments:
      - {provider: openai-main, model: gpt-4o-mini}
      - {provider: backup, model: my-4o-mini}
    fallbacks: [llama-3.3-70b]
  - name: llama-3.3-70b
    deployments: [{provider: backup, model: llama}]
"""


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_OPENAI_KEY", "sk-from-env")


def test_the_documented_shape_loads() -> None:
    config = parse_config(GOOD, source="gw.yaml")
    provider = config.providers["openai-main"]
    assert provider.base_url == "https://api.openai.com/v1"
    assert provider.api_key == "sk-from-env"
    assert provider.timeouts.first_token == 10
    model = config.models["gpt-4o-mini"]
    assert [d.id for d in model.deployments] == ["openai-main/gpt-4o-mini", "backup/my-4o-mini"]
    assert model.fallbacks == ("llama-3.3-70b",)


def test_provider_keys_never_show_in_the_config_repr() -> None:
    assert "sk-from-env" not in repr(parse_config(GOOD))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("kind: openai\n", "kind: telepathy\n", "gw.yaml:3: providers[0].kind: unknown kind 'telepathy'"),
        (
            "provider: backup, model: llama",
            "provider: nowhere, model: llama",
            "gw.yaml:16: models[1].deployments[0].provider: unknown provider 'nowhere'",
        ),
        (
            "fallbacks: [llama-3.3-70b]",
            "fallbacks: [gpt-9]",
            "gw.yaml:14: models[0].fallbacks[0]: unknown model 'gpt-9'",
        ),
        (
            "first_token: 10",
            "first_token: -1",
            "gw.yaml:7: providers[0].timeout.first_token: must be a positive number",
        ),
        (
            "api_key_env: TEST_OPENAI_KEY",
            "api_key_env: NOT_SET_ANYWHERE",
            "gw.yaml:5: providers[0].api_key_env: environment variable NOT_SET_ANYWHERE is not set",
        ),
        ("    region: us-east\n", "    regoin: us-east\n", "gw.yaml:6: providers[0].regoin: unknown field"),
        (
            "base_url: https://api.openai.com/v1/",
            "base_url: api.openai.com",
            "gw.yaml:4: providers[0].base_url: must start with http:// or https://",
        ),
        ("  - name: llama-3.3-70b\n", "  - name: gpt-4o-mini\n", "gw.yaml:15: models[1].name: duplicate model name"),
    ],
)
def test_a_bad_config_names_file_line_and_field(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    with pytest.raises(ConfigFileError) as caught:
        parse_config(GOOD.replace(old, new), source="gw.yaml")
    assert str(caught.value).startswith(expected), str(caught.value)


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(ConfigFileError, match=r"^gw.yaml:3: invalid YAML: expected ','"):
        parse_config("providers:\n  - {name: a\nmodels: []\n", source="gw.yaml")


def test_a_missing_file_is_named() -> None:
    with pytest.raises(ConfigFileError, match=r"nothing\.yaml: cannot read"):
        load_config("/nonexistent/nothing.yaml")


def test_pinned_provider_resolves_by_model_or_upstream_id() -> None:
    config = parse_config(GOOD)
    model, pinned = resolve_model(config, "backup/gpt-4o-mini") or (None, None)
    assert model is not None and pinned is not None and pinned.id == "backup/my-4o-mini"
    assert resolve_model(config, "backup/my-4o-mini") is not None
    assert resolve_model(config, "openai-main/llama-3.3-70b") is None
    assert resolve_model(config, "nobody/gpt-4o-mini") is None


def test_gw_up_stops_with_one_line_on_a_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "gw.yaml"
    bad.write_text(GOOD.replace("kind: openai\n", "kind: nope\n"))
    env = {**os.environ, "GATEWAY_CONFIG": str(bad), "PORT": str(_free_port()), "DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "config.launcher", "up"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {bad}:3: providers[0].kind: unknown kind")
    assert "Traceback" not in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_gw_up_reports_a_busy_port_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "PORT": str(port), "DATA_DIR": str(tmp_path)}
        result = subprocess.run(
            [sys.executable, "-m", "config.launcher", "up"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: port {port} on 127.0.0.1 is already in use: stop what uses it or set PORT"


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("{name: p, kind: anthropic, api_key: k}", "https://api.anthropic.com/v1"),
        ("{name: p, kind: gemini, api_key: k}", "https://generativelanguage.googleapis.com/v1beta"),
        (
            "{name: p, kind: vertex, api_key: k, options: {location: europe-west4}}",
            "https://europe-west4-aiplatform.googleapis.com/v1",
        ),
        (
            "{name: p, kind: bedrock, region: eu-central-1, options: {access_key_id_env: TEST_OPENAI_KEY,"
            " secret_access_key_env: TEST_OPENAI_KEY}}",
            "https://bedrock-runtime.eu-central-1.amazonaws.com",
        ),
    ],
)
def test_base_url_defaults_to_the_providers_public_endpoint(provider: str, expected: str) -> None:
    config = parse_config(
        f"providers:\n  - {provider}\nmodels:\n  - {{name: m, deployments: [{{provider: p, model: m}}]}}\n"
    )
    assert config.providers["p"].base_url == expected
