"""The operator's providers and models, read from the YAML file named by GATEWAY_CONFIG.

Every problem is reported as ``file:line: field.path: what is wrong``.

A model either lists its deployments, or names a model of the catalog (gateway/catalog.yaml) and
gets one deployment per configured provider whose kind serves it, with the provider's own model
id, price and the model's context window: ``models: [gpt-4o-mini]`` or ``{name: fast, catalog:
llama-3.3-70b}``. Explicit deployments of a catalog model replace its deployment on that provider.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
import yaml

from gateway.conf.domain import (
    CHAT,
    DEFAULT_TIMEOUTS,
    ConfigFileError,
    Deployment,
    GatewayConfig,
    Model,
    Price,
    Provider,
    Timeouts,
)
from gateway.conf.catalog import Catalog, CatalogModel, default_catalog, read_mode
from gateway.conf.probes import check_completion_models, read_probe
from gateway.conf.reader import Reader, read_price
from gateway.upstream.adapters import ADAPTERS


def load_config(path: str | Path) -> GatewayConfig:
    source = str(path)
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigFileError(f"{source}: cannot read: {exc.strerror}") from None
    return parse_config(text, source=source)


def parse_config(text: str, *, source: str = "<config>", catalog: Catalog | None = None) -> GatewayConfig:
    reader = Reader(source)
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigFileError(f"{source}:{line}: invalid YAML: {problem}") from None
    if root is None:
        raise ConfigFileError(f"{source}:1: the file is empty: it needs providers and models")
    top = reader.mapping(root, "config", allowed={"providers", "models"})
    for required in ("providers", "models"):
        if required not in top:
            raise reader.fail(root, required, "is required")
    probes: dict[str, tuple[str, list[tuple[str, yaml.Node]]]] = {}
    providers = _providers(reader, top["providers"], probes)
    models = _models(reader, top["models"], providers, catalog or default_catalog())
    for name, (path, named) in probes.items():
        check_completion_models(reader, providers[name], named, f"{path}.probe.completion", models)
    return GatewayConfig(source=source, providers=providers, models=models)


def _providers(
    reader: Reader, node: yaml.Node, probes: dict[str, tuple[str, list[tuple[str, yaml.Node]]]]
) -> dict[str, Provider]:
    """The providers; ``probes`` gets each one's named completion-probe models, to check later."""
    providers: dict[str, Provider] = {}
    for index, item in enumerate(reader.sequence(node, "providers")):
        path = f"providers[{index}]"
        provider, named = _provider(reader, item, path)
        if provider.name in providers:
            raise reader.fail(item, f"{path}.name", f"duplicate provider name {provider.name!r}")
        providers[provider.name] = provider
        probes[provider.name] = (path, named)
    if not providers:
        raise reader.fail(node, "providers", "must list at least one provider")
    return providers


_PROVIDER_FIELDS = {"name", "kind", "base_url", "api_key", "api_key_env", "region", "timeout", "options", "probe"}


def _provider(reader: Reader, node: yaml.Node, path: str) -> tuple[Provider, list[tuple[str, yaml.Node]]]:
    fields = reader.mapping(node, path, allowed=_PROVIDER_FIELDS)
    for required in ("name", "kind"):
        if required not in fields:
            raise reader.fail(node, f"{path}.{required}", "is required")
    name = reader.text(fields["name"], f"{path}.name")
    if "/" in name:
        raise reader.fail(fields["name"], f"{path}.name", "must not contain '/'")
    kind = reader.text(fields["kind"], f"{path}.kind")
    if kind not in ADAPTERS:
        raise reader.fail(fields["kind"], f"{path}.kind", f"unknown kind {kind!r} (known: {', '.join(ADAPTERS)})")
    options = _options(reader, fields.get("options"), f"{path}.options")
    region = reader.text(fields["region"], f"{path}.region") if "region" in fields else None
    probe, named = read_probe(reader, fields.get("probe"), f"{path}.probe")
    provider = Provider(
        name=name,
        kind=kind,
        base_url=_base_url(reader, node, fields, path, kind, options, region),
        api_key=_api_key(reader, fields, path),
        region=region,
        timeouts=_timeouts(reader, fields.get("timeout"), f"{path}.timeout"),
        options=options,
        probe=probe,
    )
    problem = ADAPTERS[kind].validate(provider)
    if problem is not None:
        raise reader.fail(node, path, problem)
    return provider, named


def _base_url(
    reader: Reader,
    node: yaml.Node,
    fields: dict[str, yaml.Node],
    path: str,
    kind: str,
    options: dict[str, str],
    region: str | None,
) -> str:
    """The configured base_url, else the adapter's default for this kind (if it has one)."""
    if "base_url" in fields:
        base_url = reader.text(fields["base_url"], f"{path}.base_url").rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise reader.fail(fields["base_url"], f"{path}.base_url", "must start with http:// or https://")
        return base_url
    try:
        url = ADAPTERS[kind].default_base_url(options, region)
    except ValueError as exc:
        raise reader.fail(node, path, str(exc)) from None
    if url is None:
        raise reader.fail(node, f"{path}.base_url", f"is required (kind {kind} has no default)")
    return str(url).rstrip("/")


