"""A small tool schema that doubles at every level gets its 400 at once, over real HTTP, from a
Gemini and a Vertex deployment, while a stream on the same gateway worker keeps its pace."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import httpx

from gateway.upstream.adapters.schema_limits import MAX_SCHEMA_NODES
from tests.providers.gemini.conftest import GeminiGateway, ask

LEVELS = 24
PACE = 0.03  # seconds between the simulator's streamed tokens
TOKENS = 40
MAX_GAP = 0.2  # between two chunks of that stream, while the hostile requests are answered


def doubling_tool(levels: int = LEVELS) -> dict[str, Any]:
    defs: dict[str, Any] = {"d0": {"type": "string"}}
    for level in range(1, levels + 1):
        ref = {"$ref": f"#/$defs/d{level - 1}"}
        defs[f"d{level}"] = {"type": "object", "properties": {"a": ref, "b": ref}}
    parameters = {"type": "object", "properties": {"x": {"$ref": f"#/$defs/d{levels}"}}, "$defs": defs}
    return {"type": "function", "function": {"name": "explode", "parameters": parameters}}


class Stream(threading.Thread):
    """Reads one streamed answer and notes when each chunk arrived."""

    def __init__(self, gw: GeminiGateway, body: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.gw = gw
        self.body = body
        self.arrivals: list[float] = []
        self.started = threading.Event()

    def run(self) -> None:
        headers = {"authorization": f"Bearer {self.gw.key}"}
        url = f"{self.gw.url}/v1/chat/completions"
        with httpx.stream("POST", url, json=self.body, headers=headers, timeout=30) as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    self.arrivals.append(time.perf_counter())
                    self.started.set()
        self.started.set()

    def gaps_within(self, start: float, end: float) -> list[float]:
        times = self.arrivals
        return [b - a for a, b in itertools.pairwise(times) if b >= start and a <= end]


def hostile(gw: GeminiGateway, model: str) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = gw.chat(ask(model, tools=[doubling_tool()]))
    return response, time.perf_counter() - started


def test_a_doubling_schema_gets_its_400_at_once_and_a_concurrent_stream_keeps_its_pace(gw: GeminiGateway) -> None:
    gw.sim.set_fault("gem-b", "gemini-solo", inter_token=PACE, tokens=TOKENS)
    stream = Stream(gw, ask("gemini-solo", stream=True))
    stream.start()
    assert stream.started.wait(10) and stream.arrivals, "the stream never started"
    window_start = time.perf_counter()
    answers = [hostile(gw, model) for model in ("gemini", "vertex-solo", "gemini", "vertex-solo")]
    window_end = time.perf_counter()
    stream.join(30)

    for response, elapsed in answers:
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "schema_too_large"
        assert error["param"] == "tools[0].function.parameters"
        assert f"the limit is {MAX_SCHEMA_NODES:,}" in error["message"]
        # Unchecked, 24 doublings take minutes: a second bounds every answer even on a loaded machine.
        assert elapsed < 1.0, f"the 400 took {elapsed * 1000:.0f} ms"
    # Each provider's quicker try shows the work itself, clear of the other test worker's load.
    for model_answers in (answers[0::2], answers[1::2]):
        fastest = min(elapsed for _, elapsed in model_answers)
        assert fastest < 0.1, f"the 400 took {fastest * 1000:.0f} ms"
    assert len(stream.arrivals) >= TOKENS
    gaps = stream.gaps_within(window_start, window_end)
    assert gaps and max(gaps) < MAX_GAP, f"the stream stalled for {max(gaps) * 1000:.0f} ms"
    assert gw.sim.attempts("gem-a") == gw.sim.attempts("vtx-a") == 0  # refused before any upstream call
