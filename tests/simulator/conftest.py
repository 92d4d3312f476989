"""Fixtures for the provider simulator tests: one in-process simulator per test session."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from simulator.harness import SimulatorServer


@pytest.fixture(scope="session")
def sim_server() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


@pytest.fixture
def sim(sim_server: SimulatorServer) -> SimulatorServer:
    sim_server.reset()
    return sim_server


@pytest.fixture
def client(sim: SimulatorServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=sim.url_for("alpha"), api_key="sk-test", max_retries=0, timeout=5.0
    ) as sdk:
        yield sdk


@pytest.fixture
def http(sim: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url, timeout=5.0) as raw:
        yield raw
