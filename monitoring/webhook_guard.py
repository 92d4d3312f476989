"""Webhook targets may only be public https endpoints: an organisation's URL must not make the gateway reach
its own network (SSRF). Checked when a URL is saved, and again when it is sent to: the host name is
resolved, every address checked, and the request connects to the address that was checked (a name that
resolves to a public address at the check and an internal one at the connect — DNS rebinding — gets nowhere).

``ALERT_WEBHOOK_ALLOW_PRIVATE`` lets http and internal addresses through (tests, or a private deployment
whose alert receivers live on its own network). Problems are worded without the URL: it is a credential.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeWebhook(Exception):
    """Why a webhook URL is refused, in words safe for a form, a page or a log (never the URL)."""


@dataclass(frozen=True)
class Target:
    """Where to connect (the checked address) and what the server must see (the URL's own host name)."""

    url: httpx.URL  # the URL with its host replaced by the checked address
    host_header: str | None  # None: the URL's own
    sni_hostname: str | None  # the name the certificate is checked against, when the URL holds an address


def check(url: str) -> Target:
    """The connectable target of ``url``, or UnsafeWebhook saying why it is refused."""
    parts = urlsplit(url)
    allow_private: bool = settings.ALERT_WEBHOOK_ALLOW_PRIVATE
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise UnsafeWebhook("a webhook URL must start with https://")
    host = parts.hostname
    if not host:
        raise UnsafeWebhook("the webhook URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeWebhook("the webhook URL's port is not a number from 1 to 65535") from None
    if allow_private:
        return Target(url=httpx.URL(url), host_header=None, sni_hostname=None)  # nothing to keep it from
    addresses = _resolve(host, port)
    if any(_internal(address) for address in addresses):
        raise UnsafeWebhook(
            "the webhook's host resolves to a private, loopback, link-local or otherwise internal address"
        )
    original = httpx.URL(url)
    return Target(
        url=original.copy_with(host=str(addresses[0])),
        host_header=original.netloc.decode("ascii"),
        sni_hostname=original.raw_host.decode("ascii"),
    )


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeWebhook("the webhook's host name does not resolve") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]
    if not addresses:
        raise UnsafeWebhook("the webhook's host name does not resolve")
    return addresses


def _internal(address: IPAddress) -> bool:
    """Anything but a public unicast address; IPv4 carried inside IPv6 (mapped, 6to4, Teredo) is unwrapped."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None and _internal(embedded):
            return True
    return not address.is_global or address.is_multicast
