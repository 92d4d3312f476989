"""wrk runs: a Lua script per request shape, results read from a JSON line the script prints."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from benchmarks.procs import LOAD_CORE, pinned

MARKER = "WRK_JSON "
# wrk's done() hook sees the whole latency histogram; printing JSON beats parsing its text.
LUA = """
wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{marker}{{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%f,"max_us":%d}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
"""


@dataclass
class WrkResult:
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: dict[str, int]
    raw: str
    # The serving process's own CPU per answered request (user + system), when it was measured.
    cpu_us: float | None = None

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def write_script(path: Path, body: dict[str, object], key: str) -> Path:
    path.write_text(LUA.format(body=json.dumps(body), key=key, marker=MARKER))
    return path


def run(url: str, script: Path, *, connections: int, seconds: int, timeout_s: int = 10) -> WrkResult:
    argv = pinned(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={timeout_s}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        LOAD_CORE,
    )
    done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=seconds + timeout_s + 30)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return _parse(done.stdout, connections)


def _parse(stdout: str, connections: int) -> WrkResult:
    line = next((x for x in stdout.splitlines() if x.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result line:\n{stdout}")
    data = json.loads(line[len(MARKER) :])
    seconds = data["duration_us"] / 1e6
    errors = {k: data[k] for k in ("connect", "read", "write", "status", "timeout") if data[k]}
    return WrkResult(
        connections=connections,
        seconds=seconds,
        requests=data["requests"],
        rps=data["requests"] / seconds if seconds else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        mean_ms=data["mean_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        errors=errors,
        raw=stdout,
    )
