"""Ids minted on the request path: unique, well-formed, and not repeated by a forked worker."""

from __future__ import annotations

import os
import re
import uuid

from gateway.ids import random_hex, uuid7


def test_random_hex_has_the_asked_length_and_does_not_repeat() -> None:
    ids = {random_hex() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)
    assert re.fullmatch(r"[0-9a-f]{24}", random_hex(24))


def test_uuid7_is_version_7_and_time_ordered() -> None:
    first, second = uuid7(), uuid7()
    assert first.version == 7 and first.variant == uuid.RFC_4122
    assert first.int >> 80 <= second.int >> 80


def test_a_forked_worker_draws_different_ids_from_its_parent() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave without running pytest's exit hooks
        os.write(write, random_hex().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    os.close(read)
    assert child != random_hex()
