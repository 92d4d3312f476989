"""The contract between the relay and a wire-format adapter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from gateway.conf.loader import Deployment, Provider
    from gateway.errors import AttemptError

# What a decoder yields for each upstream event: the OpenAI chunk, with the upstream's own
# bytes when they already are that chunk (so the relay can pass them through untouched).
Chunk = tuple[bytes | None, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    url: str
    headers: dict[str, str]
    content: bytes


class Decoder(Protocol):
    done: bool
    malformed: int

    def feed(self, data: bytes) -> list[Chunk]:
        """Chunks completed by this read. Sets ``done`` at the stream's end marker."""

    def flush(self) -> list[Chunk]:
        """Chunks left when the upstream closed the stream."""


class Adapter(Protocol):
    def validate(self, provider: Provider) -> str | None:
        """A one-line problem with this provider's settings, or None. Runs at start-up."""

    def build_request(self, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest: ...

    def classify_error(self, deployment: Deployment, status: int, body: bytes, headers: Any) -> AttemptError: ...

    def is_stream(self, content_type: str) -> bool:
        """Whether a successful response is the event stream (else a whole JSON answer)."""

    def decoder(self, deployment: Deployment) -> Decoder: ...

    def parse_completion(self, deployment: Deployment, body: bytes) -> dict[str, Any]:
        """A whole (non-streamed) answer, as an OpenAI chat.completion object."""
