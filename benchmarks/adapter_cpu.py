"""CPU per request of each wire-format adapter, next to the OpenAI pass-through.

One "request" is what the gateway's hot path asks of an adapter: ``build_request`` for a typical
chat body, then decoding a canned 20-token streamed answer fed one upstream event per read (as
tokens arrive in production), rendered by the simulator's own format code. Measured in-process
with ``time.process_time``; cases take turns for many rounds and each keeps its best.

    .venv/bin/python -m benchmarks.adapter_cpu            # Markdown table on stdout
    .venv/bin/python -m benchmarks.adapter_cpu --iterations 1000 --rounds 40

To add an adapter: add a `Case` to `cases()`.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.upstream.adapters import ADAPTERS
from gateway.upstream.adapters.base import Adapter
from gateway.conf.domain import Deployment
from gateway.conf.loader import parse_config
from simulator import anthropic_format, bedrock_format, gemini_format, openai_format
from simulator.answers import IdSource, build_reply
from simulator.model import ChatRequest, StreamScript

TOKENS = 20
BODY: dict[str, Any] = {
    "model": "bench",
    "messages": [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Say hello in twenty words."},
    ],
    "max_tokens": 256,
    "temperature": 0.2,
    "stream": True,
}
CONFIG = """providers:
  - {name: oa, kind: openai, base_url: 'https://api.example.com/v1', api_key: sk-bench-0000000000}
  - {name: an, kind: anthropic, base_url: 'https://api.anthropic.com/v1', api_key: sk-ant-bench-00000000}
  - {name: br, kind: bedrock, base_url: 'https://bedrock-runtime.us-east-1.amazonaws.com', region: us-east-1,
     options: {access_key_id_env: BENCH_AWS_KEY_ID, secret_access_key_env: BENCH_AWS_SECRET}}
  - {name: ge, kind: gemini, base_url: 'https://generativelanguage.googleapis.com/v1beta', api_key: AIza-bench-000}
models:
  - name: bench
    deployments:
      - {provider: oa, model: gpt-4o-mini}
      - {provider: an, model: claude-3-5-haiku-20241022}
      - {provider: br, model: 'us.anthropic.claude-3-5-haiku-20241022-v1:0'}
      - {provider: ge, model: gemini-2.0-flash}
"""


@dataclass(frozen=True)
class Case:
    name: str
    deployment: Deployment
    events: tuple[bytes, ...]  # one upstream read each

    @property
    def adapter(self) -> Adapter:
        return ADAPTERS[self.deployment.provider.kind]


def canned_events(script: StreamScript) -> tuple[bytes, ...]:
    first = b"".join(script.head) + script.content[0]
    done = (script.done,) if script.done else ()
    return (first, *script.content[1:], *script.tail, *done)


def cases() -> list[Case]:
    os.environ.setdefault("BENCH_AWS_KEY_ID", "AKIABENCHMARK0000001")
    os.environ.setdefault("BENCH_AWS_SECRET", "benchmark/secret/access/key/000000000000")
    deployments = {d.provider.name: d for d in parse_config(CONFIG, source="bench").deployments()}
    chat = ChatRequest(model="bench", stream=True, include_usage=True, prompt_chars=60)
    reply = build_reply(chat, "bench", TOKENS, IdSource())
    return [
        Case("openai (pass-through)", deployments["oa"], canned_events(openai_format.render_stream(reply))),
        Case("anthropic (messages)", deployments["an"], canned_events(anthropic_format.render_stream(reply))),
        Case("bedrock (converse-stream)", deployments["br"], canned_events(bedrock_format.render_stream(reply))),
        Case("gemini (streamGenerateContent)", deployments["ge"], canned_events(gemini_format.render_stream(reply))),
    ]


def one_request(case: Case) -> None:
    adapter = case.adapter
    adapter.build_request(case.deployment, BODY)
    decoder = adapter.decoder(case.deployment)
    for event in case.events:
        decoder.feed(event)
    decoder.flush()


def per_call_us(work: Callable[[], object], iterations: int) -> float:
    started = time.process_time()
    for _ in range(iterations):
        work()
    return (time.process_time() - started) / iterations * 1e6


def workloads(case: Case) -> dict[str, Callable[[], object]]:
    adapter, deployment = case.adapter, case.deployment

    def decode() -> None:
        decoder = adapter.decoder(deployment)
        for event in case.events:
            decoder.feed(event)

    result: dict[str, Callable[[], object]] = {
        "request": lambda: one_request(case),
        "build_request": lambda: adapter.build_request(deployment, BODY),
        "decode": decode,
    }
    if deployment.provider.kind == "bedrock":
        from gateway.upstream.adapters import bedrock

        target = bedrock.target_for(deployment)
        content = b'{"messages":[]}'
        result["sigv4"] = lambda: bedrock.sign(
            target, content, {"host": target.host, "content-type": "application/json"}
        )
    return result


def measure(cases: list[Case], iterations: int, rounds: int) -> list[dict[str, float]]:
    """Best of ``rounds`` per case and part. Cases take turns within each round, so a slow spell
    on the machine lands on all of them rather than on whichever ran during it."""
    loads = [workloads(case) for case in cases]
    best: list[dict[str, float]] = [dict.fromkeys(load, float("inf")) for load in loads]
    for _ in range(rounds):
        for load, numbers in zip(loads, best, strict=True):
            for part, work in load.items():
                numbers[part] = min(numbers[part], per_call_us(work, iterations))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    chosen = cases()
    measured = list(zip(chosen, measure(chosen, args.iterations, args.rounds), strict=True))
    baseline = measured[0][1]["request"]
    print(f"Adapter CPU per request ({TOKENS}-token stream, one read per event; best of {args.rounds} x "
          f"{args.iterations}):\n")  # fmt: skip
    print("| adapter | request µs | vs openai | build_request µs | decode µs | SigV4 signing µs |")
    print("|---|---:|---:|---:|---:|---:|")
    for case, numbers in measured:
        sigv4 = f"{numbers['sigv4']:.1f}" if "sigv4" in numbers else "-"
        print(
            f"| {case.name} | {numbers['request']:.1f} | {numbers['request'] / baseline:.2f}x "
            f"| {numbers['build_request']:.1f} | {numbers['decode']:.1f} | {sigv4} |"
        )


if __name__ == "__main__":
    main()
