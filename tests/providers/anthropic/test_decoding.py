"""Anthropic answers the simulator does not produce: cache and thinking usage, text then tool calls,
split reads, and a whole JSON message from a provider that ignored ``stream``."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from gateway.upstream.adapters import anthropic
from gateway.conf.loader import parse_config
from simulator.harness import SimulatorServer

CONFIG = """providers:
  - {name: an, kind: anthropic, base_url: 'https://api.anthropic.com/v1', api_key: sk-ant-x-0000000000}
models:
  - name: m
    deployments: [{provider: an, model: claude-sonnet-4-5}]
"""


def event(data: dict[str, Any]) -> bytes:
    return b"event: " + data["type"].encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


START_USAGE = {"input_tokens": 10, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 100, "output_tokens": 1}
STREAM = b"".join(
    event(e)
    for e in [
        {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                                              "model": "claude-sonnet-4-5-20250929", "content": [],
                                              "usage": START_USAGE}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Hmm."}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Checking."}},
        {"type": "content_block_stop", "index": 1},
        {"type": "content_block_start", "index": 2,
         "content_block": {"type": "tool_use", "id": "toolu_a", "name": "weather", "input": {}}},
        {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": ""}},
        {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": '{"city":'}},
        {"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": '"Rome"}'}},
        {"type": "content_block_stop", "index": 2},
        {"type": "content_block_start", "index": 3,
         "content_block": {"type": "tool_use", "id": "toolu_b", "name": "time", "input": {}}},
        {"type": "content_block_delta", "index": 3, "delta": {"type": "input_json_delta", "partial_json": "{}"}},
        {"type": "content_block_stop", "index": 3},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
         "usage": {"output_tokens": 42, "output_tokens_details": {"thinking_tokens": 7}}},
        {"type": "message_stop"},
    ]
)  # fmt: skip


def deployment() -> Any:
    return parse_config(CONFIG, source="t").deployments()[0]


def decode(reads: list[bytes]) -> tuple[list[dict[str, Any]], anthropic.MessagesDecoder]:
    decoder = anthropic.decoder(deployment())
    chunks = [chunk for read in reads for _, chunk in decoder.feed(read)]
    chunks += [chunk for _, chunk in decoder.flush()]
    return chunks, decoder


def test_usage_counts_cache_reads_and_writes_in_the_prompt_and_thinking_as_reasoning() -> None:
    chunks, decoder = decode([STREAM])
    assert decoder.done and decoder.malformed == 0
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {
        "prompt_tokens": 115,
        "completion_tokens": 42,
        "total_tokens": 157,
        "prompt_tokens_details": {"cached_tokens": 100},
        "completion_tokens_details": {"reasoning_tokens": 7},
    }


def test_text_then_two_tool_calls_become_indexed_openai_deltas() -> None:
    chunks, _ = decode([STREAM])
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1] == {"content": "Checking."}
    assert deltas[2]["tool_calls"] == [
        {"index": 0, "id": "toolu_a", "type": "function", "function": {"name": "weather", "arguments": ""}}
    ]
    arguments = [d["tool_calls"][0] for d in deltas[3:] if "tool_calls" in d and "id" not in d["tool_calls"][0]]
    assert [(a["index"], a["function"]["arguments"]) for a in arguments] == [(0, '{"city":'), (0, '"Rome"}'), (1, "{}")]
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert {c["id"] for c in chunks} == {"msg_1"}
    assert chunks[0]["model"] == "claude-sonnet-4-5-20250929"


def test_events_split_across_reads_decode_the_same() -> None:
    whole, _ = decode([STREAM])
    pieces = [STREAM[i : i + 7] for i in range(0, len(STREAM), 7)]
    split, decoder = decode(pieces)
    assert split == whole and decoder.done


def test_refusal_and_max_tokens_stop_reasons_map_to_openai_finish_reasons() -> None:
    for stop_reason, finish in [("refusal", "content_filter"), ("max_tokens", "length"), ("end_turn", "stop")]:
        tail = event({"type": "message_delta", "delta": {"stop_reason": stop_reason}, "usage": {"output_tokens": 1}})
        chunks, _ = decode([tail])
        assert chunks[0]["choices"][0]["finish_reason"] == finish


def test_error_event_becomes_an_error_chunk() -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    chunks, _ = decode([event(error)])
    assert chunks == [{"error": {"type": "overloaded_error", "message": "Overloaded"}}]


def test_a_whole_json_message_from_the_simulator_parses_as_a_completion(simulator: SimulatorServer) -> None:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"name": "weather", "input_schema": {"type": "object"}}]}  # fmt: skip
    response = httpx.post(f"{simulator.url_for('json-only')}/messages", json=body, timeout=10)
    assert response.headers["content-type"].startswith("application/json")
    completion = anthropic.parse_completion(deployment(), response.content)
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"] == {"name": "weather", "arguments": '{"sim":true}'}
    assert completion["usage"]["completion_tokens"] == 3
