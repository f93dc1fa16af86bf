"""A fast log-density of the Gaussian models with worker intercepts integrated out.

The default model's likelihood (see :mod:`bayescred.maths.worker_likelihoods`) needs, for each
worker ``i`` with ``T_i`` rows, the sum ``D_i = sum_t d_it`` and the within sum of squares
``SSW_i = sum_t (d_it - D_i / T_i)^2`` of the residuals ``d = y - m``, where on each row::

    m = beta[g] * S(n; shape[g]) * M(z; gamma[g]) + tau[t] + x @ delta

Written as a PyTensor graph over the rows this costs several row-length temporaries, gathers
(``beta[g]``, ``tau[t]``...) whose gradients are scatter-adds, and two scatter-adds for the
worker sums: about 84 ns per row for one log density and gradient. This module computes the same
numbers with far less row-level work:

1. **Small tables.** ``beta[g] S(n; shape[g])`` takes one value per distinct (group, credential
   count) and ``M(z; gamma)`` one per distinct track record (per distinct (group, track record)
   when gamma is not completely pooled). At design time (:meth:`GaussianKernelData.from_design`)
   every row gets the index of its entry in each table, so each evaluation computes the curve and
   the modifier on tens and thousands of values instead of every row, and PyTensor
   differentiates these small tables as usual::

       E[k] = beta[g_k] * S(n_k; shape[g_k])        (k over distinct (group, n))
       M[j] = exp(g1[h_j] z_j + g2[h_j] z_j^2)        (j over distinct (gamma group, z))
       m_r  = E[k_r] * M[j_r] + tau[t_r] + x_r @ delta

2. **One fused loop per pass.** Rows are sorted by worker once, so a worker's rows are one
   contiguous segment. A compiled (numba) loop computes ``d_r`` and the worker's sums in one pass
   over the segment, with the shifted-data formulas (``K`` the segment's first residual)::

       D_i   = T_i K + s1,  s1 = sum_t (d_it - K)
       SSW_i = s2 - s1^2 / T_i,  s2 = sum_t (d_it - K)^2

   which are as accurate as the two-pass formula when ``K`` is a value of the segment.

3. **Gradient in the same loop.** For the within likelihood the total log density depends on
   the residuals only through ``SSW = sum_i SSW_i``, and
   ``dSSW / dm_r = -2 (d_r - D_i / T_i)``, so the pass that computes ``SSW`` also accumulates
   its gradient with respect to the tables (``E``, ``M``, ``tau``, ``delta``): ``dSSW/dE[k] =
   sum_{r: k_r = k} -2 (d_r - dbar_i) M[j_r]`` and likewise for the others. The tables are small,
   so these scatter-adds stay in the L1/L2 cache. One evaluation of the log density and its
   gradient reads each row once.

   For random (and correlated) intercepts the log density also depends on each worker's mean
   ``D_i / T_i``, so the kernel returns the per-worker ``(D_i, SSW_i)`` and its gradient is a
   second pass (:class:`WorkerSumsGrad`) with ``dL/dm_r = -(2 gSSW_i (d_r - dbar_i) + gD_i)``.

The within log density is then (``N`` used rows, ``W`` workers)::

    log p = -(N - W)/2 (log(2 pi) + 2 log sigma) - 1/2 sum_i log T_i - SSW / (2 sigma^2)

and the random-intercept one is :func:`~bayescred.maths.worker_likelihoods.random_loglik` on
``(D_i, SSW_i)`` (per worker vectors, a tenth of the rows).

The compiled loops run inside PyTensor's numba backend (the one nutpie compiles the model with)
through a registered ``numba_funcify``; the C backend calls the same loops from ``perform``.
Only first derivatives are implemented (enough for NUTS).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from bayescred.maths.curves import CURVE_SHAPE_PARAMETER, MODIFIER_TERMS, credential_curve
from bayescred.maths.worker_likelihoods import LOG_2PI

if TYPE_CHECKING:
    import pymc as pm

    from bayescred.model.design import ModelDesign

__all__ = [
    "GaussianKernelData",
    "WithinSSW",
    "WorkerSums",
    "WorkerSumsGrad",
    "gaussian_worker_loglik",
    "graph_likelihood",
    "kernel_enabled",
    "kernel_loglik",
    "use_kernel",
]

# ---------------------------------------------------------------------------------------------
# compiled loops (shared by the numba backend and by ``perform`` in the C / Python backends)
# ---------------------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True, inline="always")
def _mean_row(E, M, tau, delta, k1, k2, t, X, r, has_periods, n_cov):
    m = E[k1[r]] * M[k2[r]]
    if has_periods:
        m += tau[t[r]]
    for c in range(n_cov):
        m += X[r, c] * delta[c]
    return m


@numba.njit(cache=True, nogil=True)
def _worker_sums(E, M, tau, delta, y, k1, k2, t, X, start, has_periods, n_cov):
    """Per-worker ``D_i`` and ``SSW_i`` (shifted one-pass formulas)."""
    n_workers = start.shape[0] - 1
    dsum = np.zeros(n_workers)
    ssw = np.zeros(n_workers)
    for i in range(n_workers):
        a, b = start[i], start[i + 1]
        if b <= a:
            continue
        shift = y[a] - _mean_row(E, M, tau, delta, k1, k2, t, X, a, has_periods, n_cov)
        s1 = 0.0
        s2 = 0.0
        for r in range(a + 1, b):
            e = y[r] - _mean_row(E, M, tau, delta, k1, k2, t, X, r, has_periods, n_cov) - shift
            s1 += e
            s2 += e * e
        cnt = b - a
        dsum[i] = cnt * shift + s1
        ssw[i] = s2 - s1 * s1 / cnt
    return dsum, ssw


@numba.njit(cache=True, nogil=True)
def _worker_sums_grad(E, M, tau, delta, y, k1, k2, t, X, start, g_dsum, g_ssw, has_periods, n_cov):
    """Gradient of ``sum_i gD_i D_i + gSSW_i SSW_i`` with respect to ``E, M, tau, delta``."""
    n_workers = start.shape[0] - 1
    gE = np.zeros(E.shape[0])
    gM = np.zeros(M.shape[0])
    gtau = np.zeros(tau.shape[0])
    gdelta = np.zeros(n_cov)
    max_len = 0
    for i in range(n_workers):
        max_len = max(max_len, start[i + 1] - start[i])
    buf = np.empty(max_len)
    for i in range(n_workers):
        a, b = start[i], start[i + 1]
        if b <= a:
            continue
        s = 0.0
        for r in range(a, b):
            d = y[r] - _mean_row(E, M, tau, delta, k1, k2, t, X, r, has_periods, n_cov)
            buf[r - a] = d
            s += d
        dbar = s / (b - a)
        two_g = 2.0 * g_ssw[i]
        gd0 = g_dsum[i]
        for r in range(a, b):
            # dL/dm_r = -dL/dd_r
            gm = -(two_g * (buf[r - a] - dbar) + gd0)
            e1 = k1[r]
            e2 = k2[r]
            gE[e1] += gm * M[e2]
            gM[e2] += gm * E[e1]
            if has_periods:
                gtau[t[r]] += gm
            for c in range(n_cov):
                gdelta[c] += gm * X[r, c]
    return gE, gM, gtau, gdelta


@numba.njit(cache=True, nogil=True)
def _within_ssw(E, M, tau, delta, y, k1, k2, t, X, start, has_periods, n_cov):
    """``SSW = sum_i SSW_i`` and its gradient with respect to ``E, M, tau, delta``, one pass."""
    n_workers = start.shape[0] - 1
    gE = np.zeros(E.shape[0])
    gM = np.zeros(M.shape[0])
    gtau = np.zeros(tau.shape[0])
    gdelta = np.zeros(n_cov)
    max_len = 0
    for i in range(n_workers):
        max_len = max(max_len, start[i + 1] - start[i])
    buf = np.empty(max_len)
    total = 0.0
    for i in range(n_workers):
        a, b = start[i], start[i + 1]
        if b <= a:
            continue
        shift = y[a] - _mean_row(E, M, tau, delta, k1, k2, t, X, a, has_periods, n_cov)
        buf[0] = 0.0
        s1 = 0.0
        s2 = 0.0
        for r in range(a + 1, b):
            e = y[r] - _mean_row(E, M, tau, delta, k1, k2, t, X, r, has_periods, n_cov) - shift
            buf[r - a] = e
            s1 += e
            s2 += e * e
        cnt = b - a
        total += s2 - s1 * s1 / cnt
        ebar = s1 / cnt
        for r in range(a, b):
            # dSSW/dm_r = -2 (d_r - dbar_i)
            gm = -2.0 * (buf[r - a] - ebar)
            e1 = k1[r]
            e2 = k2[r]
            gE[e1] += gm * M[e2]
            gM[e2] += gm * E[e1]
            if has_periods:
                gtau[t[r]] += gm
            for c in range(n_cov):
                gdelta[c] += gm * X[r, c]
    return total, gE, gM, gtau, gdelta


# ---------------------------------------------------------------------------------------------
# PyTensor Ops
# ---------------------------------------------------------------------------------------------

_N_PARAMS = 4  # E, M, tau, delta
_N_DATA = 6  # y, k1, k2, t, X, start


@functools.cache
def _specialised(kind: str, has_periods: bool, n_cov: int) -> Any:
    """The loop ``kind`` compiled with the flags as constants (dead branches removed)."""
    if kind == "worker_sums":

        @numba.njit(nogil=True)
        def worker_sums(E, M, tau, delta, y, k1, k2, t, X, start):
            return _worker_sums(E, M, tau, delta, y, k1, k2, t, X, start, has_periods, n_cov)

        return worker_sums
    if kind == "worker_sums_grad":

        @numba.njit(nogil=True)
        def worker_sums_grad(E, M, tau, delta, y, k1, k2, t, X, start, g_dsum, g_ssw):
            return _worker_sums_grad(
                E, M, tau, delta, y, k1, k2, t, X, start, g_dsum, g_ssw, has_periods, n_cov
            )

        return worker_sums_grad

    @numba.njit(nogil=True)
    def within_ssw(E, M, tau, delta, y, k1, k2, t, X, start):
        total, gE, gM, gtau, gdelta = _within_ssw(
            E, M, tau, delta, y, k1, k2, t, X, start, has_periods, n_cov
        )
        return np.asarray(total), gE, gM, gtau, gdelta

    return within_ssw


class _KernelOp(Op):
    """Inputs: the 4 parameter tables ``E, M, tau, delta``, the 6 sorted row arrays ``y, k1, k2,
    t, X, start``, then any output gradients. Outputs: float64, computed by :attr:`kind`."""

    __props__: tuple[str, ...] = ("has_periods", "n_cov")
    kind: str = ""
    n_outputs: int = 0
    n_extra_inputs: int = 0

    def __init__(self, has_periods: bool, n_cov: int) -> None:
        self.has_periods = bool(has_periods)
        self.n_cov = int(n_cov)

    def make_node(self, *inputs: Any) -> Apply:
        if len(inputs) != _N_PARAMS + _N_DATA + self.n_extra_inputs:
            raise TypeError(f"{type(self).__name__} takes {_N_PARAMS + _N_DATA} inputs")
        params = [pt.as_tensor_variable(v).astype("float64") for v in inputs[:_N_PARAMS]]
        data = [pt.as_tensor_variable(v) for v in inputs[_N_PARAMS : _N_PARAMS + _N_DATA]]
        extra = [pt.as_tensor_variable(v).astype("float64") for v in inputs[_N_PARAMS + _N_DATA :]]
        return Apply(self, [*params, *data, *extra], self._output_types())

    def _output_types(self) -> list[Any]:
        return [pt.dvector() for _ in range(self.n_outputs)]

    def perform(self, node: Apply, inputs: Any, output_storage: Any) -> None:
        outs = _specialised(self.kind, self.has_periods, self.n_cov)(*inputs)
        for store, value in zip(output_storage, outs, strict=True):
            store[0] = value

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        # the outputs depend on the parameter tables (and output gradients), not on the data
        return [
            [k < _N_PARAMS or k >= _N_PARAMS + _N_DATA] * self.n_outputs
            for k in range(len(node.inputs))
        ]


class WorkerSums(_KernelOp):
    """Per-worker residual sums ``D_i`` and within sums of squares ``SSW_i``.

    Outputs ``(D, SSW)``, each of length ``len(start) - 1``; gradient by
    :class:`WorkerSumsGrad` (a second pass over the rows).
    """

    kind = "worker_sums"
    n_outputs = 2

    def infer_shape(self, node: Apply, shapes: Any) -> Any:
        n = (shapes[_N_PARAMS + _N_DATA - 1][0] - 1,)
        return [n, n]

    def pullback(self, inputs: Any, outputs: Any, output_grads: Any) -> Any:
        g_dsum, g_ssw = (
            pt.zeros_like(out) if isinstance(g.type, DisconnectedType) else g
            for g, out in zip(output_grads, outputs, strict=True)
        )
        grads: Any = WorkerSumsGrad(self.has_periods, self.n_cov)(*inputs, g_dsum, g_ssw)
        return [*grads, *(disconnected_type() for _ in inputs[_N_PARAMS:])]


class WorkerSumsGrad(_KernelOp):
    """Gradient of ``sum_i gD_i D_i + gSSW_i SSW_i`` with respect to ``E, M, tau, delta``
    (inputs: those of :class:`WorkerSums`, then ``gD`` and ``gSSW``). First order only."""

    kind = "worker_sums_grad"
    n_outputs = _N_PARAMS
    n_extra_inputs = 2

    def infer_shape(self, node: Apply, shapes: Any) -> Any:
        return [shapes[k] for k in range(_N_PARAMS)]

    def pullback(self, inputs: Any, outputs: Any, output_grads: Any) -> Any:
        return [grad_not_implemented(self, k, v) for k, v in enumerate(inputs)]


class WithinSSW(_KernelOp):
    """``SSW = sum_i SSW_i`` with its gradient computed in the same pass.

    Outputs ``(SSW, dSSW/dE, dSSW/dM, dSSW/dtau, dSSW/ddelta)``; the gradient of ``SSW`` is the
    scalar output gradient times the last four outputs (first derivatives only: the gradient
    outputs themselves are not differentiable).
    """

    kind = "within_ssw"
    n_outputs = 1 + _N_PARAMS

    def _output_types(self) -> list[Any]:
        return [pt.dscalar(), *(pt.dvector() for _ in range(_N_PARAMS))]

    def infer_shape(self, node: Apply, shapes: Any) -> Any:
        return [(), *(shapes[k] for k in range(_N_PARAMS))]

    def pullback(self, inputs: Any, outputs: Any, output_grads: Any) -> Any:
        g = output_grads[0]
        if any(not isinstance(v.type, DisconnectedType) for v in output_grads[1:]):
            return [grad_not_implemented(self, k, v) for k, v in enumerate(inputs)]
        if isinstance(g.type, DisconnectedType):
            g = pt.zeros(())
        return [g * outputs[k + 1] for k in range(_N_PARAMS)] + [
            disconnected_type() for _ in inputs[_N_PARAMS:]
        ]


@register_funcify_default_op_cache_key(WorkerSums)
@register_funcify_default_op_cache_key(WorkerSumsGrad)
@register_funcify_default_op_cache_key(WithinSSW)
def _numba_kernel(op: _KernelOp, node: Any = None, **kwargs: Any) -> Any:
    """PyTensor's numba backend (nutpie's) calls the compiled loop directly."""
    return _specialised(op.kind, op.has_periods, op.n_cov)


# ---------------------------------------------------------------------------------------------
# design-time data and the log density
# ---------------------------------------------------------------------------------------------


def capacity(n: int, minimum: int = 8) -> int:
    """The smallest power of two >= ``max(n, minimum)``: table sizes rounded up, so that panels
    of the same shape usually get tables of the same size (and share a compiled model)."""
    n = max(int(n), int(minimum), 1)
    return 1 << (n - 1).bit_length()


def _index_array(codes: np.ndarray, size: int) -> np.ndarray:
    """``codes`` (ints in ``[0, size)``) in the smallest unsigned dtype holding ``size - 1``: a
    row's indices then take 4 bytes rather than 12 (the loop reads less memory: about 25%
    faster). The dtype depends on the table's size only, not on the codes."""
    return np.asarray(codes).ravel().astype(np.min_scalar_type(max(int(size) - 1, 0)))