def _options(reader: Reader, node: yaml.Node | None, path: str) -> dict[str, str]:
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise reader.fail(node, path, "must be a mapping")
    options = {}
    for key_node, value_node in node.value:
        if not isinstance(value_node, yaml.ScalarNode) or value_node.value == "":
            raise reader.fail(value_node, f"{path}.{key_node.value}", "must be a non-empty scalar")
        options[str(key_node.value)] = str(value_node.value)
    return options


def _api_key(reader: Reader, fields: dict[str, yaml.Node], path: str) -> str:
    if "api_key" in fields and "api_key_env" in fields:
        raise reader.fail(fields["api_key"], f"{path}.api_key", "give api_key or api_key_env, not both")
    if "api_key_env" in fields:
        variable = reader.text(fields["api_key_env"], f"{path}.api_key_env")
        value = os.environ.get(variable, "").strip()
        if not value:
            raise reader.fail(
                fields["api_key_env"], f"{path}.api_key_env", f"environment variable {variable} is not set"
            )
        return value
    if "api_key" in fields:
        return reader.text(fields["api_key"], f"{path}.api_key")
    return ""


def _timeouts(reader: Reader, node: yaml.Node | None, path: str) -> Timeouts:
    values = dict(DEFAULT_TIMEOUTS)
    if node is not None:
        for key, value_node in reader.mapping(node, path, allowed=set(DEFAULT_TIMEOUTS)).items():
            values[key] = reader.number(value_node, f"{path}.{key}")
    timeouts = Timeouts(**values)
    if timeouts.first_token > timeouts.total:
        raise reader.fail(node, f"{path}.first_token", "must not exceed total")
    return timeouts


def _models(reader: Reader, node: yaml.Node, providers: dict[str, Provider], catalog: Catalog) -> dict[str, Model]:
    models: dict[str, Model] = {}
    fallback_nodes: dict[str, tuple[yaml.Node, str]] = {}
    for index, item in enumerate(reader.sequence(node, "models")):
        path = f"models[{index}]"
        model, fallbacks_node = _model(reader, item, path, providers, catalog)
        if model.name in models:
            raise reader.fail(item, f"{path}.name", f"duplicate model name {model.name!r}")
        models[model.name] = model
        if fallbacks_node is not None:
            fallback_nodes[model.name] = (fallbacks_node, f"{path}.fallbacks")
    for name, (fallbacks_node, path) in fallback_nodes.items():
        for position, fallback in enumerate(models[name].fallbacks):
            if fallback not in models:
                raise reader.fail(fallbacks_node, f"{path}[{position}]", f"unknown model {fallback!r}")
            if fallback == name:
                raise reader.fail(fallbacks_node, f"{path}[{position}]", "a model cannot fall back to itself")
            if models[fallback].mode != models[name].mode:
                message = f"{name!r} ({models[name].mode}) cannot fall back to {fallback!r} ({models[fallback].mode})"
                raise reader.fail(fallbacks_node, f"{path}[{position}]", message)
    if not models:
        raise reader.fail(node, "models", "must list at least one model")
    return models


_MODEL_FIELDS = {"name", "deployments", "fallbacks", "context_window", "catalog", "mode", "dimensions"}


def _model(
    reader: Reader, node: yaml.Node, path: str, providers: dict[str, Provider], catalog: Catalog
) -> tuple[Model, yaml.Node | None]:
    if isinstance(node, yaml.ScalarNode):
        return _catalog_shorthand(reader, node, path, providers, catalog), None
    fields = reader.mapping(node, path, allowed=_MODEL_FIELDS)
    if "name" not in fields:
        raise reader.fail(node, f"{path}.name", "is required")
    name = reader.text(fields["name"], f"{path}.name")
    entry = _catalog_reference(reader, fields.get("catalog"), f"{path}.catalog", name, catalog)
    if entry is None and "deployments" not in fields:
        raise reader.fail(node, f"{path}.deployments", "is required (or name a catalog model with catalog:)")
    deployments = []
    if "deployments" in fields:
        items = reader.sequence(fields["deployments"], f"{path}.deployments")
        for index, item in enumerate(items):
            deployments.append(_deployment(reader, item, f"{path}.deployments[{index}]", providers, catalog, entry))
    if entry is not None:
        taken = {deployment.provider.name for deployment in deployments}
        deployments += _catalog_deployments(reader, node, path, entry, providers, taken)
    if not deployments:
        raise reader.fail(fields["deployments"], f"{path}.deployments", "must list at least one deployment")
    fallbacks_node = fields.get("fallbacks")
    fallbacks: tuple[str, ...] = ()
    if fallbacks_node is not None:
        items = reader.sequence(fallbacks_node, f"{path}.fallbacks")
        fallbacks = tuple(reader.text(item, f"{path}.fallbacks[{i}]") for i, item in enumerate(items))
    context = fields.get("context_window")
    # A model without `catalog:` is what the catalog says its first known deployment is.
    known = entry or next(
        (m for d in deployments if (m := catalog.model_of(d.provider.kind, d.upstream_model)) is not None), None
    )
    if "mode" in fields or "dimensions" in fields:
        mode, dimensions = read_mode(reader, node, fields, path)
    else:
        mode, dimensions = (known.mode, known.dimensions) if known else (CHAT, None)
    return (
        Model(
            name=name,
            deployments=tuple(deployments),
            fallbacks=fallbacks,
            context_window=reader.integer(context, f"{path}.context_window")
            if context
            else (entry.context_window if entry else None),
            max_output=entry.max_output if entry else None,
            mode=mode,
            dimensions=dimensions,
            shortens=known is not None and "dimensions" in known.capabilities,
        ),
        fallbacks_node,
    )


