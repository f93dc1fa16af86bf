"""Hypotheses about posterior parameters, written as comparisons (``fit.hypothesis``).

``"beta_group[D] > beta_group[A]"`` asks for the posterior probability that group D's
first-credential effect exceeds group A's, computed over the joint posterior draws. The text is
parsed with :mod:`ast` and evaluated by walking the tree; nothing is passed to ``eval``, and
only these forms are accepted:

* posterior variables by name (``mu_beta``, ``sigma``, ``ext_mu_beta``...); a variable with
  dimensions besides ``chain`` and ``draw`` is indexed by coordinate labels, one per dimension:
  ``beta_group[D]``, ``beta_group["group 1"]``, ``gamma_group[D, 0]`` (a bare word or a number
  in brackets is a label, not a variable);
* numbers, ``+ - * / **``, unary minus and the functions ``exp``, ``log``, ``log1p``,
  ``expm1``, ``sqrt``, ``abs``;
* exactly one comparison: ``>``, ``>=``, ``<``, ``<=`` (the probability that the difference
  ``left - right`` has that sign; with continuous posteriors ``>=`` and ``>`` agree), or
  ``==`` together with ``rope=`` (the probability that ``|left - right| < rope``).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from bayescred.analysis.contrast import Direction, HypothesisResult

SAMPLE_DIMS = ("chain", "draw")

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "exp": np.exp,
    "log": np.log,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "sqrt": np.sqrt,
    "abs": np.abs,
}
_COMPARISONS: dict[type[ast.cmpop], Direction] = {
    ast.Gt: ">",
    ast.GtE: ">",
    ast.Lt: "<",
    ast.LtE: "<",
    ast.Eq: "==",
}


class _Evaluator:
    """Evaluates the whitelisted expression tree over a posterior's draws."""

    def __init__(
        self, posterior: xr.Dataset, text: str, aliases: Mapping[str, str] | None = None
    ) -> None:
        self.posterior = posterior
        self.text = text
        self.aliases = dict(aliases or {})

    def fail(self, why: str) -> ValueError:
        return ValueError(f"cannot read the hypothesis {self.text!r}: {why}")

    def value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            if isinstance(node.value, bool):
                raise self.fail("booleans are not numbers here")
            return float(node.value)
        if isinstance(node, ast.Name):
            return self.variable(node.id, None)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            return self.variable(node.value.id, node.slice)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](self.value(node.left), self.value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = self.value(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id not in _FUNCTIONS or len(node.args) != 1 or node.keywords:
                raise self.fail(
                    f"unknown function {node.func.id!r}; allowed, with one argument: "
                    f"{', '.join(_FUNCTIONS)}"
                )
            return _FUNCTIONS[node.func.id](self.value(node.args[0]))
        raise self.fail(
            f"{ast.unparse(node)!r} is not allowed (use posterior variables, labels in "
            "brackets, numbers, + - * / ** and exp/log/log1p/expm1/sqrt/abs)"
        )

    def variable(self, name: str, index: ast.expr | None) -> xr.DataArray:
        name = self.aliases.get(name, name)
        if name not in self.posterior.data_vars:
            known = ", ".join(sorted(str(v) for v in self.posterior.data_vars))
            raise self.fail(f"no posterior variable {name!r}; the posterior has: {known}")
        da = self.posterior[name]
        dims = [d for d in da.dims if d not in SAMPLE_DIMS]
        labels = [] if index is None else _labels(index, self)
        if len(labels) != len(dims):
            wanted = ", ".join(f"{d}: {', '.join(str(v) for v in da[d].values[:12])}" for d in dims)
            raise self.fail(
                f"{name} has {len(dims)} dimension(s) besides chain and draw, so it needs "
                f"{len(dims)} label(s) in brackets"
                + (f" ({wanted})" if dims else f"; write {name} without brackets")
            )
        for dim, label in zip(dims, labels, strict=True):
            values = [str(v) for v in da[dim].values]
            if label not in values:
                raise self.fail(f"{name} has no {dim} {label!r}; its {dim}s: {', '.join(values)}")
            da = da.isel({dim: values.index(label)}, drop=True)
        return da.drop_vars([c for c in da.coords if c not in SAMPLE_DIMS])


def _labels(index: ast.expr, ev: _Evaluator) -> list[str]:
    items = index.elts if isinstance(index, ast.Tuple) else [index]
    out = []
    for item in items:
        if isinstance(item, ast.Name):
            out.append(item.id)
        elif isinstance(item, ast.Constant) and isinstance(item.value, str | int | float):
            out.append(str(item.value))
        elif (
            isinstance(item, ast.UnaryOp)
            and isinstance(item.op, ast.USub)
            and isinstance(item.operand, ast.Constant)
        ):
            out.append(f"-{item.operand.value!s}")
        else:
            raise ev.fail(f"{ast.unparse(item)!r} is not a label (write a name, text or number)")
    return out


def hypothesis(
    posterior: xr.Dataset,
    text: str,
    *,
    rope: float | None = None,
    hdi_prob: float = 0.9,
    aliases: Mapping[str, str] | None = None,
) -> HypothesisResult:
    """Posterior probability of a comparison between expressions of posterior variables.

    Parameters
    ----------
    posterior
        The posterior draws (``chain``, ``draw`` and named dims).
    text
        One comparison, e.g. ``"beta_group[D] > beta_group[A]"``,
        ``"beta_group[D] > 1.5 * mu_beta"`` or ``"beta_group[D] == beta_group[A]"`` with
        ``rope``. See the module docstring for what may appear in it.
    rope
        For ``==``: half-width of the region of practical equivalence; the probability is that
        of ``|left - right| < rope``.
    hdi_prob
        Mass of the difference's highest-density interval.
    aliases
        Short names read as posterior variables (``{"type": "type_effect"}``: ``type[python]``
        is ``type_effect[python]``).

    Returns
    -------
    HypothesisResult
        ``.probability``, ``.summary`` (mean, sd, median, HDI of ``left - right``),
        ``.sentence()``, ``.draws``.

    Raises
    ------
    ValueError
        For text that is not one comparison of allowed terms, unknown variables or labels,
        ``==`` without ``rope`` (or ``rope`` without ``==``).
    """
    ev = _Evaluator(posterior, text, aliases)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ev.fail(f"not a valid expression ({err.msg})") from None
    node = tree.body
    if not isinstance(node, ast.Compare) or len(node.ops) != 1:
        raise ev.fail("write exactly one comparison, e.g. 'beta_group[D] > beta_group[A]'")
    op = type(node.ops[0])
    if op not in _COMPARISONS:
        raise ev.fail("the comparison must be one of >, >=, <, <=, ==")
    direction = _COMPARISONS[op]
    if direction == "==" and (rope is None or not rope > 0):
        raise ev.fail("'==' needs rope= (a positive half-width of practical equivalence)")
    if direction != "==" and rope is not None:
        raise ev.fail("rope= belongs to '==' hypotheses")
    left, right = ev.value(node.left), ev.value(node.comparators[0])
    diff = left - right
    if not isinstance(diff, xr.DataArray) or set(diff.dims) != set(SAMPLE_DIMS):
        raise ev.fail("it must involve at least one posterior variable")
    diff = diff.transpose(*SAMPLE_DIMS).rename("difference")
    what = f"{ast.unparse(node.left)} - ({ast.unparse(node.comparators[0])})"
    if isinstance(node.comparators[0], ast.Name | ast.Subscript | ast.Constant):
        what = f"{ast.unparse(node.left)} - {ast.unparse(node.comparators[0])}"
    return HypothesisResult(
        hypothesis=text.strip(),
        draws=diff,
        direction=direction,
        hdi_prob=hdi_prob,
        rope=rope,
        what=what,
    )
