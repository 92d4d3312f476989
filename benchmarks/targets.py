"""The things measured: the simulator itself, the gateway under two ASGI servers, LiteLLM."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks.procs import SERVER_CORE, Proc, pinned, spawn, worker_rss_mb

ROOT = Path(__file__).resolve().parent.parent
LITELLM_VENV = ROOT / "var" / "bench" / "litellm-venv"
LITELLM_KEY = "sk-bench-litellm"
BASELINE_DIR = ROOT / "var" / "bench" / "baseline"
BASELINE_PREFIX = "gateway-granian@"
DEAD_URL = "http://127.0.0.1:9/v1"  # nothing listens on the discard port: connection refused
# The first deployment of each failover model; the second is always a healthy simulator provider.
FAULTS: dict[str, dict[str, Any] | None] = {
    "500": {"status": 500},
    "429": {"status": 429},
    "refused": None,
    "hang": {"kind": "hang"},
}
PRIMARY_TIMEOUT = {"connect": 1, "first_token": 2, "idle": 5, "total": 30}
# One single-deployment model per upstream wire format, to compare the gateway's CPU per request.
FORMATS = ("openai", "anthropic", "gemini", "bedrock")
# "burst": the whole answer at once, so a busy gateway reads many events per read (the worst case
# for a translating adapter); "paced": a token every millisecond, as a model streams.
PACINGS = {"burst": None, "paced": {"inter_token": 0.001}}
# Not the simulator's own test key: it checks only that requests are signed, so its core stays free.
BEDROCK_ENV = {"BENCH_AWS_KEY_ID": "AKIABENCHMARK0000001", "BENCH_AWS_SECRET": "benchmark/secret/access/key/0000000000"}


@dataclass
class Target:
    name: str
    url: str
    key: str
    proc: Proc | None = None
    version: str = ""

    def rss_mb(self) -> float | None:
        return worker_rss_mb(self.proc.pid) if self.proc is not None else None


def failover_model(fault: str) -> str:
    return f"fo-{fault}"


def _primary_url(sim: str, fault: str) -> str:
    return DEAD_URL if FAULTS[fault] is None else f"{sim}/fo-{fault}-a/v1"


# ---------------------------------------------------------------- gateway


EMBEDDING_MODEL = "text-embedding-3-small"


def gateway_config(sim: str) -> str:
    providers: list[dict[str, Any]] = [
        {
            "name": "up1",
            "kind": "openai",
            "base_url": f"{sim}/up1/v1",
            "api_key": "bench",
            "timeout": PRIMARY_TIMEOUT,
        },
    ]
    models: list[dict[str, Any]] = [
        {"name": "bench", "deployments": [{"provider": "up1", "model": "bench"}]},
        # An embedding model by its catalog id (the embeddings scenario).
        {"name": EMBEDDING_MODEL, "deployments": [{"provider": "up1", "model": EMBEDDING_MODEL}]},
    ]
    for fault in FAULTS:
        # One provider pair per fault, so one scenario's open breaker never leaks into the next.
        primary, backup = f"fo-{fault}-a", f"fo-{fault}-b"
        providers += [
            {
                "name": primary,
                "kind": "openai",
                "base_url": _primary_url(sim, fault),
                "api_key": "bench",
                "timeout": PRIMARY_TIMEOUT,
            },
            {
                "name": backup,
                "kind": "openai",
                "base_url": f"{sim}/{backup}/v1",
                "api_key": "bench",
            },
        ]
        models.append(
            {
                "name": failover_model(fault),
                "deployments": [
                    {"provider": primary, "model": "fo"},
                    {"provider": backup, "model": "fo"},
                ],
            }
        )
    for fmt in FORMATS:
        for pacing in PACINGS:
            name = format_model(fmt, pacing)
            providers.append(_format_provider(sim, fmt, name))
            models.append({"name": name, "deployments": [{"provider": name, "model": "fmt"}]})
    return yaml.safe_dump({"providers": providers, "models": models}, sort_keys=False)


def format_model(fmt: str, pacing: str) -> str:
    """Model and provider name of one wire format at one pacing."""
    return f"fmt-{fmt}-{pacing}"


def _format_provider(sim: str, fmt: str, name: str) -> dict[str, Any]:
    if fmt == "bedrock":
        options = {"access_key_id_env": "BENCH_AWS_KEY_ID", "secret_access_key_env": "BENCH_AWS_SECRET"}
        return {"name": name, "kind": fmt, "base_url": f"{sim}/{name}", "region": "us-east-1", "options": options}
    path = {"openai": "v1", "anthropic": "v1", "gemini": "v1beta"}[fmt]
    return {"name": name, "kind": fmt, "base_url": f"{sim}/{name}/{path}", "api_key": "bench-key-0000000000"}


def granian_argv(port: int, app: str) -> list[str]:
    py = sys.executable
    argv = [py, "-m", "granian", "--interface", "asgi", "--workers", "1", "--loop", "uvloop"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", app]
    return pinned(argv, SERVER_CORE)


def start_bare_relay(port: int, upstream: str, log_dir: Path) -> Target:
    env = {**os.environ, "BARE_RELAY_UPSTREAM": upstream}
    proc = spawn("bare-relay", granian_argv(port, "benchmarks.bare_relay:app"), env=env, cwd=ROOT, log_dir=log_dir)
    return Target("bare-relay", f"http://127.0.0.1:{port}/v1/chat/completions", "none", proc, "bare relay")


def gateway_argv(server: str, port: int) -> list[str]:
    py = sys.executable
    if server == "uvicorn":
        argv = [
            py,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--lifespan",
            "on",
            "--no-access-log",
            "--workers",
            "1",
        ]
    else:
        return granian_argv(port, "config.asgi:application")
    return pinned(argv, SERVER_CORE)


def other_checkout(argv: list[str], env: dict[str, str], code: Path) -> tuple[list[str], dict[str, str]]:
    """Run ``argv`` (this venv's Python) on the code in ``code``: without site processing, so that
    this checkout's editable install cannot answer for a module ``code`` lacks."""
    python = argv.index(sys.executable)
    site_packages = sysconfig.get_paths()["purelib"]
    return [*argv[: python + 1], "-S", *argv[python + 1 :]], {**env, "PYTHONPATH": f"{code}:{site_packages}"}


def baseline_worktree(rev: str) -> tuple[Path, str]:
    """A detached git worktree of ``rev`` under var/bench/baseline/, made once; its path and short sha."""
    short = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    path = BASELINE_DIR / short
    if not (path / "gateway").is_dir():
        BASELINE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=False, capture_output=True)
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--force", str(path), short],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
    return path, short


