"""The raw events the gateway records: one per upstream attempt, and one per request as its client saw it.

Their fields are the columns of monitoring's ``Attempt`` and ``Request`` tables (a test keeps the two
in step); the event log writes them with COPY, and the request id ties an attempt to its request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields

ATTEMPT_TABLE = "monitoring_attempt"
# APIs the gateway answers itself, with no upstream: their requests never count in uptime math.
LOCAL_INBOUNDS = frozenset({"anthropic.count_tokens"})
REQUEST_TABLE = "monitoring_request"
# Spans of traffic that arrived after they were rolled up: monitoring's next rollup run redoes them.
ROLLUP_BACKLOG_TABLE = "monitoring_rollupbacklog"


@dataclass(slots=True)
class AttemptEvent:
    id: uuid.UUID
    request_id: str
    attempt: int
    started_at: float
    org_id: int | None
    key_id: int | None
    requested_model: str
    model: str
    provider: str
    deployment: str
    stream: bool
    outcome: str
    status_code: int | None
    error: str
    latency_ms: float
    ttft_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cached_tokens: int | None
    rescued: bool
    final: bool
    malformed_events: int
    cost_usd: float | None = None  # usage x the serving deployment's price, when both are known


@dataclass(slots=True)
class RequestEvent:
    """One request the gateway accepted (its key checked), whatever became of it."""

    id: uuid.UUID
    request_id: str
    started_at: float
    org_id: int
    key_id: int
    inbound: str  # the API the client spoke: "openai.chat" or "anthropic.messages"
    requested_model: str
    model: str  # the model that answered, "" when none did
    provider: str  # the provider that answered, "" when none did
    stream: bool
    status: int  # the HTTP status the client got
    outcome: str  # gateway.events.outcomes.Outcome
    error_code: str  # the error code the client got, "" on success
    attempts: int
    failovers: int  # failed attempts before the answer (or before giving up)
    rescued: bool  # answered after at least one failed attempt
    latency_ms: float
    ttft_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None


ATTEMPT_COLUMNS = [f.name for f in fields(AttemptEvent)]
REQUEST_COLUMNS = [f.name for f in fields(RequestEvent)]
