"""Embeddings (``POST /v1/embeddings``) as an upstream operation: the OpenAI and Azure wire format,
and the dispatch to the other formats (adapters/*_embeddings.py). The request's checks are in
gateway.upstream.embedding_request.

Every format's answer becomes OpenAI's ``{"object": "list", "data": [...], "usage": ...}``; the
client's ``encoding_format`` is applied by the codec (gateway.inbound.openai_embeddings).
"""

from __future__ import annotations

import array
import base64
import sys
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from gateway.conf.domain import EMBEDDING
from gateway.errors import AttemptError, GatewayError, Inexpressible
from gateway.events.outcomes import Outcome
from gateway.upstream.adapters.base import Chunk, Decoder, UpstreamRequest
from gateway.upstream.adapters.bedrock_embeddings import COHERE, TITAN
from gateway.upstream.adapters.google_embeddings import GEMINI, VERTEX
from gateway.upstream.adapters import ADAPTERS
from gateway.upstream.adapters.openai import Wire
from gateway.validation import invalid

if TYPE_CHECKING:
    from gateway.conf.domain import Deployment, Model

_OPENAI_KINDS = frozenset({"openai", "azure"})
_LITTLE_ENDIAN = sys.byteorder == "little"


# ---------------------------------------------------------------- the operation


class Format(Protocol):
    def build(self, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest: ...

    def parse(self, deployment: Deployment, data: Any, headers: Any) -> tuple[list[Any], int | None]:
        """The vectors in input order, and the prompt tokens if the provider reports them."""


class Embeddings:
    name = "embeddings"
    mode = EMBEDDING
    whole = True

    def offered(self, deployment: Deployment) -> bool:
        return _format(deployment) is not None

    def admit(self, body: dict[str, Any], model: Model) -> None:
        if not any(self.offered(deployment) for deployment in model.deployments):
            raise GatewayError(
                400,
                f"No provider of the model '{model.name}' offers embeddings.",
                param="model",
                code="model_not_supported",
            )
        dimensions = body.get("dimensions")
        if dimensions is None:
            return
        if not model.shortens:
            raise GatewayError(
                400,
                f"The model '{model.name}' does not support 'dimensions': leave it out.",
                param="dimensions",
                code="unsupported_parameter",
            )
        if model.dimensions is not None and dimensions > model.dimensions:
            raise invalid(
                f"Invalid 'dimensions': the model '{model.name}' makes vectors of at most {model.dimensions} "
                f"dimensions, but {dimensions} were requested.",
                "dimensions",
                "integer_above_max_value",
            )

    def build_request(self, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
        fmt = _format(deployment)
        if fmt is None:
            raise Inexpressible(f"Provider {deployment.provider.name!r} offers no embeddings.", param="model")
        return fmt.build(deployment, body)

    def decoder(self, deployment: Deployment) -> Decoder:
        return _NoEvents()

    def parse_whole(self, deployment: Deployment, body: bytes, headers: Any) -> dict[str, Any]:
        fmt = _format(deployment)
        assert fmt is not None
        try:
            vectors, tokens = fmt.parse(deployment, orjson.loads(body), headers)
        except (orjson.JSONDecodeError, KeyError, TypeError, IndexError, AttributeError, ValueError):
            raise AttemptError(
                Outcome.BAD_RESPONSE, f"{deployment.provider.name} sent an unreadable embeddings answer"
            ) from None
        data = [{"object": "embedding", "index": i, "embedding": vector} for i, vector in enumerate(vectors)]
        usage = None if tokens is None else {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens}
        return {"object": "list", "data": data, "model": deployment.upstream_model, "usage": usage}


class _NoEvents:
    """A whole answer has no events; the attempt reads it through ``parse_whole``."""

    done = True
    malformed = 0

    def feed(self, data: bytes) -> list[Chunk]:
        return []

    def flush(self) -> list[Chunk]:
        return []


def _format(deployment: Deployment) -> Format | None:
    kind = deployment.provider.kind
    if kind in _OPENAI_KINDS:
        return OPENAI
    if kind == "gemini":
        return GEMINI
    if kind == "vertex":
        return VERTEX
    if kind == "bedrock":
        model = deployment.upstream_model
        return TITAN if "titan-embed" in model else COHERE if "cohere.embed" in model else None
    return None


EMBEDDINGS = Embeddings()


# ---------------------------------------------------------------- OpenAI and Azure


class OpenAIEmbeddings:
    """``POST …/embeddings``: the client's body with the deployment's model id, passed through."""

    def __init__(self) -> None:
        self._targets: dict[str, tuple[Deployment, str, dict[str, str]]] = {}

    def build(self, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
        cached = self._targets.get(deployment.id)
        if cached is None or cached[0] is not deployment:
            wire = deployment.prepared
            if not isinstance(wire, Wire):
                wire = ADAPTERS[deployment.provider.kind].prepare(deployment)
            url = wire.url.replace("/chat/completions", "/embeddings", 1)
            cached = self._targets[deployment.id] = (deployment, url, {**wire.headers, "accept": "application/json"})
        payload = dict(body)
        payload["model"] = deployment.upstream_model
        return UpstreamRequest(cached[1], cached[2], orjson.dumps(payload))

    def parse(self, deployment: Deployment, data: Any, headers: Any) -> tuple[list[Any], int | None]:
        items = sorted(data["data"], key=lambda item: item.get("index", 0))
        vectors = [item["embedding"] for item in items]
        if not all(isinstance(v, list | str) for v in vectors):
            raise ValueError("an embedding is neither a list nor base64")
        usage = data.get("usage") or {}
        tokens = usage.get("prompt_tokens")
        return vectors, tokens if isinstance(tokens, int) else None


OPENAI = OpenAIEmbeddings()


# ---------------------------------------------------------------- encodings


def to_base64(vector: list[float]) -> str:
    """OpenAI's base64 encoding: the float32 values, little-endian."""
    packed = array.array("f", vector)
    if not _LITTLE_ENDIAN:
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode()


def from_base64(text: str) -> list[float]:
    packed = array.array("f", base64.b64decode(text))
    if not _LITTLE_ENDIAN:
        packed.byteswap()
    return packed.tolist()
