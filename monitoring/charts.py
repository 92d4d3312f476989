"""The dashboard's plotly figures, built server-side from a monitoring.series.Series and embedded as JSON.

Every chart has a title, a unit on its y axis and a legend below it (so a phone's width is the plot's),
and draws few enough lines not to overplot: latency and TTFT are two charts, failure classes are stacked.
Times are the buckets' local wall-clock times, so the x axis reads in the chosen timezone.
Figures are plain plotly dicts serialised by plotly's encoder: building them as graph objects validates
every property and cost more than the whole page's queries (tests validate them with graph objects).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import plotly.io

from gateway.events.outcomes import FailureClass
from monitoring.series import Series, failure_share, per_minute

# Colour-blind-safe (Okabe-Ito) for classes; one blue ramp for quantiles.
CLASS_COLOURS = {
    FailureClass.TIMEOUT: "#E69F00",
    FailureClass.SERVER_ERROR: "#D55E00",
    FailureClass.RATE_LIMITED: "#CC79A7",
    FailureClass.CONNECTION: "#0072B2",
    FailureClass.MISCONFIGURED: "#56B4E9",
    FailureClass.CLIENT_ERROR: "#999999",
}
CLASS_LABELS = {
    FailureClass.TIMEOUT: "Timeout",
    FailureClass.SERVER_ERROR: "5xx",
    FailureClass.RATE_LIMITED: "429",
    FailureClass.CONNECTION: "Connection",
    FailureClass.MISCONFIGURED: "Misconfigured",
    FailureClass.CLIENT_ERROR: "Client error",
}
QUANTILE_STYLE = {0.5: ("p50", "#9ecae1"), 0.95: ("p95", "#3182bd"), 0.99: ("p99", "#08306b")}
INCIDENT_FILL = "rgba(213, 94, 0, 0.14)"
INCIDENT_SWATCH = "rgba(213, 94, 0, 0.35)"  # the legend's sample: a 14 % fill is too faint at 12 px
SPARSE_POINTS = 30


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    figure: str | None  # plotly JSON, safe inside <script type="application/json">; None: no data to draw

    @property
    def empty(self) -> bool:
        return self.figure is None


@dataclass(frozen=True)
class Shade:
    start: datetime
    end: datetime
    title: str


Figure = dict[str, Any]


def _json(figure: Figure) -> str:
    # Escaped so that no model or incident name can close the <script> element it is embedded in.
    text = plotly.io.to_json(figure, validate=False, engine="json")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _layout(title: str, y_title: str, tz: ZoneInfo, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "xanchor": "left", "y": 0.97, "yanchor": "top", "font": {"size": 15}},
        "height": 320,
        "margin": {"l": 8, "r": 8, "t": 64, "b": 8},
        "showlegend": True,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12, "color": "#1f2933"},
        # Under the title, above the plot: below it, the legend would sit on the time axis' labels.
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom", "font": {"size": 11}},
        "hovermode": "x unified",
        "xaxis": {
            "type": "date",
            "title": {"text": f"Time ({tz.key})", "font": {"size": 11}},
            "nticks": 6,
            "gridcolor": "#eef0f3",
            "automargin": True,
        },
        "yaxis": {
            "title": {"text": y_title},
            "rangemode": "tozero",
            "gridcolor": "#eef0f3",
            "zerolinecolor": "#d5d9de",
            "automargin": True,
        },
        **extra,
    }


def _mode(values: Sequence[float | int | None]) -> dict[str, Any]:
    """Lines, with markers while the points are few (a lone point has no line to draw: a fresh install)."""
    if sum(v is not None for v in values) > SPARSE_POINTS:
        return {"mode": "lines"}
    return {"mode": "lines+markers", "marker": {"size": 5}}


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def _shaded(figure: Figure, shades: Sequence[Shade], tz: ZoneInfo, series: Series) -> None:
    """Incidents as shaded spans (clipped to the chart), with one legend entry for all of them."""
    if not shades or not series.starts:
        return
    left, right = series.starts[0], series.starts[-1] + series.step
    spans = sorted((max(_local(s.start, tz), left), min(_local(s.end, tz), right)) for s in shades)
    merged: list[tuple[datetime, datetime]] = []
    for x0, x1 in spans:
        if x0 >= x1:
            continue
        if merged and x0 <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], x1))
        else:
            merged.append((x0, x1))
    figure["layout"]["shapes"] = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": x0,
            "x1": x1,
            "y0": 0,
            "y1": 1,
            "fillcolor": INCIDENT_FILL,
            "line": {"width": 0},
            "layer": "below",
        }
        for x0, x1 in merged
    ]
    figure["data"].append(
        {
            "type": "scatter",
            "x": [left],
            "y": [None],
            "mode": "markers",
            "name": "Incident",
            "marker": {"symbol": "square", "size": 12, "color": INCIDENT_SWATCH},
            "hoverinfo": "skip",
        }
    )


def error_chart(series: Series, tz: ZoneInfo, *, chart_id: str) -> Chart:
    title = "Error rate by failure class"
    shares = failure_share(series)
    classes = [cls for cls in FailureClass if any(series.failures[cls])]
    if not any(series.requests):
        return Chart(chart_id, title, None)
    figure: Figure = {"data": [], "layout": _layout(title, "% of requests", tz)}
    for cls in classes:
        figure["data"].append(
            {
                "type": "scatter",
                "x": series.starts,
                "y": shares[cls],
                "name": CLASS_LABELS[cls],
                **_mode(shares[cls]),
                "stackgroup": "errors",
                "line": {"width": 0.5, "color": CLASS_COLOURS[cls]},
                "hovertemplate": "%{y:.2f} %",
            }
        )
    if not classes:
        figure["data"].append(
            {
                "type": "scatter",
                "x": series.starts,
                "y": [0 if n else None for n in series.requests],
                "name": "No failures",
                "mode": "lines",
            }
        )
    return Chart(chart_id, title, _json(figure))


def quantile_chart(
    series: Series, tz: ZoneInfo, shades: Sequence[Shade], *, chart_id: str, ttft: bool = False
) -> Chart:
    title = "Time to first token p50 / p95 / p99" if ttft else "Latency p50 / p95 / p99"
    values = series.ttft_ms if ttft else series.latency_ms
    if not any(v is not None for column in values.values() for v in column):
        return Chart(chart_id, title, None)
    figure: Figure = {"data": [], "layout": _layout(title, "milliseconds", tz)}
    for q, (name, colour) in QUANTILE_STYLE.items():
        figure["data"].append(
            {
                "type": "scatter",
                "x": series.starts,
                "y": values[q],
                "name": name,
                **_mode(values[q]),
                "line": {"width": 2 if q == 0.95 else 1.5, "color": colour},
                "hovertemplate": "%{y:,.0f} ms",
            }
        )
    _shaded(figure, shades, tz, series)
    return Chart(chart_id, title, _json(figure))


def throughput_chart(series: Series, tz: ZoneInfo, *, chart_id: str, what: str = "Requests") -> Chart:
    title = f"Throughput: {what.lower()} per minute"
    if not any(series.requests):
        return Chart(chart_id, title, None)
    lines = [(what, series.requests, "#3182bd"), ("Rescued by failover", series.rescued, "#009E73")]
    figure: Figure = {
        "data": [
            {
                "type": "scatter",
                "x": series.starts,
                "y": per_minute(values, series.step),
                "name": name,
                **_mode([v if n else None for v, n in zip(values, series.requests, strict=True)]),
                "line": {"color": colour, "width": 1.5},
                "hovertemplate": "%{y:,.1f} / min",
            }
            for name, values, colour in lines
        ],
        "layout": _layout(title, f"{what.lower()} / min", tz),
    }
    return Chart(chart_id, title, _json(figure))


def traffic_charts(
    series: Series, tz: ZoneInfo, shades: Sequence[Shade], *, throughput: bool = True, what: str = "Requests"
) -> list[Chart]:
    charts = [
        error_chart(series, tz, chart_id="chart-errors"),
        quantile_chart(series, tz, shades, chart_id="chart-latency"),
        quantile_chart(series, tz, shades, chart_id="chart-ttft", ttft=True),
    ]
    if throughput:
        charts.append(throughput_chart(series, tz, chart_id="chart-throughput", what=what))
    return charts


def figure_data(chart: Chart) -> dict[str, Any]:
    """The figure as a dict again (tests)."""
    return json.loads(chart.figure or "null")
