"""Segment files: every event a gateway worker records, on disk before its request is answered.

A worker copies each event's JSON line into its current segment, a shared memory map of the file: the
kernel's page cache holds it from then on, even if the process is killed, and the hot path makes no
system call for it (a write() per request cost 5 to 8 % of a worker's time under load on ext4, where
it can wait for the journal; no fsync either: a crash of the whole machine is out of scope, see README
"Event pipeline"). A segment's blocks are reserved when it is made, so a full disk fails there, as an
error, never as a SIGBUS on a later write to the map. What follows the last line of a segment still
mapped, or of a killed writer's, is NUL bytes, which no line holds. The worker holds an exclusive
``flock`` on every segment whose events it still means to load itself; a segment whose lock can be
taken belongs to nobody (its writer died, or handed it over) and the Celery loader takes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import BinaryIO

import orjson

from gateway.events.records import AttemptEvent, RequestEvent

SUFFIX = ".jsonl"
SEGMENT_BYTES = 1 << 20  # about 700 requests' events; a full segment is followed by a new one
_PREFIX = {AttemptEvent: b'{"kind":"attempt",', RequestEvent: b'{"kind":"request",'}


def line(event: AttemptEvent | RequestEvent) -> bytes:
    """The event as one JSON line: {"kind": ..., then its fields}; orjson writes the dataclass itself."""
    data = orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE)
    if b"\\u0000" in data:
        data = _without_nul(event)
    return _PREFIX[type(event)] + data[1:]


def _without_nul(event: AttemptEvent | RequestEvent) -> bytes:
    """Postgres text cannot hold NUL, and one would fail its whole batch, again and again: a model
    name or an upstream's error text may carry one, so it is dropped."""
    values = {field.name: getattr(event, field.name) for field in fields(event)}
    clean = {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in values.items()}
    return orjson.dumps(clean, option=orjson.OPT_APPEND_NEWLINE)


class Segment:
    """One segment file this process writes, or wrote and still holds locked."""

    __slots__ = ("_map", "_used", "fd", "path")

    def __init__(self, directory: Path, size: int = SEGMENT_BYTES) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"events-{os.getpid()}-{time.time_ns()}{SUFFIX}"
        # Locked under a name the loader never lists, then renamed: the loader can never take
        # a segment between its creation and its lock.
        hidden = self.path.with_name(self.path.name + ".new")
        self.fd = os.open(hidden, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.posix_fallocate(self.fd, 0, size)
            self._map: mmap.mmap | None = mmap.mmap(self.fd, size)
            os.rename(hidden, self.path)
        except OSError:
            os.unlink(hidden)
            os.close(self.fd)
            raise
        self._used = 0

    def append(self, data: bytes) -> bool:
        """Copy ``data`` in after the last line; False (and nothing written) if it does not fit."""
        end = self._used + len(data)
        if self._map is None or end > len(self._map):
            return False
        self._map[self._used : end] = data
        self._used = end
        return True

    def seal(self) -> None:
        """No more lines."""
        if self._map is not None:
            self._map.close()
            self._map = None

    def discard(self) -> None:
        """Its events are committed: remove it, then let go of the lock."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        if self._map is not None:
            self._map.close()
        os.close(self.fd)

    def release(self) -> None:
        """Hand it to the loader, cut to its lines: the file stays, the lock goes."""
        self.seal()
        os.ftruncate(self.fd, self._used)
        os.close(self.fd)


def written(data: bytes) -> bytes:
    """A segment's lines: what precedes the NUL bytes that end a segment still mapped, or one left by a
    killed writer."""
    end = data.find(0)
    return data if end < 0 else data[:end]


@contextlib.contextmanager
def claim(path: Path) -> Iterator[BinaryIO | None]:
    """The segment opened and locked for loading, or None while a live writer or loader holds it.

    The caller unlinks it after its events are committed and before leaving the block; killed in
    between, the lock goes with the process and the next loader takes the file again.
    """
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        yield None
        return
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        # Its writer may have committed and unlinked it between our open and our lock.
        yield handle if os.fstat(handle.fileno()).st_nlink else None
