"""Rows about streams: cuts and stalls before and after content, malformed events, no [DONE]."""

from __future__ import annotations

import openai
import orjson
import pytest

from tests.proxy.conftest import LiveGateway, hi


def _events(raw: bytes) -> list[bytes]:
    return [block.removeprefix(b"data: ") for block in raw.split(b"\n\n") if block.strip()]


def test_cut_before_the_first_token_is_invisible(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", kind="cut_after", after=0)
    response, raw = gw.raw_stream(hi())
    assert response.headers["x-gateway-provider"] == "sim-b"
    assert raw.endswith(b"data: [DONE]\n\n")
    assert b"sim-a" not in raw


def test_cut_after_content_sends_an_error_event_and_never_done(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", kind="cut_after", after=5)
    response, raw = gw.raw_stream(hi())
    assert response.status_code == 200
    assert b"[DONE]" not in raw
    last = orjson.loads(_events(raw)[-1])
    assert last["error"]["code"] == "stream_interrupted"
    assert gw.sim.attempts("sim-b") == 0


def test_the_sdk_raises_on_a_stream_cut_after_content(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", kind="cut_after", after=5)
    stream = gw.client().chat.completions.create(**hi(), stream=True)
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass


def test_stall_after_content_ends_with_an_error_event_after_the_idle_deadline(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", kind="stall_after", after=3)
    _, raw = gw.raw_stream(hi())
    assert b"[DONE]" not in raw
    assert orjson.loads(_events(raw)[-1])["error"]["code"] == "stream_interrupted"


def test_non_streaming_request_survives_a_cut_mid_answer(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", kind="cut_after", after=5)
    response = gw.post(hi())
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"].startswith("Hello from sim-b")


def test_one_malformed_event_is_skipped_and_counted(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", kind="malformed", after=3)
    response, raw = gw.raw_stream(hi())
    assert raw.endswith(b"data: [DONE]\n\n")
    events = _events(raw)[:-1]
    assert all(isinstance(orjson.loads(event), dict) for event in events)
    rows = gw.attempts_logged(response.headers["x-request-id"], 1)
    assert rows[0].malformed_events == 1
    assert rows[0].outcome == "ok"


@pytest.mark.parametrize("include_usage", [True, False])
def test_stream_without_done_is_finished_with_done(gw: LiveGateway, include_usage: bool) -> None:
    gw.sim.set_fault("sim-a", kind="no_done")
    _, raw = gw.raw_stream(hi(stream_options={"include_usage": include_usage}))
    assert raw.endswith(b"data: [DONE]\n\n")
    chunks = [orjson.loads(e) for e in _events(raw)[:-1]]
    usage_chunks = [c for c in chunks if not c["choices"] and c.get("usage")]
    assert len(usage_chunks) == (1 if include_usage else 0)


def test_usage_chunk_is_only_sent_when_the_client_asked(gw: LiveGateway) -> None:
    _, raw = gw.raw_stream(hi())
    chunks = [orjson.loads(e) for e in _events(raw)[:-1]]
    assert all(chunk["choices"] for chunk in chunks)


def test_stream_headers_are_committed_only_after_a_failover_completes(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", status=500)
    response, _raw = gw.raw_stream(hi())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-gateway-attempts"] == "2"
