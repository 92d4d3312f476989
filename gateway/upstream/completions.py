"""Legacy text completions (``POST /v1/completions``) as an upstream operation.

Only OpenAI's and Azure's deployments offer them: the request goes to their ``/completions`` as it
came, always streamed (like chat, for deadlines and TTFT). Each ``text_completion`` event is read
as a chat chunk (its ``text`` as the delta's content) so the relay, the aggregation and the usage
accounting are chat's own; the codec (gateway.inbound.openai_completions) writes them back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from gateway.conf.domain import CHAT
from gateway.errors import AttemptError, GatewayError, Inexpressible
from gateway.events.outcomes import Outcome
from gateway.upstream.adapters import ADAPTERS
from gateway.upstream.adapters.base import Chunk, UpstreamRequest
from gateway.upstream.adapters.openai import SSEDecoder, Wire
from gateway.validation import check_model, check_options, invalid

if TYPE_CHECKING:
    from gateway.conf.domain import Deployment, Model

KINDS = frozenset({"openai", "azure"})
_PROMPT_TYPES = "a string, an array of strings, an array of tokens or an array of token arrays"


def check_request(body: dict[str, Any]) -> None:
    check_model(body)
    prompt = body.get("prompt")
    if prompt is None:
        raise invalid("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
    if not isinstance(prompt, str | list) or (isinstance(prompt, list) and not all(_prompt_item(p) for p in prompt)):
        raise invalid(f"Invalid type for 'prompt': expected {_PROMPT_TYPES}.", "prompt", "invalid_type")
    logprobs = body.get("logprobs")
    if logprobs is None:
        check_options(body)
        return
    # Here `logprobs` is how many (0 to 5), where chat's is a boolean.
    if not isinstance(logprobs, int) or isinstance(logprobs, bool) or not 0 <= logprobs <= 5:
        raise invalid("Invalid value for 'logprobs': expected an integer from 0 to 5.", "logprobs", "invalid_value")
    check_options({name: value for name, value in body.items() if name != "logprobs"})


def _prompt_item(item: Any) -> bool:
    if isinstance(item, str) or (isinstance(item, int) and not isinstance(item, bool)):
        return True
    return isinstance(item, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in item)


class Completions:
    name = "completions"
    mode = CHAT
    whole = False

    def __init__(self) -> None:
        self._urls: dict[str, tuple[Deployment, str, Wire]] = {}

    def offered(self, deployment: Deployment) -> bool:
        return deployment.provider.kind in KINDS

    def admit(self, body: dict[str, Any], model: Model) -> None:
        if not any(self.offered(deployment) for deployment in model.deployments):
            raise GatewayError(
                400,
                f"Legacy completions (POST /v1/completions) are not offered for the model '{model.name}': "
                "none of its providers serves them. Use POST /v1/chat/completions.",
                param="model",
                code="model_not_supported",
            )

    def build_request(self, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
        if not self.offered(deployment):
            raise Inexpressible(f"Provider {deployment.provider.name!r} offers no legacy completions.", param="model")
        cached = self._urls.get(deployment.id)
        if cached is None or cached[0] is not deployment:
            wire = deployment.prepared
            if not isinstance(wire, Wire):
                wire = ADAPTERS[deployment.provider.kind].prepare(deployment)
            cached = self._urls[deployment.id] = (
                deployment,
                wire.url.replace("/chat/completions", "/completions", 1),
                wire,
            )
        _, url, wire = cached
        payload = dict(body)
        payload["model"] = deployment.upstream_model
        payload["stream"] = True
        if wire.stream_usage:
            options = payload.get("stream_options")
            payload["stream_options"] = {**options, "include_usage": True} if options else {"include_usage": True}
        for name in wire.drop.intersection(payload):
            del payload[name]
        return UpstreamRequest(url, wire.headers, orjson.dumps(payload))

    def decoder(self, deployment: Deployment) -> TextCompletionDecoder:
        return TextCompletionDecoder()

    def parse_whole(self, deployment: Deployment, body: bytes, headers: Any) -> dict[str, Any]:
        raise AttemptError(Outcome.BAD_RESPONSE, f"{deployment.provider.name} did not stream the completion")


class TextCompletionDecoder(SSEDecoder):
    """OpenAI's legacy stream, each event read as the chat chunk it amounts to (raw bytes kept)."""

    def feed(self, data: bytes) -> list[Chunk]:
        return [(payload, as_chat_chunk(chunk)) for payload, chunk in super().feed(data)]

    def flush(self) -> list[Chunk]:
        return [(payload, as_chat_chunk(chunk)) for payload, chunk in super().flush()]


def as_chat_chunk(chunk: dict[str, Any]) -> dict[str, Any]:
    choices = []
    for choice in chunk.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        text = choice.get("text")
        choices.append(
            {
                "index": choice.get("index", 0),
                "delta": {"content": text} if text else {},
                "logprobs": choice.get("logprobs"),
                "finish_reason": choice.get("finish_reason"),
            }
        )
    return {**chunk, "object": "chat.completion.chunk", "choices": choices}


COMPLETIONS = Completions()
