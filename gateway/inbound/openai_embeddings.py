"""OpenAI's embeddings API (``POST /v1/embeddings``): failover across the deployments of one model.

The job body is the client's own body; OpenAI and Azure get it as it is (base64 included), the
other formats get their translation (gateway.upstream.embeddings). Vectors come back as floats from
those, and are encoded here when the client asked for base64 (as the openai SDK does by default).
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.errors import GatewayError
from gateway.inbound.openai_chat import OpenAIChat
from gateway.pipeline import Scope, handle
from gateway.routing.failover import Job
from gateway.runtime import Runtime
from gateway.upstream.chunks import StreamState
from gateway.upstream.embedding_request import check_request
from gateway.upstream.embeddings import EMBEDDINGS, from_base64, to_base64


class OpenAIEmbeddings(OpenAIChat):
    inbound = "openai.embeddings"

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        check_request(body)
        return body

    def answer(self, job: Job, completion: dict[str, Any]) -> bytes:
        base64 = job.body.get("encoding_format") == "base64"
        for item in completion["data"]:
            vector = item["embedding"]
            if base64 and isinstance(vector, list):
                item["embedding"] = to_base64(vector)
            elif not base64 and isinstance(vector, str):
                item["embedding"] = from_base64(vector)
        usage = completion["usage"]
        completion["usage"] = {"prompt_tokens": usage["prompt_tokens"], "total_tokens": usage["total_tokens"]}
        completion["model"] = job.model.name
        return orjson.dumps(completion)

    def stream(self, job: Job, state: StreamState) -> Any:
        raise GatewayError(400, "Embeddings are not streamed.", param="stream")  # never called: no `stream`


CODEC = OpenAIEmbeddings()


async def embeddings(runtime: Runtime, scope: Scope, receive: Any, send: Any) -> None:
    await handle(runtime, CODEC, scope, receive, send, EMBEDDINGS)
