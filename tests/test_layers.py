"""The package's imports run one way: application -> request layers -> domain ->
foundation, with no cycles (README, Layout).

Every import statement counts, a function's too: an import moved into a function to
dodge a cycle is still the arrow that makes it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mypack

PACKAGE = Path(mypack.__file__).parent

#: The layers from the bottom; a module imports only modules of its own layer or below.
FOUNDATION, AUDIT, ACCOUNTS, MENU, ORDERS, MODELS, REQUEST, APPLICATION = range(8)

#: The foundation: settings, the database, logging, error answers, the request guards.
FOUNDATION_MODULES = {
    "mypack.bodies", "mypack.config", "mypack.database", "mypack.errors",
    "mypack.exceptions", "mypack.extensions", "mypack.forms", "mypack.instance",
    "mypack.jobs", "mypack.libraries", "mypack.logs", "mypack.mail", "mypack.outages",
    "mypack.pages", "mypack.paths", "mypack.security", "mypack.text", "mypack.version",
}
#: The domain packages, in the order they may import each other: orders reference
#: accounts and items, never the other way round.
DOMAIN_PACKAGES = {"mypack.audit": AUDIT, "mypack.outbox": AUDIT, "mypack.auth": ACCOUNTS,
                   "mypack.menu": MENU, "mypack.orders": ORDERS, "mypack.periodic": MODELS,
                   "mypack.models": MODELS}
#: Modules of the domain packages that answer requests (pages, forms, the CLI).
REQUEST_MODULE_NAMES = {"views", "token_views", "reset_views", "confirmation_views", "manage",
                        "queue", "forms", "editing", "cli", "redirects"}
REQUEST_PACKAGES = ("mypack.api", "mypack.admin", "mypack.health")
APPLICATION_MODULES = ("mypack", "mypack.cli", "mypack.commands", "mypack.wsgi", "mypack.startup",
                       "mypack.demo", "mypack.apache", "mypack.checks")


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        if "migrations" in relative.parts or "resources" in relative.parts[:2]:
            continue  # Alembic's scripts; the instance config example
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The mypack modules ``name`` imports (a name imported from a package counts as
    its submodule when it is one)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                found.add(submodule if submodule in known else module)
    return {module for module in found if module in known and module != name}


def layer(name: str) -> int:
    if name in FOUNDATION_MODULES:
        return FOUNDATION
    if name in APPLICATION_MODULES or name.startswith("mypack.checks."):
        return APPLICATION
    if name.startswith(REQUEST_PACKAGES):
        return REQUEST
    package, _, module = name.rpartition(".")
    if package in DOMAIN_PACKAGES and module in REQUEST_MODULE_NAMES:
        return REQUEST
    for domain, number in DOMAIN_PACKAGES.items():
        if name == domain or name.startswith(domain + "."):
            return number
    raise AssertionError(f"{name} is in no layer: add it to tests/test_layers.py and the "
                         "README's Layout")


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def test_every_module_has_a_layer():
    for name in modules():
        layer(name)


def test_imports_run_down_the_layers():
    upward = sorted(f"{name} ({layer(name)}) imports {target} ({layer(target)})"
                    for name, targets in graph().items() for target in targets
                    if layer(target) > layer(name))
    assert upward == []


def test_no_import_cycles():
    edges = graph()
    cycles: list[str] = []
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = "open"
        stack.append(name)
        for target in sorted(edges[name]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name)
    assert cycles == []


def test_the_checks_find_what_they_look_for():
    # The walk itself: a known arrow is seen, and a made-up upward one would be named.
    edges = graph()
    assert "mypack.database" in edges["mypack.extensions"]
    assert layer("mypack.api.resources.orders") > layer("mypack.orders.service")
    assert layer("mypack.orders.views") == REQUEST
