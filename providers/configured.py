"""The operator's gateway configuration as the web side reads it: which providers organisations
may bring keys for, and which models their gateway keys may name."""

from __future__ import annotations

from django.conf import settings

from gateway.conf.domain import ConfigFileError, GatewayConfig
from gateway.conf.loader import load_config
from gateway.credentials import key_problem


def gateway_config() -> GatewayConfig | None:
    """The gateway config, or None when GATEWAY_CONFIG is unset or unreadable."""
    if not settings.GATEWAY_CONFIG:
        return None
    try:
        return load_config(settings.GATEWAY_CONFIG)
    except (ConfigFileError, OSError):
        return None


def configured_provider_names() -> list[str] | None:
    """Provider names an organisation may bring keys for, or None when no config is readable."""
    config = gateway_config()
    return None if config is None else sorted(config.providers)


def configured_model_names() -> list[str] | None:
    """The gateway's model names, or None when no readable gateway config is set."""
    config = gateway_config()
    return None if config is None else sorted(config.models)


def credential_problem(provider_name: str) -> str | None:
    """Why an organisation's own key for this configured provider could never apply, or None."""
    config = gateway_config()
    provider = config.providers.get(provider_name) if config is not None else None
    return key_problem(provider) if provider is not None else None