@dataclass(frozen=True)
class GaussianKernelData:
    """Row data sorted by worker and the small tables' keys, computed once per design.

    Every array that depends on the panel's values (not only on its shape) reaches the graph as
    a shared variable (:meth:`data_tensors`), and the tables are padded to a power-of-two size
    (:func:`capacity`): a model compiled for one panel serves another of the same shape
    (:mod:`bayescred.inference.compiled`). Padding entries are never indexed by a row, so they
    add nothing to the log density or its gradient.

    Attributes
    ----------
    prefix
        Prefix of the shared variables' names (the part's :class:`~bayescred.model.parts.Naming`).
    curve, modifier
        The spec's credential curve and track-record modifier.
    gamma_pooled
        True when gamma is completely pooled (the modifier table is keyed by track record only).
    n_groups, n_periods, n_workers
        Sizes of the parameter vectors.
    has_periods
        Whether the mean has period effects (``tau`` is used).
    order
        Row order (sorted by worker, stable) applied to every row array below.
    y
        Outcome per sorted row.
    curve_idx, n_capacity
        Row index into the curve table, a dense grid over groups x credential counts
        ``0..n_capacity - 1``: entry ``g * n_capacity + n``.
    modifier_idx, modifier_group, modifier_z
        Row index into the modifier table, and the table's group code (0 when pooled) and z
        (padded to a power-of-two length with zeros).
    period_idx
        Period code per sorted row.
    X
        Covariates per sorted row ``(rows, covariates)``.
    start
        Worker ``i``'s rows are ``start[i]:start[i + 1]``.
    counts
        Rows per worker ``T_i`` (float).
    """

    prefix: str
    curve: str
    modifier: str
    gamma_pooled: bool
    n_groups: int
    n_periods: int
    n_workers: int
    has_periods: bool
    order: np.ndarray
    y: np.ndarray
    curve_idx: np.ndarray
    n_capacity: int
    modifier_idx: np.ndarray
    modifier_group: np.ndarray
    modifier_z: np.ndarray
    period_idx: np.ndarray
    X: np.ndarray
    start: np.ndarray
    counts: np.ndarray

    @property
    def n_rows(self) -> int:
        """Used rows."""
        return int(self.y.shape[0])

    @classmethod
    def from_design(cls, design: ModelDesign, prefix: str = "") -> GaussianKernelData:
        """Sort ``design``'s rows by worker and key each row into the curve and modifier tables."""
        spec = design.spec
        p = design.panel
        if p.y is None:  # pragma: no cover - a model design always has an outcome
            raise ValueError("the design has no outcome")
        eff = spec.effect
        order = np.argsort(p.worker_codes, kind="stable")
        workers = p.worker_codes[order]
        groups = np.asarray(p.group_codes[order], dtype=np.int64)
        n = np.asarray(p.credentials[order], dtype=np.int64)
        # curve table: a dense grid of (group, credentials)
        n_capacity = capacity(int(n.max()) + 1 if n.size else 1)
        curve_idx = groups * n_capacity + n
        # modifier table: distinct z (and group unless gamma is completely pooled)
        z = np.asarray(design.z, dtype=float)[order]
        gamma_pooled = eff.pooling.gamma == "complete"
        if not MODIFIER_TERMS[eff.modifier]:
            mgroup = np.zeros(1, dtype=np.int64)
            mz = np.zeros(1)
            modifier_idx = np.zeros(len(order), dtype=np.int64)
        elif gamma_pooled:
            mz, modifier_idx = np.unique(z, return_inverse=True)
            mgroup = np.zeros(mz.shape[0], dtype=np.int64)
        else:
            zu, zi = np.unique(z, return_inverse=True)
            mkeys, modifier_idx = np.unique(
                np.column_stack([groups, zi]), axis=0, return_inverse=True
            )
            mgroup, mz = mkeys[:, 0], zu[mkeys[:, 1]]
        m_capacity = capacity(mz.shape[0], minimum=1)
        pad = m_capacity - mz.shape[0]
        counts = p.periods_per_worker().astype(float)
        start = np.concatenate([[0], np.cumsum(np.bincount(workers, minlength=p.n_workers))])
        has_periods = bool(spec.period_effects and p.n_periods > 1)
        return cls(
            prefix=prefix,
            curve=eff.curve,
            modifier=eff.modifier,
            gamma_pooled=gamma_pooled,
            n_groups=p.n_groups,
            n_periods=p.n_periods,
            n_workers=p.n_workers,
            has_periods=has_periods,
            order=order,
            y=np.ascontiguousarray(p.y[order], dtype=float),
            curve_idx=_index_array(curve_idx, p.n_groups * n_capacity),
            n_capacity=n_capacity,
            modifier_idx=_index_array(modifier_idx, m_capacity),
            modifier_group=np.concatenate([np.asarray(mgroup, dtype=np.int64), np.zeros(pad, int)]),
            modifier_z=np.concatenate([np.asarray(mz, dtype=float), np.zeros(pad)]),
            period_idx=_index_array(p.period_codes[order], max(p.n_periods, 1)),
            X=np.ascontiguousarray(p.covariate_matrix[order], dtype=float).reshape(len(order), -1),
            start=np.asarray(start, dtype=np.int64),
            counts=counts,
        )

    def _shared(self, name: str, value: np.ndarray) -> Any:
        return pytensor.shared(value, name=f"{self.prefix}gaussian_kernel_{name}", borrow=True)

    @functools.cached_property
    def shared(self) -> dict[str, Any]:
        """Every panel-dependent array as a PyTensor shared variable (nutpie passes them to its
        compiled function as data instead of embedding them as constants), by short name.

        They are fixed when the model is built: ``pm.set_data`` on the model's own data does not
        reach them (build the model again for new data).
        """
        return {
            name: self._shared(name, getattr(self, name))
            for name in (
                "y",
                "curve_idx",
                "modifier_idx",
                "period_idx",
                "X",
                "start",
                "modifier_group",
                "modifier_z",
                "counts",
            )
        }

    def data_tensors(self) -> list[Any]:
        """The row arrays in the order the kernel's Ops take them: ``y, k1, k2, t, X, start``."""
        s = self.shared
        return [s[k] for k in ("y", "curve_idx", "modifier_idx", "period_idx", "X", "start")]

    def curve_table(self, beta_group: Any, shape_group: Any = None) -> Any:
        """``E[g * n_capacity + n] = beta[g] * S(n; shape[g])`` over groups x counts.

        Computed by broadcasting ``(groups, 1)`` against ``(1, counts)`` (no gather, so no
        scatter in the gradient) and flattened row-major.
        """
        n = pt.as_tensor(np.arange(self.n_capacity, dtype=float)[None, :])
        shape = None if shape_group is None else pt.as_tensor(shape_group)[:, None]
        curve = credential_curve(pt, self.curve, n, shape)
        beta = pt.as_tensor(beta_group)[:, None]
        return pt.broadcast_to(beta * curve, (self.n_groups, self.n_capacity)).ravel()

    def modifier_table(self, gamma_group: Any = None) -> Any:
        """``M[j] = M(z_j; gamma[h_j])`` over the distinct (gamma group, track record)."""
        terms = MODIFIER_TERMS[self.modifier]
        if not terms:
            return pt.ones(1)
        gamma = pt.as_tensor(gamma_group)
        z = self.shared["modifier_z"]
        if self.gamma_pooled:
            g1 = gamma[0, 0]
            g2 = gamma[0, 1] if len(terms) > 1 else None
        else:
            h = self.shared["modifier_group"]
            g1 = gamma[h, 0]
            g2 = gamma[h, 1] if len(terms) > 1 else None
        lin = g1 * z if g2 is None else g1 * z + g2 * z**2
        return pt.exp(lin)


