"""A provider's ``probe:`` settings, read and checked against the models it serves.

    probe: {interval: 60, completion: [gpt-4o-mini], daily_cost_cap: 0.10}

``completion: true`` turns the paid completion probe on for every model of the provider; a list
names gateway models or upstream model ids. A name the provider does not serve stops start-up.
"""

from __future__ import annotations

import yaml

from gateway.conf.domain import DEFAULT_PROBE, Model, ProbeSettings, Provider
from gateway.conf.reader import Reader

_FIELDS = {"interval", "completion", "daily_cost_cap"}
MIN_INTERVAL = 5.0


def read_probe(reader: Reader, node: yaml.Node | None, path: str) -> tuple[ProbeSettings, list[tuple[str, yaml.Node]]]:
    """The settings, and each named completion model with its node (checked once models are read)."""
    if node is None:
        return DEFAULT_PROBE, []
    fields = reader.mapping(node, path, allowed=_FIELDS)
    interval = DEFAULT_PROBE.interval
    if "interval" in fields:
        interval = reader.number(fields["interval"], f"{path}.interval")
        if interval < MIN_INTERVAL:
            raise reader.fail(fields["interval"], f"{path}.interval", f"must be at least {MIN_INTERVAL:g} seconds")
    cap = DEFAULT_PROBE.daily_cost_cap
    if "daily_cost_cap" in fields:
        cap_node = fields["daily_cost_cap"]
        if not isinstance(cap_node, yaml.ScalarNode) or cap_node.tag not in (
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
        ):
            raise reader.fail(cap_node, f"{path}.daily_cost_cap", "must be a number of USD, 0 or more")
        cap = float(yaml.safe_load(cap_node.value))
        if cap < 0:
            raise reader.fail(cap_node, f"{path}.daily_cost_cap", "must be a number of USD, 0 or more")
    every, named = _completion(reader, fields.get("completion"), f"{path}.completion")
    settings = ProbeSettings(interval, every, frozenset(name for name, _ in named), cap)
    return settings, named


def _completion(reader: Reader, node: yaml.Node | None, path: str) -> tuple[bool, list[tuple[str, yaml.Node]]]:
    if node is None:
        return False, []
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
        return bool(yaml.safe_load(node.value)), []
    if not isinstance(node, yaml.SequenceNode):
        raise reader.fail(node, path, "must be true, false or a list of model names")
    return False, [(reader.text(item, f"{path}[{i}]"), item) for i, item in enumerate(node.value)]


def check_completion_models(
    reader: Reader, provider: Provider, named: list[tuple[str, yaml.Node]], path: str, models: dict[str, Model]
) -> None:
    """A completion probe on a model this provider does not serve could never work."""
    served: set[str] = set()
    for model in models.values():
        for deployment in model.deployments:
            if deployment.provider.name == provider.name:
                served |= {model.name, deployment.upstream_model}
    for index, (name, node) in enumerate(named):
        if name not in served:
            known = ", ".join(sorted(served)) or "none"
            message = f"provider {provider.name!r} serves no model {name!r} (it serves: {known})"
            raise reader.fail(node, f"{path}[{index}]", message)