def _catalog_shorthand(
    reader: Reader, node: yaml.Node, path: str, providers: dict[str, Provider], catalog: Catalog
) -> Model:
    """A bare name in models: that catalog model, on every configured provider that serves it."""
    name = reader.text(node, path)
    entry = _catalog_model(reader, node, path, name, catalog)
    deployments = _catalog_deployments(reader, node, path, entry, providers, set())
    return Model(
        name,
        tuple(deployments),
        (),
        entry.context_window,
        entry.max_output,
        entry.mode,
        entry.dimensions,
        "dimensions" in entry.capabilities,
    )


def _catalog_reference(
    reader: Reader, node: yaml.Node | None, path: str, name: str, catalog: Catalog
) -> CatalogModel | None:
    """``catalog: true`` (this model's name) or ``catalog: <catalog model>``; None without one."""
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
        return _catalog_model(reader, node, path, name, catalog) if yaml.safe_load(node.value) else None
    return _catalog_model(reader, node, path, reader.text(node, path), catalog)


def _catalog_model(reader: Reader, node: yaml.Node, path: str, name: str, catalog: Catalog) -> CatalogModel:
    entry = catalog.models.get(name)
    if entry is None:
        raise reader.fail(node, path, f"unknown catalog model {name!r}{catalog.suggest(name)}")
    return entry


def _catalog_deployments(
    reader: Reader,
    node: yaml.Node,
    path: str,
    entry: CatalogModel,
    providers: dict[str, Provider],
    taken: set[str],
) -> list[Deployment]:
    """One deployment per configured provider whose kind serves the catalog model, in config order."""
    deployments = []
    for provider in providers.values():
        offer = entry.offers.get(provider.kind)
        if offer is not None and provider.name not in taken:
            deployment = Deployment(f"{provider.name}/{offer.model}", provider, offer.model, offer.price)
            deployments.append(_prepared(deployment))
    if not deployments and not taken:
        kinds = ", ".join(sorted(entry.offers))
        message = f"no configured provider serves catalog model {entry.name!r} (provider kinds that do: {kinds})"
        raise reader.fail(node, path, message)
    return deployments


def _deployment(
    reader: Reader,
    node: yaml.Node,
    path: str,
    providers: dict[str, Provider],
    catalog: Catalog,
    entry: CatalogModel | None,
) -> Deployment:
    fields = reader.mapping(node, path, allowed={"provider", "model", "price"})
    if "provider" not in fields:
        raise reader.fail(node, f"{path}.provider", "is required")
    provider_name = reader.text(fields["provider"], f"{path}.provider")
    provider = providers.get(provider_name)
    if provider is None:
        raise reader.fail(fields["provider"], f"{path}.provider", f"unknown provider {provider_name!r}")
    offer = entry.offers.get(provider.kind) if entry is not None else None
    if "model" in fields:
        upstream_model = reader.text(fields["model"], f"{path}.model")
    elif offer is not None:
        upstream_model = offer.model
    else:
        raise reader.fail(node, f"{path}.model", "is required")
    if "price" in fields:
        price: Price | None = read_price(reader, fields["price"], f"{path}.price")
    elif offer is not None:
        price = offer.price
    else:
        known = catalog.by_upstream.get((provider.kind, upstream_model))
        price = known.price if known is not None else None
    return _prepared(Deployment(f"{provider.name}/{upstream_model}", provider, upstream_model, price))


def _prepared(deployment: Deployment) -> Deployment:
    """Let the adapter precompute what it can (URL, headers, ...), off the request path."""
    return replace(deployment, prepared=ADAPTERS[deployment.provider.kind].prepare(deployment))