def gaussian_worker_loglik(
    kernel: GaussianKernelData,
    *,
    beta_group: Any,
    shape_group: Any = None,
    gamma_group: Any = None,
    tau: Any = None,
    delta: Any = None,
    sigma: Any,
    worker_effects: str = "within",
    sigma_alpha: Any = None,
    mu_alpha: Any = None,
    counts: Any = None,
    per_worker: bool = False,
) -> Any:
    """Log-likelihood of the Gaussian model with worker intercepts integrated out.

    Numerically the same as ``within_loglik(pt, y - m, ...)`` (or ``random_loglik``) summed
    over workers, with ``m`` the model's mean, but computed from small tables and one fused
    compiled loop over the rows (see the module docstring).

    Parameters
    ----------
    kernel
        :meth:`GaussianKernelData.from_design` of the model's design.
    beta_group
        First credential's effect per group ``(groups,)``.
    shape_group
        The curve's shape parameter per group (``lambda`` for geometric, ``kappa`` for
        quadratic), None for curves without one.
    gamma_group
        Modifier coefficients ``(groups, terms)``; None for ``modifier = "none"``.
    tau
        Period effects ``(periods,)``, None without period effects.
    delta
        Covariate coefficients ``(covariates,)``, None without covariates.
    sigma
        Residual sd.
    worker_effects
        ``"within"`` (flat prior on the intercepts), ``"random"`` or ``"correlated"``
        (``Normal(mu_alpha, sigma_alpha)`` intercepts; ``mu_alpha`` a scalar or per worker).
    counts
        Rows per worker as a tensor (the model's own ``periods_per_worker`` data); default the
        kernel's shared copy.
    per_worker
        Return the per-worker log-likelihood ``(workers,)`` instead of the total (for LOO;
        evaluated by the generic two-pass kernel).

    Returns
    -------
    TensorVariable
        The total log-likelihood (a scalar), or per worker with ``per_worker=True``.
    """
    E = kernel.curve_table(beta_group, shape_group)
    M = kernel.modifier_table(gamma_group)
    n_cov = int(kernel.X.shape[1])
    if kernel.has_periods:
        if tau is None:
            raise ValueError("the design has period effects: pass tau")
        tau_t = pt.as_tensor(tau)
    else:
        tau_t = pt.zeros(1)
    delta_t = pt.as_tensor(delta) if n_cov else pt.zeros(0)
    if n_cov and delta is None:
        raise ValueError("the design has covariates: pass delta")
    data = kernel.data_tensors()
    params = (E, M, tau_t, delta_t)
    c = kernel.shared["counts"] if counts is None else pt.as_tensor(counts)
    n_rows = pt.cast(data[0].shape[0], "float64")
    sigma = pt.as_tensor(sigma)
    log_s2 = 2.0 * pt.log(sigma)
    if worker_effects == "within" and not per_worker:
        outs: Any = WithinSSW(kernel.has_periods, n_cov)(*params, *data)
        ssw = outs[0]
        const = -0.5 * pt.log(c).sum()
        return -0.5 * (n_rows - c.shape[0]) * (LOG_2PI + log_s2) + const - 0.5 * ssw / sigma**2
    sums: Any = WorkerSums(kernel.has_periods, n_cov)(*params, *data)
    dsum, ssw_i = sums
    if worker_effects == "within":
        ll = -0.5 * (c - 1.0) * (LOG_2PI + log_s2) - 0.5 * pt.log(c) - 0.5 * ssw_i / sigma**2
    elif worker_effects in ("random", "correlated"):
        if sigma_alpha is None or mu_alpha is None:
            raise ValueError(f"worker_effects = {worker_effects!r} needs sigma_alpha and mu_alpha")
        s2 = sigma**2
        v = s2 + c * sigma_alpha**2
        ebar = dsum / c - mu_alpha
        ll = (
            -0.5 * c * LOG_2PI
            - 0.5 * (c - 1.0) * pt.log(s2)
            - 0.5 * pt.log(v)
            - 0.5 * ssw_i / s2
            - 0.5 * c * ebar**2 / v
        )
    else:
        raise ValueError(f"worker_effects must be within, random or correlated: {worker_effects!r}")
    return ll if per_worker else ll.sum()


