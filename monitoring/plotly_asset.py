"""plotly.js for the dashboard's charts, served from the copy the python ``plotly`` package bundles: no CDN,
and always the version the figures' JSON was written for.

Served by this view rather than collected as a static file: whitenoise would brotli-compress its 4.6 MB on
every fresh ``./gw up`` (15 s on a busy machine). The URL carries the version, so browsers keep it for a year;
it is gzipped once per process.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

import plotly
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

VERSION = plotly.__version__


def _bundled() -> Path:
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@functools.cache
def _gzipped() -> bytes:
    return gzip.compress(_bundled().read_bytes(), compresslevel=6)


def url() -> str:
    return reverse("plotly_js", args=[VERSION])


@require_safe
def plotly_js(request: HttpRequest, version: str) -> HttpResponse:
    if version != VERSION or not _bundled().exists():
        raise Http404
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(_gzipped(), content_type="text/javascript; charset=utf-8")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(_bundled().read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Vary"] = "Accept-Encoding"
    return response
