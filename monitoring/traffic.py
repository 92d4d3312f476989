"""One request as the gateway saw it: its record and every attempt it made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from monitoring.models import Attempt, Request

# Attempts are tied to their request by its id; a client may reuse an X-Request-ID, so the attempts
# are also bounded by the request's own time span.
_SLACK = timedelta(seconds=1)


@dataclass(frozen=True)
class RequestTrace:
    request: Request
    attempts: list[Attempt]


def request_trace(*, organization_id: int, request_id: str) -> RequestTrace | None:
    """The organisation's latest request with this id, and its attempts in order; None if unknown."""
    request = Request.objects.filter(org_id=organization_id, request_id=request_id).order_by("-started_at").first()
    if request is None:
        return None
    ended = request.started_at + timedelta(milliseconds=request.latency_ms) + _SLACK
    attempts = Attempt.objects.filter(
        org_id=organization_id,
        request_id=request_id,
        started_at__gte=request.started_at - _SLACK,
        started_at__lte=ended,
    ).order_by("attempt")
    return RequestTrace(request=request, attempts=list(attempts))
