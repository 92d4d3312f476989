"""Alerts: a message per incident or burn-rate transition and channel, queued once, sent once, retried on failure.

A transition and its deliveries are written in one transaction, and the (channel, dedup_key) pair is
unique, so a transition is queued at most once per channel. A worker claims a delivery with a
conditional UPDATE before sending it, so two workers never both send it.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q

from accounts.crypto import decrypt_secret, encrypt_secret
from accounts.models import Membership, Organization, User
from monitoring import webhook_guard
from monitoring.incident_selectors import settings_by_organization
from monitoring.models import AlertChannel, AlertDelivery

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
WEBHOOK_TIMEOUT_SECONDS = 10.0
# A worker that claimed a delivery and vanished: after this long it is given up, not re-sent (it may have gone out).
STALE_CLAIM = timedelta(minutes=10)
PREFERENCE = {"deployment": "notify_deployment_incidents", "organization": "notify_organization_incidents"}
BURN_RATE_PREFERENCE = "notify_burn_rate"


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    url: str
    payload: dict[str, Any]  # the generic JSON webhook's body


class DeliveryError(Exception):
    """Why a send failed, in words safe for a page or a log (never the webhook URL)."""


def add_channel(*, organization: Organization | None, kind: str, target: str) -> AlertChannel:
    """An organisation's channel, or (organization None) an operator's, told of every deployment incident."""
    if kind == AlertChannel.Kind.EMAIL:
        everyone = "Owners and admins" if organization else "Staff"
        return AlertChannel.objects.create(
            organization=organization, kind=kind, target_ciphertext=target, target_hint=target or everyone
        )
    return AlertChannel.objects.create(
        organization=organization, kind=kind, target_ciphertext=encrypt_secret(target), target_hint=url_hint(target)
    )


def url_hint(url: str) -> str:
    """Enough of a webhook URL to recognise it, too little to use it: the host and the last four characters."""
    return f"{urlsplit(url).hostname or '?'}/…{url[-4:]}"


def queue(
    *,
    organization_ids: set[int],
    preference: str,
    dedup_key: str,
    message_for: Any,
    now: datetime,
    operator_message: Message | None = None,
) -> None:
    """Queue ``message_for(organization_id)`` to the channels of each organisation that wants this kind of alert,
    and ``operator_message`` (given one) to the operator's channels; a key already queued for a channel is skipped."""
    wanted = {org_id for org_id, s in settings_by_organization(organization_ids).items() if getattr(s, preference)}
    scope = Q(organization_id__in=wanted)
    if operator_message is not None:
        scope |= Q(organization__isnull=True)
    deliveries = []
    for channel in AlertChannel.objects.filter(scope):
        org_id = channel.organization_id
        message: Message | None = operator_message if org_id is None else message_for(org_id)
        if message is None:
            continue
        deliveries.append(
            AlertDelivery(
                channel=channel,
                dedup_key=dedup_key,
                subject=message.subject[:300],
                body=message.body,
                payload={**message.payload, "text": message.subject, "url": message.url},
                next_attempt_at=now,
                created_at=now,
            )
        )
    AlertDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)


def due_deliveries(*, now: datetime) -> list[int]:
    """Deliveries to hand to workers now; claims a worker abandoned are given up."""
    stale = AlertDelivery.objects.filter(status=AlertDelivery.Status.SENDING, next_attempt_at__lt=now - STALE_CLAIM)
    stale.update(status=AlertDelivery.Status.FAILED, last_error="the sending worker stopped mid-send")
    due = AlertDelivery.objects.filter(status=AlertDelivery.Status.PENDING, next_attempt_at__lte=now)
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:500])


def deliver(*, delivery_id: int, now: datetime) -> float | None:
    """Send one delivery if this worker wins its claim. Returns seconds until a retry, or None when done."""
    claimed = AlertDelivery.objects.filter(pk=delivery_id, status=AlertDelivery.Status.PENDING).update(
        status=AlertDelivery.Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=now
    )
    if claimed != 1:
        return None  # another worker has it, or it is already sent
    delivery = AlertDelivery.objects.select_related("channel__organization").get(pk=delivery_id)
    try:
        _send(delivery)
    except DeliveryError as exc:
        return _failed(delivery, str(exc), now=now)
    delivery.status, delivery.sent_at, delivery.last_error = AlertDelivery.Status.SENT, now, ""
    delivery.save(update_fields=["status", "sent_at", "last_error"])
    return None


def _failed(delivery: AlertDelivery, problem: str, *, now: datetime) -> float | None:
    delivery.last_error = problem[:300]
    log.warning(
        "alert %s to channel %s failed (attempt %d): %s", delivery.pk, delivery.channel_id, delivery.attempts, problem
    )
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = AlertDelivery.Status.FAILED
        delivery.save(update_fields=["status", "last_error"])
        return None
    retry_in = 30.0 * 2 ** (delivery.attempts - 1)  # 30 s, 1, 2, 4 min
    delivery.status, delivery.next_attempt_at = AlertDelivery.Status.PENDING, now + timedelta(seconds=retry_in)
    delivery.save(update_fields=["status", "last_error", "next_attempt_at"])
    return retry_in


def _send(delivery: AlertDelivery) -> None:
    channel = delivery.channel
    if channel.kind == AlertChannel.Kind.EMAIL:
        _send_email(delivery)
    elif channel.kind == AlertChannel.Kind.SLACK:
        _post(channel, slack_payload(delivery))
    else:
        _post(channel, delivery.payload)


def _send_email(delivery: AlertDelivery) -> None:
    channel = delivery.channel
    recipients = [channel.target_ciphertext] if channel.target_ciphertext else _managers(channel.organization_id)
    if not recipients:
        raise DeliveryError("no recipient")
    try:
        send_mail(delivery.subject, f"{delivery.body}\n\n{delivery.payload['url']}\n", None, recipients)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"mail not sent: {exc.__class__.__name__}") from None


def _managers(organization_id: int | None) -> list[str]:
    if organization_id is None:
        return list(User.objects.filter(is_staff=True, is_active=True).values_list("email", flat=True))
    return list(
        Membership.objects.filter(
            organization_id=organization_id, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
        ).values_list("user__email", flat=True)
    )


def _post(channel: AlertChannel, payload: dict[str, Any]) -> None:
    try:
        target = webhook_guard.check(decrypt_secret(channel.target_ciphertext))  # again: DNS may have changed
    except webhook_guard.UnsafeWebhook as exc:
        raise DeliveryError(f"webhook refused: {exc}") from None
    headers = {"User-Agent": "llm-gateway-alerts/1"}
    if target.host_header:
        headers["Host"] = target.host_header
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
    try:
        # No proxy from the environment and no redirects: the request goes to the checked address only.
        with httpx.Client(trust_env=False, follow_redirects=False, timeout=WEBHOOK_TIMEOUT_SECONDS) as client:
            response = client.post(
                target.url,
                json=payload,
                headers=headers,
                extensions=extensions,
            )
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook unreachable: {exc.__class__.__name__}") from None  # its text holds the URL
    if not response.is_success:
        raise DeliveryError(f"webhook answered HTTP {response.status_code}")


def slack_payload(delivery: AlertDelivery) -> dict[str, Any]:
    """Slack's incoming-webhook format (also taken by Mattermost, Rocket.Chat and Discord's /slack endpoint)."""
    url = delivery.payload["url"]
    return {
        "text": delivery.subject,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": delivery.subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": delivery.body[:2900]}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{url}|Open in the gateway>"}]},
        ],
    }


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path
