"""`python -m simulator`: run the provider simulator until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import errno
import signal
import socket
import sys
from collections.abc import Callable, Sequence

from aiohttp import web

from simulator.server import DEFAULT_TOKENS, SCENARIOS, build_app, make_runner, make_state

BACKLOG = 1024


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simulator", description="LLM provider simulator (OpenAI wire format)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument(
        "--tokens",
        type=int,
        default=DEFAULT_TOKENS,
        help="content chunks per streamed answer (default: %(default)s)",
    )
    parser.add_argument("--scenario", choices=SCENARIOS, default="none")
    args = parser.parse_args(argv)
    if args.tokens < 1:
        parser.error("--tokens must be >= 1")
    return args


async def serve(sock: socket.socket, args: argparse.Namespace) -> None:
    runner = make_runner(build_app(make_state(args.tokens, args.scenario)))
    await runner.setup()
    await web.SockSite(runner, sock, backlog=BACKLOG).start()
    print(f"simulator listening on http://{args.host}:{args.port} "
          f"(scenario: {args.scenario}, tokens: {args.tokens})", flush=True)  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        # Bind before starting the loop so a busy port is a clean one-line error.
        sock = socket.create_server((args.host, args.port), backlog=BACKLOG)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"error: port {args.port} is already in use", file=sys.stderr)
        else:
            print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}",
                  file=sys.stderr)  # fmt: skip
        return 2
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(serve(sock, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
