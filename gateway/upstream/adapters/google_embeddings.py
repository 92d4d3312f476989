"""Embeddings on Google: AI Studio's ``:batchEmbedContents`` and Vertex AI's ``:predict``.

AI Studio  POST {base}/models/{model}:batchEmbedContents
           {"requests": [{"model": "models/M", "content": {"parts": [{"text": T}]},
                          "outputDimensionality": D}]}
           → {"embeddings": [{"values": [...]}]}            (no token count)
Vertex AI  POST {base}/…/publishers/google/models/{model}:predict
           {"instances": [{"content": T}], "parameters": {"outputDimensionality": D}}
           → {"predictions": [{"embeddings": {"values": [...], "statistics": {"token_count": N}}}]}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from gateway.errors import Inexpressible
from gateway.upstream.adapters.base import UpstreamRequest
from gateway.upstream.adapters.gemini import auth_headers, model_path
from gateway.upstream.embedding_request import texts

if TYPE_CHECKING:
    from gateway.conf.domain import Deployment


def _headers(deployment: Deployment) -> dict[str, str]:
    return {**auth_headers(deployment.provider), "accept": "application/json"}


class GeminiEmbeddings:
    def build(self, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
        path = model_path(deployment)
        name = f"models/{deployment.upstream_model.removeprefix('models/')}"
        dimensions = body.get("dimensions")
        requests = []
        for text in texts(body):
            request: dict[str, Any] = {"model": name, "content": {"parts": [{"text": text}]}}
            if dimensions is not None:
                request["outputDimensionality"] = dimensions
            requests.append(request)
        url = f"{deployment.provider.base_url}{path}:batchEmbedContents"
        return UpstreamRequest(url, _headers(deployment), orjson.dumps({"requests": requests}))

    def parse(self, deployment: Deployment, data: Any, headers: Any) -> tuple[list[Any], int | None]:
        vectors = [item["values"] for item in data["embeddings"]]
        _check_vectors(vectors)
        return vectors, None


class VertexEmbeddings:
    def build(self, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
        inputs = texts(body)
        if len(inputs) > 1 and "gemini-embedding" in deployment.upstream_model:
            # Vertex AI's gemini-embedding models take one instance per request.
            raise Inexpressible("This model embeds one input per request on Vertex AI.", param="input")
        payload: dict[str, Any] = {"instances": [{"content": text} for text in inputs]}
        dimensions = body.get("dimensions")
        if dimensions is not None:
            payload["parameters"] = {"outputDimensionality": dimensions}
        url = f"{deployment.provider.base_url}{model_path(deployment)}:predict"
        return UpstreamRequest(url, _headers(deployment), orjson.dumps(payload))

    def parse(self, deployment: Deployment, data: Any, headers: Any) -> tuple[list[Any], int | None]:
        vectors, tokens = [], 0
        for prediction in data["predictions"]:
            embeddings = prediction["embeddings"]
            vectors.append(embeddings["values"])
            count = (embeddings.get("statistics") or {}).get("token_count")
            tokens += int(count) if isinstance(count, int | float) else 0
        _check_vectors(vectors)
        return vectors, tokens or None


def _check_vectors(vectors: list[Any]) -> None:
    if not all(isinstance(vector, list) for vector in vectors):
        raise ValueError("an embedding is not a list of numbers")


GEMINI = GeminiEmbeddings()
VERTEX = VertexEmbeddings()
