"""Which app may import which: accounts is the base app, and the gateway reads it through one module.

Every import statement counts, wherever it sits in a module (inside a function, under
``if TYPE_CHECKING:``), and so does a dynamic import of a literal module name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILT_ON_ACCOUNTS = ("gateway", "monitoring", "providers", "reports")
DYNAMIC_IMPORTERS = ("import_module", "import_string", "__import__")


@dataclass(frozen=True)
class Import:
    where: str  # file:line
    module: str  # the module imported, in full: "accounts.selectors" for "from accounts import selectors"

    @property
    def root(self) -> str:
        return self.module.split(".")[0]


def imports_in_source(source: str, *, package: str, where: str) -> Iterator[Import]:
    """Every module a source file imports; ``package`` resolves relative imports."""
    for node in ast.walk(ast.parse(source)):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            yield from (Import(line, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            # "from accounts import selectors" imports the submodule when there is one.
            yield from (Import(line, f"{base}.{alias.name}" if alias.name != "*" else base) for alias in node.names)
        elif isinstance(node, ast.Call) and _called_name(node) in DYNAMIC_IMPORTERS:
            names = [arg.value for arg in node.args[:1] if isinstance(arg, ast.Constant)]
            yield from (Import(line, name) for name in names if isinstance(name, str))


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _called_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    return node.func.attr if isinstance(node.func, ast.Attribute) else None


def imports_of_app(app: str) -> list[Import]:
    found: list[Import] = []
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = path.relative_to(ROOT)
        package = ".".join(relative.with_suffix("").parts[:-1])
        found.extend(imports_in_source(path.read_text(), package=package, where=str(relative)))
    return found


def test_imports_inside_functions_type_checking_blocks_and_dynamic_ones_are_seen() -> None:
    source = """
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from gateway.conf.domain import GatewayConfig
def later():
    import monitoring.usage
    from . import tokens
    return importlib.import_module("providers.checks")
"""
    modules = {i.module for i in imports_in_source(source, package="accounts", where="x.py")}
    assert {"gateway.conf.domain.GatewayConfig", "monitoring.usage", "accounts.tokens", "providers.checks"} <= modules


def test_accounts_imports_no_app_built_on_it() -> None:
    imports = imports_of_app("accounts")
    assert any(i.module.startswith("accounts.") for i in imports)  # the scan did read accounts' files
    offending = [f"{i.where}: {i.module}" for i in imports if i.root in BUILT_ON_ACCOUNTS]
    assert offending == []


def test_gateway_reads_accounts_through_its_selectors_only() -> None:
    imports = [i for i in imports_of_app("gateway") if i.root == "accounts"]
    assert imports  # the proxy does read keys and credentials from accounts
    offending = [f"{i.where}: {i.module}" for i in imports if i.module.split(".")[:2] != ["accounts", "selectors"]]
    assert offending == []


def test_gateway_imports_neither_monitoring_nor_providers() -> None:
    offending = [f"{i.where}: {i.module}" for i in imports_of_app("gateway") if i.root in ("monitoring", "providers")]
    assert offending == []
