"""Proxy benchmark: simulator direct vs the gateway (uvicorn, granian) vs LiteLLM, one run.

    .venv/bin/python -m benchmarks.run_proxy [--quick] [--targets ...] [--scenarios ...] [--soak N]
    .venv/bin/python -m benchmarks.run_proxy --baseline REV --rounds 3 --targets gateway-granian ...

See benchmarks/README.md for the methodology.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any

from benchmarks import clients, targets, wrk
from benchmarks.procs import (
    LOAD_CORE,
    Proc,
    cpu_seconds,
    free_port,
    load_average,
    pin_self_to_load_core,
    pinned,
    pinning_available,
    spawn,
)
from benchmarks.report import FailoverRow, FormatRow, LoadRow, MemoryRow, Results, TtftRow, render
from benchmarks.targets import BASELINE_PREFIX, FAULTS, ROOT, Target

TARGETS = ("direct", "bare-relay", "gateway", "gateway-granian", "litellm")
LOAD_SCENARIOS = {f"{kind}-c{c}": (kind == "stream", c) for kind in ("nonstream", "stream") for c in (1, 64)}
FAILOVER = tuple(f"failover-{fault}" for fault in FAULTS)
# One embedding of one short input per request, one connection: gateway vs the simulator direct.
EMBEDDINGS = "embeddings-c1"
EMBEDDING_BODY = {"model": targets.EMBEDDING_MODEL, "input": "Say something short.", "encoding_format": "float"}
# The same question as nonstream-c64, asked through the Responses API (translated to chat on the way):
# its CPU per request beside nonstream-c64's is what the translation costs.
RESPONSES = "responses-c64"
RESPONSES_BODY = {"model": "bench", "input": "Say something short."}
SCENARIO_CHOICES = (
    "nonstream",
    "stream",
    "ttft",
    "failover",
    "formats",
    "embeddings",
    "responses",
    *LOAD_SCENARIOS,
    *FAILOVER,
)
FORMAT_CONNECTIONS = 64
FAILOVER_CONNECTIONS = (1, 64)
FIRST_REQUESTS = 3
TOKENS = 20
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclasses.dataclass
class Plan:
    targets: list[str]
    load: list[str]
    ttft: bool
    faults: list[str]
    formats: bool
    embeddings: bool
    responses: bool
    format_rounds: int
    duration: int
    warmup: int
    ttft_n: int
    soak: int
    mode: str
    # Git revisions, each served from its own worktree beside this checkout.
    baselines: list[str] = dataclasses.field(default_factory=list)
    rounds: int = 1


def parse_args(argv: list[str] | None) -> Plan:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s runs, 1 s warm-up: for development only")
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument(
        "--scenarios",
        nargs="+",
        choices=SCENARIO_CHOICES,
        default=["nonstream", "stream", "ttft", "failover"],
    )
    parser.add_argument("--duration", type=int, help="seconds per measured wrk run (default 10, quick 3)")
    parser.add_argument("--warmup", type=int, help="seconds of wrk warm-up before each run (default 2, quick 1)")
    parser.add_argument("--ttft-requests", type=int, help="sequential streamed requests (default 200, quick 50)")
    parser.add_argument("--format-rounds", type=int, default=5, help="rounds of the formats scenario (default 5)")
    parser.add_argument(
        "--soak",
        type=int,
        default=0,
        metavar="N",
        help="after the scenarios, send N requests per server and sample RSS every 10 %%",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        action="append",
        default=[],
        help="also measure REV (e.g. the commit before a change) under granian, from a git worktree",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --baseline: alternate baseline and this checkout this many times (default 1)",
    )
    args = parser.parse_args(argv)
    chosen = set(args.scenarios)
    load = [s for s in LOAD_SCENARIOS if s in chosen or s.split("-")[0] in chosen]
    faults = [f for f in FAULTS if "failover" in chosen or f"failover-{f}" in chosen]
    return Plan(
        targets=[t for t in TARGETS if t in args.targets],
        load=load,
        ttft="ttft" in chosen,
        faults=faults,
        formats="formats" in chosen,
        embeddings="embeddings" in chosen,
        responses="responses" in chosen,
        format_rounds=max(1, args.format_rounds),
        duration=max(1, args.duration or (3 if args.quick else 10)),
        warmup=max(0, args.warmup if args.warmup is not None else (1 if args.quick else 2)),
        ttft_n=args.ttft_requests or (50 if args.quick else 200),
        soak=args.soak,
        mode="quick" if args.quick else "full",
        baselines=args.baseline,
        rounds=max(1, args.rounds),
    )


def run_order(plan: Plan, baselines: list[str]) -> list[str]:
    """Targets in the order measured: with baselines, they and this checkout's granian alternate,
    so that the machine's drift over minutes shows as spread rather than as a difference."""
    if not baselines:
        return plan.targets
    order = [t for t in plan.targets if t != "gateway-granian"]
    for round_no in range(1, plan.rounds + 1):
        suffix = f".r{round_no}" if plan.rounds > 1 else ""
        order += [name + suffix for name in [*baselines, "gateway-granian"]]
    return order


