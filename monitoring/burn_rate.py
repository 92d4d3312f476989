"""Multi-window, multi-burn-rate alerts on each organisation's SLO target (Google's SRE workbook, "Alerting
on SLOs", and Sloth's defaults).

The burn rate is the error rate divided by the error budget (1 - SLO): at 1 the budget lasts exactly the
30-day SLO period. An alert fires when both its long and its short window burn faster than its factor,
and recovers as soon as either drops below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction

from accounts.models import Organization
from monitoring import error_rates, notify
from monitoring.incident_selectors import settings_by_organization
from monitoring.models import BurnRateAlert


@dataclass(frozen=True)
class BurnRule:
    severity: str
    long: timedelta
    short: timedelta
    factor: float


# Why these numbers (SRE workbook table 5-8, Sloth's "page" and "ticket" defaults, for a 30-day budget):
# 14.4 over 1 h spends 2% of the budget in that hour, and 6 over 6 h spends 5% in six: worth waking someone,
# resp. worth a ticket. The long window keeps a short blip from alerting; the short one (1/12 of the long)
# makes the alert stop within minutes of the burn stopping, instead of an hour later.
PAGE = BurnRule(BurnRateAlert.Severity.PAGE, long=timedelta(hours=1), short=timedelta(minutes=5), factor=14.4)
TICKET = BurnRule(BurnRateAlert.Severity.TICKET, long=timedelta(hours=6), short=timedelta(minutes=30), factor=6.0)
RULES = (PAGE, TICKET)
WINDOWS = sorted({w for rule in RULES for w in (rule.long, rule.short)})


def burn_rate(counts: error_rates.ErrorCounts, *, slo_target: Decimal) -> float:
    budget = (100 - slo_target) / 100  # in Decimal: 1 - 0.999 as a float is 0.0010000000000000009
    return counts.rate / float(budget)


def evaluate_burn_rates(*, now: datetime) -> None:
    # Windows under maintenance are left out, as effective uptime leaves them out.
    counts = error_rates.error_counts_by_organization(now=now, windows=WINDOWS, skip_maintenance=True)
    open_alerts = {(a.organization_id, a.severity): a for a in BurnRateAlert.objects.filter(resolved_at__isnull=True)}
    candidates = set(counts) | {org_id for org_id, _ in open_alerts}
    org_ids = set(Organization.objects.filter(pk__in=candidates).values_list("pk", flat=True))
    slos = settings_by_organization(org_ids)
    for org_id in org_ids:
        windows = counts.get(org_id, {})
        slo = Decimal(slos[org_id].slo_target)
        for rule in RULES:
            long = burn_rate(windows.get(rule.long, error_rates.NO_REQUESTS), slo_target=slo)
            short = burn_rate(windows.get(rule.short, error_rates.NO_REQUESTS), slo_target=slo)
            alert = open_alerts.get((org_id, rule.severity))
            firing = long > rule.factor and short > rule.factor
            if firing and alert is None:
                _open(org_id, rule, long=long, short=short, slo=slo, now=now)
            elif not firing and alert is not None:
                _resolve(alert, rule, slo=slo, now=now)


def _open(org_id: int, rule: BurnRule, *, long: float, short: float, slo: Decimal, now: datetime) -> None:
    try:
        with transaction.atomic():
            alert = BurnRateAlert.objects.create(
                organization_id=org_id,
                severity=rule.severity,
                opened_at=now,
                long_burn_rate=long,
                short_burn_rate=short,
            )
            _announce(alert, rule, "opened", slo=slo, now=now)
    except IntegrityError:
        pass  # another worker opened it first


def _resolve(alert: BurnRateAlert, rule: BurnRule, *, slo: Decimal, now: datetime) -> None:
    with transaction.atomic():
        if BurnRateAlert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(resolved_at=now) == 1:
            alert.resolved_at = now
            _announce(alert, rule, "resolved", slo=slo, now=now)


def _announce(alert: BurnRateAlert, rule: BurnRule, transition: str, *, slo: Decimal, now: datetime) -> None:
    org = Organization.objects.get(pk=alert.organization_id)
    if transition == "opened":
        subject = f"[{org.name}] Error budget burning {alert.long_burn_rate:.1f}x too fast ({rule.severity})"
        body = (
            f"Over the last {_span(rule.long)} the error rate burned the {slo.normalize():f}% SLO's budget "
            f"{alert.long_burn_rate:.1f}x as fast as one that lasts 30 days, and {alert.short_burn_rate:.1f}x "
            f"over the last {_span(rule.short)} "
            f"(alert above {rule.factor:g}x in both)."
        )
    else:
        subject = f"[{org.name}] Recovered: error budget burn back under {rule.factor:g}x ({rule.severity})"
        body = f"The burn rate is back under {rule.factor:g}x over the last {_span(rule.short)} or {_span(rule.long)}."
    payload = {
        "event": f"burn_rate.{transition}",
        "organization": {"id": org.pk, "name": org.name},
        "alert": {
            "id": alert.pk,
            "severity": rule.severity,
            "slo_target": float(slo),
            "factor": rule.factor,
            "long_window_seconds": int(rule.long.total_seconds()),
            "short_window_seconds": int(rule.short.total_seconds()),
            "long_burn_rate": alert.long_burn_rate,
            "short_burn_rate": alert.short_burn_rate,
            "opened_at": alert.opened_at.isoformat(),
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        },
    }
    message = notify.Message(subject, body, notify.site_url(f"/orgs/{org.pk}/incidents/"), payload)
    notify.queue(
        organization_ids={org.pk},
        preference=notify.BURN_RATE_PREFERENCE,
        dedup_key=f"burn:{alert.pk}:{transition}",
        message_for=lambda _org_id: message,
        now=now,
    )


def _span(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
