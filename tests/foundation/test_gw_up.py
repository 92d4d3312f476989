"""./gw up as a newcomer runs it: private Postgres and Redis, demo mode, banner, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def launched(tmp_path: Path) -> subprocess.Popen[bytes]:
    port, sim_port = _free_port(), _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "GATEWAY_CONFIG", "SECURE_SSL_REDIRECT")
    }
    env.update(
        DATA_DIR=str(tmp_path / "var"),
        PORT=str(port),
        SIMULATOR_PORT=str(sim_port),
        WEB_WORKERS="1",
        CELERY_CONCURRENCY="1",
    )
    log = (tmp_path / "up.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "config.launcher", "up"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    process.log_path = tmp_path / "up.log"  # type: ignore[attr-defined]
    process.port = port  # type: ignore[attr-defined]
    yield process
    if process.poll() is None:
        # Stop it as a user would, so that a failed assertion leaves no services behind either.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _banner(process: subprocess.Popen[bytes], timeout: float) -> list[str]:
    log_path: Path = process.log_path  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = log_path.read_text(errors="replace").splitlines()
        if any("Press Ctrl-C to stop." in line for line in lines):
            return lines
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError("no banner:\n" + "\n".join(lines[-40:]))


def test_up_serves_the_demo_and_ctrl_c_leaves_no_process_behind(launched: subprocess.Popen[bytes]) -> None:
    started = time.monotonic()
    lines = _banner(launched, timeout=90)
    base = f"http://127.0.0.1:{launched.port}"  # type: ignore[attr-defined]
    assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    assert time.monotonic() - started < 60
    key = next(line.split()[-1] for line in lines if "API key (shown once)" in line)
    answer = httpx.post(
        f"{base}/v1/chat/completions",
        timeout=30,
        headers={"authorization": f"Bearer {key}"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"].startswith("Hello from sim-")
    _assert_no_debug_pages_and_plain_http_login_works(base, lines)

    family = psutil.Process(launched.pid).children(recursive=True)
    commands = [" ".join(p.cmdline()) for p in family]
    for part in ("granian", "celery -A config worker", "celery -A config beat", "simulator", "demo_traffic"):
        assert any(part in command for command in commands), (part, commands)
    launched.send_signal(signal.SIGINT)
    assert launched.wait(timeout=60) == 0
    time.sleep(0.5)
    leftovers = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not leftovers, [" ".join(p.cmdline()) for p in leftovers]


def _assert_no_debug_pages_and_plain_http_login_works(base: str, banner: list[str]) -> None:
    for path in ("/no-such-page/", "/api/", "/api/no-such-endpoint/"):
        response = httpx.get(f"{base}{path}", timeout=5)
        assert response.status_code == 404, path
        assert "URLconf" not in response.text and "DEBUG = True" not in response.text, path
        assert "Page not found" in response.text, path
    assert httpx.get(f"{base}/static/admin/css/base.css", timeout=5).status_code == 200
    password = next(line for line in banner if "Log in at" in line).split()[-1]
    with httpx.Client(base_url=base, timeout=5) as browser:
        page = browser.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token is not None and "csrftoken" in browser.cookies
        login = {"csrfmiddlewaretoken": token.group(1), "username": "admin@localhost", "password": password}
        response = browser.post("/login/", data=login)
        assert response.status_code == 302, response.text[:500]
        home = browser.get("/", follow_redirects=True)
        assert home.url.path.startswith("/orgs/")
        # The pages explain the demo's outages, and point snippets at the PORT really served.
        assert "Demo mode:" in home.text and "sim-openai answers 503" in home.text
        assert f"{base}/v1" in home.text


def test_up_on_a_public_interface_with_debug_stops_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=str(tmp_path / "var"), HOST="0.0.0.0", DEBUG="true", PORT=str(_free_port()))
    result = subprocess.run(
        [sys.executable, "-m", "config.launcher", "up"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "HOST=0.0.0.0" in lines[0] and "DEBUG" in lines[0], result.stderr
    assert not (tmp_path / "var" / "pg").exists()
