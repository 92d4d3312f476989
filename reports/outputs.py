"""A report as shown: one set of display figures (strings cut as docs/uptime.md says), from which the JSON,
the CSVs and the PDF are all made, so that they can never disagree."""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from monitoring.api import CSVRenderer
from monitoring.stats import QUANTILES, TrafficStats
from monitoring.uptime import truncate_percent
from reports import charts
from reports.figures import Budget, Day, Headline, IncidentRow, SlaReport
from reports.methodology import methodology_html

DAY_COLUMNS = [
    "day",
    "component",
    "kind",
    "uptime_percent",
    "downtime_minutes",
    "incidents",
    "requests",
    "downtime_failures",
    "rescued",
    "prompt_tokens",
    "completion_tokens",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "ttft_p50_ms",
    "ttft_p95_ms",
    "ttft_p99_ms",
]
INCIDENT_COLUMNS = [
    "id",
    "title",
    "scope",
    "deployment",
    "opened_at",
    "resolved_at",
    "duration_seconds",
    "affected_requests",
    "rescued_requests",
    "during_maintenance",
]
EFFECTIVE = "effective"
PDF_INCIDENTS = 200  # the incidents CSV has them all
# weasyprint logs each step of each PDF at INFO.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
_PERCENTILES = {0.5: "p50", 0.95: "p95", 0.99: "p99"}


def percent(value: Decimal | None) -> str | None:
    """An uptime as reports show it: cut to 3 decimals; None is "no data"."""
    return None if value is None else truncate_percent(value, 3)


def minutes(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_DOWN))


def ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def _quantiles(values: dict[float, float | None]) -> dict[str, float | None]:
    return {_PERCENTILES[q]: ms(values.get(q)) for q in QUANTILES}


def _traffic(stats: TrafficStats) -> dict[str, Any]:
    return {
        "requests": stats.requests,
        "downtime_failures": stats.downtime_failures,
        "failovers": stats.failovers,
        "rescued": stats.rescued,
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "latency_ms": _quantiles(stats.latency_ms),
        "ttft_ms": _quantiles(stats.ttft_ms),
    }


def _budget(budget: Budget | None) -> dict[str, str] | None:
    if budget is None:
        return None
    return {
        "allowed_minutes": minutes(budget.allowed_minutes),
        "used_minutes": minutes(budget.used_minutes),
        "left_minutes": minutes(budget.left_minutes),
        "used_percent": truncate_percent(budget.used_percent),
        "left_percent": truncate_percent(budget.left_percent),
    }


def _incident(row: IncidentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "scope": row.scope,
        "deployment": row.deployment,
        "opened_at": row.opened_at.isoformat(),
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "duration_seconds": seconds(row.duration),
        "affected_requests": row.affected,
        "rescued_requests": row.rescued,
        "during_maintenance": row.during_maintenance,
    }


def _day(day: Day, component: str, kind: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "day": day.cell.day.isoformat(),
        "component": component,
        "kind": kind,
        "uptime_percent": percent(day.cell.percent),
        "downtime_minutes": day.cell.downtime_minutes,
        "incidents": len(day.cell.incidents),
    }
    traffic = _traffic(day.traffic)
    row.update({k: v for k, v in traffic.items() if k in DAY_COLUMNS})
    for name in ("latency", "ttft"):
        row.update({f"{name}_{p}_ms": v for p, v in traffic[f"{name}_ms"].items()})
    return row


def figures(report: SlaReport) -> dict[str, Any]:
    """Everything the report says, as shown (the JSON form)."""
    period, effective = report.period, report.effective
    no_data = effective.percent is None
    summary = report.incident_summary
    return {
        "organization": {"id": report.organization_id, "name": report.organization_name},
        "period": {
            "start": period.first.isoformat(),
            "end": period.last.isoformat(),
            "timezone": period.timezone_name,
            "starts_at": period.start.isoformat(),
            "ends_at": period.end.isoformat(),
            "counted_until": report.counted_end.isoformat(),
            "in_progress": report.in_progress,
        },
        "generated_at": report.now.isoformat(),
        "no_data": no_data,
        "target_percent": truncate_percent(report.target, 3),
        "target_met": None if effective.percent is None else effective.percent >= report.target,
        "effective_uptime_percent": percent(effective.percent),
        "downtime_minutes": None if no_data else effective.downtime_minutes,
        "error_budget": _budget(report.budget),
        "counted_minutes": report.counted_minutes,
        "maintenance_minutes": report.maintenance_minutes,
        "no_data_days": report.no_data_days,
        "traffic": _traffic(report.traffic),
        "incidents": {
            "count": summary.count,
            "longest_seconds": seconds(summary.longest),
            "mean_duration_seconds": seconds(summary.mean_duration),
            "mttr_seconds": seconds(summary.mttr),
            "affected_requests": summary.affected,
            "rescued_requests": summary.rescued,
            "list": [_incident(row) for row in report.incidents],
        },
        "service_credit": {
            "percent": None if report.credit.percent is None else str(report.credit.percent),
            "tier_below_percent": None if report.credit.below is None else str(report.credit.below),
            "amount": None if report.credit.amount is None else str(report.credit.amount),
            "monthly_fee": None if report.monthly_fee is None else str(report.monthly_fee),
            "tiers": [{"below_percent": str(b), "credit_percent": str(c)} for b, c in report.tiers],
        },
        "providers": [
            {
                "deployment": p.deployment,
                "uptime_percent": percent(p.uptime.percent),
                "downtime_seconds": int(p.uptime.downtime_seconds),
                "maintenance_seconds": int(p.uptime.maintenance_seconds),
                "no_data_seconds": int(p.uptime.no_data_seconds),
                "traffic": _traffic(p.traffic),
            }
            for p in report.providers
        ],
        "days": day_rows(report),
    }


