import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from monitoring.selectors import dependency_problems

log = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    problems = dependency_problems()
    if problems:
        # Unauthenticated: say which dependency is down, never why (hosts, users, paths); the log has that.
        for name, reason in sorted(problems.items()):
            log.error("readyz: %s is unreachable: %s", name, reason)
        return JsonResponse({"status": "unavailable", **{name: "down" for name in problems}}, status=503)
    return JsonResponse({"status": "ok"})
