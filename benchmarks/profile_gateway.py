"""Where the gateway's time goes: a sampling profile of its worker under load, by pipeline stage.

    .venv/bin/python -m benchmarks.profile_gateway [--seconds 20] [--stream]

One run: the simulator, the bare relay (benchmarks/bare_relay.py, the floor) and the gateway under
granian, one worker pinned to core 0 like run_proxy. wrk loads each at c=64 for RPS; then py-spy
samples the gateway worker during another wrk run, and every sample is charged to the first stage
found walking its stack from the innermost frame out. The table says µs per request per stage:
the stage's share of samples times the worker's CPU per request (its own counters). Time in C code
(orjson, granian's send, the socket) counts for the Python frame that called it: the response's
sending shows under the pipeline, the upstream's reading under the relay.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime
import importlib.metadata
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psutil

from benchmarks import clients, wrk
from benchmarks.procs import cpu_seconds, pin_self_to_load_core
from benchmarks.report import NA
from benchmarks.run_proxy import RESULTS_DIR, Bench, Plan
from benchmarks.targets import Target

# (stage, patterns in a frame "function (file:line)"), checked from the innermost frame outwards.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("limiter (Redis check and settle)", ("gateway/limits.py", "redis/")),
    ("auth (key cache)", ("authenticate (", "gateway/keys.py")),
    ("body read, parse and validation", ("read_body (", "parse_body (", "gateway/validation.py", "make_job (")),
    ("routing and health", ("gateway/routing/router.py", "gateway/routing/health.py")),
    ("adapter (request translation, stream decoding)", ("gateway/upstream/adapters/",)),
    ("attempt and request records", ("gateway/events/", "gateway/usage.py", "finish_attempt (", "_finish (")),
    ("encoding for the client (codec)", ("gateway/inbound/",)),
    (
        "upstream relay (transport, stream, chunks)",
        ("gateway/upstream/attempt.py", "gateway/upstream/transport.py", "gateway/upstream/chunks.py", "aiohttp/"),
    ),
    ("pipeline and failover control, sending the response", ("gateway/pipeline.py", "gateway/routing/failover.py")),
]
OTHER = "server, event loop and the rest (granian, uvloop, asyncio)"


def ensure_py_spy() -> str:
    try:
        return importlib.metadata.version("py-spy")
    except importlib.metadata.PackageNotFoundError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)
        return importlib.metadata.version("py-spy")


def stage_of(stack: str) -> str:
    frames = stack.split(";")
    for frame in reversed(frames):
        for stage, patterns in STAGES:
            if any(pattern in frame for pattern in patterns):
                return stage
    return OTHER


def worker_pid(target: Target) -> int:
    assert target.proc is not None
    family = [psutil.Process(target.proc.pid), *psutil.Process(target.proc.pid).children(recursive=True)]
    return max(family, key=lambda p: p.memory_info().rss).pid


def profile(target: Target, script: Path, seconds: int, out: Path) -> tuple[collections.Counter[str], float, int]:
    """Samples by stage, CPU seconds used by the worker, requests answered."""
    pid = worker_pid(target)
    argv = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid), "--format", "raw"]
    argv += ["--rate", "250", "--duration", str(seconds), "--nonblocking", "--output", str(out)]
    spy = threading.Thread(target=subprocess.run, args=(argv,), kwargs={"capture_output": True}, daemon=True)
    before = cpu_seconds(pid)
    spy.start()
    result = wrk.run(target.url, script, connections=64, seconds=seconds)
    used = cpu_seconds(pid) - before
    spy.join(timeout=30)
    stages: collections.Counter[str] = collections.Counter()
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stages[stage_of(stack)] += int(count)
    return stages, used, result.requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--stream", action="store_true", help="streamed answers (default: whole answers)")
    args = parser.parse_args(argv)
    ensure_py_spy()
    pin_self_to_load_core()
    for variable in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(variable, None)
    plan = Plan(
        targets=["bare-relay", "gateway-granian"],
        load=[],
        ttft=False,
        faults=[],
        formats=False,
        embeddings=False,
        responses=False,
        format_rounds=1,
        duration=args.seconds,
        warmup=2,
        ttft_n=0,
        soak=0,
        mode="full",
    )
    from benchmarks.report import Results

    results = Results(meta={"versions": ""})
    with tempfile.TemporaryDirectory(prefix="gw-profile-") as tmp, contextlib.ExitStack() as stack:
        bench = Bench(plan, results, Path(tmp), stack)
        bench.start_simulator()
        rps = {}
        for name in plan.targets:
            target = bench.start(name)
            assert target.proc is not None
            bench.own(target.proc)
            bench.wait_ready(target)
            rps[name] = bench.load_run(target, "bench", args.stream, 64)
            if name == "gateway-granian":
                body = clients.chat_body("bench", stream=args.stream)
                script = wrk.write_script(Path(tmp) / "profile.lua", body, target.key)
                stages, used, requests = profile(target, script, args.seconds, Path(tmp) / "profile.txt")
            target.proc.stop()
    print(render(rps, stages, used, requests, args))
    return 0


def render(
    rps: dict[str, wrk.WrkResult],
    stages: collections.Counter[str],
    used: float,
    requests: int,
    args: argparse.Namespace,
) -> str:
    total = sum(stages.values()) or 1
    per_request_us = used / requests * 1e6 if requests else float("nan")
    relay = rps["bare-relay"]
    gateway = rps["gateway-granian"]
    lines = [
        f"# Where the gateway's time goes ({datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"- {'streamed' if args.stream else 'whole'} answers, wrk c=64, {args.seconds} s runs, one worker on core 0",
        f"- bare relay: {relay.rps:.0f} RPS ({1e6 / relay.rps:.0f} µs a request); gateway: {gateway.rps:.0f} RPS "
        f"({1e6 / gateway.rps:.0f} µs a request); gateway/relay = {gateway.rps / relay.rps:.0%}",
        f"- profiled run: worker CPU {per_request_us:.0f} µs a request over {requests} requests, {total} samples",
        "",
        "| stage | share of samples | µs a request |",
        "|---|---|---|",
    ]
    order = [stage for stage, _ in STAGES] + [OTHER]
    for stage in order:
        share = stages.get(stage, 0) / total
        cost = f"{share * per_request_us:.0f}" if requests else NA
        lines.append(f"| {stage} | {share:.1%} | {cost} |")
    out = RESULTS_DIR / f"profile-{datetime.datetime.now():%Y%m%d-%H%M%S}.md"
    out.write_text("\n".join(lines) + "\n")
    return "\n".join(lines) + f"\n\nwritten: {out}"


if __name__ == "__main__":
    sys.exit(main())