def ensure_granian() -> str:
    try:
        return importlib.metadata.version("granian")
    except importlib.metadata.PackageNotFoundError:
        pass
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "granian"],
        check=True,
        capture_output=True,
        text=True,
    )
    return importlib.metadata.version("granian")


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def start_gateway(
    name: str, server: str, port: int, env: dict[str, str], log_dir: Path, key: str, code: Path = ROOT
) -> Target:
    """The gateway from ``code``: this checkout, or a baseline worktree (same venv, same database)."""
    argv = gateway_argv(server, port)
    if code != ROOT:
        argv, env = other_checkout(argv, env, code)
    proc = spawn(name, argv, env=env, cwd=code, log_dir=log_dir)
    version = f"{server} {package_version(server)}"
    return Target(name, f"http://127.0.0.1:{port}/v1/chat/completions", key, proc, version)


# ---------------------------------------------------------------- LiteLLM


def _litellm_python() -> Path:
    return LITELLM_VENV / "bin" / "python"


def ensure_litellm(log_dir: Path) -> str:
    """Create var/bench/litellm-venv on first use; return the installed LiteLLM version."""
    python = _litellm_python()
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
    probe = [str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"]
    found = subprocess.run(probe, check=False, capture_output=True, text=True)
    if found.returncode == 0:
        return found.stdout.strip()
    print("installing litellm[proxy] into var/bench/litellm-venv (once) ...", flush=True)
    log = log_dir / "litellm-install.log"
    with log.open("w") as out:
        code = subprocess.call(
            [str(python), "-m", "pip", "install", "litellm[proxy]"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if code != 0:
        tail = "\n".join(log.read_text().splitlines()[-5:])
        raise RuntimeError(f"pip install litellm[proxy] failed ({code}):\n{tail}")
    return subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()


def _litellm_deployment(name: str, model: str, api_base: str, timeout: float) -> dict[str, Any]:
    params = {
        "model": f"openai/{model}",
        "api_base": api_base,
        "api_key": "bench",
        "timeout": timeout,
        "max_retries": 0,
    }
    return {"model_name": name, "litellm_params": params}


def litellm_config(sim: str) -> str:
    models = [_litellm_deployment("bench", "bench", f"{sim}/up1/v1", 30)]
    fallbacks = []
    for fault in FAULTS:
        name = failover_model(fault)
        models += [
            _litellm_deployment(name, "fo", _primary_url(sim, fault), PRIMARY_TIMEOUT["first_token"]),
            _litellm_deployment(f"{name}-backup", "fo", f"{sim}/fo-{fault}-b/v1", 30),
        ]
        fallbacks.append({name: [f"{name}-backup"]})
    config = {
        "model_list": models,
        # allowed_fails 2 = cooldown on the 3rd failure, like the gateway's breaker threshold;
        # no same-deployment retries, so the fallback is the only second chance, as in the gateway.
        "router_settings": {"num_retries": 0, "allowed_fails": 2, "fallbacks": fallbacks},
        "litellm_settings": {"num_retries": 0, "turn_off_message_logging": True},
        "general_settings": {"master_key": LITELLM_KEY},
    }
    return yaml.safe_dump(config, sort_keys=False)


def litellm_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "VIRTUAL_ENV")}
    env.update(
        {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the price list from the internet
            "LITELLM_LOG": "ERROR",
            "LITELLM_MODE": "PRODUCTION",
            "PATH": f"{LITELLM_VENV / 'bin'}:{env.get('PATH', '')}",
        }
    )
    return env


def start_litellm(port: int, config: Path, log_dir: Path, version: str) -> Target:
    argv = [
        str(LITELLM_VENV / "bin" / "litellm"),
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        "1",
    ]
    proc = spawn("litellm", pinned(argv, SERVER_CORE), env=litellm_env(), cwd=log_dir, log_dir=log_dir)
    return Target(
        "litellm",
        f"http://127.0.0.1:{port}/v1/chat/completions",
        LITELLM_KEY,
        proc,
        f"LiteLLM {version}",
    )
