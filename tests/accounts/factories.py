"""Test data for provider credentials, usage and the management API: attempt rows, a gateway
config naming local providers, and a fake provider that checks the key it is sent."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from accounts.models import ApiKey, Organization, ProviderCredential, User
from accounts.services import create_api_key
from monitoring.models import Attempt
from providers.services import set_provider_credential

# Long and distinctive, so a leak anywhere is easy to grep for.
PROVIDER_SECRET = "prov-Zq8XvL2mN5pR7tY1wK4e"
GOOD_KEY = "prov-good-key-0123456789abcdef"


def make_credential(
    org: Organization, provider: str = "openai-main", secret: str = PROVIDER_SECRET, by: User | None = None
) -> ProviderCredential:
    return set_provider_credential(organization=org, provider=provider, secret=secret, created_by=by)[0]


def make_management_key(org: Organization, by: User | None, name: str = "ops") -> tuple[ApiKey, str]:
    """A person's management key, or with ``by=None`` the operator's (as the command line makes it)."""
    created = create_api_key(
        organization=org, name=name, created_by=by, scopes=["management"], is_operator=by is None
    )
    return created.api_key, created.plaintext


def make_attempt(
    org: Organization | None,
    *,
    started_at: datetime,
    request_id: str | None = None,
    attempt: int = 1,
    key: ApiKey | None = None,
    model: str = "chat",
    deployment: str = "openai-main/chat",
    outcome: str = "ok",
    final: bool = True,
    rescued: bool = False,
    prompt_tokens: int | None = 10,
    completion_tokens: int | None = 5,
    cost_usd: str | None = "0.001",
) -> Attempt:
    return Attempt.objects.create(
        id=uuid.uuid4(),
        request_id=request_id or uuid.uuid4().hex,
        attempt=attempt,
        started_at=started_at,
        org_id=org.pk if org is not None else None,
        key_id=key.pk if key is not None else None,
        requested_model=model,
        model=model,
        provider=deployment.split("/")[0],
        deployment=deployment,
        stream=False,
        outcome=outcome,
        status_code=None if outcome == "ok" else 500,
        latency_ms=12.0,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cached_tokens=0 if prompt_tokens is not None else None,
        rescued=rescued,
        final=final,
        cost_usd=Decimal(cost_usd) if cost_usd is not None else None,
    )


def day(text: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(text).replace(hour=hour, tzinfo=UTC)


@dataclass
class FakeProvider:
    """Answers like OpenAI (GET /v1/models) and Anthropic (POST /v1/messages); a wrong key gets a
    401 whose message repeats the key, as some providers do, so redaction is put to the test."""

    url: str
    seen_keys: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def _key(self) -> str:
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth else self.headers.get("x-api-key", "")

    def _answer(self, ok_body: dict[str, Any]) -> None:
        key = self._key()
        self.server.seen_keys.append(key)
        if key == GOOD_KEY:
            status, body = 200, ok_body
        else:
            status = 401
            body = {"error": {"message": f"Incorrect API key provided: {key}", "type": "authentication_error"}}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._answer({"object": "list", "data": [{"id": "chat", "object": "model"}]})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self._answer({"id": "msg_1", "type": "message", "content": [{"type": "text", "text": "p"}]})

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def fake_provider() -> Iterator[FakeProvider]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.seen_keys = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeProvider(url=f"http://127.0.0.1:{server.server_port}/v1", seen_keys=server.seen_keys)  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def write_gateway_config(tmp_path: Path, base_url: str = "http://127.0.0.1:9/v1") -> Path:
    """Two providers, "openai-main" (OpenAI's API) and "claude" (Anthropic's), one model each."""
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "providers:\n"
        f"  - {{name: openai-main, kind: openai, base_url: '{base_url}', api_key: operator-key-1}}\n"
        f"  - {{name: claude, kind: anthropic, base_url: '{base_url}', api_key: operator-key-2}}\n"
        "models:\n"
        "  - name: chat\n    deployments: [{provider: openai-main, model: chat}]\n"
        "  - name: sonnet\n    deployments: [{provider: claude, model: claude-sonnet}]\n"
    )
    return config
