"""Each fault kind, observed from a real HTTP client."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from simulator.harness import SimulatorServer
from tests.simulator.helpers import MODEL, chat_body, sse_chunks, sse_payloads, streamed_text

CHAT = "/alpha/v1/chat/completions"
SHORT_READ = httpx.Timeout(5.0, read=0.3)


def read_stream_until_failure(http: httpx.Client, body: dict[str, object]) -> tuple[str, Exception]:
    """Everything received before the stream broke, and how it broke."""
    received: list[str] = []
    stream = http.stream("POST", CHAT, json=body, timeout=SHORT_READ)
    with pytest.raises(httpx.TransportError) as failure, stream as response:
        assert response.status_code == 200
        received.extend(response.iter_text())
    return "".join(received), failure.value


# ---------------------------------------------------------------- HTTP errors


def test_status_fault_returns_openai_error_body(sim: SimulatorServer, http: httpx.Client) -> None:
    sim.set_fault("alpha", status=503)

    response = http.post(CHAT, json=chat_body())

    assert response.status_code == 503
    assert response.json()["error"]["type"] == "server_error"
    assert "retry-after" not in response.headers


def test_rate_limit_fault_sends_retry_after(sim: SimulatorServer, client: openai.OpenAI) -> None:
    sim.set_fault("alpha", status=429, retry_after="7")

    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=MODEL, messages=chat_body()["messages"])

    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.code == "rate_limit_exceeded"


def test_error_message_type_and_code_are_customisable(
    sim: SimulatorServer, http: httpx.Client
) -> None:
    sim.set_fault("alpha", status=500, error_message="boom", error_type="t", error_code="c")

    error = http.post(CHAT, json=chat_body()).json()["error"]

    assert (error["message"], error["type"], error["code"]) == ("boom", "t", "c")


@pytest.mark.parametrize(
    ("kind", "status", "code", "exception"),
    [
        ("context_length", 400, "context_length_exceeded", openai.BadRequestError),
        ("content_filter", 400, "content_filter", openai.BadRequestError),
        ("auth", 401, "invalid_api_key", openai.AuthenticationError),
        ("not_found", 404, "model_not_found", openai.NotFoundError),
    ],
)
def test_error_kinds_mimic_openai(
    sim: SimulatorServer, client: openai.OpenAI, kind: str, status: int, code: str,
    exception: type[openai.APIStatusError],
) -> None:  # fmt: skip
    sim.set_fault("alpha", kind=kind)

    with pytest.raises(exception) as caught:
        client.chat.completions.create(model=MODEL, messages=chat_body()["messages"])

    assert caught.value.status_code == status and caught.value.code == code
    assert caught.value.type == "invalid_request_error"


def test_context_length_error_names_the_limit(sim: SimulatorServer, http: httpx.Client) -> None:
    sim.set_fault("alpha", kind="context_length")

    error = http.post(CHAT, json=chat_body(stream=True)).json()["error"]

    assert error["message"].startswith("This model's maximum context length is 8192 tokens")
    assert error["param"] == "messages"


# ---------------------------------------------------------------- connection faults


@pytest.mark.parametrize("stream", [False, True])
def test_reset_drops_the_connection_without_response(
    sim: SimulatorServer, http: httpx.Client, stream: bool
) -> None:
    sim.set_fault("alpha", kind="reset")

    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        http.post(CHAT, json=chat_body(stream=stream))


def test_reset_is_a_connection_error_for_the_sdk(
    sim: SimulatorServer, client: openai.OpenAI
) -> None:
    sim.set_fault("alpha", kind="reset")

    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model=MODEL, messages=chat_body()["messages"])


def test_hang_never_answers_but_does_not_block_others(
    sim: SimulatorServer, http: httpx.Client
) -> None:
    sim.set_fault("alpha", kind="hang")

    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        hanging = pool.submit(http.post, CHAT, json=chat_body(), timeout=SHORT_READ)
        assert http.post("/beta/v1/chat/completions", json=chat_body()).status_code == 200
        assert not hanging.done()
        with pytest.raises(httpx.ReadTimeout):
            hanging.result()

    assert time.monotonic() - started >= 0.3


def test_cut_after_stops_the_stream_mid_way(sim: SimulatorServer, http: httpx.Client) -> None:
    sim.set_fault("alpha", kind="cut_after", after=3)

    received, failure = read_stream_until_failure(http, chat_body(stream=True))

    assert isinstance(failure, httpx.RemoteProtocolError)
    chunks = sse_chunks(received)
    assert len(chunks) == 1 + 3  # role chunk + 3 content chunks
    assert "[DONE]" not in received and all(
        c["choices"][0]["finish_reason"] is None for c in chunks
    )


def test_cut_after_truncates_a_non_streamed_body(sim: SimulatorServer, http: httpx.Client) -> None:
    sim.set_fault("alpha", kind="cut_after", after=3)

    with pytest.raises(httpx.RemoteProtocolError):
        http.post(CHAT, json=chat_body())


def test_stall_after_goes_silent_with_the_connection_open(
    sim: SimulatorServer, http: httpx.Client
) -> None:
    sim.set_fault("alpha", kind="stall_after", after=2)

    received, failure = read_stream_until_failure(http, chat_body(stream=True))

    assert isinstance(failure, httpx.ReadTimeout)
    assert len(sse_chunks(received)) == 1 + 2


def test_malformed_inserts_one_unparseable_event(sim: SimulatorServer, http: httpx.Client) -> None:
    sim.set_fault("alpha", kind="malformed", after=4)

    text = http.post(CHAT, json=chat_body(stream=True)).text
    payloads = sse_payloads(text)

    assert payloads[1 + 4] == "{not json"
    assert payloads[-1] == "[DONE]"
    good = "data: " + "\n\ndata: ".join(p for p in payloads if p != "{not json") + "\n\n"
    assert streamed_text(good).startswith("Hello from alpha/gpt-4o-mini.")


def test_no_done_completes_without_the_terminator(sim: SimulatorServer, http: httpx.Client) -> None:
    sim.set_fault("alpha", kind="no_done")

    response = http.post(CHAT, json=chat_body(stream=True, stream_options={"include_usage": True}))
    payloads = sse_payloads(response.text)

    assert response.status_code == 200 and "[DONE]" not in payloads
    chunks = sse_chunks(response.text)
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == 20


# ---------------------------------------------------------------- latency


def test_headers_delay_postpones_the_response(sim: SimulatorServer, http: httpx.Client) -> None:
    sim.set_fault("alpha", headers_delay=0.2)

    started = time.monotonic()
    assert http.post(CHAT, json=chat_body()).status_code == 200

    assert time.monotonic() - started >= 0.2


def test_ttft_delays_the_first_chunk_not_the_headers(
    sim: SimulatorServer, http: httpx.Client
) -> None:
    sim.set_fault("alpha", ttft=0.25)

    started = time.monotonic()
    with http.stream("POST", CHAT, json=chat_body(stream=True)) as response:
        headers_at = time.monotonic() - started
        chunks = response.iter_raw()
        first = next(chunks)
        first_at = time.monotonic() - started
        rest = first + b"".join(chunks)

    assert headers_at < 0.2 <= first_at
    assert first.startswith(b"data: ") and b'"role":"assistant"' in first
    assert rest.endswith(b"data: [DONE]\n\n")


def test_inter_token_paces_the_stream(sim: SimulatorServer, http: httpx.Client) -> None:
    sim.set_fault("alpha", inter_token=0.01, tokens=10)

    started = time.monotonic()
    with http.stream("POST", CHAT, json=chat_body(stream=True)) as response:
        arrivals = [time.monotonic() - started for _ in response.iter_raw()]

    assert len(arrivals) >= 5  # chunks arrive separately, not as one body
    assert arrivals[-1] >= 0.1


def test_fault_tokens_override_the_answer_length(sim: SimulatorServer, http: httpx.Client) -> None:
    sim.set_fault("alpha", tokens=4)

    usage = http.post(CHAT, json=chat_body()).json()["usage"]

    assert usage["completion_tokens"] == 4
