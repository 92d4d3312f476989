"""The PDF: a cover with the organisation's name, page numbers, the figures of the JSON, the three charts
drawn as SVG, and a methodology quoting docs/uptime.md. Read back as text with pypdf."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from reports import charts, figures, outputs
from reports.methodology import methodology_html, sections
from reports.periods import Period
from tests.conftest import Accounts
from tests.reports.helpers import NOW, january

JANUARY = Period(date(2026, 1, 1), date(2026, 1, 31), ZoneInfo("UTC"))


def _text(document: bytes) -> list[str]:
    """Each page's text without any white space: pypdf splits kerned words ("T arget")."""
    return [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(io.BytesIO(document)).pages]


def _has(text: str, phrase: str) -> bool:
    return re.sub(r"\s+", "", phrase) in text


def test_the_pdf_says_what_the_json_says(accounts: Accounts) -> None:
    january(accounts.org.pk)
    report = figures.sla_report(organization=accounts.org, period=JANUARY, now=NOW)
    shown = outputs.figures(report)
    pages = _text(outputs.pdf(report))
    cover, whole = pages[0], " ".join(pages)
    assert _has(cover, "Acme") and _has(cover, "1 January 2026 \u2013 31 January 2026")
    assert _has(cover, "Effective uptime 99.932 %") and _has(cover, "Target met")
    for number, page in enumerate(pages, start=1):
        assert _has(page, f"Page {number} of {len(pages)}")
    assert all(_has(page, "Acme · SLA report") for page in pages[1:])
    budget = shown["error_budget"]
    for figure in (
        f"{shown['downtime_minutes']} min",
        f"{budget['used_percent']} % ({budget['used_minutes']} min)",
        f"{budget['left_percent']} % ({budget['left_minutes']} min)",
        f"Requests {shown['traffic']['requests']}",
        f"Requests rescued by failover {shown['traffic']['rescued']}",
        "Mean time to resolve (MTTR) 1 h 00 min",
        "sim-a/chat",
        shown["providers"][0]["uptime_percent"] + " %",
        "errors over 5 %",
    ):
        assert _has(whole, figure), figure
    assert _has(whole, "Methodology") and _has(whole, "Effective uptime = 100 % \u2212 the mean error rate")


def test_a_pdf_without_data_says_no_data(accounts: Accounts) -> None:
    report = figures.sla_report(organization=accounts.org, period=JANUARY, now=NOW)
    pages = _text(outputs.pdf(report))
    assert _has(pages[0], "Effective uptime No data")
    assert not _has(" ".join(pages), "100.000 %")
    assert _has(" ".join(pages), "No incident in this period.")


def test_the_methodology_quotes_the_definitions() -> None:
    found = [heading for heading, _ in sections(Path("docs/uptime.md").read_text(encoding="utf-8"))]
    assert found[:2] == ["What counts as a failure", "Effective uptime (what an organisation's clients saw)"]
    assert found[-1] == "SLA reports"
    html = str(methodology_html())
    assert "<strong>Effective uptime = 100 % \u2212 the mean error rate of the counted windows.</strong>" in html
    assert "<script" not in html


def test_charts_are_well_formed_svg_with_no_data_drawn_apart(accounts: Accounts) -> None:
    report = figures.sla_report(organization=accounts.org, period=JANUARY, now=NOW)
    bar = charts.day_bar([d.cell for d in report.days], title="Effective <uptime> & more")
    line = charts.line_chart(
        title="t",
        days=[d.cell.day for d in report.days],
        series=[charts.Series("p50", "#000", [None] * 31)],
        unit="",
        y_label="ms",
    )
    for svg in (bar, line):
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
    assert "url(#nodata)" in bar and "No downtime" in bar and "No data" in bar  # the legend tells them apart
    assert "Effective &lt;uptime&gt; &amp; more" in bar
    assert "<polyline" not in line  # no value is drawn for a day without data


def test_ticks_cover_the_range() -> None:
    assert charts.nice_ticks(0, 190.6) == [0, 50, 100, 150, 200]
    ticks = charts.nice_ticks(99.7, 100)
    assert ticks[0] <= 99.7 and ticks[-1] >= 100


def test_a_hostile_name_is_text_and_fetches_nothing(accounts: Accounts) -> None:
    accounts.org.name = '<img src="http://169.254.169.254/latest"><b>Evil</b>'
    report = figures.sla_report(organization=accounts.org, period=JANUARY, now=NOW)
    assert "&lt;img" in outputs.html(report, generated=NOW)
    assert _has(_text(outputs.pdf(report))[0], '<img src="http://169.254.169.254/latest"><b>Evil</b>')
