"""Token estimates and what one attempt used: the numbers limits, budgets and the attempt log share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from gateway.events.records import AttemptEvent

if TYPE_CHECKING:
    from gateway.conf.domain import Deployment
    from gateway.upstream.chunks import StreamState

# A completion budget above this is no budget at all; it also keeps Redis counters far from overflow.
MAX_COMPLETION_TOKENS = 2**31 - 1


def estimate_tokens(body: dict[str, Any], choices: int) -> int:
    """Prompt tokens, plus the requested completion budget for every choice."""
    completion = body.get("max_completion_tokens") or body.get("max_tokens") or 0
    if not isinstance(completion, int) or completion < 0:
        completion = 0
    return estimate_prompt_tokens(body) + min(completion, MAX_COMPLETION_TOKENS) * max(1, choices)


def estimate_prompt_tokens(body: dict[str, Any]) -> int:
    """Messages and tool definitions at ~4 characters a token: no tokenizer on the request path."""
    messages = body.get("messages")
    if messages is None:  # a legacy completion's prompt, or the input of an embeddings request
        return len(orjson.dumps(body.get("prompt", body.get("input")))) // 4
    tools = body.get("tools")
    return (len(orjson.dumps(messages)) + (len(orjson.dumps(tools)) if tools else 0)) // 4


def estimated_usage(body: dict[str, Any], state: StreamState) -> dict[str, int]:
    """When the provider reports no usage, a rough estimate beats none (~4 characters a token)."""
    prompt = max(1, estimate_prompt_tokens(body))
    completion = state.content_chunks
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def charge(event: AttemptEvent, body: dict[str, Any], state: StreamState, deployment: Deployment) -> None:
    """Fill the attempt's tokens and cost: the provider's usage, else an estimate once content flowed."""
    usage: dict[str, Any] = state.usage or (estimated_usage(body, state) if state.content_seen else {})
    event.prompt_tokens = usage.get("prompt_tokens")
    event.completion_tokens = usage.get("completion_tokens")
    details = usage.get("prompt_tokens_details") or {}
    event.cached_tokens = details.get("cached_tokens")
    price = deployment.price
    if price is not None and event.prompt_tokens is not None and event.completion_tokens is not None:
        event.cost_usd = price.cost(event.prompt_tokens, event.completion_tokens, event.cached_tokens or 0)
    event.malformed_events = state.malformed


def spent(events: list[AttemptEvent]) -> tuple[int | None, int | None, float | None]:
    """Prompt tokens, completion tokens and USD over every attempt of one request; None where no
    attempt reported the figure."""
    prompt = completion = None
    cost = None
    for event in events:
        if event.prompt_tokens is not None:
            prompt = (prompt or 0) + event.prompt_tokens
        if event.completion_tokens is not None:
            completion = (completion or 0) + event.completion_tokens
        if event.cost_usd is not None:
            cost = (cost or 0.0) + event.cost_usd
    return prompt, completion, cost
