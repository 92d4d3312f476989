"""Routing: the one function that orders a model's deployments for a request."""

from __future__ import annotations

from gateway.routing.health import HealthRegistry
from gateway.conf.domain import Deployment


def plan(
    deployments: tuple[Deployment, ...],
    health: HealthRegistry,
    *,
    now: float,
    exclude: set[str],
) -> list[Deployment]:
    """Deployments that may take an attempt now, healthiest and fastest first.

    Open breakers and rate-limit cool-downs are skipped, so a dead provider costs no time; one
    whose rate-limit headroom is near zero goes behind those with room; ties keep the operator's
    configured order.
    """
    candidates = [
        (health.rank(d.id, now), index, d)
        for index, d in enumerate(deployments)
        if d.id not in exclude and health.is_available(d.id, now)
    ]
    candidates.sort(key=lambda item: (item[0], item[1]))
    return [d for _, _, d in candidates]
