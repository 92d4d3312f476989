"""The simulator speaks Converse like AWS: signature checks, ValidationException, fault shapes, framing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from botocore.eventstream import EventStreamBuffer

from simulator.harness import SimulatorServer
from tests.providers.bedrock.conftest import signed_post

MODEL = "amazon.nova-lite-v1:0"
HELLO: dict[str, Any] = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
TOOL_CONFIG = {"tools": [{"toolSpec": {"name": "lookup", "inputSchema": {"json": {"type": "object"}}}}]}
TOOL_USE = {"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {}}}


@pytest.fixture(autouse=True)
def _credentials(bedrock_env: None) -> None:
    """signed_post reads the test credentials from the environment."""


def post(sim: SimulatorServer, body: dict[str, Any], **kwargs: Any) -> Any:
    return signed_post(sim, "fmt", MODEL, orjson.dumps(body), **kwargs)


def assert_exception(response: Any, status: int, name: str) -> str:
    assert response.status_code == status
    assert response.headers["x-amzn-errortype"].split(":")[0] == name
    body = response.json()
    assert set(body) == {"message"}
    return str(body["message"])


def test_unsigned_request_is_rejected_as_unrecognized_client(sim: SimulatorServer) -> None:
    response = post(sim, HELLO, sign=False)
    assert_exception(response, 403, "UnrecognizedClientException")
    assert sim.attempts("fmt", MODEL) == 1


def test_stream_is_real_event_stream_framing(sim: SimulatorServer) -> None:
    response = post(sim, HELLO)
    buffer = EventStreamBuffer()
    buffer.add_data(response.content)
    messages = list(buffer)
    events = [message.headers[":event-type"] for message in messages]
    assert events == ["messageStart"] + ["contentBlockDelta"] * 20 + ["contentBlockStop", "messageStop", "metadata"]
    assert {message.headers[":message-type"] for message in messages} == {"event"}
    assert {message.headers[":content-type"] for message in messages} == {"application/json"}
    metadata = orjson.loads(messages[-1].payload)
    assert metadata["usage"]["outputTokens"] == 20
    assert metadata["usage"]["totalTokens"] == metadata["usage"]["inputTokens"] + 20


@pytest.mark.parametrize(
    ("body", "wording"),
    [
        ({"messages": []}, "must start with a user message"),
        ({"messages": [{"role": "assistant", "content": [{"text": "x"}]}]}, "must start with a user message"),
        ({"messages": [{"role": "user", "content": [{"text": "a"}]}, {"role": "user", "content": [{"text": "b"}]}]},
         "must alternate"),
        ({"messages": [{"role": "user", "content": [{"text": "  "}]}]}, "is blank"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "non-empty list of content blocks"),
        ({**HELLO, "model": "x"}, "Unknown field"),
        ({**HELLO, "inferenceConfig": {"temperature": 1.5}}, "inferenceConfig.temperature"),
        ({**HELLO, "inferenceConfig": {"max_tokens": 5}}, "inferenceConfig"),
        ({**HELLO, "toolConfig": {"tools": [{"toolSpec": {"name": "bad name", "inputSchema": {"json": {}}}}]}},
         "toolSpec.name"),
        ({"messages": [{"role": "user", "content": [{"image": {"format": "tiff", "source": {"bytes": "AAAA"}}}]}]},
         "image.format"),
        ({"messages": [{"role": "user", "content": [{"text": "go"}]}, {"role": "assistant", "content": [TOOL_USE]}]},
         "toolConfig field must be defined"),
        ({"messages": [{"role": "user", "content": [{"toolResult": {"toolUseId": "t9", "content": []}}]}],
          "toolConfig": TOOL_CONFIG}, "does not match a toolUse"),
        ({"messages": [{"role": "user", "content": [{"text": "go"}]}, {"role": "assistant", "content": [TOOL_USE]},
                       {"role": "user", "content": [{"text": "and?"}]}], "toolConfig": TOOL_CONFIG},
         "have no toolResult"),
    ],
)  # fmt: skip
def test_bad_shapes_are_validation_exceptions(sim: SimulatorServer, body: dict[str, Any], wording: str) -> None:
    assert wording in assert_exception(post(sim, body), 400, "ValidationException")


@pytest.mark.parametrize(
    ("fault", "status", "name", "wording"),
    [
        ({"status": 429}, 429, "ThrottlingException", "Too many requests"),
        ({"status": 503}, 503, "ServiceUnavailableException", "unable to process"),
        ({"status": 500}, 500, "InternalServerException", "internal error"),
        ({"status": 403}, 403, "AccessDeniedException", "don't have access"),
        ({"kind": "auth"}, 403, "UnrecognizedClientException", "security token"),
        ({"kind": "not_found"}, 404, "ResourceNotFoundException", "Model not found"),
        ({"kind": "context_length"}, 400, "ValidationException", "Input is too long for requested model."),
        ({"status": 429, "error_type": "ModelNotReadyException"}, 429, "ModelNotReadyException", "not ready"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_faults_use_bedrock_error_shapes(
    sim: SimulatorServer, fault: dict[str, Any], status: int, name: str, wording: str, stream: bool
) -> None:
    sim.set_fault("fmt", **fault)
    assert wording in assert_exception(post(sim, HELLO, stream=stream), status, name)


def test_malformed_fault_is_a_model_stream_error_exception_frame(sim: SimulatorServer) -> None:
    sim.set_fault("fmt", kind="malformed", after=1)
    buffer = EventStreamBuffer()
    buffer.add_data(post(sim, HELLO).content)
    exceptions = [message for message in buffer if message.headers[":message-type"] == "exception"]
    assert [message.headers[":exception-type"] for message in exceptions] == ["modelStreamErrorException"]
    assert "message" in orjson.loads(exceptions[0].payload)


def test_json_requested_in_the_system_prompt_gets_a_json_answer(sim: SimulatorServer) -> None:
    body = {**HELLO, "system": [{"text": "Reply in JSON."}]}
    answer = post(sim, body, stream=False).json()
    text = answer["output"]["message"]["content"][0]["text"]
    assert orjson.loads(text) == {"provider": "fmt", "model": MODEL, "answer": "hello"}
    assert answer["stopReason"] == "end_turn"
