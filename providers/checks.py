"""The one cheap call that tests an organisation's key for one of the operator's providers.

Organisations bring keys for providers the operator configured (by provider *name*), never URLs:
the test call goes to the configured base_url only, so a user cannot point the server anywhere.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from gateway.conf.domain import Deployment, GatewayConfig, Provider
from gateway.credentials import key_problem
from gateway.errors import AttemptError, redact
from gateway.upstream.adapters import ADAPTERS
from providers.configured import gateway_config

log = logging.getLogger(__name__)

TEST_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_MESSAGE = 300
_MAX_BODY = 4096


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


def check_secret(*, provider_name: str, secret: str, transport: httpx.BaseTransport | None = None) -> CheckResult:
    """One cheap call to the configured provider with this secret: GET /models where the provider
    speaks OpenAI's API at its base URL, else a one-token chat request to one of its deployments.

    The message never contains the secret: every provider text is redacted before it is returned.
    """
    config = gateway_config()
    provider = config.providers.get(provider_name) if config is not None else None
    if config is None or provider is None:
        return CheckResult(False, "This provider is not in the gateway configuration, so it cannot be tested.")
    problem = key_problem(provider)
    if problem is not None:
        return CheckResult(False, problem)
    provider = dataclasses.replace(provider, api_key=secret)
    try:
        request = _models_request(provider) or _chat_request(config, provider)
    except AttemptError as exc:
        return CheckResult(False, _clean(f"The request could not be prepared: {exc.message}", secret))
    except Exception as exc:  # an adapter refusing this secret's shape, e.g. a malformed AWS key pair
        log.info("credential test for provider %s could not be prepared: %s", provider_name, type(exc).__name__)
        return CheckResult(False, f"The request could not be prepared ({type(exc).__name__}).")
    if request is None:
        return CheckResult(False, "No model of the gateway configuration uses this provider: nothing to test with.")
    method, url, headers, content, deployment = request
    try:
        with httpx.Client(timeout=TEST_TIMEOUT, transport=transport) as client:
            with client.stream(method, url, headers=headers, content=content) as response:
                status = response.status_code
                body = _read_some(response) if status >= 400 else b""
    except httpx.HTTPError as exc:
        log.info("credential test for provider %s failed: %s", provider_name, type(exc).__name__)
        return CheckResult(False, f"Could not reach the provider ({type(exc).__name__}).")
    if status < 400:
        return CheckResult(True, f"The provider accepted the key (HTTP {status}).")
    return CheckResult(
        False, _clean(f"HTTP {status}: {_error_text(deployment, status, body, response.headers)}", secret)
    )


_Request = tuple[str, str, dict[str, str], bytes | None, Deployment | None]


def _models_request(provider: Provider) -> _Request | None:
    """GET {base_url}/models for OpenAI-style providers whose chat path sits beside /models."""
    adapter = ADAPTERS.get(provider.kind)
    if adapter is None or adapter.profile is None or adapter.profile.path != "/chat/completions":
        return None
    probe = Deployment(id=f"{provider.name}/models", provider=provider, upstream_model="models")
    headers = dict(adapter.prepare(probe).headers)
    headers.pop("content-type", None)
    headers["accept"] = "application/json"
    return "GET", f"{provider.base_url}/models", headers, None, None


def _chat_request(config: GatewayConfig, provider: Provider) -> _Request | None:
    deployment = next((d for d in config.deployments() if d.provider.name == provider.name), None)
    if deployment is None:
        return None
    deployment = dataclasses.replace(deployment, provider=provider, prepared=None)
    body = {"model": deployment.upstream_model, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}
    upstream = ADAPTERS[provider.kind].build_request(deployment, body)
    return "POST", upstream.url, dict(upstream.headers), upstream.content, deployment


def _read_some(response: httpx.Response) -> bytes:
    body = b""
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) >= _MAX_BODY:
            break
    return body[:_MAX_BODY]


def _error_text(deployment: Deployment | None, status: int, body: bytes, headers: Any) -> str:
    if deployment is not None:
        try:
            return ADAPTERS[deployment.provider.kind].classify_error(deployment, status, body, headers).message
        except Exception:  # a body the adapter cannot parse: fall back to the generic reading
            pass
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace").strip() or "no details"
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    if isinstance(error, str):
        return error
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return body.decode("utf-8", "replace").strip() or "no details"


def _clean(message: str, secret: str) -> str:
    text = redact(" ".join(message.split()), secret)
    # redact() skips secrets shorter than 4 characters; stored secrets are longer, but be sure.
    if secret:
        text = text.replace(secret, "[redacted]")
    return text[:MAX_MESSAGE]
