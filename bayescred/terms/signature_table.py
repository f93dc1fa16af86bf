"""A compiled PyTensor Op for the event-time term's table over row signatures.

For signature ``u`` (group ``g``, cohort ``c``, counts ``n[u, 0..E-1]``: the worker's total, then
the counts held at the window's offsets; :class:`bayescred.terms.dynamics.Signatures`)::

    T[u] = F[g, c, 0] S[g, n[u, 0]] + sum_{j >= 1} (F[g, c, j] - F[g, c, j-1]) S[g, n[u, j]]

with ``F`` the event-time profiles ``(groups, cohorts, event times)`` and ``S`` the credential
curve on a dense grid ``(groups, counts)``. Written as a PyTensor graph this is a gather of
``F`` per signature, the curve on every (signature, offset) and their gradients' scatter-adds:
about as much work per evaluation as the Gaussian kernel's pass over a million rows. The loop
here reads each signature once and accumulates both gradients in the same small tables.

It serves the Gaussian kernel (:meth:`~bayescred.terms.dynamics.EventTimeCredentialTerm.
kernel_tables`, numba backend, nutpie's); the term's graph form (:meth:`~bayescred.terms.
dynamics.EventTimeCredentialTerm.build`, which the JAX route compiles) stays plain PyTensor, and
the tests check the two against each other. First derivatives only (enough for NUTS).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

__all__ = ["SignatureTable", "SignatureTableGrad", "signature_table"]


@numba.njit(nogil=True, cache=True)
def _table(
    F: np.ndarray, S: np.ndarray, group: np.ndarray, cohort: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    n_sig, n_e = counts.shape
    out = np.empty(n_sig)
    for u in range(n_sig):
        g, c = group[u], cohort[u]
        acc = F[g, c, 0] * S[g, counts[u, 0]]
        for j in range(1, n_e):
            acc += (F[g, c, j] - F[g, c, j - 1]) * S[g, counts[u, j]]
        out[u] = acc
    return out


@numba.njit(nogil=True, cache=True)
def _table_grad(
    F: np.ndarray,
    S: np.ndarray,
    group: np.ndarray,
    cohort: np.ndarray,
    counts: np.ndarray,
    g_out: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    n_sig, n_e = counts.shape
    dF = np.zeros_like(F)
    dS = np.zeros_like(S)
    for u in range(n_sig):
        gt = g_out[u]
        if gt == 0.0:
            continue
        g, c = group[u], cohort[u]
        k = counts[u, 0]
        dF[g, c, 0] += gt * S[g, k]
        dS[g, k] += gt * F[g, c, 0]
        for j in range(1, n_e):
            k = counts[u, j]
            s = S[g, k]
            dF[g, c, j] += gt * s
            dF[g, c, j - 1] -= gt * s
            dS[g, k] += gt * (F[g, c, j] - F[g, c, j - 1])
    return dF, dS


#: The inputs' dtypes: the tables, the signatures' integer data, then the output gradient.
_DTYPES = ("float64", "float64", "int64", "int64", "int64", "float64")


def _inputs(inputs: Any, n: int) -> list[Any]:
    if len(inputs) != n:
        raise TypeError(f"expected {n} inputs, got {len(inputs)}")
    return [pt.as_tensor_variable(v).astype(d) for v, d in zip(inputs, _DTYPES, strict=False)]


class SignatureTable(Op):
    """``T`` from ``(F, S, group, cohort, counts)`` (module docstring); gradient with respect
    to ``F`` and ``S`` by :class:`SignatureTableGrad`."""

    __props__ = ()

    def make_node(self, *inputs: Any) -> Apply:
        """Inputs ``(F, S, group, cohort, counts)``."""
        return Apply(self, _inputs(inputs, 5), [pt.dvector()])

    def perform(self, node: Apply, inputs: Any, output_storage: Any) -> None:
        output_storage[0][0] = _table(*inputs)

    def infer_shape(self, node: Apply, shapes: Any) -> Any:
        return [(shapes[2][0],)]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True], [True], [False], [False], [False]]

    def pullback(self, inputs: Any, outputs: Any, output_grads: Any) -> Any:
        g = output_grads[0]
        if isinstance(g.type, DisconnectedType):
            g = pt.zeros_like(outputs[0])
        grads: Any = SignatureTableGrad()(*inputs, g)
        dF, dS = grads
        return [dF, dS, *(disconnected_type() for _ in inputs[2:])]


class SignatureTableGrad(Op):
    """``(dF, dS)`` of ``sum_u g[u] T[u]`` (inputs: those of :class:`SignatureTable`, then
    ``g``). First order only."""

    __props__ = ()

    def make_node(self, *inputs: Any) -> Apply:
        """Inputs ``(F, S, group, cohort, counts, g)``."""
        tensors = _inputs(inputs, 6)
        return Apply(self, tensors, [tensors[0].type(), tensors[1].type()])

    def perform(self, node: Apply, inputs: Any, output_storage: Any) -> None:
        dF, dS = _table_grad(*inputs)
        output_storage[0][0] = dF
        output_storage[1][0] = dS

    def infer_shape(self, node: Apply, shapes: Any) -> Any:
        return [shapes[0], shapes[1]]

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True, True], [True, True], [False] * 2, [False] * 2, [False] * 2, [True, True]]

    def pullback(self, inputs: Any, outputs: Any, output_grads: Any) -> Any:
        return [grad_not_implemented(self, k, v) for k, v in enumerate(inputs)]


@register_funcify_default_op_cache_key(SignatureTable)
def _numba_table(op: SignatureTable, node: Any = None, **kwargs: Any) -> Any:
    return _table


@register_funcify_default_op_cache_key(SignatureTableGrad)
def _numba_table_grad(op: SignatureTableGrad, node: Any = None, **kwargs: Any) -> Any:
    return _table_grad


def signature_table(F: Any, S: Any, group: Any, cohort: Any, counts: Any) -> Any:
    """``T`` per signature (module docstring) as a PyTensor variable."""
    return SignatureTable()(F, S, group, cohort, counts)
