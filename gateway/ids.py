"""Ids minted on the request path: unique, never secret, so drawn from a per-process PRNG.

``uuid4()`` and ``os.urandom`` are a getrandom syscall each, which drops the GIL: on a busy
worker the core then goes to another thread in the middle of a request.
"""

from __future__ import annotations

import os
import random
import time
import uuid

_random = random.Random()
# A forked worker must not repeat its parent's sequence.
os.register_at_fork(after_in_child=_random.seed)

_VERSION_7 = 0x7 << 76
_VARIANT = 0x2 << 62
_RANDOM_A = (1 << 12) - 1
_RANDOM_B = (1 << 62) - 1


def random_hex(chars: int = 32) -> str:
    return f"{_random.getrandbits(chars * 4):0{chars}x}"


def uuid7() -> uuid.UUID:
    """A UUIDv7: time-ordered, so a primary key index on it stays append-mostly."""
    bits = _random.getrandbits(74)
    value = (time.time_ns() // 1_000_000) << 80 | _VERSION_7 | (bits >> 62 & _RANDOM_A) << 64 | _VARIANT
    return uuid.UUID(int=value | (bits & _RANDOM_B))
