"""The package's structure: no import cycles, likelihood behaviour only in the families, and the
hurdle's name prefix in one module. (The layers contract itself is checked by import-linter in
``make lint``; see ``.importlinter``.)"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import grimp
import pytest

import bayescred
from bayescred.model.families import FAMILIES, Family, get_family

PACKAGE = Path(bayescred.__file__).resolve().parent
#: Comparisons of likelihood names (and their old helpers) that belong in the families.
LIKELIHOOD_BRANCH = re.compile(r"likelihood ==|likelihood in|is_hurdle|LINK_LIKELIHOODS")
#: The values of ``outcome.likelihood``, as string constants in a comparison or a ``case``.
LIKELIHOOD_NAMES = frozenset(FAMILIES)


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


def _string_constants(node: ast.expr) -> set[str]:
    """The strings of a constant, or of a tuple, list or set display of constants."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return {
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        }
    return set()


def _bindings(tree: ast.Module) -> list[tuple[str, ast.expr]]:
    """``(name, value)`` of every plain-name assignment, annotated assignment and walrus."""
    found: list[tuple[str, ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            found += [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
        elif (
            isinstance(node, (ast.AnnAssign, ast.NamedExpr))
            and isinstance(node.target, ast.Name)
            and node.value is not None
        ):
            found.append((node.target.id, node.value))
    return found


def likelihood_branch_lines(source: str) -> list[int]:
    """Lines of ``source`` that branch on a likelihood's name instead of asking its family.

    Textually: :data:`LIKELIHOOD_BRANCH`. In the syntax tree: a comparison (``==``, ``!=``,
    ``in``...) of a likelihood against a likelihood name of :data:`LIKELIHOOD_NAMES` (a string
    constant, a display of them, or a module-level name bound to such a display), and any
    ``match`` over a likelihood. A likelihood is ``<anything>.likelihood``, a name
    ``likelihood``, or a name bound (also through other such names, anywhere in the module)
    from one: ``lik = spec.outcome.likelihood``.
    """
    lines = {i for i, line in enumerate(source.splitlines(), 1) if LIKELIHOOD_BRANCH.search(line)}
    tree = ast.parse(source)
    bindings = _bindings(tree)
    aliases = {"likelihood"}

    def is_likelihood(node: ast.expr) -> bool:
        if isinstance(node, ast.Attribute):
            return node.attr == "likelihood"
        return isinstance(node, ast.Name) and node.id in aliases

    grew = True
    while grew:  # aliases of aliases
        new = {name for name, value in bindings if name not in aliases and is_likelihood(value)}
        aliases |= new
        grew = bool(new)
    displays = {
        target.id: names
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
        and (names := _string_constants(node.value) & LIKELIHOOD_NAMES)
    }

    def names_a_likelihood(node: ast.expr) -> bool:
        if isinstance(node, ast.Name) and node.id in displays:
            return True
        return bool(_string_constants(node) & LIKELIHOOD_NAMES)

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(map(is_likelihood, operands)) and any(map(names_a_likelihood, operands)):
                lines.add(node.lineno)
        elif isinstance(node, ast.Match) and is_likelihood(node.subject):
            lines.add(node.lineno)
    return sorted(lines)


BRANCHING_SOURCES = {
    "attribute": 'if spec.outcome.likelihood == "normal":\n    pass\n',
    "alias": 'lik = truth.likelihood\nif lik == "poisson":\n    pass\n',
    "alias not equal": 'lik = truth.likelihood\nok = "bernoulli" != lik\n',
    "alias of an alias": 'a = x.likelihood\nb = a\nflag = b == "bernoulli"\n',
    "annotated alias": 'lik: str = x.likelihood\nflag = lik == "student_t"\n',
    "walrus": 'if (lik := x.likelihood) and lik == "normal":\n    pass\n',
    "alias in a tuple": 'lik = x.likelihood\nflag = lik in ("normal", "hurdle_lognormal")\n',
    "alias not in a set": 'lik = x.likelihood\nflag = lik not in {"poisson"}\n',
    "alias in a named tuple": (
        'HURDLES = ("hurdle_lognormal", "hurdle_negative_binomial")\n'
        "def f(x):\n    lik = x.likelihood\n    return lik in HURDLES\n"
    ),
    "match on the attribute": (
        'match truth.likelihood:\n    case "normal":\n        y = 1\n    case _:\n        y = 0\n'
    ),
    "match on an alias": (
        "def f(x):\n    lik = x.likelihood\n    match lik:\n"
        '        case "poisson" | "negative_binomial":\n            return 1\n'
    ),
    "parameter named likelihood": 'def f(likelihood):\n    return "normal" == likelihood\n',
}
CLEAN_SOURCE = """
lik = truth.likelihood
family = get_family(lik)
if lik not in LIKELIHOODS:  # the supported set, not a branch on one of them
    raise ValueError(lik)
dist = prior.dist
if dist == "normal" or kind == "count":  # a prior's distribution, an outcome kind
    pass
match kind:
    case "binary":
        pass
name = part.name
flag = name == "extensive" and family.integer_valued
"""


@pytest.mark.parametrize("pattern", sorted(BRANCHING_SOURCES))
def test_the_branch_check_finds_each_pattern(pattern: str) -> None:
    assert likelihood_branch_lines(BRANCHING_SOURCES[pattern]) != []


def test_the_branch_check_passes_clean_code() -> None:
    assert likelihood_branch_lines(CLEAN_SOURCE) == []
    # the line of the branch, and only that one
    assert likelihood_branch_lines('lik = x.likelihood\n\nok = lik == "normal"\n') == [3]


def test_likelihood_names_are_compared_only_in_the_families_and_the_spec() -> None:
    """Everything that depends on the likelihood asks its family (docs/design.md, layers)."""
    allowed = {PACKAGE / "spec.py"}
    families = PACKAGE / "model" / "families"
    sites = [
        f"{path.relative_to(PACKAGE)}:{i}"
        for path in _python_files()
        if path not in allowed and families not in path.parents
        for i in likelihood_branch_lines(path.read_text(encoding="utf-8"))
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