def day_rows(report: SlaReport) -> list[dict[str, Any]]:
    rows = [_day(day, EFFECTIVE, "effective") for day in report.days]
    for provider in report.providers:
        rows.extend(_day(day, provider.deployment, "provider") for day in provider.days)
    return rows


def days_csv(report: SlaReport) -> bytes:
    return CSVRenderer().render({"columns": DAY_COLUMNS, "rows": day_rows(report)})


def incidents_csv(report: SlaReport) -> bytes:
    return CSVRenderer().render({"columns": INCIDENT_COLUMNS, "rows": [_incident(r) for r in report.incidents]})


def filename(report: SlaReport, suffix: str) -> str:
    period = report.period
    return f"sla-{report.organization_id}-{period.first.isoformat()}-{period.last.isoformat()}{suffix}"


# PDF


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def chart_uris(report: SlaReport) -> dict[str, str]:
    cells = [day.cell for day in report.days]
    days = [cell.day for cell in cells]
    uptimes = [cell.percent for cell in cells]
    uptime = charts.line_chart(
        title="Daily effective uptime",
        days=days,
        series=[charts.Series("Effective uptime", "#2f6fde", [None if v is None else float(v) for v in uptimes])],
        unit=" %",
        y_label="Uptime (%)",
        floor=charts.uptime_floor(uptimes, report.target),
        ceiling=100.0,
        reference=(float(report.target), f"Target {truncate_percent(report.target, 3)} %"),
    )
    styles = {0.5: ("#2f6fde", ""), 0.95: ("#e0a526", "6 3"), 0.99: ("#d1453b", "2 2")}
    latency = charts.line_chart(
        title="Daily latency of successful requests",
        days=days,
        series=[
            charts.Series(
                _PERCENTILES[q],
                styles[q][0],
                [day.traffic.latency_ms.get(q) for day in report.days],
                dash=styles[q][1],
            )
            for q in QUANTILES
        ],
        unit="",
        y_label="Latency (ms)",
    )
    bar = charts.day_bar(cells, title=f"Effective uptime, one cell per day ({report.period.timezone_name})")
    return {"bar": _data_uri(bar), "uptime": _data_uri(uptime), "latency": _data_uri(latency)}


def provider_bars(report: SlaReport) -> list[tuple[str, str]]:
    """(deployment, its compact day bar) for each deployment."""
    return [
        (p.deployment, _data_uri(charts.compact_day_bar([d.cell for d in p.days], title=p.deployment)))
        for p in report.providers
    ]


def duration_text(value: timedelta | None) -> str:
    if value is None:
        return "—"
    total = int(value.total_seconds())
    hours, rest = divmod(total, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def html(report: SlaReport, *, generated: datetime) -> str:
    data = figures(report)
    context = {
        "report": report,
        "f": data,
        "charts": chart_uris(report),
        "provider_bars": provider_bars(report),
        "methodology": methodology_html(),
        "generated": generated,
        "durations": {
            "longest": duration_text(report.incident_summary.longest),
            "mean": duration_text(report.incident_summary.mean_duration),
            "mttr": duration_text(report.incident_summary.mttr),
        },
        "incident_rows": [(row, duration_text(row.duration)) for row in report.incidents[:PDF_INCIDENTS]],
        "incidents_more": max(0, len(report.incidents) - PDF_INCIDENTS),
    }
    return render_to_string("reports/pdf.html", context)


def pdf(report: SlaReport) -> bytes:
    from weasyprint import CSS, HTML  # imported on use: it loads fonts and pango at import
    from weasyprint.urls import URLFetcher

    stylesheet = CSS(filename=finders.find("css/reports_pdf.css"))
    # The charts are data: URIs; nothing in a report (a name, a title) may make it fetch anything else.
    page = HTML(string=html(report, generated=report.now), url_fetcher=URLFetcher(allowed_protocols={"data"}))
    document: bytes = page.write_pdf(stylesheets=[stylesheet])
    return document


def headline_figures(headline: Headline) -> dict[str, Any]:
    """The report page's figures, cut as in the report."""
    credit = headline.credit
    return {
        "target_percent": truncate_percent(headline.target, 3),
        "effective_uptime_percent": percent(headline.effective.percent),
        "downtime_minutes": None if headline.effective.percent is None else headline.effective.downtime_minutes,
        "error_budget": _budget(headline.budget),
        "credit_percent": None if credit.percent is None else str(credit.percent),
        "credit_amount": None if credit.amount is None else str(credit.amount),
        "requests": headline.effective.requests,
    }
