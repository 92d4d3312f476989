"""Upstream embeddings endpoints, with deterministic vectors (the same input, model and size always
give the same unit vector):

- OpenAI:     `POST /{provider}/v1/embeddings` (float or base64, `dimensions`, token arrays)
- Azure:      `POST /{provider}/openai/deployments/{deployment}/embeddings?api-version=...`
- AI Studio:  `POST /{provider}/v1beta/models/{model}:batchEmbedContents`
- Vertex AI:  `POST …/publishers/google/models/{model}:predict` (both hosts)
- Bedrock:    `POST /{provider}/model/{model_id}/invoke` (Titan and Cohere bodies, SigV4-checked)

They go through the chat handler's accounting and faults: errors in each provider's shape,
`reset`/`hang` before the answer, `cut_after`/`stall_after`/`malformed` halfway through its body.
"""

from __future__ import annotations

import array
import base64
import functools
import hashlib
import math
import random
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from simulator import delivery
from simulator.azure_format import MISSING_VERSION, AzureChat
from simulator.bedrock_format import BedrockConverse
from simulator.faults import Latency
from simulator.gemini_format import AI_STUDIO, VERTEX, VERTEX_EXPRESS, GeminiFormat
from simulator.model import ErrorSpec, InvalidRequest
from simulator.openai_format import OpenAIChat

# The vector size of models whose name says which they are; 1536 otherwise.
NATIVE_SIZES = {"large": 3072, "gemini-embedding": 3072, "004": 768, "005": 768, "titan": 1024, "cohere": 1024}
DEFAULT_SIZE = 1536
TITAN_SIZES = (256, 512, 1024)
TITAN_FIELDS = frozenset({"inputText", "dimensions", "normalize", "embeddingTypes"})
Answer = tuple[bytes, dict[str, str]]  # the body, and extra response headers


def native_size(model: str) -> int:
    return next((size for marker, size in NATIVE_SIZES.items() if marker in model), DEFAULT_SIZE)


