"""Deadlines for reading request bodies: one sweeping timer per worker instead of one per request.

``asyncio.timeout`` costs about 5 µs a request under uvloop (a timer handle made and cancelled),
1 % of the proxy's whole budget, to guard against clients that never finish sending. The sweep
checks every body being read a few times a second and cancels the reads that ran out of time;
watching and releasing a read is two dict operations.
"""

from __future__ import annotations

import asyncio
import contextlib


class BodyDeadlines:
    def __init__(self, seconds: float, tick: float = 0.1) -> None:
        self.seconds = seconds
        self.tick = min(tick, seconds / 4)
        self._reading: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="body-deadlines")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    def watch(self, task: asyncio.Task[object]) -> None:
        self._reading[task] = asyncio.get_running_loop().time() + self.seconds

    def release(self, task: asyncio.Task[object]) -> bool:
        """Stop watching ``task``; True if its read was cancelled for running out of time."""
        self._reading.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.tick)
            now = loop.time()
            for task in [task for task, due in self._reading.items() if due <= now]:
                del self._reading[task]
                self._expired.add(task)
                task.cancel()
