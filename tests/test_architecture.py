"""The package's structure: no import cycles, likelihood behaviour only in the families, and the
hurdle's name prefix in one module. (The layers contract itself is checked by import-linter in
``make lint``; see ``.importlinter``.)"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import grimp

import bayescred
from bayescred.model.families import FAMILIES, Family, get_family

PACKAGE = Path(bayescred.__file__).resolve().parent
#: Comparisons of likelihood names (and their old helpers) that belong in the families.
LIKELIHOOD_BRANCH = re.compile(r"likelihood ==|likelihood in|is_hurdle|LINK_LIKELIHOODS")


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules() -> None:
    """Every import counts, also those inside functions; only ``TYPE_CHECKING`` ones do not."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    graph = grimp.build_graph("bayescred", exclude_type_checking_imports=True)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert _cycles(edges) == []


def _python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_likelihood_names_are_compared_only_in_the_families_and_the_spec() -> None:
    """Everything that depends on the likelihood asks its family (docs/design.md, layers)."""
    allowed = {PACKAGE / "spec.py"}
    families = PACKAGE / "model" / "families"
    sites = [
        f"{path.relative_to(PACKAGE)}:{i}"
        for path in _python_files()
        if path not in allowed and families not in path.parents
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if LIKELIHOOD_BRANCH.search(line)
    ]
    assert sites == []


def test_the_extensive_prefix_lives_in_one_module() -> None:
    owner = PACKAGE / "model" / "parts.py"
    literal = re.compile(r"""["']ext_["']""")
    users = [
        str(path.relative_to(PACKAGE))
        for path in _python_files()
        if literal.search(path.read_text(encoding="utf-8"))
    ]
    assert users == [str(owner.relative_to(PACKAGE))]


def test_every_allowed_likelihood_has_a_family() -> None:
    from typing import get_args

    from bayescred.spec import Likelihood

    assert set(get_args(Likelihood)) == set(FAMILIES)
    for name, family in FAMILIES.items():
        assert isinstance(family, Family) and family.name == name
        assert get_family(name) is family


def test_public_names_are_not_shadowed_by_modules() -> None:
    """A public function never shares its name with a module of its package (importing the
    module would replace the function by the module on the package)."""
    import importlib

    import bayescred.data
    import bayescred.data.validation
    import bayescred.reporting.html

    for package in (bayescred, bayescred.data):
        for name in package.__all__:
            value = getattr(package, name)
            assert not isinstance(value, type(importlib)) or name == "datasets", name
    assert callable(bayescred.report) and callable(bayescred.data.validate)
