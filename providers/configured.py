"""The operator's gateway configuration as the web side reads it: which providers organisations
may bring keys for, and which models their gateway keys may name."""

from __future__ import annotations

import os

from django.conf import settings

from gateway.conf.domain import ConfigFileError, GatewayConfig
from gateway.conf.loader import load_config
from gateway.credentials import key_problem


# Parsing the YAML costs ~40 ms a page: kept while the file (path, size, modification time) and the
# environment it reads keys from stay the same.
_LOADED: dict[tuple[str, int, int, int], GatewayConfig] = {}


def gateway_config() -> GatewayConfig | None:
    """The gateway config, or None when GATEWAY_CONFIG is unset or unreadable."""
    if not settings.GATEWAY_CONFIG:
        return None
    path = str(settings.GATEWAY_CONFIG)
    try:
        stat = os.stat(path)
        version = (path, stat.st_mtime_ns, stat.st_size, hash(frozenset(os.environ.items())))
        if version not in _LOADED:
            _LOADED.clear()
            _LOADED[version] = load_config(path)
        return _LOADED[version]
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
