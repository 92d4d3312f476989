"""The contract between the relay and a wire-format adapter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from gateway.upstream.tool_ids import without_signatures

if TYPE_CHECKING:
    from gateway.conf.domain import Deployment, Provider
    from gateway.errors import AttemptError
    from gateway.upstream.profiles import Profile

# What a decoder yields for each upstream event: the OpenAI chunk, with the upstream's own
# bytes when they already are that chunk (so the relay can pass them through untouched).
Chunk = tuple[bytes | None, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    url: str
    headers: dict[str, str]
    content: bytes


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """A free, authenticated GET (the model list or the model itself) that shows a provider is up."""

    url: str
    headers: dict[str, str]


class Decoder(Protocol):
    done: bool
    malformed: int

    def feed(self, data: bytes) -> list[Chunk]:
        """Chunks completed by this read. Sets ``done`` at the stream's end marker."""

    def flush(self) -> list[Chunk]:
        """Chunks left when the upstream closed the stream."""


class Adapter(Protocol):
    """What the config loader, the relay and the failover loop may ask of a wire format; nothing
    of the gateway special-cases a provider kind outside its adapter."""

    # The OpenAI-compatible profile of this kind (its paths, parameters and auth), if it is one.
    profile: Profile | None

    def validate(self, provider: Provider) -> str | None:
        """A one-line problem with this provider's settings, or None. Runs at start-up."""

    def default_base_url(self, options: dict[str, str], region: str | None) -> str | None:
        """The base URL when the config gives none; None if the kind has no public endpoint.
        Raises ValueError naming a setting that makes one impossible."""

    def prepare(self, deployment: Deployment) -> Any:
        """What can be computed once per deployment at load time (URL, headers), or None."""

    def upstream_body(self, body: dict[str, Any]) -> dict[str, Any]:
        """The client's (OpenAI-shaped) body as this format's translation should see it."""

    def build_request(self, deployment: Deployment, body: dict[str, Any]) -> UpstreamRequest: ...

    def probe_request(self, deployment: Deployment) -> ProbeRequest | None:
        """The liveness probe of this deployment, or None if the format has no free endpoint for it."""

    def classify_error(self, deployment: Deployment, status: int, body: bytes, headers: Any) -> AttemptError: ...

    def headroom(self, headers: Any) -> tuple[int | None, int | None] | None:
        """The provider's remaining (requests, tokens) from a successful answer's headers, or None if
        this format reports none. On the hot path: two header reads, nothing more."""

    def is_stream(self, content_type: str) -> bool:
        """Whether a successful response is the event stream (else a whole JSON answer)."""

    def decoder(self, deployment: Deployment) -> Decoder: ...

    def parse_completion(self, deployment: Deployment, body: bytes) -> dict[str, Any]:
        """A whole (non-streamed) answer, as an OpenAI chat.completion object."""


class BaseAdapter:
    """The defaults of the optional parts of the contract: no profile, no default URL, nothing
    prepared, and tool call ids without the thought signatures that only Gemini may get back."""

    profile: Profile | None = None
    # The headers that carry the remaining requests and tokens, if the format has them.
    headroom_headers: tuple[str, str] | None = None

    def default_base_url(self, options: dict[str, str], region: str | None) -> str | None:
        return None

    def prepare(self, deployment: Deployment) -> Any:
        return None

    def probe_request(self, deployment: Deployment) -> ProbeRequest | None:
        return None

    def upstream_body(self, body: dict[str, Any]) -> dict[str, Any]:
        return without_signatures(body)

    def headroom(self, headers: Any) -> tuple[int | None, int | None] | None:
        names = self.headroom_headers
        if names is None:
            return None
        return _count(headers.get(names[0])), _count(headers.get(names[1]))


def _count(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None
