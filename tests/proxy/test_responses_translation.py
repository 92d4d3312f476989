"""A Responses request becomes a chat request; a chat answer or stream becomes Responses output."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from gateway.errors import GatewayError
from gateway.inbound.responses_output import Envelope, ResponseEvents, to_response
from gateway.inbound.responses_request import to_chat

AGENT_LOOP: list[dict[str, Any]] = [
    {"role": "user", "content": "What's the weather in Paris?"},
    {
        "type": "message",
        "role": "assistant",
        "id": "msg_1",
        "status": "completed",
        "content": [{"type": "output_text", "text": "Let me look.", "annotations": []}],
    },
    {"type": "function_call", "id": "fc_1", "call_id": "call_a", "name": "weather", "arguments": '{"city":"Paris"}'},
    {"type": "function_call", "id": "fc_2", "call_id": "call_b", "name": "time", "arguments": "{}"},
    {"type": "reasoning", "id": "rs_1", "summary": []},
    {"type": "function_call_output", "call_id": "call_a", "output": "sunny"},
    {"type": "function_call_output", "call_id": "call_b", "output": [{"type": "input_text", "text": "noon"}]},
]


SPEC_EVENT: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)


def chat_of(**body: Any) -> dict[str, Any]:
    return to_chat({"model": "chat", **body})[0]


def test_string_input_and_instructions_become_a_system_and_a_user_message() -> None:
    chat = chat_of(input="hi", instructions="Be brief.")
    assert chat["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert "stream" not in chat


def test_text_and_image_parts_become_chat_parts() -> None:
    content = [
        {"type": "input_text", "text": "what is this?"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBOR", "detail": "low"},
        {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "auto"},
    ]
    chat = chat_of(input=[{"role": "user", "content": content}])
    assert chat["messages"][0]["content"] == [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "auto"}},
    ]


def test_a_file_as_file_data_becomes_a_chat_file_part() -> None:
    part = {"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}
    chat = chat_of(input=[{"role": "user", "content": [{"type": "input_text", "text": "sum up"}, part]}])
    assert chat["messages"][0]["content"][1] == {
        "type": "file",
        "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"},
    }


def test_an_agent_loop_becomes_one_assistant_turn_with_its_calls_then_tool_messages() -> None:
    chat = chat_of(input=AGENT_LOOP)
    assert chat["messages"] == [
        {"role": "user", "content": "What's the weather in Paris?"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}},
                {"id": "call_b", "type": "function", "function": {"name": "time", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": "sunny"},
        {"role": "tool", "tool_call_id": "call_b", "content": "noon"},
    ]


def test_flat_function_tools_and_tool_choice_become_chat_tools() -> None:
    tool = {
        "type": "function",
        "name": "weather",
        "description": "Weather now",
        "strict": True,
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    chat = chat_of(input="hi", tools=[tool], tool_choice={"type": "function", "name": "weather"})
    assert chat["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "Weather now",
                "parameters": tool["parameters"],
                "strict": True,
            },
        }
    ]
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "weather"}}
    assert chat_of(input="hi", tools=[tool], tool_choice="required")["tool_choice"] == "required"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (
            {"type": "json_schema", "name": "city", "schema": {"type": "object"}, "strict": True},
            {"type": "json_schema", "json_schema": {"name": "city", "schema": {"type": "object"}, "strict": True}},
        ),
        ({"type": "json_object"}, {"type": "json_object"}),
        ({"type": "text"}, None),
    ],
)
def test_text_format_becomes_response_format(fmt: dict[str, Any], expected: dict[str, Any] | None) -> None:
    assert chat_of(input="hi", text={"format": fmt}).get("response_format") == expected


def test_sampling_limits_and_reasoning_carry_over_and_unknown_effort_is_ignored() -> None:
    chat = chat_of(
        input="hi",
        max_output_tokens=50,
        temperature=0.2,
        top_p=0.9,
        parallel_tool_calls=False,
        user="u-1",
        reasoning={"effort": "low", "summary": "auto"},
        stream=True,
    )
    assert {k: chat[k] for k in ("max_tokens", "temperature", "top_p", "parallel_tool_calls", "user")} == {
        "max_tokens": 50,
        "temperature": 0.2,
        "top_p": 0.9,
        "parallel_tool_calls": False,
        "user": "u-1",
    }
    assert chat["reasoning_effort"] == "low"
    assert chat["stream_options"] == {"include_usage": True}
    assert "reasoning_effort" not in chat_of(input="hi", reasoning={"effort": "maximum-please"})


def test_store_include_and_metadata_are_accepted_and_never_sent_upstream() -> None:
    chat, echo = to_chat({"model": "chat", "input": "hi", "store": True, "include": [], "metadata": {"a": "b"}})
    assert set(chat) == {"model", "messages"}
    assert echo["metadata"] == {"a": "b"}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"conversation": "conv_1"}, "conversation"),
        ({"background": True}, "background"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"tools": [{"type": "file_search", "vector_store_ids": ["v"]}]}, "tools[0].type"),
        ({"input": [{"role": "user", "content": "x"}, {"type": "item_reference", "id": "msg_1"}]}, "input[1]"),
        ({"input": [{"type": "computer_call_output", "call_id": "c"}]}, "input[0].type"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file_1"}]}]},
            "input[0].content[0].image_url",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
            "input[0].content[0].file_data",
        ),
        ({"input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        ({"input": [{"role": ["user"], "content": "x"}]}, "input[0].role"),
        ({"input": [{"role": "user", "content": [{"type": ["input_text"]}]}]}, "input[0].content[0].type"),
        ({"input": [{"type": {"a": 1}}]}, "input[0].type"),
        ({"tools": [{"type": ["function"]}]}, "tools[0].type"),
        ({"input": [1]}, "input[0]"),
        ({"input": []}, "input"),
        ({"input": None}, "input"),
        ({"input": [{"type": "function_call", "name": "f", "arguments": "{}"}]}, "input[0].call_id"),
        ({"max_output_tokens": 0}, "max_output_tokens"),
        ({"max_output_tokens": 2**40}, "max_output_tokens"),
        ({"temperature": "hot"}, "temperature"),
        ({"tool_choice": {"type": "allowed_tools"}}, "tool_choice"),
        ({"text": {"format": {"type": "json_schema", "schema": {}}}}, "text.format"),
        ({"metadata": {str(i): "v" for i in range(17)}}, "metadata"),
        ({"input": [{"role": "user", "content": [{"type": "input_text", "text": "x"}] * 1001}]}, "input[0].content"),
    ],
)
def test_what_the_gateway_cannot_serve_is_a_400_naming_the_parameter(body: dict[str, Any], param: str) -> None:
    with pytest.raises(GatewayError) as raised:
        to_chat({"model": "chat", "input": "hi", **body})
    assert (raised.value.status, raised.value.param) == (400, param)


# ---------------------------------------------------------------- answers


def completion(message: dict[str, Any], finish: str = "stop") -> dict[str, Any]:
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 2},
    }
    return {
        "id": "chatcmpl-1",
        "model": "chat",
        "usage": usage,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }


def envelope(**body: Any) -> Envelope:
    return Envelope(to_chat({"model": "chat", "input": "hi", **body})[1], 1_700_000_000)


def answer(envelope: Envelope, completion: dict[str, Any]) -> dict[str, Any]:
    response = to_response(envelope, completion)
    Response.model_validate(response)  # as the openai SDK's own model requires
    return response


def test_a_text_answer_is_a_completed_response_with_one_message_and_usage() -> None:
    response = answer(envelope(temperature=0.5), completion({"role": "assistant", "content": "Hello"}))
    assert response["id"].startswith("resp_")
    assert (response["object"], response["status"], response["model"], response["store"]) == (
        "response",
        "completed",
        "chat",
        False,
    )
    [item] = response["output"]
    assert (item["type"], item["role"], item["status"], item["id"][:4]) == ("message", "assistant", "completed", "msg_")
    assert item["content"] == [{"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []}]
    assert response["usage"] == {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
        "output_tokens": 5,
        "output_tokens_details": {"reasoning_tokens": 2},
        "total_tokens": 15,
    }
    assert (response["temperature"], response["tool_choice"], response["previous_response_id"]) == (0.5, "auto", None)


def test_tool_calls_are_function_call_items() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}}
    response = answer(envelope(), completion({"content": None, "tool_calls": [call]}, "tool_calls"))
    [item] = response["output"]
    assert {k: item[k] for k in ("type", "call_id", "name", "arguments", "status")} == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "weather",
        "arguments": '{"city":"Paris"}',
        "status": "completed",
    }
    assert item["id"].startswith("fc_")


def test_a_truncated_answer_is_incomplete_for_max_output_tokens() -> None:
    response = answer(envelope(max_output_tokens=5), completion({"content": "Hel"}, "length"))
    assert (response["status"], response["incomplete_details"]) == ("incomplete", {"reason": "max_output_tokens"})
    assert response["max_output_tokens"] == 5


# ---------------------------------------------------------------- streams


def events(raw: bytes) -> list[dict[str, Any]]:
    out = []
    for block in raw.decode().strip().split("\n\n"):
        name, data = block.split("\n")
        event = orjson.loads(data.removeprefix("data: "))
        assert name == f"event: {event['type']}"
        SPEC_EVENT.validate_python(event)  # every field the openai SDK's own model requires, rightly typed
        out.append(event)
    return out


def stream(chunks: list[dict[str, Any]], finish: bool = True) -> list[dict[str, Any]]:
    events_out = ResponseEvents(envelope(), "chat")
    raw = [events_out.start()]
    for chunk in chunks:
        out: list[bytes] = []
        events_out.chunk({"choices": [{"index": 0, **chunk}]}, out)
        raw.extend(out)
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    raw.append(events_out.end(usage) if finish else events_out.failed("cut (sim-a: stream_cut)", None))
    return events(b"".join(raw))


def test_a_text_stream_is_the_documented_event_sequence_numbered_from_zero() -> None:
    seen = stream(
        [
            {"delta": {"role": "assistant", "content": "Hel"}},
            {"delta": {"content": "lo"}},
            {"delta": {}, "finish_reason": "stop"},
        ]
    )
    assert [e["type"] for e in seen] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["sequence_number"] for e in seen] == list(range(len(seen)))
    item_id = seen[2]["item"]["id"]
    for event in seen[3:8]:
        assert (event["item_id"], event["output_index"]) == (item_id, 0)
    assert [e["delta"] for e in seen[4:6]] == ["Hel", "lo"]
    assert seen[6]["text"] == "Hello" and seen[4]["content_index"] == 0
    done = seen[-1]["response"]
    assert (done["status"], done["output"][0]["content"][0]["text"], done["usage"]["total_tokens"]) == (
        "completed",
        "Hello",
        5,
    )
    assert seen[0]["response"]["status"] == "in_progress" and seen[0]["response"]["id"] == done["id"]


def test_a_tool_call_stream_has_function_call_argument_events() -> None:
    first = {"delta": {"tool_calls": [{"index": 0, "id": "call_9", "function": {"name": "weather", "arguments": ""}}]}}
    more = [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}} for piece in ('{"c"', ":1}")]
    seen = stream([first, *more, {"delta": {}, "finish_reason": "tool_calls"}])
    assert [e["type"] for e in seen] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert seen[2]["item"] == {
        "id": seen[2]["item"]["id"],
        "type": "function_call",
        "status": "in_progress",
        "call_id": "call_9",
        "name": "weather",
        "arguments": "",
    }
    assert seen[5]["arguments"] == '{"c":1}'
    assert seen[-1]["response"]["output"][0]["arguments"] == '{"c":1}'


def test_a_stream_cut_after_content_ends_with_response_failed_and_no_completion() -> None:
    seen = stream([{"delta": {"content": "Hel"}}], finish=False)
    assert [e["type"] for e in seen][-2:] == ["response.output_text.delta", "response.failed"]
    failed = seen[-1]["response"]
    assert (failed["status"], failed["error"]["code"]) == ("failed", "server_error")
    assert failed["output"][0]["status"] == "incomplete"
    assert not any(e["type"] == "response.completed" for e in seen)


def test_a_stream_that_hits_max_output_tokens_ends_incomplete() -> None:
    seen = stream([{"delta": {"content": "Hel"}}, {"delta": {}, "finish_reason": "length"}])
    assert seen[-1]["type"] == "response.incomplete"
    assert seen[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_a_refusal_after_text_is_a_second_content_part() -> None:
    seen = stream(
        [{"delta": {"content": "I"}}, {"delta": {"refusal": "can't"}}, {"delta": {}, "finish_reason": "stop"}]
    )
    kinds = [e["type"] for e in seen]
    assert kinds[kinds.index("response.refusal.delta") - 3 :][:4] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.content_part.added",
        "response.refusal.delta",
    ]
    content = seen[-1]["response"]["output"][0]["content"]
    assert [part["type"] for part in content] == ["output_text", "refusal"]
    assert seen[kinds.index("response.refusal.delta")]["content_index"] == 1
