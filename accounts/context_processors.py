from typing import Any

from django.conf import settings
from django.http import HttpRequest


def signup(request: HttpRequest) -> dict[str, Any]:
    """Whether pages may offer a sign-up link (SIGNUP=open) or only an invitation's."""
    return {"signup_open": settings.SIGNUP == "open", "signup_mode": settings.SIGNUP}


def demo(request: HttpRequest) -> dict[str, Any]:
    """In demo mode (./gw up without GATEWAY_CONFIG), the outage schedule every page explains."""
    if not settings.DEMO_MODE:
        return {"demo_mode": False}
    from simulator.demo import describe_schedule  # only demo mode serves the simulator

    return {"demo_mode": True, "demo_schedule": describe_schedule()}
