"""The simulator's embeddings and legacy completions endpoints: deterministic vectors of the asked
size, each provider's shapes, and the fault table applied like on chat."""

from __future__ import annotations

import array
import base64

import httpx
import openai
import orjson
import pytest

from simulator.harness import SimulatorServer
from tests.simulator.helpers import sse_chunks


def test_the_same_input_always_gets_the_same_unit_vector(client: openai.OpenAI) -> None:
    first = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"], encoding_format="float")
    again = client.embeddings.create(model="text-embedding-3-small", input=["b"], encoding_format="float")
    assert first.data[1].embedding == again.data[0].embedding != first.data[0].embedding
    assert len(first.data[0].embedding) == 1536
    assert sum(v * v for v in first.data[0].embedding) == pytest.approx(1.0, rel=1e-5)


def test_dimensions_and_base64_are_honoured(http: httpx.Client) -> None:
    body = {"model": "text-embedding-3-large", "input": "x", "dimensions": 64}
    floats = http.post("/p/v1/embeddings", json=body).json()["data"][0]["embedding"]
    encoded = http.post("/p/v1/embeddings", json={**body, "encoding_format": "base64"}).json()["data"][0]["embedding"]
    assert len(floats) == 64
    assert array.array("f", base64.b64decode(encoded)).tolist() == floats
    too_many = http.post("/p/v1/embeddings", json={**body, "dimensions": 4000})
    assert too_many.status_code == 400 and too_many.json()["error"]["param"] == "dimensions"


def test_a_fault_answers_embeddings_in_the_providers_shape(sim: SimulatorServer, http: httpx.Client) -> None:
    sim.set_fault("p", status=503)
    assert http.post("/p/v1/embeddings", json={"model": "m", "input": "x"}).json()["error"]["type"] == "server_error"
    sim.set_fault("g", status=429)
    google = http.post(
        "/g/v1beta/models/gemini-embedding-001:batchEmbedContents",
        json={"requests": [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "x"}]}}]},
    )
    assert (google.status_code, google.json()["error"]["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert sim.attempts("p") == sim.attempts("g") == 1


def test_a_cut_leaves_half_an_embeddings_answer(sim: SimulatorServer, http: httpx.Client) -> None:
    sim.set_fault("p", kind="cut_after")
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/p/v1/embeddings", json={"model": "m", "input": "x"})


def test_bedrock_invoke_wants_a_signature(http: httpx.Client) -> None:
    response = http.post("/b/model/amazon.titan-embed-text-v2:0/invoke", json={"inputText": "x"})
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"].startswith("UnrecognizedClientException")


def test_vertex_predict_reports_token_counts(http: httpx.Client) -> None:
    response = http.post(
        "/v/v1/publishers/google/models/text-embedding-004:predict",
        json={"instances": [{"content": "abcdefgh"}], "parameters": {"outputDimensionality": 16}},
    )
    embeddings = response.json()["predictions"][0]["embeddings"]
    assert (len(embeddings["values"]), embeddings["statistics"]["token_count"]) == (16, 2)


def test_legacy_completions_whole_and_streamed(client: openai.OpenAI, http: httpx.Client) -> None:
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi", max_tokens=3)
    assert completion.object == "text_completion" and completion.choices[0].finish_reason == "length"
    body = {"model": "m", "prompt": "hi", "stream": True, "stream_options": {"include_usage": True}}
    chunks = sse_chunks(http.post("/p/v1/completions", json=body).text)
    assert chunks[0]["choices"][0]["text"].startswith("Hello from p/m")
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    azure = http.post("/az/openai/deployments/d1/completions", json={"prompt": "hi"})
    assert azure.status_code == 404  # no api-version
    ok = http.post("/az/openai/deployments/d1/completions?api-version=2024-10-21", json={"prompt": "hi"})
    assert orjson.loads(ok.content)["choices"][0]["text"].startswith("Hello from az/d1")
