"""The openai-agents SDK with its default model (OpenAIResponsesModel: the Responses API) against the
live gateway: chat, streaming, usage, a tool-using run, structured output, errors, and a failover in
the middle of a run (the fault comes on while the tool runs)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import openai
import pytest
from agents import Agent, RunConfig, Runner, function_tool, set_tracing_disabled
from agents.models.openai_provider import OpenAIProvider
from agents.models.openai_responses import OpenAIResponsesModel

from tests.clients.conftest import (
    BAD_KEY,
    COMPLETION_TOKENS,
    HELLO_CHAT,
    HELLO_CHAT_FAILOVER,
    ClientGateway,
    Invoice,
    Weather,
)

set_tracing_disabled(True)  # no trace export: the tests make no call outside the machine


def config(gw: ClientGateway, key: str = "") -> RunConfig:
    sdk = openai.AsyncOpenAI(base_url=gw.openai_base, api_key=key or gw.key, max_retries=0, timeout=20)
    return RunConfig(model_provider=OpenAIProvider(openai_client=sdk), tracing_disabled=True)


def run(gw: ClientGateway, agent: Agent[Any], stream: bool, key: str = "") -> Any:
    async def go() -> Any:
        if not stream:
            return await Runner.run(agent, "hi", run_config=config(gw, key), max_turns=4)
        result = Runner.run_streamed(agent, "hi", run_config=config(gw, key), max_turns=4)
        async for _ in result.stream_events():
            pass
        return result

    return asyncio.run(go())


def weather_agent(during: Callable[[], None] = lambda: None) -> tuple[Agent[Any], list[Weather]]:
    seen: list[Weather] = []

    @function_tool
    def weather(forecast: Weather) -> str:
        """The weather for a city."""
        seen.append(forecast)
        during()
        return f"sunny in {forecast.city}"

    return Agent(name="forecaster", model="chat", tools=[weather]), seen


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_chat_with_usage(gw: ClientGateway, stream: bool) -> None:
    assert isinstance(config(gw).model_provider.get_model("chat"), OpenAIResponsesModel)
    result = run(gw, Agent(name="greeter", model="chat"), stream)
    assert result.final_output.startswith(HELLO_CHAT)
    usage = result.context_wrapper.usage
    assert usage.output_tokens == COMPLETION_TOKENS and usage.input_tokens >= 1


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_a_tool_using_run_sends_the_result_back(gw: ClientGateway, stream: bool) -> None:
    agent, seen = weather_agent()
    result = run(gw, agent, stream)
    [forecast] = seen  # the SDK validated the arguments against the tool's schema
    assert result.final_output == f"Tool said: sunny in {forecast.city}"
    assert result.context_wrapper.usage.requests == 2


def test_structured_output(gw: ClientGateway) -> None:
    result = run(gw, Agent(name="clerk", model="chat", output_type=Invoice), stream=False)
    assert isinstance(result.final_output, Invoice)


def test_errors_are_the_sdks_exceptions(gw: ClientGateway) -> None:
    with pytest.raises(openai.AuthenticationError):
        run(gw, Agent(name="greeter", model="chat"), stream=False, key=BAD_KEY)
    with pytest.raises(openai.NotFoundError):
        run(gw, Agent(name="greeter", model="no-such-model"), stream=True)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_failover_in_the_middle_of_a_tool_using_run(gw: ClientGateway, stream: bool) -> None:
    agent, seen = weather_agent(during=gw.fail_primary)  # the first turn was served by cl-a
    result = run(gw, agent, stream)
    assert result.final_output == f"Tool said: sunny in {seen[0].city}"
    assert (gw.attempts("cl-a"), gw.attempts("cl-b")) == (2, 1)  # the turn after the tool: a 503, then cl-b
    assert run(gw, Agent(name="greeter", model="chat"), stream).final_output.startswith(HELLO_CHAT_FAILOVER)
