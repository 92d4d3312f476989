"""The simulator's binary event stream, decoded by the adapter (botocore's parser) into OpenAI chunks."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.upstream.adapters import bedrock
from gateway.upstream.adapters.base import Chunk
from gateway.conf.domain import Deployment
from simulator.eventstream import encode_frame, event_frame
from simulator.harness import SimulatorServer
from tests.providers.bedrock.conftest import PROFILE_ID, signed_post

HELLO = orjson.dumps({"messages": [{"role": "user", "content": [{"text": "hi"}]}]})
TOOLS = orjson.dumps(
    {
        "messages": [{"role": "user", "content": [{"text": "weather?"}]}],
        "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object"}}}}]},
    }
)


@pytest.fixture
def deployment(bedrock_env: None) -> Deployment:
    from gateway.conf.loader import parse_config

    config = parse_config(
        """providers:
  - {name: dec, kind: bedrock, base_url: 'http://127.0.0.1:9', region: us-east-1,
     options: {access_key_id_env: GW_TEST_BEDROCK_KEY_ID, secret_access_key_env: GW_TEST_BEDROCK_SECRET}}
models:
  - {name: m, deployments: [{provider: dec, model: 'amazon.nova-lite-v1:0'}]}
""",
        source="decode.yaml",
    )
    return config.models["m"].deployments[0]


def decode(deployment: Deployment, raw: bytes, piece: int | None = None) -> tuple[list[dict[str, Any]], Any]:
    decoder = bedrock.decoder(deployment)
    chunks: list[Chunk] = []
    step = piece or len(raw) or 1
    for start in range(0, len(raw), step):
        chunks.extend(decoder.feed(raw[start : start + step]))
    chunks.extend(decoder.flush())
    assert all(payload is None for payload, _ in chunks)
    return [chunk for _, chunk in chunks], decoder


def deltas(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [chunk["choices"][0]["delta"] for chunk in chunks if chunk.get("choices")]


def test_text_stream_becomes_role_content_finish_and_usage_chunks(sim: SimulatorServer, deployment: Deployment) -> None:
    response = signed_post(sim, "dec-sim", PROFILE_ID, HELLO)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.amazon.eventstream"
    chunks, decoder = decode(deployment, response.content)
    assert decoder.done and decoder.malformed == 0
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0]["choices"] == [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]
    text = "".join(delta.get("content", "") for delta in deltas(chunks))
    assert text.startswith(f"Hello from dec-sim/{PROFILE_ID}.")
    assert len(chunks) == 1 + 1 + 2  # all 20 text deltas arrived in one read: one content chunk
    assert chunks[-2]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert chunks[-1]["choices"] == []
    usage = chunks[-1]["usage"]
    assert usage["completion_tokens"] == 20
    assert usage["total_tokens"] == usage["prompt_tokens"] + 20
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0}


def test_stream_split_at_every_byte_decodes_to_the_same_chunks(sim: SimulatorServer, deployment: Deployment) -> None:
    raw = signed_post(sim, "dec-sim", "amazon.nova-lite-v1:0", HELLO).content
    whole, _ = decode(deployment, raw)
    byte_by_byte, decoder = decode(deployment, raw, piece=1)

    def text(chunks: list[dict[str, Any]]) -> str:
        return "".join(delta.get("content", "") for delta in deltas(chunks))

    assert text(byte_by_byte) == text(whole)
    assert len(byte_by_byte) == 1 + 20 + 2  # each event completed in its own read: a chunk each
    assert byte_by_byte[-1]["usage"] == whole[-1]["usage"]
    assert decoder.done


def test_text_deltas_read_together_become_one_chunk_in_order(sim: SimulatorServer, deployment: Deployment) -> None:
    raw = signed_post(sim, "dec-sim", "amazon.nova-lite-v1:0", HELLO).content
    frames = []
    while raw:
        length = int.from_bytes(raw[:4], "big")
        frames.append(raw[:length])
        raw = raw[length:]
    decoder = bedrock.decoder(deployment)
    first = [chunk for _, chunk in decoder.feed(b"".join(frames[:4]))]  # messageStart + 3 text deltas
    second = [chunk for _, chunk in decoder.feed(frames[4])]
    assert deltas(first)[0] == {"role": "assistant", "content": ""}
    assert len(first) == 2 and deltas(first)[1]["content"].startswith("Hello")
    assert len(second) == 1 and deltas(second)[0]["content"]


def test_tool_use_stream_becomes_streamed_tool_call_deltas(sim: SimulatorServer, deployment: Deployment) -> None:
    chunks, _ = decode(deployment, signed_post(sim, "dec-sim", "amazon.nova-lite-v1:0", TOOLS).content)
    calls = [call for delta in deltas(chunks) for call in delta.get("tool_calls", ())]
    assert calls[0]["id"].startswith("call_sim_")
    assert calls[0]["function"] == {"name": "get_weather", "arguments": ""}
    assert {call["index"] for call in calls} == {0}
    assert "".join(call["function"]["arguments"] for call in calls) == '{"sim": true}'
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_mid_stream_exception_frame_becomes_an_error_chunk(sim: SimulatorServer, deployment: Deployment) -> None:
    sim.set_fault("dec-sim", kind="malformed", after=2)
    chunks, _ = decode(deployment, signed_post(sim, "dec-sim", "amazon.nova-lite-v1:0", HELLO).content)
    errors = [index for index, chunk in enumerate(chunks) if "error" in chunk]
    assert errors == [2]  # role chunk, the two content deltas read together, then the exception
    assert chunks[1]["choices"][0]["delta"]["content"]
    assert chunks[2]["error"]["type"] == "modelStreamErrorException"
    assert "could not be streamed" in chunks[2]["error"]["message"]


def test_corrupt_frame_is_an_error_chunk_and_ends_decoding(sim: SimulatorServer, deployment: Deployment) -> None:
    raw = bytearray(signed_post(sim, "dec-sim", "amazon.nova-lite-v1:0", HELLO).content)
    first = int.from_bytes(raw[:4], "big")
    raw[first + 20] ^= 0xFF  # a byte inside the second frame: its message CRC no longer matches
    decoder = bedrock.decoder(deployment)
    chunks = [chunk for _, chunk in decoder.feed(bytes(raw))]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "corrupt event-stream frame" in chunks[1]["error"]["message"]
    assert len(chunks) == 2
    assert decoder.malformed == 1
    assert decoder.feed(bytes(raw)) == []


def test_event_with_unreadable_json_is_skipped_and_counted(deployment: Deployment) -> None:
    raw = (
        event_frame("contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":"a"}}')
        + event_frame("contentBlockDelta", b"{not json")
        + event_frame("contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":"b"}}')
    )
    chunks, decoder = decode(deployment, raw)
    assert [delta["content"] for delta in deltas(chunks)] == ["a", "b"]
    assert decoder.malformed == 1


def test_error_message_type_becomes_an_error_chunk(deployment: Deployment) -> None:
    headers = {":message-type": "error", ":error-code": "InternalFailure", ":error-message": "boom"}
    chunks, _ = decode(deployment, encode_frame(headers, b""))
    assert chunks == [{"error": {"message": "InternalFailure: boom", "type": "InternalFailure"}}]


def test_usage_counts_cache_reads_and_writes_as_prompt_tokens(deployment: Deployment) -> None:
    usage = {"inputTokens": 10, "outputTokens": 5, "totalTokens": 115, "cacheReadInputTokens": 80,
             "cacheWriteInputTokens": 20}  # fmt: skip
    chunks, decoder = decode(deployment, event_frame("metadata", orjson.dumps({"usage": usage, "metrics": {}})))
    assert chunks[0]["usage"] == {
        "prompt_tokens": 110,
        "completion_tokens": 5,
        "total_tokens": 115,
        "prompt_tokens_details": {"cached_tokens": 80},
    }
    assert decoder.done


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
        ("something_new", "stop"),
    ],
)
def test_stop_reason_maps_to_finish_reason(deployment: Deployment, stop_reason: str, finish_reason: str) -> None:
    chunks, _ = decode(deployment, event_frame("messageStop", orjson.dumps({"stopReason": stop_reason})))
    assert chunks[0]["choices"][0]["finish_reason"] == finish_reason


def test_whole_converse_answer_parses_to_a_chat_completion(sim: SimulatorServer, deployment: Deployment) -> None:
    response = signed_post(sim, "dec-sim", "amazon.nova-lite-v1:0", HELLO, stream=False)
    assert response.headers["content-type"] == "application/json"
    completion = bedrock.parse_completion(deployment, response.content)
    choice = completion["choices"][0]
    assert choice["message"]["content"].startswith("Hello from dec-sim/amazon.nova-lite-v1:0.")
    assert choice["finish_reason"] == "stop"
    assert completion["usage"]["completion_tokens"] == 20


def test_whole_converse_tool_answer_parses_to_tool_calls(sim: SimulatorServer, deployment: Deployment) -> None:
    response = signed_post(sim, "dec-sim", "amazon.nova-lite-v1:0", TOOLS, stream=False)
    choice = bedrock.parse_completion(deployment, response.content)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert call["function"] == {"name": "get_weather", "arguments": '{"sim":true}'}
