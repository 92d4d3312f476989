"""Gateway instances as separate processes (uvicorn on their own ports) against the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from config.supervisor import die_with_parent
from tests.live import database_url

ROOT = Path(__file__).resolve().parents[2]


class GatewayProcess:
    def __init__(self, *, config: Path, redis_url: str, prefix: str, log: Path) -> None:
        sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url,
            "CACHE_PREFIX": prefix,
            "GATEWAY_CONFIG": str(config),
        }
        command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--fd", str(sock.fileno()),
                   "--log-level", "warning", "--no-access-log"]  # fmt: skip
        with log.open("ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            pass_fds=[sock.fileno()], start_new_session=True,
                                            preexec_fn=die_with_parent)  # fmt: skip
        sock.close()

    def wait_ready(self, key: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, "the gateway process exited"
            try:
                if httpx.get(f"{self.url}/v1/models", headers={"authorization": f"Bearer {key}"}).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the gateway process never became ready"
            time.sleep(0.2)

    def chat(self, key: str, model: str) -> httpx.Response:
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
        return httpx.post(f"{self.url}/v1/chat/completions", json=body, timeout=30,
                          headers={"authorization": f"Bearer {key}"})  # fmt: skip

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
