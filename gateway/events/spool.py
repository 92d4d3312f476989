"""Segment files: every event a gateway worker records, on disk before its request is answered.

A worker appends each event's JSON line to its current segment with one unbuffered write, so the
kernel holds it even if the process is killed (no fsync: a crash of the whole machine is out of
scope, see README "Event pipeline"). The worker holds an exclusive ``flock`` on every segment whose
events it still means to load itself; a segment whose lock can be taken belongs to nobody (its
writer died, or handed it over) and the Celery loader takes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import BinaryIO

import orjson

from gateway.events.records import AttemptEvent, RequestEvent

SUFFIX = ".jsonl"
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

    __slots__ = ("fd", "path")

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"events-{os.getpid()}-{time.time_ns()}{SUFFIX}"
        # Locked under a name the loader never lists, then renamed: the loader can never take
        # a segment between its creation and its lock.
        hidden = self.path.with_name(self.path.name + ".new")
        self.fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(hidden, self.path)

    def discard(self) -> None:
        """Its events are committed: remove it, then let go of the lock."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self.fd)

    def release(self) -> None:
        """Hand it to the loader: the file stays, the lock goes."""
        os.close(self.fd)


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
