"""./gw up | ./gw test | ./gw manage: provide Postgres and Redis, then run the product or the suite."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from config.embedded import (
    EmbeddedPostgres,
    EmbeddedRedis,
    redis_alive,
    start_postgres,
    start_redis,
)
from config.env import ConfigError, env_bool, env_int
from config.supervisor import Child, Supervisor

ROOT = Path(__file__).resolve().parent.parent
USAGE = """usage: ./gw COMMAND

  up                 run the whole product: web + proxy, Celery worker and beat
  test [ARGS...]     run the test suite (ARGS go to pytest)
  manage ARGS...     run a Django management command against this checkout's data
"""


class LaunchError(Exception):
    """Start-up cannot go on; the message is one line for the operator."""


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    command, rest = argv[0], argv[1:]
    commands = {"up": lambda: up(), "test": lambda: run_tests(rest), "manage": lambda: manage(rest)}
    if command not in commands:
        sys.stderr.write(USAGE)
        return 2
    try:
        return commands[command]()
    except (ConfigError, LaunchError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2


@contextlib.contextmanager
def provided_services(data_dir: Path, *, throwaway: bool) -> Iterator[dict[str, str]]:
    """Yield env vars naming Postgres and Redis: the given ones, or private embedded ones."""
    env: dict[str, str] = {}
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    try:
        if not os.environ.get("DATABASE_URL"):
            postgres = start_postgres(data_dir / "pg", throwaway=throwaway)
            env["DATABASE_URL"] = postgres.url
        if not os.environ.get("REDIS_URL"):
            redis = start_redis(data_dir / "redis", throwaway=throwaway)
            env["REDIS_URL"] = redis.url
        yield env
    finally:
        if redis is not None:
            redis.stop()
        if postgres is not None:
            postgres.stop()


def _secret_key(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def _ensure_port_free(host: str, port: int, variable: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise LaunchError(f"port {port} on {host} is already in use: stop what uses it or set {variable}") from None


def _setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _base_env(data_dir: Path) -> dict[str, str]:
    env = {"DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    if not os.environ.get("SECRET_KEY"):
        env["SECRET_KEY"] = _secret_key(data_dir)
    return env


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


PLAIN_HTTP = {
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
}


def _serving_env(host: str) -> dict[str, str]:
    """Where ./gw up listens decides its defaults; DEBUG stays opt-in everywhere.

    On loopback it is served over plain HTTP, so cookies and redirects must not need HTTPS; on any
    other interface the HTTPS defaults stand, and Django's debug pages must not be served to anyone.
    """
    if not _is_loopback(host):
        if env_bool("DEBUG", False):
            raise LaunchError(
                f"HOST={host} is reachable from other machines and DEBUG=true shows them Django's debug pages:"
                " unset DEBUG (or set HOST=127.0.0.1)"
            )
        return {}
    return {name: value for name, value in PLAIN_HTTP.items() if not os.environ.get(name)}


def up() -> int:
    data_dir = Path(os.environ.get("DATA_DIR") or ROOT / "var").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    host = os.environ.get("HOST", "127.0.0.1")
    os.environ.update(_serving_env(host))
    os.environ.update(_base_env(data_dir))
    port = env_int("PORT", 8000, minimum=1)
    _ensure_port_free(host, port, "PORT")
    demo = not os.environ.get("GATEWAY_CONFIG")
    # Tells the pages to explain the demo's scheduled outages (settings.DEMO_MODE).
    os.environ["GW_DEMO_MODE"] = "true" if demo else "false"
    sim_port = env_int("SIMULATOR_PORT", 8100, minimum=1)
    if demo:
        _ensure_port_free("127.0.0.1", sim_port, "SIMULATOR_PORT")
        os.environ["GATEWAY_CONFIG"] = str(_write_demo_config(data_dir, sim_port))

    # After the port checks: a second ./gw up on the same DATA_DIR must not empty the first one's.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(fresh_metrics_dir(data_dir))
    with provided_services(data_dir, throwaway=False) as service_env:
        _setup_django(service_env)
        _check_gateway_config()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        from accounts.services import bootstrap_local_operator

        welcome = bootstrap_local_operator(data_dir=data_dir)
        if demo:
            from accounts.services import issue_demo_traffic_key

            os.environ["GW_DEMO_TRAFFIC_KEY"] = issue_demo_traffic_key()
        children = _product_children(host, port, sim_port if demo else None)
        supervisor = Supervisor(children, env=dict(os.environ), cwd=ROOT)
        supervisor.start()
        ready = _wait_ready(f"http://{host}:{port}/readyz", supervisor, timeout=60)
        if ready:
            _print_banner(host, port, demo, welcome)
        code = supervisor.run_until_stopped() if ready else 1
        supervisor.stop()
        return code


def fresh_metrics_dir(data_dir: Path) -> Path:
    """Where every web and Celery process keeps its metric values, for /metrics to sum.

    Emptied before any process starts: values of a previous run would be added to this one's.
    """
    path = data_dir / "metrics"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path


def _check_gateway_config() -> None:
    from gateway.conf.domain import ConfigFileError
    from gateway.runtime import load_gateway_config

    try:
        load_gateway_config()
    except ConfigFileError as exc:
        raise LaunchError(str(exc)) from None


def _write_demo_config(data_dir: Path, sim_port: int) -> Path:
    from simulator.demo import demo_gateway_config

    path = data_dir / "demo-gateway.yaml"
    path.write_text(demo_gateway_config(f"http://127.0.0.1:{sim_port}"))
    return path


def _product_children(host: str, port: int, sim_port: int | None) -> list[Child]:
    python = sys.executable
    workers = env_int("WEB_WORKERS", os.cpu_count() or 1, minimum=1)
    children = [
        # granian rather than uvicorn, by measurement (README, Performance): the same code serves
        # 3,015 vs 2,647 RPS at concurrency 64 on one core, with a p99 of 29 vs 84 ms.
        Child(
            "web",
            [
                *(python, "-m", "granian", "--interface", "asgi", "--host", host, "--port", str(port)),
                *("--workers", str(workers), "--loop", "uvloop", "--no-ws", "--log-level", "warning"),
                *("--respawn-failed-workers", "--workers-kill-timeout", "25", "config.asgi:application"),
            ],
        ),
        Child(
            "worker",
            [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(env_int("CELERY_CONCURRENCY", 2, minimum=1)),
            ],
        ),
        Child("beat", [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"]),
    ]
    if sim_port is not None:
        children.insert(
            0, Child("simulator", [python, "-m", "simulator", "--port", str(sim_port), "--scenario", "demo"])
        )
        children.append(Child("demo-traffic", [python, "-m", "gateway.demo_traffic", f"http://{host}:{port}"]))
    return children


def _wait_ready(url: str, supervisor: Supervisor, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if supervisor.stopping or supervisor.failed:
            return False
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        time.sleep(0.2)
    sys.stderr.write(f"error: {url} did not answer 200 within {timeout:.0f} s\n")
    return False


def _print_banner(host: str, port: int, demo: bool, welcome: dict[str, str]) -> None:
    base = f"http://{host}:{port}"
    lines = [
        "",
        f"  LLM Gateway is up at {base}/",
        f"  Log in at {base}/admin/ as {welcome['email']}"
        + (
            f" with password {welcome['password']}"
            if welcome.get("password")
            else f" (password in {welcome['password_file']})"
        ),
        f"  OpenAI base_url: {base}/v1",
    ]
    if welcome.get("api_key"):
        lines.append(f"  Your API key (shown once): {welcome['api_key']}")
    else:
        lines.append("  New API key: ./gw manage create_api_key --org 'Local' --name my-key")
    if demo:
        lines.append("  Demo mode: three simulated providers with scheduled outages (set GATEWAY_CONFIG for real ones)")
    lines += ["  Press Ctrl-C to stop.", ""]
    print("\n".join(lines), flush=True)


CHROMIUM = Path("/usr/bin/chromium")


def _ensure_chromium() -> None:
    """Browser tests drive Debian's Chromium; install it once where we may (root with apt)."""
    if CHROMIUM.exists() or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    print("Installing Debian's chromium for the browser tests (first run only)...", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.call(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL, env=env)
    subprocess.call(["apt-get", "install", "-y", "-qq", "chromium"], stdout=subprocess.DEVNULL, env=env)


def run_tests(pytest_args: list[str]) -> int:
    _ensure_chromium()
    data_dir = Path(tempfile.mkdtemp(prefix="gw-test-"))
    try:
        os.environ.update(_base_env(data_dir))
        # The alert tests post to webhook servers on 127.0.0.1 over http.
        os.environ.update({"DEBUG": "false", "SECURE_SSL_REDIRECT": "false", "ALERT_WEBHOOK_ALLOW_PRIVATE": "true"})
        with provided_services(data_dir, throwaway=True) as service_env:
            env = {**os.environ, **service_env}
            args = [sys.executable, "-m", "pytest", *_parallel_args(pytest_args), *pytest_args]
            code = subprocess.call(args, cwd=ROOT, env=env)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if code == 5:
        sys.stderr.write("error: no tests ran, which counts as a failure\n")
    return code


def _parallel_args(pytest_args: list[str]) -> list[str]:
    if any(arg.startswith(("-n", "--numprocesses")) or arg == "no:xdist" for arg in pytest_args):
        return []
    return ["-n", "auto", "--dist", "loadfile"]


def manage(args: list[str]) -> int:
    data_dir = Path(os.environ.get("DATA_DIR") or ROOT / "var").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(_base_env(data_dir))
    redis_socket = data_dir / "redis" / "redis.sock"
    if not os.environ.get("REDIS_URL") and redis_alive(redis_socket):
        # ./gw up is running: share its Redis rather than start a second one.
        os.environ["REDIS_URL"] = f"unix://{redis_socket}"
    with provided_services(data_dir, throwaway=False) as service_env:
        env = {**os.environ, **service_env}
        return subprocess.call([sys.executable, "manage.py", *args], cwd=ROOT, env=env)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main(sys.argv[1:]))
