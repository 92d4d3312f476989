"""Deterministic instances of a JSON Schema, for tool arguments and structured answers.

`instance(schema, seed)` returns a value that validates against the schema for the keywords
clients' schemas use (type, properties, required, additionalProperties, enum, const, anyOf,
oneOf, allOf, items/prefixItems with min/maxItems, string formats and lengths, numeric bounds,
local `$ref`s). `violation(schema, seed)` returns one that does not (for the `invalid_output`
fault). Gemini's OpenAPI-style schemas (upper-case types, `nullable`) are read too.

The work is bounded whatever the schema: a budget of generated values, a cap on `$ref` hops
along a path (past it only required properties, minimal arrays and the cheapest union branch
are generated, so a recursive schema ends) and a hard depth cap (past it: null).
Regex `pattern`s are not honoured.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Mapping
from typing import Any

BUDGET = 2000  # values generated per instance; past it every choice is the minimal one
REF_HOPS = 3  # $ref hops along a path before minimal mode
MAX_DEPTH = 32
MAX_ITEMS = 64
MAX_STRING = 4096
MARKER = "sim"  # the key an open object with no required property gets: {"sim": true}
Schema = Mapping[str, Any]
CHEAP = {"null": 0, "boolean": 1, "integer": 1, "number": 1, "string": 1, "array": 2, "object": 3}


class Generator:
    def __init__(self, root: Any, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.budget = BUDGET

    # ------------------------------------------------------------ resolution

    def resolve(self, schema: Any, hops: int) -> tuple[Schema | None, int]:
        """The schema behind any chain of `$ref`s (None for `false`), and the hop count so far."""
        for _ in range(8):
            if schema is True or schema is None:
                return {}, hops
            if not isinstance(schema, Mapping):
                return None, hops
            ref = schema.get("$ref")
            if not isinstance(ref, str):
                return schema, hops
            target = self.pointer(ref)
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema, hops = ({**target, **siblings} if isinstance(target, Mapping) and siblings else target), hops + 1
        return {}, hops

    def pointer(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return {}
        node = self.root
        for raw in ref[1:].split("/")[1:] if ref != "#" else ():
            key = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return {}
        return node

    def merged(self, schema: Schema, hops: int, depth: int = 0) -> tuple[Schema, int]:
        """`allOf` folded into one schema: properties merged, required and keywords combined."""
        parts = schema.get("allOf")
        if not isinstance(parts, list) or depth > REF_HOPS:
            return schema, hops
        out: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in parts[:32]:
            self.budget -= 1
            sub, sub_hops = self.resolve(part, hops)
            if sub is None or self.budget < -BUDGET:
                continue
            sub, sub_hops = self.merged(sub, sub_hops, depth + 1)
            hops = max(hops, sub_hops)
            for key, value in sub.items():
                if key == "properties" and isinstance(value, Mapping):
                    out["properties"] = {**out.get("properties", {}), **value}
                elif key == "required" and isinstance(value, list):
                    out["required"] = [*out.get("required", []), *value]
                else:
                    out.setdefault(key, value)
        return out, hops

    # ------------------------------------------------------------ generation

    def value(self, schema: Any, hops: int = 0, depth: int = 0) -> Any:
        self.budget -= 1
        resolved, hops = self.resolve(schema, hops)
        if resolved is None or depth > MAX_DEPTH or self.budget < -BUDGET:
            return None
        resolved, hops = self.merged(resolved, hops)
        minimal = hops > REF_HOPS or self.budget <= 0
        if "const" in resolved:
            return resolved["const"]
        enum = resolved.get("enum")
        if isinstance(enum, list) and enum:
            return enum[0] if minimal else self.rng.choice(enum)
        for key in ("oneOf", "anyOf"):
            branches = resolved.get(key)
            if isinstance(branches, list) and branches:
                base = {k: v for k, v in resolved.items() if k not in ("oneOf", "anyOf")}
                branch = self.branch(branches, hops, minimal, exclusive=key == "oneOf")
                return self.value({**base, **branch} if base else branch, hops, depth + 1)
        return self.typed(type_of(resolved, minimal), resolved, hops, depth, minimal)

    def branch(self, branches: list[Any], hops: int, minimal: bool, exclusive: bool) -> Any:
        kinds = [self.branch_kinds(b, hops) for b in branches[:64]]
        if minimal:
            return branches[min(range(len(kinds)), key=lambda i: min((CHEAP.get(k, 2) for k in kinds[i]), default=2))]
        for i, own in enumerate(kinds):
            if own == {"null"}:
                continue
            # oneOf: a branch whose types no other branch has cannot match twice.
            others = set().union(*(k for j, k in enumerate(kinds) if j != i))
            if not exclusive or not own & others:
                return branches[i]
        return branches[0]

    def branch_kinds(self, branch: Any, hops: int) -> set[str]:
        resolved, _ = self.resolve(branch, hops)
        if resolved is None:
            return set()
        if "const" in resolved or "enum" in resolved:
            return {"const:" + str(resolved.get("const", resolved.get("enum")))}
        kind = resolved.get("type")
        if isinstance(kind, list):
            return {str(k).lower() for k in kind}
        return {str(kind).lower()} if kind else {"object" if "properties" in resolved else "any"}

    def typed(self, kind: str, schema: Schema, hops: int, depth: int, minimal: bool) -> Any:
        if kind == "object":
            return self.object(schema, hops, depth, minimal)
        if kind == "array":
            return self.array(schema, hops, depth, minimal)
        if kind == "string":
            return self.string(schema)
        if kind in ("integer", "number"):
            return number(schema, kind == "integer", self.rng)
        if kind == "boolean":
            return self.rng.random() < 0.5
        return None

    def object(self, schema: Schema, hops: int, depth: int, minimal: bool) -> dict[str, Any]:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        required = [name for name in schema.get("required") or () if isinstance(name, str)]
        out: dict[str, Any] = {}
        for name in dict.fromkeys(required):
            if self.budget < -BUDGET:
                break
            out[name] = self.value(properties.get(name, extra_schema(schema)), hops, depth + 1)
        wanted = schema.get("minProperties")
        wanted = wanted if isinstance(wanted, int) and not isinstance(wanted, bool) else 0
        for name, sub in properties.items():
            if len(out) >= min(wanted, MAX_ITEMS):
                break
            out.setdefault(name, self.value(sub, hops, depth + 1))
        extra = extra_schema(schema)
        if extra is not None and (not out or len(out) < min(wanted, MAX_ITEMS)) and MARKER not in properties:
            out[MARKER] = True if extra == {} else self.value(extra, hops, depth + 1)
            for index in range(len(out), min(wanted, MAX_ITEMS)):
                out[f"{MARKER}_{index}"] = self.value(extra, hops, depth + 1)
        return out

    def array(self, schema: Schema, hops: int, depth: int, minimal: bool) -> list[Any]:
        low = bounded_int(schema.get("minItems"), 0)
        high = bounded_int(schema.get("maxItems"), MAX_ITEMS)
        count = low if minimal else min(max(low, 1 + self.rng.randrange(2)), high)
        count = min(count, MAX_ITEMS)
        prefix = schema.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        items = schema.get("items")
        if isinstance(items, list):  # draft-04 tuple form
            prefix, items = items, schema.get("additionalItems")
        count = max(count, min(len(prefix), MAX_ITEMS, high))
        return [self.value(prefix[i] if i < len(prefix) else items, hops, depth + 1) for i in range(count)]

    def string(self, schema: Schema) -> str:
        text = formatted(str(schema.get("format") or "").lower(), self.rng)
        low = bounded_int(schema.get("minLength"), 0, MAX_STRING)
        high = bounded_int(schema.get("maxLength"), MAX_STRING, MAX_STRING)
        if len(text) < low:
            text += "x" * (low - len(text))
        return text[: max(high, 0)]


def bounded_int(value: Any, default: int, cap: int = 1 << 62) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return default
    return min(int(value), cap)


def type_of(schema: Schema, minimal: bool) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        names = [str(k).lower() for k in kind]
        real = [k for k in names if k != "null"]
        return "null" if minimal and "null" in names else (real or ["null"])[0]
    if isinstance(kind, str):
        return kind.lower()
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return "string" if "format" in schema or "minLength" in schema else "object"


def extra_schema(schema: Schema) -> Any:
    """The schema extra keys must satisfy, or None when the object is closed."""
    extra = schema.get("additionalProperties", True)
    if extra is False or schema.get("unevaluatedProperties") is False:
        return None
    return {} if extra is True else extra


def formatted(fmt: str, rng: random.Random) -> str:
    day = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    if fmt == "date":
        return day
    if fmt == "date-time":
        return f"{day}T{clock}Z"
    if fmt == "time":
        return f"{clock}Z"
    if fmt == "email":
        return f"sim{rng.randrange(10_000)}@example.com"
    if fmt == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if fmt in ("uri", "url"):
        return f"https://example.com/sim/{rng.randrange(10_000)}"
    if fmt == "hostname":
        return "sim.example.com"
    if fmt == "ipv4":
        return f"192.0.2.{rng.randrange(1, 255)}"
    if fmt == "duration":
        return f"PT{rng.randint(1, 59)}M"
    return f"sim-{rng.getrandbits(32):08x}"


def number(schema: Schema, integer: bool, rng: random.Random) -> int | float:
    try:
        return draw_number(schema, integer, rng)
    except (OverflowError, ValueError):  # absurd bounds or steps: any number in range will do
        low, _ = bounds(schema, integer)
        return int(low) if integer else low


def draw_number(schema: Schema, integer: bool, rng: random.Random) -> int | float:
    low, high = bounds(schema, integer)
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
        first = math.ceil(low / step)
        last = math.floor(high / step) if math.isfinite(high) else first + 10
        k = first if last < first else rng.randint(first, min(last, first + 10))
        value = k * step
        return int(value) if integer or isinstance(step, int) else value
    if integer:
        ceiling = int(min(high, low + 100))
        return rng.randint(int(low), max(int(low), ceiling))
    drawn = round(rng.uniform(low, min(high, low + 100.0)), 2)
    return drawn if low <= drawn <= high else low


def bounds(schema: Schema, integer: bool) -> tuple[float, float]:
    def num(key: str) -> float | None:
        value = schema.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        return None

    low, high = num("minimum"), num("maximum")
    ex_low, ex_high = num("exclusiveMinimum"), num("exclusiveMaximum")
    nudge = 1.0 if integer else 0.01
    if ex_low is not None:
        low = max(low if low is not None else -math.inf, ex_low + nudge)
    if ex_high is not None:
        high = min(high if high is not None else math.inf, ex_high - nudge)
    if integer:
        low = math.ceil(low) if low is not None else None
        high = math.floor(high) if high is not None else None
    if low is None:
        low = 0.0 if high is None or high >= 0 else high - 10
    return float(low), float(high if high is not None else math.inf)


def instance(schema: Any, seed: int, *, top_object: bool = False) -> Any:
    """A value valid against ``schema``; tool arguments (``top_object``) are always an object."""
    generator = Generator(schema, seed)
    if top_object and isinstance(schema, Mapping) and not schema:
        return {MARKER: True}
    value = generator.value(schema)
    return value if isinstance(value, dict) or not top_object else {MARKER: True}


def violation(schema: Any, seed: int, *, top_object: bool = False) -> Any:
    """A value that fails ``schema`` wherever the schema constrains anything (still JSON)."""
    valid = instance(schema, seed, top_object=top_object)
    generator = Generator(schema, seed)
    resolved, hops = generator.resolve(schema, 0)
    resolved, _ = generator.merged(resolved or {}, hops)
    if not isinstance(valid, dict):
        return 12345 if isinstance(valid, str) else "sim-invalid"
    broken = dict(valid)
    required = [name for name in resolved.get("required") or () if isinstance(name, str) and name in broken]
    if required:
        del broken[required[0]]
        return broken
    properties = resolved.get("properties")
    for name, sub in properties.items() if isinstance(properties, Mapping) else ():
        kind = sub.get("type") if isinstance(sub, Mapping) else None
        if isinstance(kind, str) and kind.lower() != "null":
            broken[name] = 12345 if kind.lower() == "string" else "sim-invalid"
            return broken
    if extra_schema(resolved) is None:
        broken["sim_invalid"] = True
    return broken
