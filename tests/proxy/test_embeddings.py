"""POST /v1/embeddings with the official openai SDK over real HTTP, on every embedding wire format."""

from __future__ import annotations

import array
import base64
import math

import openai
import pytest

from simulator.embeddings import vector
from tests.proxy.conftest import LiveGateway
from tests.proxy.embedding_gateway import COHERE, TITAN, emb, emb_gateway, post

__all__ = ["emb", "emb_gateway"]


def _close(a: list[float], b: list[float] | tuple[float, ...]) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-7) for x, y in zip(a, b, strict=True))


def test_one_input_gets_one_vector_with_usage_and_the_gateways_model_name(emb: LiveGateway) -> None:
    raw = emb.client().embeddings.with_raw_response.create(model="small", input="hello world")
    result = raw.parse()
    assert result.model == "small"
    assert len(result.data) == 1
    assert _close(result.data[0].embedding, vector("hello world", "text-embedding-3-small", 1536))
    assert result.usage.prompt_tokens == result.usage.total_tokens > 0
    assert raw.headers["x-gateway-provider"] == "emb-a"


def test_a_batch_keeps_the_order_of_its_inputs(emb: LiveGateway) -> None:
    inputs = ["first", "second", "third"]
    result = emb.client().embeddings.create(model="small", input=inputs, encoding_format="float")
    assert [item.index for item in result.data] == [0, 1, 2]
    for text, item in zip(inputs, result.data, strict=True):
        assert _close(item.embedding, vector(text, "text-embedding-3-small", 1536))


def test_base64_is_little_endian_float32_of_the_same_vector(emb: LiveGateway) -> None:
    response = post(emb, "embeddings", {"model": "small", "input": "hello", "encoding_format": "base64"})
    assert response.status_code == 200
    encoded = response.json()["data"][0]["embedding"]
    assert isinstance(encoded, str)
    decoded = array.array("f", base64.b64decode(encoded)).tolist()  # the test machine is little-endian
    assert _close(decoded, vector("hello", "text-embedding-3-small", 1536))
    # The OpenAI upstream got the client's encoding, and its base64 was passed through.
    assert emb.sim.last_request("emb-a")["body"]["encoding_format"] == "base64"


@pytest.mark.parametrize("model", ["gemini-embed", "titan"])
def test_base64_is_encoded_by_the_gateway_when_the_upstream_sends_floats(emb: LiveGateway, model: str) -> None:
    response = post(emb, "embeddings", {"model": model, "input": "hello", "encoding_format": "base64"})
    assert response.status_code == 200, response.text
    decoded = array.array("f", base64.b64decode(response.json()["data"][0]["embedding"])).tolist()
    upstream = "gemini-embedding-001" if model == "gemini-embed" else TITAN
    assert _close(decoded, vector("hello", upstream, 3072 if model == "gemini-embed" else 1024))


def test_the_sdk_default_base64_decodes_to_the_float_answer(emb: LiveGateway) -> None:
    client = emb.client()
    default = client.embeddings.create(model="small", input="same text")  # the SDK asks for base64
    floats = client.embeddings.create(model="small", input="same text", encoding_format="float")
    assert _close(default.data[0].embedding, floats.data[0].embedding)


def test_dimensions_shortens_the_vectors(emb: LiveGateway) -> None:
    result = emb.client().embeddings.create(model="small", input=["a", "b"], dimensions=256)
    assert [len(item.embedding) for item in result.data] == [256, 256]
    assert emb.sim.last_request("emb-a")["body"]["dimensions"] == 256


def test_token_arrays_pass_through_to_openai(emb: LiveGateway) -> None:
    result = emb.client().embeddings.create(model="small", input=[[1, 2, 3], [4, 5]], encoding_format="float")
    assert len(result.data) == 2
    assert emb.sim.last_request("emb-a")["body"]["input"] == [[1, 2, 3], [4, 5]]


def test_azure_gets_its_deployment_url_and_api_version(emb: LiveGateway) -> None:
    result = emb.client().embeddings.create(model="azure-small", input="hi", dimensions=512)
    assert len(result.data[0].embedding) == 512
    assert emb.sim.attempts("emb-az", "small-deployment") == 1
    assert emb.sim.last_request("emb-az")["headers"]["api-key"] == "az-key"


def test_gemini_gets_batch_embed_contents(emb: LiveGateway) -> None:
    result = emb.client().embeddings.create(model="gemini-embed", input=["x", "y"], dimensions=768)
    assert [len(item.embedding) for item in result.data] == [768, 768]
    assert _close(result.data[1].embedding, vector("y", "gemini-embedding-001", 768))
    sent = emb.sim.last_request("emb-gem")["body"]
    assert sent["requests"][0] == {
        "model": "models/gemini-embedding-001",
        "content": {"parts": [{"text": "x"}]},
        "outputDimensionality": 768,
    }
    assert result.usage.prompt_tokens > 0  # estimated: AI Studio reports no token count


def test_vertex_gets_predict_with_its_token_counts(emb: LiveGateway) -> None:
    result = emb.client().embeddings.create(model="vertex-embed", input=["abcdefgh", "abcd"], dimensions=128)
    assert [len(item.embedding) for item in result.data] == [128, 128]
    assert result.usage.prompt_tokens == 3  # the simulator's token_count: 2 + 1
    sent = emb.sim.last_request("emb-vtx")["body"]
    assert sent == {
        "instances": [{"content": "abcdefgh"}, {"content": "abcd"}],
        "parameters": {"outputDimensionality": 128},
    }


def test_bedrock_titan_gets_its_invoke_body_signed(emb: LiveGateway) -> None:
    result = emb.client().embeddings.create(model="titan", input="titan text", dimensions=512)
    assert len(result.data[0].embedding) == 512
    assert _close(result.data[0].embedding, vector("titan text", TITAN, 512))
    assert result.usage.prompt_tokens == 2
    seen = emb.sim.last_request("emb-br")
    assert seen["body"] == {"inputText": "titan text", "normalize": True, "dimensions": 512}
    assert seen["headers"]["authorization"].startswith("AWS4-HMAC-SHA256")


def test_bedrock_cohere_gets_texts_and_reports_the_header_token_count(emb: LiveGateway) -> None:
    result = emb.client().embeddings.create(model="cohere", input=["one text", "two texts"])
    assert [len(item.embedding) for item in result.data] == [1024, 1024]
    assert _close(result.data[1].embedding, vector("two texts", COHERE, 1024))
    assert result.usage.prompt_tokens == 4
    assert emb.sim.last_request("emb-br")["body"]["texts"] == ["one text", "two texts"]


def test_titan_takes_one_input_so_a_batch_is_a_clear_400(emb: LiveGateway) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        emb.client().embeddings.create(model="titan", input=["a", "b"])
    assert "one input per request" in caught.value.message
    assert emb.sim.attempts("emb-br") == 0


def test_a_chat_request_to_an_embedding_model_is_a_clear_400(emb: LiveGateway) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        emb.client().chat.completions.create(model="small", messages=[{"role": "user", "content": "hi"}])
    assert "embedding model" in caught.value.message
    assert caught.value.code == "model_not_supported"


def test_an_embeddings_request_to_a_chat_model_is_a_clear_400(emb: LiveGateway) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        emb.client().embeddings.create(model="instruct", input="hi")
    assert "not an embedding model" in caught.value.message
    assert emb.sim.attempts("cmp-a") == 0