#: Whether :func:`kernel_enabled` models use the kernel (see :func:`graph_likelihood`).
_ENABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("gaussian_kernel", default=True)


def kernel_enabled() -> bool:
    """Whether models built now use the kernel for their Gaussian closed-form likelihood."""
    return _ENABLED.get()


@contextlib.contextmanager
def graph_likelihood() -> Iterator[None]:
    """Build models inside this block with the likelihood written as a PyTensor graph over the
    rows (the reference the kernel is tested and benchmarked against) instead of the kernel."""
    token = _ENABLED.set(False)
    try:
        yield
    finally:
        _ENABLED.reset(token)


def kernel_loglik(
    design: ModelDesign,
    *,
    prefix: str = "",
    sigma: Any,
    counts: Any = None,
    sigma_alpha: Any = None,
    mu_alpha: Any = None,
    per_worker: bool = False,
) -> Any:
    """:func:`gaussian_worker_loglik` of ``design``'s part, with the effect parameters, period
    effects and covariate coefficients taken by name (with ``prefix``) from the current model."""
    import pymc as pm

    eff = design.spec.effect
    shape_name = CURVE_SHAPE_PARAMETER[eff.curve]
    named = pm.modelcontext(None).named_vars
    kernel = GaussianKernelData.from_design(design, prefix=prefix)
    return gaussian_worker_loglik(
        kernel,
        beta_group=named[f"{prefix}beta_group"],
        shape_group=named[f"{prefix}{shape_name}_group"] if shape_name else None,
        gamma_group=named[f"{prefix}gamma_group"] if MODIFIER_TERMS[eff.modifier] else None,
        tau=named[f"{prefix}tau"] if kernel.has_periods else None,
        delta=named.get(f"{prefix}delta"),
        sigma=sigma,
        worker_effects=design.spec.worker_effects,
        sigma_alpha=sigma_alpha,
        mu_alpha=mu_alpha,
        counts=counts,
        per_worker=per_worker,
    )


def use_kernel(model: pm.Model, design: ModelDesign, name: str = "worker_likelihood") -> pm.Model:
    """Replace, in place, the potential ``name`` of a Gaussian model built by
    :func:`graph_likelihood` by the fast kernel (same free variables: only the potential's graph
    changes). For benchmarks and tests that compare the two on one model."""
    import pymc as pm

    effects = design.spec.worker_effects
    named = model.named_vars
    old = named[name]
    with model:
        mu_alpha = sigma_alpha = None
        if effects in ("random", "correlated"):
            sigma_alpha = named["sigma_alpha"]
            mu_alpha = named["mu_alpha"]
            if effects == "correlated":
                mu_alpha = mu_alpha + pt.dot(named["worker_means"], named["psi"])
        ll = kernel_loglik(design, sigma=named["sigma"], sigma_alpha=sigma_alpha, mu_alpha=mu_alpha)
        model.potentials.remove(old)
        pm.Potential(f"{name}_kernel", ll)
    return model
