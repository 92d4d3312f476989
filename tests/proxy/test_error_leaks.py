"""What a client is told of upstream failures: the provider and the class, never addresses or text."""

from __future__ import annotations

import orjson

from tests.proxy.conftest import LiveGateway, hi


def test_a_502_names_the_provider_and_the_error_class_not_the_address(gw: LiveGateway) -> None:
    response = gw.post(hi("dead/refused-first"))
    assert response.status_code == 502
    message = response.json()["error"]["message"]
    assert "dead: connect_error" in message
    assert "127.0.0.1" not in message and ":9" not in message


def test_a_cut_after_content_names_the_provider_and_the_class_only(gw: LiveGateway) -> None:
    gw.sim.set_fault("sim-a", kind="cut_after", after=5)
    _, raw = gw.raw_stream(hi())
    last = orjson.loads([b for b in raw.split(b"\n\n") if b.strip()][-1].removeprefix(b"data: "))
    assert last["error"]["message"] == "The upstream stream was interrupted after the answer began (sim-a: stream_cut)."
    assert b"127.0.0.1" not in raw
