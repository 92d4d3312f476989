from typing import Any

from django.conf import settings
from django.http import HttpRequest


def signup(request: HttpRequest) -> dict[str, Any]:
    """Whether pages may offer a sign-up link (SIGNUP=open) or only an invitation's."""
    return {"signup_open": settings.SIGNUP == "open", "signup_mode": settings.SIGNUP}
