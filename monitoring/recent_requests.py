"""The latest requests of an organisation, each with its chain of upstream attempts.

The one page that reads the raw traffic tables rather than rollups: it shows single requests, which
rollups do not keep. Both reads are bounded and indexed: the latest ``LIMIT`` requests of the last
``WINDOW`` by (org_id, started_at) (index monitoring_request_org_time), then their attempts by
request_id within the same span (the request_id index). A client may send its own request id, so an
attempt is matched on its key too, and to the latest request with that id started before it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q

from gateway.events.outcomes import Outcome
from monitoring.models import Attempt, Request
from monitoring.usage import key_names

LIMIT = 100
WINDOW = timedelta(days=1)
# Filters: "ok" (answered in full), "failed" (anything else), or one outcome.
OUTCOME_FILTERS = ("ok", "failed")


@dataclass(frozen=True)
class AttemptStep:
    provider: str
    model: str
    status_code: int | None
    outcome: str
    latency_ms: float

    @property
    def ok(self) -> bool:
        return self.outcome == Outcome.OK

    @property
    def result(self) -> str:
        """What the upstream answered: its HTTP status, or how it failed when it sent none."""
        if self.status_code is not None:
            return str(self.status_code)
        return "200" if self.ok else self.outcome.replace("_", " ")


@dataclass
class RecentRequest:
    row: Request
    key_name: str | None
    attempts: list[AttemptStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.row.outcome == Outcome.OK

    @property
    def outcome_label(self) -> str:
        return self.row.outcome.replace("_", " ")

    @property
    def tokens(self) -> int | None:
        prompt, completion = self.row.prompt_tokens, self.row.completion_tokens
        return None if prompt is None and completion is None else (prompt or 0) + (completion or 0)

    @property
    def cost(self) -> Decimal | None:
        return self.row.cost_usd


def recent_requests(
    *, organization_id: int, now: datetime, outcome: str = "", rescued: bool | None = None
) -> list[RecentRequest]:
    """The organisation's latest ``LIMIT`` requests of the last ``WINDOW``, newest first, with their attempts."""
    since = now - WINDOW
    requests = Request.objects.filter(org_id=organization_id, started_at__gte=since, started_at__lte=now)
    if outcome == "ok":
        requests = requests.filter(outcome=Outcome.OK)
    elif outcome == "failed":
        requests = requests.exclude(outcome=Outcome.OK)
    elif outcome:
        requests = requests.filter(outcome=outcome)
    if rescued is not None:
        requests = requests.filter(rescued=rescued)
    rows = list(requests.order_by("-started_at")[:LIMIT])
    if not rows:
        return []
    names = key_names(organization_id=organization_id, key_ids={row.key_id for row in rows})
    recent = [RecentRequest(row=row, key_name=names.get(row.key_id)) for row in rows]
    _attach_attempts(recent, organization_id=organization_id, since=min(row.started_at for row in rows), now=now)
    return recent


def _attach_attempts(recent: list[RecentRequest], *, organization_id: int, since: datetime, now: datetime) -> None:
    by_id: dict[tuple[str, int], list[RecentRequest]] = defaultdict(list)
    for item in sorted(recent, key=lambda r: r.row.started_at):
        by_id[(item.row.request_id, item.row.key_id)].append(item)
    # Attempts of a request start after it, and well within the gateway's request budget.
    attempts = (
        Attempt.objects.filter(
            Q(org_id=organization_id),
            request_id__in={item.row.request_id for item in recent},
            started_at__gte=since,
            started_at__lte=now + timedelta(minutes=15),
        )
        .order_by("started_at", "attempt")
        .only("request_id", "key_id", "started_at", "provider", "model", "status_code", "outcome", "latency_ms")
    )
    for attempt in attempts:
        candidates = by_id.get((attempt.request_id, attempt.key_id or 0), [])
        owner = next((c for c in reversed(candidates) if c.row.started_at <= attempt.started_at), None)
        if owner is None and candidates:
            owner = candidates[0]
        if owner is not None:
            owner.attempts.append(
                AttemptStep(
                    provider=attempt.provider,
                    model=attempt.model,
                    status_code=attempt.status_code,
                    outcome=attempt.outcome,
                    latency_ms=attempt.latency_ms,
                )
            )
