"""Golden tests: Gemini SSE events in, OpenAI chat.completion.chunk objects out."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.upstream.adapters import gemini
from gateway.conf.domain import Deployment, Provider, Timeouts
from gateway.errors import AttemptError
from gateway.events.outcomes import Outcome

DEPLOYMENT = Deployment(
    "g/gemini-2.5-pro",
    Provider("g", "gemini", "https://x.test/v1beta", "AIza-secret-key", None, Timeouts(1, 1, 1, 1), {}),
    "gemini-2.5-pro",
)


def event(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\r\n\r\n"


def text(piece: str, finish: str | None = None, index: int = 0, **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": piece}]}, "index": index}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], **extra}


def decode(*reads: bytes) -> list[dict[str, Any]]:
    decoder = gemini.decoder(DEPLOYMENT)
    chunks = [chunk for data in reads for _, chunk in decoder.feed(data)]
    return chunks + [chunk for _, chunk in decoder.flush()]


def choices(chunks: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str | None]]:
    return [(c["choices"][0]["delta"], c["choices"][0]["finish_reason"]) for c in chunks if c.get("choices")]


USAGE = {
    "promptTokenCount": 120,
    "candidatesTokenCount": 30,
    "cachedContentTokenCount": 100,
    "thoughtsTokenCount": 12,
    "totalTokenCount": 162,
}


def test_text_stream_with_cached_and_reasoning_tokens() -> None:
    partial = {"promptTokenCount": 120, "totalTokenCount": 120}
    stream = (
        event(text("Hel", usageMetadata=partial))
        + event(text("lo", usageMetadata=partial))
        + event(text("", "STOP", usageMetadata=USAGE))
    )
    chunks = decode(stream[:10], stream[10:77], stream[77:])  # reads split anywhere, CRLF included
    assert choices(chunks) == [
        ({"content": "Hel", "role": "assistant"}, None),
        ({"content": "lo"}, None),
        ({}, "stop"),
    ]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {
        "prompt_tokens": 120,
        "completion_tokens": 42,
        "total_tokens": 162,
        "prompt_tokens_details": {"cached_tokens": 100},
        "completion_tokens_details": {"reasoning_tokens": 12},
    }
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["object"] == "chat.completion.chunk"


def test_usage_is_sent_once_after_the_finish_even_when_it_comes_later() -> None:
    chunks = decode(event(text("a", "STOP")) + event({"usageMetadata": USAGE}))  # two events in one read
    assert [("usage" in c) for c in chunks] == [False, True]


def test_usage_arriving_with_the_finish_but_no_later_event_is_flushed_at_eof() -> None:
    decoder = gemini.decoder(DEPLOYMENT)
    chunks = decoder.feed(b"data: " + orjson.dumps(text("a", "STOP", usageMetadata=USAGE)))  # no blank line yet
    assert chunks == []
    rest = decoder.flush()
    assert [("usage" in c) for _, c in rest] == [False, True]


def test_thought_parts_are_not_part_of_the_answer() -> None:
    parts = [{"text": "thinking...", "thought": True}, {"text": "Answer"}]
    chunks = decode(event({"candidates": [{"content": {"parts": parts}, "finishReason": "STOP"}]}))
    assert choices(chunks) == [({"content": "Answer", "role": "assistant"}, "stop")]


def test_parallel_function_calls_become_complete_tool_call_deltas() -> None:
    parts = [
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
        {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
    ]
    chunks = decode(event({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}]}))
    [(delta, finish)] = choices(chunks)
    assert finish == "tool_calls"
    calls = delta["tool_calls"]
    assert [(c["index"], c["type"], c["function"]) for c in calls] == [
        (0, "function", {"name": "get_weather", "arguments": '{"city":"Paris"}'}),
        (1, "function", {"name": "get_weather", "arguments": '{"city":"Rome"}'}),
    ]
    assert all(c["id"].startswith("call_") for c in calls) and calls[0]["id"] != calls[1]["id"]


@pytest.mark.parametrize(
    ("reason", "finish"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("OTHER", "stop"),
    ],
)
def test_finish_reasons(reason: str, finish: str) -> None:
    assert choices(decode(event(text("x", reason))))[-1][1] == finish


def test_response_blocked_by_safety_has_no_content_and_content_filter() -> None:
    ratings = [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]
    blocked = {"candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": ratings}], "usageMetadata": USAGE}
    chunks = decode(event(blocked))
    assert choices(chunks) == [({"role": "assistant"}, "content_filter")]
    assert "usage" in chunks[-1]


def test_prompt_blocked_by_safety_is_content_filter() -> None:
    blocked = {"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []}, "usageMetadata": USAGE}
    assert choices(decode(event(blocked))) == [({"role": "assistant"}, "content_filter")]


def test_two_candidates_are_two_choices_and_usage_waits_for_both() -> None:
    both = {"candidates": [text("a")["candidates"][0], text("b", index=1)["candidates"][0]]}
    first_done = {"candidates": [text("", "STOP")["candidates"][0]], "usageMetadata": USAGE}
    second_done = {"candidates": [text("", "MAX_TOKENS", index=1)["candidates"][0]], "usageMetadata": USAGE}
    chunks = decode(event(both), event(first_done), event(second_done))
    indexed = [(c["choices"][0]["index"], c["choices"][0]["finish_reason"]) for c in chunks if c.get("choices")]
    assert indexed == [(0, None), (1, None), (0, "stop"), (1, "length")]
    assert [("usage" in c) for c in chunks] == [False, False, False, False, True]


def test_error_event_mid_stream_is_passed_to_the_relay() -> None:
    error = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    chunks = decode(event(text("a")), event(error))
    assert chunks[-1] == {"error": error["error"]}


def test_malformed_events_are_counted_and_skipped() -> None:
    decoder = gemini.decoder(DEPLOYMENT)
    chunks = decoder.feed(b"data: {not json\n\n" + event(text("ok", "STOP")) + b"data: [1]\n\n")
    assert decoder.malformed == 2
    assert choices([c for _, c in chunks]) == [({"content": "ok", "role": "assistant"}, "stop")]


def test_a_whole_json_answer_is_parsed_as_a_completion() -> None:
    answer = text("Hi there", "STOP", usageMetadata=USAGE)
    completion = gemini.parse_completion(DEPLOYMENT, orjson.dumps([answer]))  # the non-SSE stream's array
    assert completion["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi there", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert completion["usage"]["completion_tokens_details"] == {"reasoning_tokens": 12}


def test_unreadable_whole_answer_is_a_bad_response() -> None:
    with pytest.raises(AttemptError) as caught:
        gemini.parse_completion(DEPLOYMENT, b"<html>")
    assert caught.value.failure is Outcome.BAD_RESPONSE


def google_error(status: int, rpc: str, message: str, *details: dict[str, Any]) -> bytes:
    return orjson.dumps({"error": {"code": status, "message": message, "status": rpc, "details": list(details)}})


RETRY = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12.5s"}
BAD_KEY = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}


@pytest.mark.parametrize(
    ("status", "rpc", "message", "details", "failure"),
    [
        (429, "RESOURCE_EXHAUSTED", "Quota exceeded", [RETRY], Outcome.RATE_LIMITED),
        (503, "UNAVAILABLE", "The model is overloaded.", [], Outcome.SERVER_ERROR),
        (500, "INTERNAL", "An internal error has occurred.", [], Outcome.SERVER_ERROR),
        (504, "DEADLINE_EXCEEDED", "Deadline expired", [], Outcome.SERVER_ERROR),
        (401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", [], Outcome.MISCONFIGURED),
        (403, "PERMISSION_DENIED", "Permission denied on resource project x.", [], Outcome.MISCONFIGURED),
        (404, "NOT_FOUND", "models/x is not found for API version v1beta", [], Outcome.MISCONFIGURED),
        (400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [BAD_KEY], Outcome.MISCONFIGURED),
        (400, "FAILED_PRECONDITION", "User location is not supported for the API use.", [], Outcome.MISCONFIGURED),
        (
            400,
            "INVALID_ARGUMENT",
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            [],
            Outcome.CONTEXT_LENGTH,
        ),
        (400, "INVALID_ARGUMENT", "Request contains an invalid argument.", [], Outcome.CLIENT_ERROR),
    ],
)
def test_error_classes(status: int, rpc: str, message: str, details: list[Any], failure: Outcome) -> None:
    error = gemini.classify_error(DEPLOYMENT, status, google_error(status, rpc, message, *details), {})
    assert error.failure is failure
    assert error.message == message
    if failure is Outcome.RATE_LIMITED:
        assert error.retry_after == 12.5


def test_retry_after_header_wins_over_retry_info() -> None:
    error = gemini.classify_error(
        DEPLOYMENT, 429, google_error(429, "RESOURCE_EXHAUSTED", "q", RETRY), {"retry-after": "3"}
    )
    assert error.retry_after == 3.0


def test_error_in_an_array_body_and_key_redaction() -> None:
    body = orjson.dumps([{"error": {"code": 400, "message": "bad key AIza-secret-key", "status": "INVALID_ARGUMENT"}}])
    error = gemini.classify_error(DEPLOYMENT, 400, body, {})
    assert error.message == "bad key [redacted]"
    assert (error.failure, error.code) == (Outcome.CLIENT_ERROR, "invalid_argument")
