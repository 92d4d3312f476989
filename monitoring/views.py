from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from monitoring.selectors import dependency_problems


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    problems = dependency_problems()
    if problems:
        return JsonResponse({"status": "unavailable", "problems": problems}, status=503)
    return JsonResponse({"status": "ok"})
