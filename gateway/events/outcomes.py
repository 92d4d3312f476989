"""How an attempt or a request ended: one vocabulary, and one classification of it.

The breaker, the limiter's settlement, usage, deployment health and the SLA math all read outcomes
through ``kind_of``, so that none of them can disagree on what counts as a failure.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    # The upstream failed before the answer began: another deployment may still serve the request.
    CONNECT = "connect_error"
    TIMEOUT = "timeout"
    STALL = "stall"
    STREAM_CUT = "stream_cut"
    SERVER_ERROR = "server_error"
    BAD_RESPONSE = "bad_response"
    MISCONFIGURED = "misconfigured"
    RATE_LIMITED = "rate_limited"
    # The request's own doing: no deployment is to blame.
    CONTEXT_LENGTH = "context_length"
    CLIENT_ERROR = "client_error"
    UNSUPPORTED = "unsupported"
    # The upstream failed after content reached the client: the answer is cut short.
    STALL_AFTER_CONTENT = "stall_after_content"
    STREAM_CUT_AFTER_CONTENT = "stream_cut_after_content"
    SERVER_ERROR_AFTER_CONTENT = "server_error_after_content"
    # Ended by the client, by shutdown, or by a fault of the gateway itself.
    CLIENT_DISCONNECTED = "client_disconnected"
    CANCELLED = "cancelled"
    ERROR = "error"
    # A request the gateway refused itself: its own rate limits or budget, or no deployment left.
    LIMITED = "limited"
    NO_DEPLOYMENT = "no_deployment"


class Kind(StrEnum):
    SUCCESS = "success"
    NEUTRAL = "neutral"  # says nothing about a deployment's health or the service's uptime
    CAPACITY = "capacity"  # upstream capacity: a cool-down for the breaker, a failure for uptime
    FAILURE = "failure"


_NEUTRAL = frozenset(
    {
        Outcome.CONTEXT_LENGTH,
        Outcome.CLIENT_ERROR,
        Outcome.UNSUPPORTED,
        Outcome.CLIENT_DISCONNECTED,
        Outcome.CANCELLED,
        Outcome.LIMITED,
    }
)
_AFTER_CONTENT = {
    Outcome.STALL: Outcome.STALL_AFTER_CONTENT,
    Outcome.STREAM_CUT: Outcome.STREAM_CUT_AFTER_CONTENT,
    Outcome.SERVER_ERROR: Outcome.SERVER_ERROR_AFTER_CONTENT,
}


def kind_of(outcome: Outcome) -> Kind:
    if outcome is Outcome.OK:
        return Kind.SUCCESS
    if outcome in _NEUTRAL:
        return Kind.NEUTRAL
    if outcome is Outcome.RATE_LIMITED:
        return Kind.CAPACITY
    return Kind.FAILURE


def after_content(outcome: Outcome) -> Outcome:
    """The outcome of a failure that struck once the client already had part of the answer."""
    return _AFTER_CONTENT.get(outcome, Outcome.STREAM_CUT_AFTER_CONTENT)


class FailureClass(StrEnum):
    """The classes failures are counted in, on pages and in reports."""

    TIMEOUT = "timeout"
    SERVER_ERROR = "5xx"
    RATE_LIMITED = "429"
    CONNECTION = "connection"
    MISCONFIGURED = "misconfigured"
    CLIENT_ERROR = "client_error"


_CLASS = {
    Outcome.TIMEOUT: FailureClass.TIMEOUT,
    Outcome.STALL: FailureClass.TIMEOUT,
    Outcome.STALL_AFTER_CONTENT: FailureClass.TIMEOUT,
    Outcome.CONNECT: FailureClass.CONNECTION,
    Outcome.RATE_LIMITED: FailureClass.RATE_LIMITED,
    Outcome.MISCONFIGURED: FailureClass.MISCONFIGURED,
    Outcome.CONTEXT_LENGTH: FailureClass.CLIENT_ERROR,
    Outcome.CLIENT_ERROR: FailureClass.CLIENT_ERROR,
    Outcome.UNSUPPORTED: FailureClass.CLIENT_ERROR,
}
# Neither success nor a failure of anyone's: the client left, shutdown, or our own limits.
_UNCLASSED = frozenset({Outcome.OK, Outcome.CLIENT_DISCONNECTED, Outcome.CANCELLED, Outcome.LIMITED})


def failure_class(outcome: Outcome) -> FailureClass | None:
    """The class a failed outcome is counted in; None for a success or an outcome that is nobody's failure."""
    if outcome in _UNCLASSED:
        return None
    return _CLASS.get(outcome, FailureClass.SERVER_ERROR)


def counts_as_downtime(outcome: Outcome) -> bool:
    """Did the client see the service fail? A 5xx, a timeout, or upstream capacity; never its own 4xx,
    limits or budget. The definition effective uptime, incidents and burn-rate alerts share."""
    return kind_of(outcome) in (Kind.FAILURE, Kind.CAPACITY)


DOWNTIME_OUTCOMES = frozenset(o.value for o in Outcome if counts_as_downtime(o))
