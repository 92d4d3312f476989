"""Child processes the harness owns: start pinned, stop for sure (whole process group)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SERVER_CORE = 0
LOAD_CORE = 1


def pinning_available() -> bool:
    return hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


def pin_self_to_load_core() -> None:
    """Everything the harness spawns inherits core 1 unless it is the server under test."""
    if pinning_available():
        os.sched_setaffinity(0, {LOAD_CORE})


def pinned(argv: list[str], core: int) -> list[str]:
    return ["taskset", "-c", str(core), *argv] if pinning_available() else argv


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the process group (servers fork workers), then SIGKILL what is left."""
        if self.popen.poll() is not None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.popen.wait(timeout=5)
        # A worker can outlive its parent by a moment; the group id is still ours.
        time.sleep(0.1)
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signum)


def spawn(name: str, argv: list[str], *, env: dict[str, str], cwd: Path, log_dir: Path) -> Proc:
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Proc(name, popen, log_path)


def worker_rss_mb(root_pid: int) -> float | None:
    """RSS of the serving process: the largest of the server and its children (granian forks)."""
    try:
        root = psutil.Process(root_pid)
        family = [root, *root.children(recursive=True)]
        return float(max(p.memory_info().rss for p in family)) / 2**20
    except psutil.Error:
        return None


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU of the server and its children (granian forks its worker)."""
    root = psutil.Process(root_pid)
    times = [p.cpu_times() for p in (root, *root.children(recursive=True))]
    return sum(t.user + t.system for t in times)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
