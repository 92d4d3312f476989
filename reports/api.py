"""Management API: an organisation's SLA report for a range of days, as JSON, CSV or PDF."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, content_negotiation_class
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import ORG_PARAMETER, get_actor_for_request
from reports import figures, outputs, periods

FORMATS = ("json", "csv", "pdf")
TABLES = ("days", "incidents")


class JsonFirst(DefaultContentNegotiation):
    """Answers in JSON whatever ``format`` says: the view reads ``format`` itself, so that an unknown one is a
    400 naming the parameter (not DRF's 404), and errors are JSON even when a PDF was asked for."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


def _problems(request: Request, default_timezone: str) -> tuple[dict[str, str], dict[str, str]]:
    """(the parameters as given, the problems of each by name)."""
    given = {
        "start": request.query_params.get("start", ""),
        "end": request.query_params.get("end", ""),
        "timezone": request.query_params.get("timezone", default_timezone),
        "format": request.query_params.get("format", "json"),
        "table": request.query_params.get("table", "days"),
    }
    problems: dict[str, str] = {}
    if given["format"] not in FORMATS:
        problems["format"] = f"Use one of: {', '.join(FORMATS)}."
    if given["table"] not in TABLES:
        problems["table"] = f"Use one of: {', '.join(TABLES)} (for format=csv)."
    return given, problems


@extend_schema(
    summary="SLA report for a range of days",
    description=(
        "Effective uptime against the organisation's SLA target, error budget, downtime, incidents, each "
        "provider's own uptime, latency and traffic, and the service credit earned, for whole days of a "
        "timezone (the organisation's by default; at most 366 days; a period in progress counts until now). "
        "`format=json` (default) gives every figure of the PDF; `format=csv` one row per day per component "
        "(or `table=incidents`: one row per incident); `format=pdf` the printable report. Definitions: "
        "docs/uptime.md, columns: docs/reports.md."
    ),
    parameters=[
        ORG_PARAMETER,
        OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="First day (YYYY-MM-DD)."),
        OpenApiParameter("end", OpenApiTypes.DATE, required=True, description="Last day, included (YYYY-MM-DD)."),
        OpenApiParameter("timezone", OpenApiTypes.STR, description="IANA name; default: the organisation's."),
        OpenApiParameter("format", OpenApiTypes.STR, enum=list(FORMATS), description="Response format."),
        OpenApiParameter("table", OpenApiTypes.STR, enum=list(TABLES), description="Which CSV (format=csv)."),
    ],
    responses={
        (200, "application/json"): OpenApiTypes.OBJECT,
        (200, "text/csv"): OpenApiTypes.STR,
        (200, "application/pdf"): OpenApiTypes.BINARY,
        400: OpenApiResponse(description="A bad parameter, named in the answer"),
        404: OpenApiResponse(description="No such organisation for this caller"),
    },
    tags=["reports"],
)
@api_view(["GET"])
@content_negotiation_class(JsonFirst)
def sla_report(request: Request, org_id: int) -> Response | HttpResponse:
    actor = get_actor_for_request(request, org_id)
    organization = actor.organization
    now = timezone.now()
    given, problems = _problems(request, organization.timezone)
    period, period_problems = periods.build(start=given["start"], end=given["end"], timezone=given["timezone"], now=now)
    problems.update(period_problems)
    if problems or period is None:
        return Response({name: [message] for name, message in problems.items()}, status=400)
    report = figures.sla_report(organization=organization, period=period, now=now)
    if given["format"] == "json":
        return Response(outputs.figures(report))
    if given["format"] == "csv":
        incidents = given["table"] == "incidents"
        body = outputs.incidents_csv(report) if incidents else outputs.days_csv(report)
        name = outputs.filename(report, "-incidents.csv" if incidents else ".csv")
        return _download(body, "text/csv; charset=utf-8", name)
    return _download(outputs.pdf(report), "application/pdf", outputs.filename(report, ".pdf"))


def _download(body: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