@functools.lru_cache(maxsize=4096)
def vector(text: str, model: str, size: int) -> tuple[float, ...]:
    seed = int.from_bytes(hashlib.sha256(f"{model}\0{size}\0{text}".encode()).digest()[:8], "little")
    rng = random.Random(seed)
    values = [rng.uniform(-1.0, 1.0) for _ in range(size)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    # Rounded through float32, so a base64 answer decodes to exactly the float answer.
    return tuple(array.array("f", (v / norm for v in values)).tolist())


def tokens_of(text: str) -> int:
    return max(1, len(text) // 4)


def bad(message: str, param: str | None = None, error_type: str = "invalid_request_error") -> InvalidRequest:
    return InvalidRequest(ErrorSpec(400, message, error_type, None, param))


# ---------------------------------------------------------------- OpenAI and Azure


def openai_inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise bad("'input' must be a string or a non-empty array.", "input")
    if all(isinstance(token, int) for token in value):
        value = [value]
    texts = []
    for item in value:
        if isinstance(item, str) and item:
            texts.append(item)
        elif isinstance(item, list) and item and all(isinstance(token, int) for token in item):
            texts.append(" ".join(map(str, item)))
        else:
            raise bad("'input' items must be non-empty strings or token arrays.", "input")
    return texts


class OpenAIEmbed(OpenAIChat):
    def embed(self, body: dict[str, Any] | None, model: str) -> Answer:
        if body is None:
            raise bad("We could not parse the JSON body of your request.")
        texts = openai_inputs(body.get("input"))
        size = native_size(model)
        dimensions = body.get("dimensions")
        if dimensions is not None:
            if not isinstance(dimensions, int) or isinstance(dimensions, bool) or not 1 <= dimensions <= size:
                raise bad(f"'dimensions' must be an integer from 1 to {size}.", "dimensions")
            size = dimensions
        encoding = body.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            raise bad("'encoding_format' must be 'float' or 'base64'.", "encoding_format")
        data = []
        for index, text in enumerate(texts):
            values: Any = vector(text, model, size)
            if encoding == "base64":
                values = base64.b64encode(array.array("f", values).tobytes()).decode()
            data.append({"object": "embedding", "index": index, "embedding": values})
        tokens = sum(map(tokens_of, texts))
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return orjson.dumps({"object": "list", "data": data, "model": model, "usage": usage}), {}


class AzureEmbed(OpenAIEmbed, AzureChat):
    pass


# ---------------------------------------------------------------- Google


def gemini_text(content: Any, where: str) -> str:
    parts = content.get("parts") if isinstance(content, Mapping) else None
    if not isinstance(parts, list) or not parts:
        raise bad(f"{where}.content.parts must be a non-empty list.", error_type="INVALID_ARGUMENT")
    return "".join(p["text"] for p in parts if isinstance(p, Mapping) and isinstance(p.get("text"), str))


def google_size(value: Any, model: str) -> int:
    if value is None:
        return native_size(model)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= native_size(model):
        raise bad("outputDimensionality is out of range.", error_type="INVALID_ARGUMENT")
    return value


class GeminiBatchEmbed(GeminiFormat):
    def embed(self, body: dict[str, Any] | None, model: str) -> Answer:
        requests = body.get("requests") if body is not None else None
        if not isinstance(requests, list) or not requests:
            raise bad("requests must be a non-empty list.", error_type="INVALID_ARGUMENT")
        embeddings = []
        for index, item in enumerate(requests):
            if not isinstance(item, Mapping) or item.get("model") != f"models/{model}":
                raise bad(f"requests[{index}].model must be models/{model}.", error_type="INVALID_ARGUMENT")
            text = gemini_text(item.get("content"), f"requests[{index}]")
            size = google_size(item.get("outputDimensionality"), model)
            embeddings.append({"values": list(vector(text, model, size))})
        return orjson.dumps({"embeddings": embeddings}), {}


class VertexPredict(GeminiFormat):
    def embed(self, body: dict[str, Any] | None, model: str) -> Answer:
        instances = body.get("instances") if body is not None else None
        if not isinstance(instances, list) or not instances:
            raise bad("instances must be a non-empty list.", error_type="INVALID_ARGUMENT")
        parameters = body.get("parameters") if body is not None else None
        size = google_size((parameters or {}).get("outputDimensionality"), model)
        predictions, characters = [], 0
        for index, instance in enumerate(instances):
            text = instance.get("content") if isinstance(instance, Mapping) else None
            if not isinstance(text, str):
                raise bad(f"instances[{index}].content must be a string.", error_type="INVALID_ARGUMENT")
            characters += len(text)
            statistics = {"token_count": tokens_of(text), "truncated": False}
            predictions.append({"embeddings": {"values": list(vector(text, model, size)), "statistics": statistics}})
        return orjson.dumps({"predictions": predictions, "metadata": {"billableCharacterCount": characters}}), {}


# ---------------------------------------------------------------- Bedrock


class BedrockInvoke(BedrockConverse):
    def __init__(self) -> None:
        super().__init__(stream=False)

    def embed(self, body: dict[str, Any] | None, model: str) -> Answer:
        if body is None:
            raise bad("Malformed input request, please reformat your input and try again.", None, "ValidationException")
        if "titan-embed" in model:
            return self.titan(body, model)
        if "cohere.embed" in model:
            return self.cohere(body, model)
        raise bad("The provided model doesn't support embeddings.", None, "ValidationException")

    def titan(self, body: dict[str, Any], model: str) -> Answer:
        text, size = body.get("inputText"), body.get("dimensions", 1024)
        if not isinstance(text, str) or not text or set(body) - TITAN_FIELDS:
            raise bad("Malformed input request: inputText is required.", None, "ValidationException")
        if size not in TITAN_SIZES:
            raise bad("Malformed input request: dimensions must be 256, 512 or 1024.", None, "ValidationException")
        values = list(vector(text, model, size))
        answer = {"embedding": values, "inputTextTokenCount": tokens_of(text), "embeddingsByType": {"float": values}}
        return orjson.dumps(answer), {}

    def cohere(self, body: dict[str, Any], model: str) -> Answer:
        texts, kind = body.get("texts"), body.get("input_type")
        if not isinstance(texts, list) or not 0 < len(texts) <= 96 or not all(isinstance(t, str) for t in texts):
            raise bad("Malformed input request: texts must hold 1 to 96 strings.", None, "ValidationException")
        if kind not in ("search_document", "search_query", "classification", "clustering"):
            raise bad("Malformed input request: input_type is required.", None, "ValidationException")
        answer = {
            "id": hashlib.sha256(orjson.dumps(texts)).hexdigest()[:32],
            "embeddings": [list(vector(text, model, 1024)) for text in texts],
            "response_type": "embeddings_floats",
            "texts": texts,
        }
        headers = {"X-Amzn-Bedrock-Input-Token-Count": str(sum(map(tokens_of, texts)))}
        return orjson.dumps(answer), headers


# ---------------------------------------------------------------- the handler and routes


@functools.cache
def _handler(base: type) -> type:
    """``base`` (the chat handler, or Gemini's) answering with an embedding instead of a reply."""

    class EmbeddingHandler(base):  # type: ignore[valid-type,misc]
        async def answer(
            self,
            request: web.Request,
            provider: str,
            body: dict[str, Any] | None,
            model: str,
            latency: Latency,
            spec: Any,
        ) -> web.StreamResponse:
            try:
                payload, headers = self.fmt.embed(body, model)
            except InvalidRequest as exc:
                render = getattr(self.fmt, "error_response", None)
                return render(exc.error) if render else delivery.error_response(self.fmt, exc.error)
            response = await delivery.send_completion(request, payload, latency, spec.kind if spec else None)
            if not response.prepared:
                response.headers.update(headers)
            return response

    return EmbeddingHandler


def mount(app: web.Application) -> None:
    """Add every provider's embeddings route (see the module docstring)."""
    from simulator import bedrock_format
    from simulator.gemini_format import _handler_class as gemini_handler
    from simulator.server import STATE_KEY, ChatHandler

    state = app[STATE_KEY]
    app.router.add_post("/{provider}/v1/embeddings", _handler(ChatHandler)(state, OpenAIEmbed()).handle)
    azure = _handler(ChatHandler)(state, AzureEmbed())

    async def azure_handle(request: web.Request) -> web.StreamResponse:
        if "api-version" not in request.query:
            return delivery.error_response(azure.fmt, MISSING_VERSION)
        return await azure.handle(request)

    app.router.add_post("/{provider}/openai/deployments/{deployment}/embeddings", azure_handle)
    google = _handler(gemini_handler())
    app.router.add_post(AI_STUDIO + ":batchEmbedContents", google(state, GeminiBatchEmbed(False, True)).handle)
    for prefix in (VERTEX, VERTEX_EXPRESS):
        app.router.add_post(prefix + ":predict", google(state, VertexPredict(False, False)).handle)
    invoke = BedrockInvoke()
    signed = bedrock_format._signed(_handler(ChatHandler)(state, invoke), invoke)
    app.router.add_post("/{provider}/model/{model_id}/invoke", signed)
