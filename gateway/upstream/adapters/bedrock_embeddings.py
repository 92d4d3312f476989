"""Embeddings on Bedrock: ``InvokeModel`` with the model's own body, signed like Converse.

POST {base}/model/{model id}/invoke
Titan v2  {"inputText": T, "dimensions": 256|512|1024, "normalize": true}
          → {"embedding": [...], "inputTextTokenCount": N}       (one input per request)
Cohere    {"texts": [T, ...], "input_type": "search_document", "truncate": "NONE"}
          → {"embeddings": [[...], ...], "response_type": "embeddings_floats"}  (up to 96 inputs;
          the token count comes in the ``x-amzn-bedrock-input-token-count`` header)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from botocore.utils import percent_encode

from gateway.errors import Inexpressible
from gateway.upstream.adapters.base import UpstreamRequest
from gateway.upstream.adapters.bedrock import Target, _host, sign, target_for
from gateway.upstream.embedding_request import texts

if TYPE_CHECKING:
    from gateway.conf.domain import Deployment

TITAN_DIMENSIONS = (256, 512, 1024)
COHERE_MAX_TEXTS = 96
TOKEN_COUNT_HEADER = "x-amzn-bedrock-input-token-count"
_TARGETS: dict[str, tuple[Deployment, Target]] = {}


def _request(deployment: Deployment, payload: dict[str, Any]) -> UpstreamRequest:
    cached = _TARGETS.get(deployment.id)
    if cached is None or cached[0] is not deployment:
        converse = target_for(deployment)  # resolves the credentials once per deployment
        url = f"{deployment.provider.base_url}/model/{percent_encode(deployment.upstream_model)}/invoke"
        cached = _TARGETS[deployment.id] = (deployment, Target(url, _host(url), converse.region, converse.credentials))
    target = cached[1]
    content = orjson.dumps(payload)
    headers = sign(target, content, {"host": target.host, "content-type": "application/json"})
    headers["accept"] = "application/json"
    return UpstreamRequest(target.url, headers, content)


def _header_count(headers: Any) -> int | None:
    value = headers.get(TOKEN_COUNT_HEADER)
    return int(value) if value is not None and value.isdigit() else None


class TitanEmbeddings:
    def build(self, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
        inputs = texts(body)
        if len(inputs) != 1:
            raise Inexpressible("Titan embeds one input per request: send a single string.", param="input")
        payload: dict[str, Any] = {"inputText": inputs[0], "normalize": True}
        dimensions = body.get("dimensions")
        if dimensions is not None:
            if dimensions not in TITAN_DIMENSIONS:
                raise Inexpressible(
                    f"Titan makes vectors of {', '.join(map(str, TITAN_DIMENSIONS))} dimensions only.",
                    param="dimensions",
                )
            payload["dimensions"] = dimensions
        return _request(deployment, payload)

    def parse(self, deployment: Deployment, data: Any, headers: Any) -> tuple[list[Any], int | None]:
        vector = data["embedding"]
        if not isinstance(vector, list):
            raise ValueError("the embedding is not a list")
        count = data.get("inputTextTokenCount")
        return [vector], count if isinstance(count, int) else _header_count(headers)


class CohereEmbeddings:
    def build(self, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
        inputs = texts(body)
        if len(inputs) > COHERE_MAX_TEXTS:
            raise Inexpressible(f"Cohere embeds at most {COHERE_MAX_TEXTS} inputs per request.", param="input")
        if body.get("dimensions") is not None:
            raise Inexpressible(
                "Cohere Embed v3 makes vectors of one size: leave out 'dimensions'.", param="dimensions"
            )
        return _request(deployment, {"texts": inputs, "input_type": "search_document", "truncate": "NONE"})

    def parse(self, deployment: Deployment, data: Any, headers: Any) -> tuple[list[Any], int | None]:
        embeddings = data["embeddings"]
        if isinstance(embeddings, dict):  # asked for embedding_types: {"float": [...]}
            embeddings = embeddings["float"]
        if not all(isinstance(vector, list) for vector in embeddings):
            raise ValueError("an embedding is not a list")
        return list(embeddings), _header_count(headers)


TITAN = TitanEmbeddings()
COHERE = CohereEmbeddings()
