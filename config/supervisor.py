"""Run the product's processes as supervised children; stop them all on Ctrl-C or SIGTERM."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
import contextlib

_PR_SET_PDEATHSIG = 1
STOP_TIMEOUT = 25.0
CRASH_WINDOW = 10.0
MAX_QUICK_CRASHES = 3


def die_with_parent() -> None:
    # If the launcher is killed outright, the kernel sends SIGTERM to each child: no orphans.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


@dataclass
class Child:
    name: str
    args: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    quick_crashes: int = 0
    restart_at: float | None = field(default=None)


class Supervisor:
    def __init__(self, children: list[Child], *, env: dict[str, str], cwd: Path) -> None:
        self.children = children
        self.env = env
        self.cwd = cwd
        self.stopping = False
        self.failed = False
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        # A session of its own keeps the terminal's Ctrl-C away from children: the
        # supervisor stops them in order so the web tier can flush before the database goes.
        child.process = subprocess.Popen(
            child.args,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
            preexec_fn=die_with_parent,
            stdin=subprocess.DEVNULL,
        )
        child.started_at = time.monotonic()
        child.restart_at = None

    def run_until_stopped(self) -> int:
        while not self.stopping and not self.failed:
            self._check_children()
            time.sleep(0.2)
        return 1 if self.failed else 0

    def _check_children(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._spawn(child)
                continue
            assert child.process is not None
            code = child.process.poll()
            if code is None:
                continue
            quick = now - child.started_at < CRASH_WINDOW
            child.quick_crashes = child.quick_crashes + 1 if quick else 0
            if child.quick_crashes >= MAX_QUICK_CRASHES:
                sys.stderr.write(f"error: {child.name} keeps exiting (code {code}); stopping\n")
                self.failed = True
                return
            delay = min(2.0**child.quick_crashes, 10.0)
            sys.stderr.write(f"{child.name} exited with code {code}; restarting in {delay:.0f} s\n")
            child.restart_at = now + delay

    def stop(self) -> None:
        self.stopping = True
        # The web tier goes first so that it flushes its attempt log while workers still run.
        for child in sorted(self.children, key=lambda c: c.name != "web"):
            self._terminate(child)

    def _terminate(self, child: Child) -> None:
        process = child.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            sys.stderr.write(f"{child.name} did not stop in {STOP_TIMEOUT:.0f} s; killing it\n")
        # Anything left in the child's group (pool workers, grandchildren) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
