"""Caps on the JSON Schemas a request carries (tool parameters, a response format's schema), as
they are sent upstream, for every adapter that forwards or rewrites them.

A schema is cheap to send and can be huge once its ``$ref``s are inlined: definitions that each
use the previous one twice double at every level. Whatever an adapter does with a schema runs on
the event loop and its result is serialised and sent, so both are capped for all of a request's
schemas together (one ``SchemaBudget`` per request), every repeat of a shared part counted:

- ``MAX_SCHEMA_NODES``: objects, arrays, strings, numbers, booleans and nulls;
- ``MAX_SCHEMA_TEXT``: characters of strings and object keys;
- ``MAX_SCHEMA_DEPTH``: nesting of objects and arrays within one schema.

Over a cap the adapter refuses the request with a 400 naming the limit; as with anything else a
deployment cannot express, another deployment of the model is tried first, and the client gets
the 400 only when none can take the request.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import Inexpressible

MAX_SCHEMA_NODES = 20_000
MAX_SCHEMA_TEXT = 1_000_000
MAX_SCHEMA_DEPTH = 64
CODE = "schema_too_large"


def too_many_nodes(where: str) -> Inexpressible:
    return _refused(
        where, f"the schema expands to more than {MAX_SCHEMA_NODES:,} nodes; the limit is {MAX_SCHEMA_NODES:,}"
    )


def too_deep(where: str) -> Inexpressible:
    return _refused(
        where, f"the schema nests deeper than {MAX_SCHEMA_DEPTH} levels; the limit is {MAX_SCHEMA_DEPTH} levels"
    )


def too_much_text(where: str) -> Inexpressible:
    return _refused(
        where,
        f"the schema expands to more than {MAX_SCHEMA_TEXT:,} characters of text; the limit is {MAX_SCHEMA_TEXT:,}",
    )


def _refused(where: str, problem: str) -> Inexpressible:
    return Inexpressible(f"{where}: {problem} (for all of a request's schemas together)", code=CODE, param=where)


class SchemaBudget:
    """What one request's schemas have used so far; over a cap, Inexpressible naming it."""

    __slots__ = ("nodes", "text")

    def __init__(self) -> None:
        self.nodes = 0
        self.text = 0

    def charge(self, nodes: int, text: int, where: str) -> None:
        self.nodes += nodes
        self.text += text
        if self.nodes > MAX_SCHEMA_NODES:
            raise too_many_nodes(where)
        if self.text > MAX_SCHEMA_TEXT:
            raise too_much_text(where)

    def check(self, schema: dict[str, Any] | list[Any], where: str) -> None:
        """Charge ``schema``, as it will be sent, walking it once. Each object is charged as it is
        visited, so even a value whose parts are shared many times costs no more than the caps."""
        self._walk(schema, 1, where)

    def _walk(self, container: dict[str, Any] | list[Any], level: int, where: str) -> None:
        if level > MAX_SCHEMA_DEPTH:
            raise too_deep(where)
        if type(container) is dict:
            items: Any = container.values()
            text = sum(map(len, container))
        else:
            items, text = container, 0
        nodes = 1
        for item in items:
            if isinstance(item, dict | list):
                self._walk(item, level + 1, where)
            else:
                nodes += 1
                if type(item) is str:
                    text += len(item)
        self.charge(nodes, text, where)


def check_forwarded(body: dict[str, Any]) -> None:
    """For adapters that send the request's schemas as they are: its tools' parameters and its
    response format's schema, checked as one request; Inexpressible over a cap."""
    budget = SchemaBudget()
    tools = body.get("tools")
    if isinstance(tools, list):
        for index, tool in enumerate(tools):
            function = tool.get("function") if isinstance(tool, dict) else None
            parameters = function.get("parameters") if isinstance(function, dict) else None
            if isinstance(parameters, dict):
                budget.check(parameters, f"tools[{index}].function.parameters")
    response_format = body.get("response_format")
    spec = response_format.get("json_schema") if isinstance(response_format, dict) else None
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if isinstance(schema, dict):
        budget.check(schema, "response_format.json_schema.schema")
