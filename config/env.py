"""Typed readers for environment variables that fail loudly, naming the variable."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs, unquote, urlsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(Exception):
    """A setting has a bad value. The message is one line and names the setting."""


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean: use true or false")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name}={number} must be at least {minimum}")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name}={number} must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise ConfigError(f"{name}={number} must be at most {maximum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


_ORIGIN_SCHEMES = {"http": 80, "https": 443}
_ORIGIN_HOST = re.compile(r"[a-z0-9._-]+|[0-9a-f:.]+")  # a name (punycode for IDNs), IPv4, or IPv6 unbracketed
MAX_ORIGIN_LENGTH = 200


def parse_origin(text: str) -> str:
    """A browser origin as browsers send it in ``Origin`` (lower case, no default port); ValueError if not one."""
    value = text.strip()
    problem = f"“{value[:80]}” is not an origin: expected scheme://host[:port], like https://app.example.com"
    if not value.isascii() or len(value) > MAX_ORIGIN_LENGTH or "*" in value:
        raise ValueError(problem)
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        raise ValueError(problem) from None
    extras = parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc
    if scheme not in _ORIGIN_SCHEMES or extras or value.endswith(("?", "#")):
        raise ValueError(problem)
    if not parts.hostname or not _ORIGIN_HOST.fullmatch(parts.hostname):
        raise ValueError(problem)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{scheme}://{host}" if port in (None, _ORIGIN_SCHEMES[scheme]) else f"{scheme}://{host}:{port}"


def env_origins(name: str) -> list[str]:
    """Comma-separated browser origins; a value that is not one stops start-up, naming it."""
    try:
        return [parse_origin(item) for item in env_list(name, [])]
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() not in choices:
        raise ConfigError(f"{name}={value!r} is not one of: {', '.join(choices)}")
    return value.lower()


def env_decimal(name: str, default: Decimal, *, minimum: Decimal | None = None) -> Decimal:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ConfigError(f"{name}={value!r} is not a number") from None
    if not number.is_finite() or (minimum is not None and number < minimum):
        raise ConfigError(f"{name}={value} must be a number of at least {minimum}")
    return number


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def env_networks(name: str) -> tuple[Network, ...]:
    """Comma-separated IP addresses or CIDR blocks."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{name}: {item!r} is not an IP address or CIDR block") from None
    return tuple(networks)


@dataclass(frozen=True)
class DatabaseParams:
    name: str
    user: str
    password: str
    host: str
    port: str
    options: dict[str, str]


def parse_database_url(name: str, url: str) -> DatabaseParams:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ConfigError(f"{name} has unsupported scheme {parts.scheme!r}: use postgresql://user:pass@host:port/db")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise ConfigError(f"{name} names no database: add /dbname to the URL")
    try:
        port = str(parts.port or "")
    except ValueError:
        raise ConfigError(f"{name} has an invalid port") from None
    return DatabaseParams(
        name=dbname,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=host,
        port=port,
        options=query,
    )


def check_redis_url(name: str, url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"{name} has unsupported scheme {scheme!r}: use redis://host:port/db or unix:///path.sock")
    return url


def celery_broker_url(redis_url: str) -> str:
    """Kombu spells a Unix-socket Redis URL differently from redis-py."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url[len("unix://") :]
    return redis_url
