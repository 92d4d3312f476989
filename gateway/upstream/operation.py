"""Upstream operations other than chat: embeddings and legacy text completions.

A job without an operation is a chat request, and every adapter serves it; that path never looks
here. An operation reuses the whole pipeline (auth, limits, failover, health, records, settlement)
and only changes what is sent upstream and how the answer is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from gateway.conf.domain import Deployment, Model
    from gateway.upstream.adapters.base import Decoder, UpstreamRequest


class Operation(Protocol):
    name: str  # "embeddings", "completions"
    mode: str  # the mode of the models it serves (gateway.conf.domain.MODES)
    # True: the upstream answers with one JSON body, read whole (parse_whole); else an event
    # stream in chat-chunk form (decoder).
    whole: bool

    def offered(self, deployment: Deployment) -> bool:
        """Whether this deployment's wire format has this operation."""

    def admit(self, body: dict[str, Any], model: Model) -> None:
        """Raise a GatewayError (400) if this model cannot serve the (valid) request at all."""

    def build_request(self, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest:
        """The upstream request; raises Inexpressible if this deployment cannot express it."""

    def decoder(self, deployment: Deployment) -> Decoder: ...

    def parse_whole(self, deployment: Deployment, body: bytes, headers: Any) -> dict[str, Any]:
        """The answer in OpenAI's shape, its ``usage`` None if the upstream reported none;
        AttemptError(BAD_RESPONSE) if unreadable."""
