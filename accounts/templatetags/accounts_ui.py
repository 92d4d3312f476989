from __future__ import annotations

from typing import Any

from django import template

from accounts import selectors
from accounts.models import User

register = template.Library()


@register.inclusion_tag("accounts/_org_switcher.html", takes_context=True)
def org_switcher(context: template.Context) -> dict[str, Any]:
    user = context["request"].user
    memberships = selectors.memberships_for_user(user=user) if isinstance(user, User) else []
    return {"memberships": memberships, "current": context.get("org")}
