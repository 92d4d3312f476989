"""JSON Schema (as OpenAI tools and response formats take it) to Gemini's Schema.

Local ``$ref``s are inlined, each definition converted once and shared, within the per-request
budget of gateway.upstream.adapters.schema_limits, so that no schema costs more than linear work.
"""

from __future__ import annotations

from typing import Any

from gateway.upstream.adapters import schema_limits
from gateway.upstream.adapters.schema_limits import MAX_SCHEMA_DEPTH, SchemaBudget


def convert_schema(schema: dict[str, Any], path: str, where: str, budget: SchemaBudget) -> dict[str, Any]:
    """Gemini's Schema for ``schema``, charged to the request's budget: SchemaError when Gemini
    cannot express it, Inexpressible over a cap of ``schema_limits`` (``where`` names it)."""
    return SchemaConverter(schema, where, budget).convert(schema, path)


class SchemaError(Exception):
    """A JSON Schema construct with no Gemini (OpenAPI 3.0 subset) equivalent."""


_TYPES = {
    "string": "STRING",
    "number": "NUMBER",
    "integer": "INTEGER",
    "boolean": "BOOLEAN",
    "array": "ARRAY",
    "object": "OBJECT",
}
_FORMATS = {"STRING": ("enum", "date-time"), "NUMBER": ("float", "double"), "INTEGER": ("int32", "int64")}
# Keywords beside a $ref that leave the definition as it is: it is converted once and reused.
_ANNOTATIONS = frozenset(
    {"description", "title", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly"}
)
_COPIED = ("minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength", "pattern")
_COPIED_SET = frozenset(_COPIED)
# Constructs that change what is valid and that Gemini cannot express: refused, never dropped.
_REFUSED = (
    "not",
    "if",
    "then",
    "else",
    "prefixItems",
    "patternProperties",
    "dependentSchemas",
    "dependentRequired",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "propertyNames",
    "$dynamicRef",
    "$recursiveRef",
)


class SchemaConverter:
    """JSON Schema (as OpenAI tools take it) to Gemini's Schema: local $refs are inlined,
    ``anyOf``/``oneOf`` with ``null`` become ``nullable``, annotations are dropped.

    Each definition is converted once and the same result object is used wherever it is
    referenced (the output is only serialised). Every use is charged to the request's
    ``SchemaBudget`` as if inlined: nodes for each schema object read (its keys, enum values and
    required names included), text for the strings sent, and the depth each use lands at. So a
    schema that doubles at every level meets a cap of ``schema_limits`` after a few thousand
    nodes of work, however large it would expand.
    """

    def __init__(self, root: dict[str, Any], where: str = "parameters", budget: SchemaBudget | None = None) -> None:
        self.root = root
        self.where = where
        self.budget = budget or SchemaBudget()
        self.deepest = 0
        self.expanding: list[str] = []
        # ref -> (converted, nodes, text, height): what one more use of the definition costs
        self.expanded: dict[str, tuple[dict[str, Any], int, int, int]] = {}

    def convert(self, schema: Any, path: str, depth: int = 1) -> dict[str, Any]:
        if not isinstance(schema, dict):
            raise SchemaError(f"{path} must be a schema object")
        if depth > self.deepest:
            self._reach(depth)
        if "$ref" in schema:
            return self._reference(schema, path, depth)
        for key in _REFUSED:
            if key in schema:
                raise SchemaError(f"{path} uses '{key}', which Gemini does not support")
        if "allOf" in schema:
            parts = schema["allOf"]
            if not isinstance(parts, list) or len(parts) != 1 or not isinstance(parts[0], dict):
                raise SchemaError(f"{path} combines schemas with allOf, which Gemini does not support")
            return self.convert({**parts[0], **_without(schema, "allOf")}, path, depth)
        union = schema.get("anyOf", schema.get("oneOf"))
        types = schema.get("type")
        if isinstance(types, list):
            union, schema = _type_union(schema, types, path), _without(schema, "type")
        if union is not None:
            return self._union(schema, union, path, depth)
        return self._typed(schema, path, depth)

    def _spend(self, nodes: int, text: int = 0) -> None:
        self.budget.charge(nodes, text, self.where)

    def _reach(self, depth: int) -> None:
        if depth > MAX_SCHEMA_DEPTH:
            raise schema_limits.too_deep(self.where)
        if depth > self.deepest:
            self.deepest = depth

    def _reference(self, schema: dict[str, Any], path: str, depth: int) -> dict[str, Any]:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise SchemaError(f"{path} refers to {ref!r}; only local '#/...' references can be inlined")
        siblings = _without(schema, "$ref")
        if siblings.keys() <= _ANNOTATIONS:
            converted = self._expand(ref, path, depth)
            if "description" not in siblings:
                return converted
            if isinstance(siblings["description"], str):
                self._spend(0, len(siblings["description"]))
                return {**converted, "description": siblings["description"]}
            return _without(converted, "description")
        # Other keywords beside a $ref change the definition itself: no reuse, but still counted.
        return self.convert({**self._target(ref, path), **siblings}, path, depth)

    def _expand(self, ref: str, path: str, depth: int) -> dict[str, Any]:
        """The converted definition, converted the first time only; each use counts its work."""
        known = self.expanded.get(ref)
        if known is not None:
            converted, nodes, text, height = known
            self._reach(depth + height)
            self._spend(nodes, text)
            return converted
        target = self._target(ref, path)
        budget, outer_deepest = self.budget, self.deepest
        nodes, text, self.deepest = budget.nodes, budget.text, depth
        self.expanding.append(ref)
        try:
            converted = self.convert(target, path, depth)
        finally:
            self.expanding.pop()
        self.expanded[ref] = (converted, budget.nodes - nodes, budget.text - text, self.deepest - depth)
        self.deepest = max(self.deepest, outer_deepest)
        return converted

    def _target(self, ref: str, path: str) -> dict[str, Any]:
        if ref in self.expanding:
            raise SchemaError(f"{path} is recursive ({ref}), which Gemini cannot express")
        target: Any = self.root
        for token in ref[1:].split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            target = target.get(token) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            raise SchemaError(f"{path} refers to {ref!r}, which does not exist")
        return target

    def _union(self, schema: dict[str, Any], union: Any, path: str, depth: int) -> dict[str, Any]:
        if not isinstance(union, list) or not union:
            raise SchemaError(f"{path}.anyOf must be a non-empty array")
        self._spend(len(union))
        variants = [variant for variant in union if not _is_null(variant)]
        outer = _without(schema, "anyOf", "oneOf")
        if not variants:
            raise SchemaError(f"{path} only allows null")
        if len(variants) == 1:
            if not isinstance(variants[0], dict):
                raise SchemaError(f"{path}.anyOf[0] must be a schema object")
            result = self.convert({**variants[0], **outer}, path, depth)
        else:
            result = {"anyOf": [self.convert(v, f"{path}.anyOf[{i}]", depth + 2) for i, v in enumerate(variants)]}
            self._describe(schema, result)
        if len(variants) < len(union):
            result = {**result, "nullable": True}  # result may be a definition used elsewhere
        return result

    def _typed(self, schema: dict[str, Any], path: str, depth: int) -> dict[str, Any]:
        kind = schema.get("type") or _implied_type(schema)
        gemini_type = _TYPES.get(kind) if isinstance(kind, str) else None
        if gemini_type is None:
            what = f"type {kind!r}" if kind else "no type"
            raise SchemaError(f"{path} has {what}; Gemini needs one of {', '.join(_TYPES)}")
        result: dict[str, Any] = {"type": gemini_type}
        nodes, text = 1 + len(schema), 0
        description = schema.get("description")
        if isinstance(description, str):
            result["description"] = description
            text = len(description)
        fmt = schema.get("format")
        if fmt in _FORMATS.get(gemini_type, ()):
            result["format"] = fmt
        if "enum" in schema or "const" in schema:
            text += self._enum(schema, path, result, depth)
        if gemini_type == "OBJECT":
            text += self._object(schema, path, result, depth)
        elif gemini_type == "ARRAY":
            items = schema.get("items")
            if not isinstance(items, dict):
                raise SchemaError(f"{path} is an array without a single 'items' schema")
            result["items"] = self.convert(items, f"{path}[]", depth + 1)
        if not _COPIED_SET.isdisjoint(schema):
            text += self._bounds(schema, path, result)
        if schema.get("nullable") is True:
            result["nullable"] = True
        self.budget.charge(nodes, text, self.where)
        return result

    def _describe(self, schema: dict[str, Any], result: dict[str, Any]) -> int:
        description = schema.get("description")
        if not isinstance(description, str):
            return 0
        result["description"] = description
        return len(description)

    def _bounds(self, schema: dict[str, Any], path: str, result: dict[str, Any]) -> int:
        text = 0
        for key in _COPIED:
            if key in schema:
                value = schema[key]
                if isinstance(value, dict | list):
                    raise SchemaError(f"{path}.{key} must be a number or a string")
                if isinstance(value, str):
                    text += len(value)
                result[key] = value
        return text

    def _enum(self, schema: dict[str, Any], path: str, result: dict[str, Any], depth: int) -> int:
        values = schema["enum"] if "enum" in schema else [schema["const"]]
        if not isinstance(values, list) or not all(isinstance(v, str) or v is None for v in values):
            raise SchemaError(f"{path} has a non-string enum; Gemini only takes enums of strings")
        self._reach(depth + 1)
        self._spend(len(values))
        result["enum"] = [value for value in values if value is not None]
        if None in values:
            result["nullable"] = True
        return sum(map(len, result["enum"]))

    def _object(self, schema: dict[str, Any], path: str, result: dict[str, Any], depth: int) -> int:
        properties = schema.get("properties")
        if not isinstance(properties, dict) or not properties:
            raise SchemaError(f"{path} is an object without properties (a free-form map), which Gemini rejects")
        result["properties"] = {
            name: self.convert(sub, f"{path}.{name}", depth + 2) for name, sub in properties.items()
        }
        text = sum(map(len, properties))
        listed = schema.get("required")
        if not isinstance(listed, list) or not listed:
            return text
        self._spend(len(listed))
        required = [name for name in listed if isinstance(name, str) and name in properties]
        if required:
            self._reach(depth + 1)
            result["required"] = required
            text += sum(map(len, required))
        return text


def _without(schema: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key not in keys}


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null" and len(schema) == 1


def _type_union(schema: dict[str, Any], types: list[Any], path: str) -> list[dict[str, Any]]:
    unknown = next((kind for kind in types if not (isinstance(kind, str) and (kind in _TYPES or kind == "null"))), None)
    if unknown is not None:
        raise SchemaError(f"{path} has type {unknown!r}; Gemini needs one of {', '.join(_TYPES)}")
    rest = _without(schema, "type", "description")
    # Each type is a copy of the schema: at most one copy per distinct type.
    return [{"type": "null"} if kind == "null" else {**rest, "type": kind} for kind in dict.fromkeys(types)]


def _implied_type(schema: dict[str, Any]) -> str | None:
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    if "enum" in schema or isinstance(schema.get("const"), str):
        return "string"
    return None


# ---------------------------------------------------------------- request: endpoint and auth
