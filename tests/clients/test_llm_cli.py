"""Simon Willison's `llm` CLI, with an extra-openai-models.yaml pointing at the live gateway: its chat
completions, Responses API and legacy completions entries, and its built-in OpenAI embedding model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.clients.conftest import BAD_KEY, EMBEDDING_SIZE, HELLO_CHAT, HELLO_CHAT_FAILOVER, ClientGateway, Invoice

LLM = shutil.which("llm", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(LLM is None, reason="the llm CLI is not installed")
WEATHER_FUNCTION = """
def weather(city: str, days: int) -> str:
    "The weather for a city."
    return f"sunny in {city} for {days} days"
"""
CHAT_MODELS = ["gw-chat", "gw-responses"]


def extra_models(gw: ClientGateway) -> list[dict[str, Any]]:
    """The gateway's models as llm sees them: one entry per OpenAI API that reaches model ``chat``."""
    common = {"model_name": "chat", "api_base": gw.openai_base, "api_key_name": "gateway"}
    tools = {"supports_tools": True, "supports_schema": True}
    return [
        {"model_id": "gw-chat", **common, **tools},
        {"model_id": "gw-responses", "responses": True, **common, **tools},
        {"model_id": "gw-completion", "completion": True, **common},
    ]


@pytest.fixture
def llm_home(gw: ClientGateway, tmp_path: Path) -> Path:
    (tmp_path / "extra-openai-models.yaml").write_text(yaml.safe_dump(extra_models(gw)))
    # llm's built-in embedding models take no api_base: the openai SDK's OPENAI_BASE_URL points them here.
    (tmp_path / "keys.json").write_text(json.dumps({"gateway": gw.key, "openai": gw.key}))
    (tmp_path / "logs-off").touch()  # llm would otherwise write a SQLite log of every prompt
    return tmp_path


def llm(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    base = (yaml.safe_load((home / "extra-openai-models.yaml").read_text()))[0]["api_base"]
    env = {**os.environ, "LLM_USER_PATH": str(home), "OPENAI_BASE_URL": base}
    run = subprocess.run([str(LLM), *args], capture_output=True, text=True, env=env, timeout=60, check=False)
    if check:
        assert run.returncode == 0, run.stderr
    return run


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_streamed_chat_with_usage(llm_home: Path, model: str) -> None:
    run = llm(llm_home, "-m", model, "--usage", "hi")
    assert run.stdout.startswith(HELLO_CHAT)
    assert "20 output" in run.stderr


def test_legacy_completion(llm_home: Path) -> None:
    assert llm(llm_home, "-m", "gw-completion", "hi").stdout.startswith(HELLO_CHAT)


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_tool_call_runs_the_function(llm_home: Path, model: str) -> None:
    run = llm(llm_home, "-m", model, "--functions", WEATHER_FUNCTION, "--td", "weather?")
    assert "Tool call: weather({'city': 'sim-" in run.stderr  # the --td trace
    assert run.stdout.startswith("Tool said: sunny in sim-")  # the simulator's answer to the tool result


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_schema_answer_validates(llm_home: Path, model: str) -> None:
    run = llm(llm_home, "-m", model, "--schema", json.dumps(Invoice.model_json_schema()), "an invoice")
    Invoice.model_validate_json(run.stdout)


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_errors_exit_non_zero_with_the_message(llm_home: Path, model: str) -> None:
    run = llm(llm_home, "-m", model, "--key", BAD_KEY, "hi", check=False)
    assert run.returncode != 0 and "Error" in run.stderr
    assert BAD_KEY not in run.stderr


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_failover_mid_run_without_streaming(gw: ClientGateway, llm_home: Path, model: str) -> None:
    gw.fail_primary()  # the run's earlier calls were served by the first deployment
    assert llm(llm_home, "-m", model, "--no-stream", "hi").stdout.startswith(HELLO_CHAT_FAILOVER)


def test_embed_and_failover(gw: ClientGateway, llm_home: Path) -> None:
    vector = json.loads(llm(llm_home, "embed", "-m", "3-small", "-c", "hello").stdout)
    assert len(vector) == EMBEDDING_SIZE
    gw.fail_primary()
    assert json.loads(llm(llm_home, "embed", "-m", "3-small", "-c", "hello").stdout) == pytest.approx(vector, rel=1e-6)
    assert gw.attempts("cl-b") == 1