# ---------------------------------------------------------------- environment


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, check=False, capture_output=True, text=True)
    return done.stdout.strip()


def _meta(plan: Plan) -> dict[str, Any]:
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    wrk_version = (
        subprocess.run(["wrk", "-v"], check=False, capture_output=True, text=True).stdout.split("[")[0].strip()
    )
    pinning = (
        f"server under test on core 0; wrk, simulator, clients, Postgres and Redis on core {LOAD_CORE}"
        if pinning_available()
        else "none (fewer than 2 cores)"
    )
    return {
        "started": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "commit": commit + (" (dirty)" if _git("status", "--porcelain") else ""),
        "mode": plan.mode,
        "duration": plan.duration,
        "warmup": plan.warmup,
        "tokens": TOKENS,
        "targets": plan.targets,
        "pinning": pinning,
        "load_start": load_average(),
        "versions": f"Python {platform.python_version()}, {wrk_version}",
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
    }


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


# ---------------------------------------------------------------- the run


class Bench:
    def __init__(self, plan: Plan, results: Results, work: Path, stack: contextlib.ExitStack) -> None:
        self.plan, self.results, self.work, self.stack = plan, results, work, stack
        self.logs = work / "logs"
        self.logs.mkdir()
        self.sim_url = ""
        self.gateway_env: dict[str, str] = {}
        self.gateway_key = ""
        # Per baseline target name: its worktree, environment and key.
        self.baselines: dict[str, tuple[Path, dict[str, str], str]] = {}

    def note(self, text: str) -> None:
        print(f"note: {text}", flush=True)
        self.results.notes.append(text)

    def run(self) -> None:
        self.start_simulator()
        names = []
        for number, rev in enumerate(self.plan.baselines):
            code, short = targets.baseline_worktree(rev)
            names.append(f"{BASELINE_PREFIX}{short}")
            self.baselines[names[-1]] = self.prepare_baseline(code, f"bench_baseline_{number}")
        self.results.meta["baselines"] = names
        for name in run_order(self.plan, names):
            try:
                self.run_target(name)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                self.note(f"{name}: not measured: {exc}")

    # ------------------------------------------------ simulator and gateway set-up

    def start_simulator(self) -> None:
        port = free_port()
        argv = pinned(
            [sys.executable, "-m", "simulator", "--port", str(port), "--tokens", str(TOKENS)],
            LOAD_CORE,
        )
        proc = self.own(spawn("simulator", argv, env=dict(os.environ), cwd=ROOT, log_dir=self.logs))
        self.sim_url = f"http://127.0.0.1:{port}"
        _wait_http(f"{self.sim_url}/_control/health", proc, timeout=30)
        _control(f"{self.sim_url}/_control/reset", "POST")
        for fault, spec in FAULTS.items():
            if spec is not None:
                _control(f"{self.sim_url}/_control/faults/fo-{fault}-a", "PUT", spec)
        for fmt in targets.FORMATS:
            for pacing, latency in targets.PACINGS.items():
                if latency is not None:
                    _control(f"{self.sim_url}/_control/faults/{targets.format_model(fmt, pacing)}", "PUT", latency)

    def own(self, proc: Proc) -> Proc:
        self.stack.callback(proc.stop)
        return proc

    def prepare_gateway(self) -> None:
        """Private Postgres/Redis, migrations and one API key, shared by both ASGI servers."""
        if self.gateway_key:
            return
        from config.launcher import _base_env, provided_services

        data_dir = self.work / "data"
        data_dir.mkdir()
        print("starting private Postgres and Redis, migrating ...", flush=True)
        services = self.stack.enter_context(provided_services(data_dir, throwaway=True))
        config = self.work / "gateway.yaml"
        config.write_text(targets.gateway_config(self.sim_url))
        self.gateway_env = {
            **os.environ,
            **_base_env(data_dir),
            **services,
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "GATEWAY_CONFIG": str(config),
            **targets.BEDROCK_ENV,
        }
        self._manage("migrate", "--noinput", "-v", "0")
        self.gateway_key = self._manage("create_api_key", "--org", "bench", "--name", f"bench-{os.getpid()}")

    def prepare_baseline(self, code: Path, database: str) -> tuple[Path, dict[str, str], str]:
        """A baseline's own database in the same Postgres, migrated by its own code: two revisions'
        schemas may differ. Same Redis, same simulator, same venv."""
        self.prepare_gateway()
        url = self.gateway_env["DATABASE_URL"]
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {database}")
        base, _, query = url.partition("?")
        env = {
            **self.gateway_env,
            "DATABASE_URL": base.rsplit("/", 1)[0] + f"/{database}" + (f"?{query}" if query else ""),
        }
        self._manage("migrate", "--noinput", "-v", "0", env=env, cwd=code)
        key = self._manage("create_api_key", "--org", "bench", "--name", f"bench-{os.getpid()}", env=env, cwd=code)
        return code, env, key

    def _manage(self, *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> str:
        argv, env = [sys.executable, "manage.py", *args], env or self.gateway_env
        if cwd != ROOT:
            argv, env = targets.other_checkout(argv, env, cwd)
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            check=False,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed: {done.stderr.strip()[-800:]}")
        lines = done.stdout.strip().splitlines()
        return lines[-1].strip() if lines else ""

    def start(self, name: str) -> Target:
        if name == "direct":
            return Target("direct", f"{self.sim_url}/up1/v1/chat/completions", "bench", None, "simulator")
        if name == "bare-relay":
            targets.ensure_granian()
            upstream = f"{self.sim_url}/up1/v1/chat/completions"
            return targets.start_bare_relay(free_port(), upstream, self.logs)
        if name == "litellm":
            version = targets.ensure_litellm(self.logs)
            self.results.meta["versions"] += f", LiteLLM {version}"
            config = self.work / "litellm.yaml"
            config.write_text(targets.litellm_config(self.sim_url))
            return targets.start_litellm(free_port(), config, self.logs, version)
        self.prepare_gateway()
        server = "uvicorn" if name == "gateway" else "granian"
        if server == "granian":
            targets.ensure_granian()
        baseline = self.baselines.get(name.rsplit(".r", 1)[0])
        if baseline is not None:
            code, env, key = baseline
        else:
            env, key, code = self.gateway_env, self.gateway_key, ROOT
        target = targets.start_gateway(name, server, free_port(), env, self.logs, key, code)
        self.results.meta["versions"] += f", {target.version}"
        return target

    # ------------------------------------------------ one target

    def run_target(self, name: str) -> None:
        print(f"== {name}", flush=True)
        target = self.start(name)
        if target.proc is not None:
            self.own(target.proc)
        try:
            self.wait_ready(target)
            self.measure(target)
        except Exception as exc:
            tail = target.proc.tail() if target.proc is not None else ""
            if tail:
                print(f"--- last lines of {name}'s log:\n{tail}", flush=True)
                raise RuntimeError(f"{exc} (log: {tail.splitlines()[-1].strip()})") from exc
            raise
        finally:
            if target.proc is not None:
                target.proc.stop()

    def wait_ready(self, target: Target) -> None:
        alive = target.proc.alive if target.proc is not None else (lambda: True)
        timeout = 180 if target.name == "litellm" else 60
        asyncio.run(clients.wait_until_serving(target.url, target.key, "bench", alive, timeout))
        asyncio.run(clients.check(target.url, target.key, "bench"))

    def measure(self, target: Target) -> None:
        before = target.rss_mb()
        for scenario in self.plan.load:
            stream, connections = LOAD_SCENARIOS[scenario]
            result = self.load_run(target, "bench", stream, connections)
            self.results.load.append(LoadRow(scenario, target.name, result))
            self._check_errors(target, scenario, result)
        if self.plan.embeddings and (target.name == "direct" or target.name.startswith("gateway")):
            url = target.url.replace("/chat/completions", "/embeddings")
            result = self.load_run(target, "bench", False, 1, body=EMBEDDING_BODY, url=url)
            self.results.load.append(LoadRow(EMBEDDINGS, target.name, result))
            self._check_errors(target, EMBEDDINGS, result)
        # A baseline from before /v1/responses would answer 404.
        if self.plan.responses and target.name.startswith("gateway") and BASELINE_PREFIX not in target.name:
            url = target.url.replace("/chat/completions", "/responses")
            result = self.load_run(target, "bench", False, 64, body=RESPONSES_BODY, url=url)
            self.results.load.append(LoadRow(RESPONSES, target.name, result))
            self._check_errors(target, RESPONSES, result)
        if self.plan.ttft:
            result_ttft = asyncio.run(clients.ttft(target.url, target.key, "bench", self.plan.ttft_n))
            self.results.ttft.append(TtftRow(target.name, result_ttft))
            print(
                f"   ttft: p50 {result_ttft.p50_ms:.2f} ms, p99 {result_ttft.p99_ms:.2f} ms",
                flush=True,
            )
        if target.proc is not None:
            for fault in self.plan.faults:
                self.failover(target, fault)
            if self.plan.formats:
                self.formats(target)
        if target.proc is not None:
            self.memory(target, before)

    def load_run(
        self,
        target: Target,
        model: str,
        stream: bool,
        connections: int,
        body: dict[str, Any] | None = None,
        url: str = "",
    ) -> wrk.WrkResult:
        """wrk at ``connections`` on a chat request for ``model``, or on ``body`` at ``url``."""
        body = body or clients.chat_body(model, stream=stream)
        url = url or target.url
        name = body["model"] if url == target.url else url.rsplit("/", 1)[-1]
        script = wrk.write_script(self.work / f"{target.name}-{name}-{stream}.lua", body, target.key)
        if self.plan.warmup > 0:
            wrk.run(url, script, connections=connections, seconds=self.plan.warmup)
        pid = target.proc.pid if target.proc is not None else None
        before = cpu_seconds(pid) if pid is not None else 0.0
        result = wrk.run(url, script, connections=connections, seconds=self.plan.duration)
        if pid is not None and result.requests:
            result.cpu_us = (cpu_seconds(pid) - before) / result.requests * 1e6
        kind = "stream" if stream else "nonstream"
        print(
            f"   {model} {kind} c={connections}: {result.rps:.0f} rps, p50 {result.p50_ms:.2f} ms, "
            f"p99 {result.p99_ms:.2f} ms, errors {result.errors or 0}",
            flush=True,
        )
        return result

    def _check_errors(self, target: Target, scenario: str, result: wrk.WrkResult) -> None:
        if result.error_count:
            self.note(f"{target.name} {scenario}: wrk counted errors {result.errors}")

    def failover(self, target: Target, fault: str) -> None:
        model = targets.failover_model(fault)
        first = asyncio.run(clients.first_requests(target.url, target.key, model, FIRST_REQUESTS))
        if any(p.status != 200 for p in first):
            self.note(f"{target.name} failover-{fault}: first requests answered {[p.status for p in first]}")
        for connections in FAILOVER_CONNECTIONS:
            result = self.load_run(target, model, False, connections)
            self.results.failover.append(FailoverRow(fault, target.name, result, first))
            self._check_errors(target, f"failover-{fault} c={connections}", result)

    def formats(self, target: Target) -> None:
        """CPU the serving process spends per request, by upstream wire format, at c=64.

        This machine's speed drifts by tens of percent over minutes, so each translating format
        runs right after an OpenAI pass-through run of the same shape, and the ratio is taken
        within that pair. The table keeps the median over rounds."""
        rows = {}
        for pacing in targets.PACINGS:
            for stream in (False, True):
                for fmt in targets.FORMATS:
                    rows[fmt, pacing, stream] = FormatRow(fmt, stream, target.name, pacing)
                    self.results.formats.append(rows[fmt, pacing, stream])
        warmed: set[str] = set()
        for _ in range(self.plan.format_rounds):
            for pacing in targets.PACINGS:
                for stream in (False, True):
                    for fmt in targets.FORMATS[1:]:
                        base = self.format_run(target, rows["openai", pacing, stream], warmed)
                        row = rows[fmt, pacing, stream]
                        row.ratios.append(self.format_run(target, row, warmed) / base)

    def format_run(self, target: Target, row: FormatRow, warmed: set[str]) -> float:
        assert target.proc is not None
        model = targets.format_model(row.fmt, row.pacing)
        body = clients.chat_body(model, stream=row.stream)
        script = wrk.write_script(self.work / f"{target.name}-{model}-{row.stream}.lua", body, target.key)
        if f"{model}-{row.stream}" not in warmed:
            warmed.add(f"{model}-{row.stream}")
            wrk.run(target.url, script, connections=FORMAT_CONNECTIONS, seconds=max(1, self.plan.warmup))
        before = cpu_seconds(target.proc.pid)
        result = wrk.run(target.url, script, connections=FORMAT_CONNECTIONS, seconds=self.plan.duration)
        used = cpu_seconds(target.proc.pid) - before
        self._check_errors(target, f"format {row.fmt}", result)
        if not result.requests:
            raise RuntimeError(f"{model}: no request answered in {self.plan.duration} s")
        row.add(result, used)
        us = used / result.requests * 1e6
        print(f"   {model} stream={row.stream}: {us:.0f} µs CPU/request, {result.rps:.0f} rps", flush=True)
        return us

    def memory(self, target: Target, before: float | None) -> None:
        row = MemoryRow(target.name, before, target.rss_mb())
        if self.plan.soak:
            print(f"   soak: {self.plan.soak} requests ...", flush=True)
            row.soak, row.soak_failures = asyncio.run(
                clients.soak(target.url, target.key, "bench", self.plan.soak, target.rss_mb)
            )
        self.results.memory.append(row)


def _control(url: str, method: str, payload: dict[str, Any] | None = None) -> None:
    data = json.dumps(payload).encode() if payload is not None else b""
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _wait_http(url: str, proc: Proc, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not answer {url} within {timeout:.0f} s")


# ---------------------------------------------------------------- output


def write_outputs(results: Results, stamp: str) -> Path:
    markdown = render(results)
    (RESULTS_DIR / f"{stamp}.md").write_text(markdown)
    (RESULTS_DIR / f"{stamp}.json").write_text(json.dumps(dataclasses.asdict(results), indent=2))
    if results.meta["mode"] == "full":
        # A --quick run during development must not replace the committed full-run tables.
        (RESULTS_DIR / "latest.md").write_text(markdown)
    print(markdown)
    return RESULTS_DIR / f"{stamp}.md"


def run(plan: Plan, results: Results, logs_to: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="gw-bench-") as tmp:
        work = Path(tmp)
        try:
            with contextlib.ExitStack() as stack:
                Bench(plan, results, work, stack).run()
        finally:
            # Server logs outlive the throwaway folder: they are the evidence for any error above.
            shutil.copytree(work / "logs", logs_to, dirs_exist_ok=True)


def main(argv: list[str] | None = None) -> int:
    plan = parse_args(argv)
    if shutil.which("wrk") is None:
        print("error: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    # SIGINT too: a shell that starts us in the background leaves it ignored otherwise.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupt)
    pin_self_to_load_core()
    # provided_services would reuse an outside Postgres/Redis if these were set; the run is private.
    for variable in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(variable, None)
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    results = Results(meta=_meta(plan))
    code = 0
    try:
        run(plan, results, RESULTS_DIR / f"{stamp}-logs")
    except KeyboardInterrupt:
        results.notes.append("interrupted: partial results")
        code = 130
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        results.notes.append(f"run aborted: {exc}")
        code = 1
    results.meta["load_end"] = load_average()
    path = write_outputs(results, stamp)
    print(f"\nwritten: {path} (+ .json, {stamp}-logs/; latest.md on full runs)", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
