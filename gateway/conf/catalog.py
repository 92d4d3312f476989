"""The model catalog (gateway/catalog.yaml): which provider kinds serve a model, as which model id, at what price.

Loaded and checked whole at start-up: an unknown provider kind or capability, a model or offer
listed twice, or a malformed price stops the gateway with ``file:line: field.path: problem``.
The operator's config refers to catalog models by name (see ``gateway.conf.loader``).
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gateway.upstream.adapters import ADAPTERS
from gateway.conf.domain import CHAT, EMBEDDING, MODES, PRICE_FIELDS, ConfigFileError, Price
from gateway.conf.reader import Reader, price_from

DEFAULT_PATH = Path(__file__).with_name("catalog.yaml")
# "dimensions": an embedding model whose vectors the client may shorten (OpenAI's `dimensions`).
CAPABILITIES = frozenset({"tools", "vision", "json", "streaming", "assistant_prefill", "reasoning", "dimensions"})


@dataclass(frozen=True, slots=True)
class Offer:
    """One provider kind serving one catalog model."""

    kind: str
    model: str
    price: Price | None


@dataclass(frozen=True, slots=True)
class CatalogModel:
    name: str
    family: str
    context_window: int
    max_output: int | None
    capabilities: frozenset[str]
    offers: dict[str, Offer]  # by provider kind
    mode: str = CHAT
    dimensions: int | None = None  # an embedding model's vector size


@dataclass(frozen=True, slots=True)
class Catalog:
    source: str
    models: dict[str, CatalogModel]
    by_upstream: dict[tuple[str, str], Offer]
    # (kind, model id) -> the catalog model that lists it
    owners: dict[tuple[str, str], str] = field(default_factory=dict)

    def model_of(self, kind: str, upstream_model: str) -> CatalogModel | None:
        name = self.owners.get((kind, upstream_model))
        return None if name is None else self.models[name]

    def suggest(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self.models), n=3)
        return f" (did you mean: {', '.join(close)}?)" if close else ""


@functools.cache
def default_catalog() -> Catalog:
    return load_catalog(DEFAULT_PATH)


def load_catalog(path: str | Path) -> Catalog:
    source = str(path)
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigFileError(f"{source}: cannot read: {exc.strerror}") from None
    return parse_catalog(text, source=source)


def parse_catalog(text: str, *, source: str = "<catalog>") -> Catalog:
    reader = Reader(source)
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigFileError(f"{source}:{mark.line + 1 if mark else '?'}: invalid YAML") from None
    if root is None:
        raise ConfigFileError(f"{source}:1: the catalog is empty")
    top = reader.mapping(root, "catalog", allowed={"as_of", "models"})
    if "models" not in top:
        raise reader.fail(root, "models", "is required")
    models: dict[str, CatalogModel] = {}
    by_upstream: dict[tuple[str, str], Offer] = {}
    owners: dict[tuple[str, str], str] = {}
    for key_node, value_node in entries(reader, top["models"], "models"):
        model = _model(reader, key_node.value, value_node, f"models.{key_node.value}", owners)
        models[model.name] = model
        by_upstream.update({(kind, offer.model): offer for kind, offer in model.offers.items()})
    return Catalog(source=source, models=models, by_upstream=by_upstream, owners=owners)


def entries(reader: Reader, node: yaml.Node, path: str) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
    """A mapping whose keys are names (models, provider kinds): each must be a string, once."""
    if not isinstance(node, yaml.MappingNode):
        raise reader.fail(node, path, "must be a mapping")
    seen: set[str] = set()
    items = []
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or not key_node.value:
            raise reader.fail(key_node, path, "keys must be names")
        if key_node.value in seen:
            raise reader.fail(key_node, f"{path}.{key_node.value}", "appears twice")
        seen.add(key_node.value)
        items.append((key_node, value_node))
    return items


def _model(reader: Reader, name: str, node: yaml.Node, path: str, owners: dict[tuple[str, str], str]) -> CatalogModel:
    """One catalog model. ``owners`` maps (kind, model id) to the catalog model that lists it."""
    allowed = {"family", "context_window", "max_output", "capabilities", "deployments", "mode", "dimensions"}
    fields = reader.mapping(node, path, allowed=allowed)
    for required in ("family", "context_window", "deployments"):
        if required not in fields:
            raise reader.fail(node, f"{path}.{required}", "is required")
    offers = {}
    for key_node, value_node in entries(reader, fields["deployments"], f"{path}.deployments"):
        kind = key_node.value
        if kind not in ADAPTERS:
            known = ", ".join(sorted(ADAPTERS))
            raise reader.fail(
                key_node, f"{path}.deployments.{kind}", f"unknown provider kind {kind!r} (known: {known})"
            )
        offer = offers[kind] = _offer(reader, kind, value_node, f"{path}.deployments.{kind}")
        owner = owners.setdefault((kind, offer.model), name)
        if owner != name:
            message = f"{kind} model {offer.model!r} is already listed under {owner!r}"
            raise reader.fail(key_node, f"{path}.deployments.{kind}", message)
    if not offers:
        raise reader.fail(fields["deployments"], f"{path}.deployments", "must list at least one provider kind")
    max_output = fields.get("max_output")
    mode, dimensions = read_mode(reader, node, fields, path)
    return CatalogModel(
        name=name,
        family=reader.text(fields["family"], f"{path}.family"),
        context_window=reader.integer(fields["context_window"], f"{path}.context_window"),
        max_output=reader.integer(max_output, f"{path}.max_output") if max_output else None,
        capabilities=_capabilities(reader, fields.get("capabilities"), f"{path}.capabilities"),
        offers=offers,
        mode=mode,
        dimensions=dimensions,
    )


def read_mode(reader: Reader, node: yaml.Node, fields: dict[str, yaml.Node], path: str) -> tuple[str, int | None]:
    """``mode`` (chat or embedding) and, for an embedding model, its ``dimensions``."""
    mode = reader.text(fields["mode"], f"{path}.mode") if "mode" in fields else CHAT
    if mode not in MODES:
        raise reader.fail(fields["mode"], f"{path}.mode", f"must be one of: {', '.join(MODES)}")
    if "dimensions" not in fields:
        return mode, None
    if mode != EMBEDDING:
        raise reader.fail(fields["dimensions"], f"{path}.dimensions", "is only for mode: embedding")
    return mode, reader.integer(fields["dimensions"], f"{path}.dimensions")


def _capabilities(reader: Reader, node: yaml.Node | None, path: str) -> frozenset[str]:
    if node is None:
        return frozenset()
    names = set()
    for index, item in enumerate(reader.sequence(node, path)):
        name = reader.text(item, f"{path}[{index}]")
        if name not in CAPABILITIES:
            raise reader.fail(
                item, f"{path}[{index}]", f"unknown capability {name!r} (known: {', '.join(sorted(CAPABILITIES))})"
            )
        names.add(name)
    return frozenset(names)


def _offer(reader: Reader, kind: str, node: yaml.Node, path: str) -> Offer:
    fields = reader.mapping(node, path, allowed={"model", *PRICE_FIELDS})
    if "model" not in fields:
        raise reader.fail(node, f"{path}.model", "is required")
    priced = any(name in fields for name in PRICE_FIELDS)
    price = price_from(reader, node, fields, path) if priced else None
    return Offer(kind=kind, model=reader.text(fields["model"], f"{path}.model"), price=price)
