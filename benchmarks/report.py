"""Results as data (written raw to JSON) and as the Markdown tables the lead reads."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from benchmarks.clients import Probe, SoakSample, TtftResult
from benchmarks.wrk import WrkResult

NA = "n/a"


@dataclass
class LoadRow:
    scenario: str
    target: str
    wrk: WrkResult


@dataclass
class TtftRow:
    target: str
    ttft: TtftResult


@dataclass
class FailoverRow:
    fault: str
    target: str
    wrk: WrkResult
    first: list[Probe]


@dataclass
class FormatRow:
    fmt: str
    stream: bool
    target: str
    pacing: str
    runs: list[WrkResult] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)  # against the OpenAI run just before

    def add(self, run: WrkResult, cpu_seconds: float) -> None:
        self.runs.append(run)
        self.cpu_seconds.append(cpu_seconds)

    @property
    def samples_us(self) -> list[float]:
        return [cpu / run.requests * 1e6 for run, cpu in zip(self.runs, self.cpu_seconds, strict=True)]

    @property
    def cpu_us(self) -> float:
        return statistics.median(self.samples_us) if self.runs else float("nan")

    @property
    def best_us(self) -> float:
        return min(self.samples_us, default=float("nan"))


@dataclass
class MemoryRow:
    target: str
    before_mb: float | None
    after_mb: float | None
    soak: list[SoakSample] = field(default_factory=list)
    soak_failures: int = 0


@dataclass
class Results:
    meta: dict[str, Any]
    load: list[LoadRow] = field(default_factory=list)
    ttft: list[TtftRow] = field(default_factory=list)
    failover: list[FailoverRow] = field(default_factory=list)
    formats: list[FormatRow] = field(default_factory=list)
    memory: list[MemoryRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def load_for(self, scenario: str, target: str) -> WrkResult | None:
        return next((r.wrk for r in self.load if r.scenario == scenario and r.target == target), None)


def _ms(value: float | None) -> str:
    return NA if value is None else f"{value:.2f}"


def _delta(value: float | None, base: float | None) -> str:
    return NA if value is None or base is None else f"{value - base:+.2f}"


def _p50(wrk: WrkResult | None) -> float | None:
    return wrk.p50_ms if wrk is not None and wrk.requests else None


def _p99(wrk: WrkResult | None) -> float | None:
    return wrk.p99_ms if wrk is not None and wrk.requests else None


def _mb(value: float | None) -> str:
    return NA if value is None else f"{value:.1f}"


def _errors(wrk: WrkResult) -> str:
    if not wrk.requests:
        # wrk drops requests still in flight at the end: zero means nothing answered within the run.
        return "no response within the run"
    return ", ".join(f"{k} {v}" for k, v in wrk.errors.items()) or "0"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _load_section(results: Results) -> list[str]:
    rows = []
    for row in results.load:
        w, base = row.wrk, results.load_for(row.scenario, "direct")
        rows.append(
            [
                row.scenario,
                row.target,
                f"{w.rps:.0f}",
                _ms(_p50(w)),
                _ms(_p99(w)),
                _delta(_p50(w), _p50(base)),
                _delta(_p99(w), _p99(base)),
                _errors(w),
            ]
        )
    header = [
        "scenario",
        "target",
        "RPS",
        "p50 ms",
        "p99 ms",
        "+p50 vs direct",
        "+p99 vs direct",
        "errors",
    ]
    return ["## Throughput and latency (wrk, whole response)", "", *_table(header, rows), ""]


def _round_of(target: str) -> str:
    return target.rsplit(".r", 1)[0]


def _spread(values: list[float]) -> str:
    if not values:
        return NA
    ordered = sorted(values)
    return f"{statistics.median(ordered):.0f} ({ordered[0]:.0f} to {ordered[-1]:.0f})"


def _baseline_sections(results: Results) -> list[str]:
    lines: list[str] = []
    for baseline in results.meta.get("baselines") or []:
        lines += _baseline_section(results, baseline)
    return lines


def _baseline_section(results: Results, baseline: str) -> list[str]:
    """This checkout against one baseline revision, rounds alternated: medians, ranges and change."""
    rows = []
    for scenario in dict.fromkeys(r.scenario for r in results.load):
        before = [r.wrk for r in results.load if r.scenario == scenario and _round_of(r.target) == baseline]
        after = [r.wrk for r in results.load if r.scenario == scenario and _round_of(r.target) == "gateway-granian"]
        if not before or not after:
            continue
        rps_b, rps_a = [w.rps for w in before], [w.rps for w in after]
        p50_b = [w.p50_ms for w in before if w.requests]
        p50_a = [w.p50_ms for w in after if w.requests]
        cpu_b = [w.cpu_us for w in before if w.cpu_us is not None]
        cpu_a = [w.cpu_us for w in after if w.cpu_us is not None]
        change = statistics.median(rps_a) / statistics.median(rps_b) - 1
        noise = max((max(v) - min(v)) / statistics.median(v) for v in (rps_b, rps_a))
        cpu_change = statistics.median(cpu_a) / statistics.median(cpu_b) - 1 if cpu_a and cpu_b else None
        rows.append(
            [
                scenario,
                _spread(rps_b),
                _spread(rps_a),
                f"{change:+.1%}",
                f"±{noise / 2:.1%}",
                _spread(cpu_b),
                _spread(cpu_a),
                NA if cpu_change is None else f"{cpu_change:+.1%}",
                _ms(statistics.median(p50_b) if p50_b else None),
                _ms(statistics.median(p50_a) if p50_a else None),
            ]
        )
    header = [
        "scenario",
        f"{baseline} RPS median (range)",
        "this checkout RPS median (range)",
        "change of medians",
        "noise (half the widest range)",
        "CPU µs/request before",
        "CPU µs/request after",
        "CPU change",
        "p50 ms before",
        "p50 ms after",
    ]
    return [f"## This checkout against {baseline} (alternating rounds)", "", *_table(header, rows), ""]


def _ttft_section(results: Results) -> list[str]:
    direct = next((r.ttft for r in results.ttft if r.target == "direct"), None)
    rows = [
        [
            r.target,
            str(r.ttft.n),
            _ms(r.ttft.p50_ms),
            _ms(r.ttft.p99_ms),
            _delta(r.ttft.p50_ms, direct.p50_ms if direct else None),
            _delta(r.ttft.p99_ms, direct.p99_ms if direct else None),
        ]
        for r in results.ttft
    ]
    header = [
        "target",
        "requests",
        "TTFT p50 ms",
        "TTFT p99 ms",
        "+p50 vs direct",
        "+p99 vs direct",
    ]
    return ["## Time to first token (sequential streamed requests)", "", *_table(header, rows), ""]


def _failover_section(results: Results) -> list[str]:
    rows = []
    for row in results.failover:
        w = row.wrk
        healthy = results.load_for(f"nonstream-c{w.connections}", row.target)
        first = " / ".join(f"{p.ms:.0f}" + ("" if p.status == 200 else f" ({p.status})") for p in row.first)
        rows.append(
            [
                row.fault,
                row.target,
                str(w.connections),
                f"{w.rps:.0f}",
                _ms(_p50(w)),
                _ms(_p99(w)),
                _delta(_p50(w), _p50(healthy)),
                first or NA,
                _errors(w),
            ]
        )
    header = [
        "first deployment",
        "target",
        "c",
        "RPS",
        "p50 ms",
        "p99 ms",
        "+p50 vs healthy",
        "first 3 requests ms",
        "errors",
    ]
    intro = (
        "Non-streaming; the second deployment is healthy. The wrk rows are the steady state once the "
        'first deployment is known dead (breaker open / cooling down); "first 3 requests" are the '
        "sequential requests right after start-up, before the breaker opens."
    )
    return ["## Failover", "", intro, "", *_table(header, rows), ""]


def _formats_section(results: Results) -> list[str]:
    rows = []
    for row in results.formats:
        base = next(
            (
                r
                for r in results.formats
                if (r.fmt, r.stream, r.target, r.pacing) == ("openai", row.stream, row.target, row.pacing)
            ),
            None,
        )
        mode = "streaming" if row.stream else "non-streaming"
        paired = f"{statistics.median(row.ratios):.2f}" if row.ratios else ("1.00" if row.fmt == "openai" else NA)
        best = f"{row.best_us / base.best_us:.2f}" if base is not None and base.runs and row.runs else NA
        each = " / ".join(f"{r:.2f}" for r in row.ratios) or NA
        errors = ", ".join(_errors(run) for run in row.runs if _errors(run) != "0") or "0"
        cells = [row.fmt, row.pacing, mode, row.target, f"{row.cpu_us:.0f}", f"{row.best_us:.0f}", paired, best]
        rows.append([*cells, each, errors])
    header = [
        "upstream format",
        "upstream pacing",
        "client",
        "target",
        "CPU µs / request, median",
        "best",
        "vs OpenAI, median of pairs",
        "vs OpenAI, best vs best",
        "each pair",
        "errors",
    ]
    intro = (
        "wrk at c=64 against one single-deployment model per wire format. Burst: the simulator sends the "
        "whole answer at once, so a busy gateway reads many events in one go; paced: a token every "
        "millisecond, as a model streams. "
        "CPU is the serving process's user + system time over a run divided by the requests answered. "
        "Each translating format runs right after an OpenAI pass-through run of the same shape, for "
        "several rounds: the paired ratio puts a slow spell of the machine on both sides of a pair, and "
        "the best runs show each format's cost when nothing else interfered."
    )
    return ["## CPU per request by upstream wire format", "", intro, "", *_table(header, rows), ""]


def _memory_section(results: Results) -> list[str]:
    rows = []
    for row in results.memory:
        soak = " → ".join(_mb(s.rss_mb) for s in row.soak)
        soak_text = f"{soak} ({row.soak[-1].requests} req, {row.soak_failures} failed)" if row.soak else NA
        rows.append([row.target, _mb(row.before_mb), _mb(row.after_mb), soak_text])
    header = ["target", "RSS before MB", "RSS after MB", "soak RSS MB every 10 %"]
    return ["## Memory (RSS of the serving process)", "", *_table(header, rows), ""]


def render(results: Results) -> str:
    m = results.meta
    lines = [
        f"# Proxy benchmark {m['started']}",
        "",
        (
            f"- commit `{m['commit']}`; mode **{m['mode']}**: {m['duration']} s wrk runs after "
            f"{m['warmup']} s warm-up, {m['tokens']} chunks per streamed answer"
        ),
        f"- {m['versions']}",
        f"- pinning: {m['pinning']}; load average at start {m['load_start']}, at end {m.get('load_end', '?')}",
        "",
    ]
    lines += _baseline_sections(results)
    if results.load:
        lines += _load_section(results)
    if results.ttft:
        lines += _ttft_section(results)
    if results.failover:
        lines += _failover_section(results)
    if results.formats:
        lines += _formats_section(results)
    if results.memory:
        lines += _memory_section(results)
    if results.notes:
        lines += ["## Notes", "", *[f"- {note}" for note in results.notes], ""]
    return "\n".join(lines)
