"""Walking the YAML node tree of the config and the catalog, so that every error names its line."""

from __future__ import annotations

import yaml

from gateway.conf.domain import PRICE_FIELDS, ConfigFileError, Price


class Reader:
    """Walks the YAML node tree so that every error can name its line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: yaml.Node | None, path: str, message: str) -> ConfigFileError:
        line = f"{node.start_mark.line + 1}" if node is not None else "?"
        return ConfigFileError(f"{self.source}:{line}: {path}: {message}")

    def mapping(self, node: yaml.Node, path: str, *, allowed: set[str]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, path, "must be a mapping")
        items: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key not in allowed:
                raise self.fail(
                    key_node, f"{path}.{key}", f"unknown field (expected one of: {', '.join(sorted(allowed))})"
                )
            if key in items:
                raise self.fail(key_node, f"{path}.{key}", "appears twice")
            items[key] = value_node
        return items

    def sequence(self, node: yaml.Node, path: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, path, "must be a list")
        return list(node.value)

    def text(self, node: yaml.Node, path: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not node.value.strip():
            raise self.fail(node, path, "must be a non-empty string")
        return str(node.value).strip()

    def number(self, node: yaml.Node, path: str) -> float:
        if isinstance(node, yaml.ScalarNode) and node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
            value = float(yaml.safe_load(node.value))
            if value > 0:
                return value
        raise self.fail(node, path, "must be a positive number of seconds")

    def integer(self, node: yaml.Node, path: str) -> int:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:int":
            value = int(yaml.safe_load(node.value))
            if value > 0:
                return value
        raise self.fail(node, path, "must be a positive integer")


def read_price(reader: Reader, node: yaml.Node, path: str) -> Price:
    """A ``price: {input, output, cached_input}`` mapping, USD per million tokens."""
    return price_from(reader, node, reader.mapping(node, path, allowed=set(PRICE_FIELDS)), path)


def price_from(reader: Reader, node: yaml.Node, fields: dict[str, yaml.Node], path: str) -> Price:
    for required in ("input", "output"):
        if required not in fields:
            raise reader.fail(node, f"{path}.{required}", "is required with a price (USD per million tokens)")
    cached = fields.get("cached_input")
    return Price(
        input=_amount(reader, fields["input"], f"{path}.input"),
        output=_amount(reader, fields["output"], f"{path}.output"),
        cached_input=_amount(reader, cached, f"{path}.cached_input") if cached is not None else None,
    )


def _amount(reader: Reader, node: yaml.Node, path: str) -> float:
    if isinstance(node, yaml.ScalarNode) and node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        value = float(yaml.safe_load(node.value))
        if value >= 0:
            return value
    raise reader.fail(node, path, "must be a number of USD per million tokens, 0 or more")
