"""Node clients against the live gateway: the openai package (v4, v5, v6: chat completions, the
Responses API, legacy completions, embeddings, models), @anthropic-ai/sdk, and the AI SDK over
@ai-sdk/openai (``openai(id)``: the Responses API, and ``openai.chat(id)``), @ai-sdk/openai-compatible
and @ai-sdk/anthropic.

Each client is one ``node`` run of a script in tests/clients/node/ that performs every check in
order (the failover last: it switches the simulator's fault on) and prints what failed. The pinned
packages are installed once with ``npm ci`` into tests/clients/node/node_modules (gitignored).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clients.conftest import (
    BAD_KEY,
    COMPLETION_TOKENS,
    EMBEDDING_MODEL,
    EMBEDDING_SIZE,
    HELLO_CHAT,
    HELLO_CHAT_FAILOVER,
    HELLO_CLAUDE,
    HELLO_CLAUDE_FAILOVER,
    PRIMARY,
    ClientGateway,
)

NODE_DIR = Path(__file__).parent / "node"
NODE = shutil.which("node")
NPM = shutil.which("npm")
pytestmark = pytest.mark.skipif(NODE is None or NPM is None, reason="node/npm are not installed")
CHECKS = ("chat", "stream", "usage", "tools", "structured", "errors")
OPENAI = (*CHECKS, "embeddings", "models", "failover")
AI_SDK = (*CHECKS, "multiturn")
# client -> (script, argument, the checks it reports: the failover last, it switches the fault on)
CLIENTS = {
    "openai-v4": ("openai.mjs", "4", OPENAI),
    "openai-v5": ("openai.mjs", "5", OPENAI),
    "openai-v6": ("openai.mjs", "6", OPENAI),
    "anthropic-sdk": ("anthropic.mjs", "", (*CHECKS, "models", "failover")),
    "ai-sdk-openai-responses": ("ai-sdk.mjs", "openai", (*AI_SDK, "multiturn-stored", "embeddings", "failover")),
    "ai-sdk-openai-chat": ("ai-sdk.mjs", "openai-chat", (*AI_SDK, "failover")),
    "ai-sdk-openai-compatible": ("ai-sdk.mjs", "openai-compatible", (*AI_SDK, "embeddings", "failover")),
    "ai-sdk-anthropic": ("ai-sdk.mjs", "anthropic", (*AI_SDK, "failover")),
}
# Known failures, with the error they give today: (client, check) -> reason.
XFAIL: dict[tuple[str, str], str] = {}


def known(client: str, check: str) -> list[pytest.MarkDecorator]:
    reason = XFAIL.get((client, check))
    return [] if reason is None else [pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)]


PAIRS = [pytest.param(client, check, marks=known(client, check)) for client, (*_, checks) in CLIENTS.items()
         for check in checks]  # fmt: skip
EXPECT = {
    "chat": {"hello": HELLO_CHAT, "failover": HELLO_CHAT_FAILOVER, "tokens": COMPLETION_TOKENS,
             "providers": ["cl-a", "cl-b"]},
    "claude": {"hello": HELLO_CLAUDE, "failover": HELLO_CLAUDE_FAILOVER, "tokens": COMPLETION_TOKENS,
               "providers": ["an-a", "an-b"]},
}  # fmt: skip


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """``npm ci`` once, again only when the lockfile changes."""
    stamp = NODE_DIR / "node_modules" / ".lock-installed"
    lock = (NODE_DIR / "package-lock.json").read_text()
    if not stamp.exists() or stamp.read_text() != lock:
        subprocess.run([str(NPM), "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300,
                       capture_output=True)  # fmt: skip
        stamp.write_text(lock)
    return NODE_DIR / "node_modules"


@pytest.fixture(scope="module")
def results(live_gateway: ClientGateway, node_modules: Path) -> Callable[[str], dict[str, str | None]]:
    """Each client's {check: None | error}, from one script run per client (run on first use)."""
    cache: dict[str, dict[str, str | None]] = {}

    def of(client: str) -> dict[str, str | None]:
        if client not in cache:
            live_gateway.reset()
            script, argument, _ = CLIENTS[client]
            env = {
                **os.environ,
                "GATEWAY_URL": live_gateway.url,
                "GATEWAY_KEY": live_gateway.key,
                "GATEWAY_BAD_KEY": BAD_KEY,
                "SIM_URL": live_gateway.sim.base_url,
                "GATEWAY_EXPECT": json.dumps(EXPECT),
                "GATEWAY_PRIMARIES": json.dumps(PRIMARY),
                "GATEWAY_EMBEDDING_MODEL": EMBEDDING_MODEL,
                "GATEWAY_EMBEDDING_SIZE": str(EMBEDDING_SIZE),
            }
            run = subprocess.run([str(NODE), script, *([argument] if argument else [])], cwd=NODE_DIR, env=env,
                                 capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
            assert run.returncode == 0, run.stderr
            cache[client] = json.loads(run.stdout.strip().splitlines()[-1])
        return cache[client]

    return of


@pytest.mark.parametrize(("client", "check"), PAIRS)
def test_node_client(results: Callable[[str], dict[str, str | None]], client: str, check: str, db: None) -> None:
    assert results(client)[check] is None, results(client)[check]
