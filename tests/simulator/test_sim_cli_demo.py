"""The `python -m simulator` command line and the demo scenario."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simulator.demo import DEMO_PROVIDERS, demo_gateway_config
from simulator.harness import SimulatorServer
from tests.simulator.helpers import MODEL, chat_body

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "simulator", *args], cwd=REPO_ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()[1]


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


def test_cli_reports_a_busy_port_in_one_line(busy_port: int) -> None:
    proc = run_cli("--port", str(busy_port))
    out, err = proc.communicate(timeout=20)

    assert proc.returncode == 2
    assert err == f"error: port {busy_port} is already in use\n"
    assert out == ""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_cli_serves_until_signalled(signum: signal.Signals) -> None:
    port = free_port()
    proc = run_cli("--port", str(port), "--tokens", "3")
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"simulator listening on http://127.0.0.1:{port}")
        response = httpx.post(
            f"http://127.0.0.1:{port}/p/v1/chat/completions", json=chat_body(), timeout=5
        )
        assert response.json()["usage"]["completion_tokens"] == 3
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Traceback" not in err


# ---------------------------------------------------------------- demo


def test_demo_gateway_config_routes_both_models_to_all_providers() -> None:
    yaml = pytest.importorskip("yaml")

    config = yaml.safe_load(demo_gateway_config("http://127.0.0.1:8100/"))

    names = [p["name"] for p in config["providers"]]
    assert names == ["sim-openai", "sim-azure", "sim-groq"]
    assert config["providers"][0] == {
        "name": "sim-openai", "kind": "openai",
        "base_url": "http://127.0.0.1:8100/sim-openai/v1", "api_key": "demo-not-a-secret",
        "timeout": {"connect": 2, "first_token": 3, "idle": 5, "total": 60},
    }  # fmt: skip
    models = {m["name"]: m for m in config["models"]}
    assert set(models) == {"gpt-4o-mini", "llama-3.3-70b"}
    assert models["gpt-4o-mini"]["fallbacks"] == ["llama-3.3-70b"]
    for name, model in models.items():
        assert model["deployments"] == [{"provider": p, "model": name} for p in names]


def test_demo_scenario_starts_with_sim_openai_down_and_the_others_up() -> None:
    assert [p.name for p in DEMO_PROVIDERS] == ["sim-openai", "sim-azure", "sim-groq"]
    with SimulatorServer(scenario="demo") as demo, httpx.Client(timeout=5) as http:

        def post(provider: str) -> httpx.Response:
            return http.post(demo.url_for(provider) + "/chat/completions", json=chat_body())

        assert post("sim-openai").status_code == 503
        started = time.monotonic()
        assert post("sim-azure").status_code == 200
        assert time.monotonic() - started >= 0.08  # realistic latency is always on
        groq = [post("sim-groq").status_code for _ in range(10)]
        assert groq.count(200) >= 8 and set(groq) <= {200, 429}
        models = http.get(demo.url_for("sim-groq") + "/models").json()["data"]
        assert [m["id"] for m in models] == [MODEL, "llama-3.3-70b"]
