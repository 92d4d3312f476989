"""The openai-agents SDK, with its default model (the Responses API), runs a tool-using agent through
the gateway, streamed and not."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from agents import Agent, RunConfig, Runner, function_tool, set_tracing_disabled
from agents.models.openai_provider import OpenAIProvider
from agents.models.openai_responses import OpenAIResponsesModel
from openai import AsyncOpenAI

from tests.proxy.conftest import LiveGateway

set_tracing_disabled(True)  # no trace export: these tests make no call outside the machine
CALLS: list[dict[str, Any]] = []


@function_tool
def weather(city: str | None = None) -> str:
    """The weather in a city.

    Args:
        city: The city; any city when left out.
    """
    CALLS.append({"city": city})
    return f"sunny in {city or 'town'}"


def run(gw: LiveGateway, stream: bool) -> tuple[Any, OpenAIResponsesModel]:
    provider = OpenAIProvider(openai_client=AsyncOpenAI(base_url=f"{gw.url}/v1", api_key=gw.key, max_retries=0))
    config = RunConfig(model_provider=provider, tracing_disabled=True)
    # The first turn forces the tool; then the agent must answer with the tool's result.
    agent = Agent(
        name="forecaster", instructions="Use the weather tool.", model="solo", tools=[weather], reset_tool_choice=True
    )

    async def go() -> Any:
        if not stream:
            return await Runner.run(agent, "Weather in Paris?", run_config=config, max_turns=4)
        result = Runner.run_streamed(agent, "Weather in Paris?", run_config=config, max_turns=4)
        async for _ in result.stream_events():
            pass
        return result

    return asyncio.run(go()), provider.get_model("solo")  # type: ignore[return-value]


@pytest.mark.parametrize("stream", [False, True])
def test_an_agent_with_the_default_model_completes_a_tool_using_run(gw: LiveGateway, stream: bool) -> None:
    CALLS.clear()
    result, model = run(gw, stream)
    assert isinstance(model, OpenAIResponsesModel)
    assert len(CALLS) == 1
    assert result.final_output.startswith("Tool said: sunny in ")
    sent = gw.sim.last_request("sim-d")["body"]
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "tool"]
    usage = result.context_wrapper.usage
    assert usage.requests == 2 and usage.input_tokens > 0 and usage.output_tokens > 0
