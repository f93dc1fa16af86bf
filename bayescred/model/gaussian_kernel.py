"""A fast log-density of the Gaussian models with worker intercepts integrated out.

The default model's likelihood (see :mod:`bayescred.maths.worker_likelihoods`) needs, for each
worker ``i`` with ``T_i`` rows, the sum ``D_i = sum_t d_it`` and the within sum of squares
``SSW_i = sum_t (d_it - D_i / T_i)^2`` of the residuals ``d = y - m``, where ``m`` is the sum of
the design's terms on each row (:mod:`bayescred.terms`)::

    m = beta[g] * S(n; shape[g]) * M(z; gamma[g]) + tau[t] + x @ delta

Written as a PyTensor graph over the rows this costs several row-length temporaries, gathers
(``beta[g]``, ``tau[t]``...) whose gradients are scatter-adds, and two scatter-adds for the
worker sums: about 84 ns per row for one log density and gradient. This module computes the same
numbers with far less row-level work, for *any* tuple of terms:

1. **Small tables.** Each term gives its value on a row as a product of small tables, each
   indexed per row (:meth:`bayescred.terms.base.Term.kernel_index`), or as a dense block
   ``x_r @ coef``: the credential term as ``E[k_r] * M[j_r]`` with ``E`` one value per (group,
   credential count) and ``M`` one per distinct (group, track record); the period effects as
   ``tau[t_r]``; the covariates as a dense block. At design time
   (:meth:`GaussianKernelData.from_design`) every row gets its index into each table, so each
   evaluation computes the curve and the modifier on tens and thousands of values instead of
   every row, and PyTensor differentiates these small tables as usual. A term without a kernel
   form enters by its per-row values (a table indexed by the row itself): nothing the design
   holds can be missing from the sampled density.

2. **One fused loop per pass.** Rows are sorted by worker once, so a worker's rows are one
   contiguous segment. A compiled (numba) loop, generated for the design's *layout* (how many
   factors each term has, in order: :func:`kernel_source`), computes ``d_r`` and the worker's
   sums in one pass over the segment, with the shifted-data formulas (``K`` the segment's first
   residual)::

       D_i   = T_i K + s1,  s1 = sum_t (d_it - K)
       SSW_i = s2 - s1^2 / T_i,  s2 = sum_t (d_it - K)^2

   which are as accurate as the two-pass formula when ``K`` is a value of the segment.

3. **Gradient in the same loop.** For the within likelihood the total log density depends on
   the residuals only through ``SSW = sum_i SSW_i``, and
   ``dSSW / dm_r = -2 (d_r - D_i / T_i)``, so the pass that computes ``SSW`` also accumulates
   its gradient with respect to every table: ``dSSW/dE[k] = sum_{r: k_r = k} -2 (d_r - dbar_i)
   M[j_r]`` (the other factors of the term) and likewise for the others. The tables are small,
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
Only first derivatives are implemented (enough for NUTS). The generated loop adds the terms in
the design's order with the same float operations as a hand-written one, so the draws do not
depend on how the loop came about.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from bayescred.maths.worker_likelihoods import LOG_2PI
from bayescred.model.design import ModelDesign
from bayescred.terms import BuiltTerm, KernelIndex, Term
from bayescred.terms.base import capacity

__all__ = [
    "GaussianKernelData",
    "Layout",
    "WithinSSW",
    "WorkerSums",
    "WorkerSumsGrad",
    "capacity",
    "gaussian_worker_loglik",
    "kernel_loglik",
    "kernel_source",
]

#: The structure of the mean a kernel loop computes: one entry per term, in order,
#: ``("product", factors)`` (a product of tables, each indexed per row) or ``("dense", columns)``
#: (a row's values times a coefficient vector).
Layout = tuple[tuple[str, int], ...]

# ---------------------------------------------------------------------------------------------
# compiled loops, generated per layout
# ---------------------------------------------------------------------------------------------


def _names(layout: Layout) -> tuple[list[str], list[str]]:
    """The loops' parameter (table) and data (index) argument names, in input order."""
    params: list[str] = []
    data: list[str] = []
    for j, (kind, k) in enumerate(layout):
        if kind == "product":
            params += [f"P{j}_{f}" for f in range(k)]
            data += [f"I{j}_{f}" for f in range(k)]
        else:
            params.append(f"D{j}")
            data.append(f"X{j}")
    return params, data


def kernel_source(layout: Layout) -> str:
    """The Python source of the three loops for ``layout`` (``mean_row``, ``worker_sums``,
    ``worker_sums_grad``, ``within_ssw``), compiled by :func:`_loops`.

    ``mean_row`` adds the terms in order: the first product is assigned, the others added, a
    dense block adds ``X[r, c] * D[c]`` column by column.
    """
    params, data = _names(layout)
    args = ", ".join([*params, "y", *data, "start"])
    mean_args = ", ".join([*params, *data])
    body: list[str] = []
    grads: list[str] = []  # per-row gradient accumulation, given gm
    first = True
    for j, (kind, k) in enumerate(layout):
        if kind == "product":
            factors = [f"P{j}_{f}[I{j}_{f}[r]]" for f in range(k)]
            body.append(f"    m {'=' if first else '+='} {' * '.join(factors)}")
            for f in range(k):
                others = [factors[o] for o in range(k) if o != f]
                value = " * ".join(["gm", *others])
                grads.append(f"G{j}_{f}[I{j}_{f}[r]] += {value}")
        else:
            if first:
                body.append("    m = 0.0")
            body.append(f"    for c in range({k}):\n        m += X{j}[r, c] * D{j}[c]")
            grads.append(f"for c in range({k}):\n                GD{j}[c] += gm * X{j}[r, c]")
        first = False
    if first:
        body.append("    m = 0.0")
    grad_names = [p.replace("P", "G", 1) if p.startswith("P") else "G" + p for p in params]
    zeros = "\n".join(
        f"    {g} = np.zeros({p}.shape[0])" for g, p in zip(grad_names, params, strict=True)
    )
    grad_tuple = "(" + "".join(f"{g}, " for g in grad_names) + ")"
    accumulate = "\n".join(f"            {line}" for line in grads)
    mean = "mean_row(" + mean_args + ", r)"
    return f"""
@numba.njit(nogil=True, inline="always")
def mean_row({mean_args}, r):
{chr(10).join(body)}
    return m


@numba.njit(nogil=True)
def worker_sums({args}):
    n_workers = start.shape[0] - 1
    dsum = np.zeros(n_workers)
    ssw = np.zeros(n_workers)
    for i in range(n_workers):
        a, b = start[i], start[i + 1]
        if b <= a:
            continue
        r = a
        shift = y[a] - {mean}
        s1 = 0.0
        s2 = 0.0
        for r in range(a + 1, b):
            e = y[r] - {mean} - shift
            s1 += e
            s2 += e * e
        cnt = b - a
        dsum[i] = cnt * shift + s1
        ssw[i] = s2 - s1 * s1 / cnt
    return dsum, ssw


@numba.njit(nogil=True)
def worker_sums_grad({args}, g_dsum, g_ssw):
    n_workers = start.shape[0] - 1
{zeros}
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
            d = y[r] - {mean}
            buf[r - a] = d
            s += d
        dbar = s / (b - a)
        two_g = 2.0 * g_ssw[i]
        gd0 = g_dsum[i]
        for r in range(a, b):
            gm = -(two_g * (buf[r - a] - dbar) + gd0)
{accumulate}
    return {grad_tuple}


@numba.njit(nogil=True)
def within_ssw({args}):
    n_workers = start.shape[0] - 1
{zeros}
    max_len = 0
    for i in range(n_workers):
        max_len = max(max_len, start[i + 1] - start[i])
    buf = np.empty(max_len)
    total = 0.0
    for i in range(n_workers):
        a, b = start[i], start[i + 1]
        if b <= a:
            continue
        r = a
        shift = y[a] - {mean}
        buf[0] = 0.0
        s1 = 0.0
        s2 = 0.0
        for r in range(a + 1, b):
            e = y[r] - {mean} - shift
            buf[r - a] = e
            s1 += e
            s2 += e * e
        cnt = b - a
        total += s2 - s1 * s1 / cnt
        ebar = s1 / cnt
        for r in range(a, b):
            gm = -2.0 * (buf[r - a] - ebar)
{accumulate}
    return (np.asarray(total), *{grad_tuple})
"""


@functools.cache
def _loops(layout: Layout) -> dict[str, Any]:
    """The loops of ``layout``, compiled on first call (one compilation per layout)."""
    namespace: dict[str, Any] = {"numba": numba, "np": np}
    exec(compile(kernel_source(layout), f"<bayescred kernel {layout}>", "exec"), namespace)
    return namespace


def _n_params(layout: Layout) -> int:
    return sum(k if kind == "product" else 1 for kind, k in layout)


# ---------------------------------------------------------------------------------------------
# PyTensor Ops
# ---------------------------------------------------------------------------------------------


class _KernelOp(Op):
    """Inputs: the layout's parameter tables (in order), then ``y``, the per-row index arrays
    (in order), ``start``, then any output gradients. Outputs: float64, computed by
    :attr:`kind`."""

    __props__: tuple[str, ...] = ("layout",)
    kind: str = ""
    n_extra_inputs: int = 0

    def __init__(self, layout: Layout) -> None:
        self.layout = tuple((str(kind), int(k)) for kind, k in layout)

    @property
    def n_params(self) -> int:
        return _n_params(self.layout)

    @property
    def n_data(self) -> int:
        return self.n_params + 2  # y, one array per table, start

    @property
    def n_outputs(self) -> int:
        raise NotImplementedError

    def make_node(self, *inputs: Any) -> Apply:
        n_p, n_d = self.n_params, self.n_data
        if len(inputs) != n_p + n_d + self.n_extra_inputs:
            raise TypeError(f"{type(self).__name__} takes {n_p + n_d + self.n_extra_inputs} inputs")
        params = [pt.as_tensor_variable(v).astype("float64") for v in inputs[:n_p]]
        data = [pt.as_tensor_variable(v) for v in inputs[n_p : n_p + n_d]]
        extra = [pt.as_tensor_variable(v).astype("float64") for v in inputs[n_p + n_d :]]
        return Apply(self, [*params, *data, *extra], self._output_types())

    def _output_types(self) -> list[Any]:
        return [pt.dvector() for _ in range(self.n_outputs)]

    def perform(self, node: Apply, inputs: Any, output_storage: Any) -> None:
        outs = _loops(self.layout)[self.kind](*inputs)
        for store, value in zip(output_storage, outs, strict=True):
            store[0] = value

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        # the outputs depend on the parameter tables (and output gradients), not on the data
        n_p, n_d = self.n_params, self.n_data
        return [[k < n_p or k >= n_p + n_d] * self.n_outputs for k in range(len(node.inputs))]


class WorkerSums(_KernelOp):
    """Per-worker residual sums ``D_i`` and within sums of squares ``SSW_i``.

    Outputs ``(D, SSW)``, each of length ``len(start) - 1``; gradient by
    :class:`WorkerSumsGrad` (a second pass over the rows).
    """

    kind = "worker_sums"

    @property
    def n_outputs(self) -> int:
        return 2

    def infer_shape(self, node: Apply, shapes: Any) -> Any:
        n = (shapes[self.n_params + self.n_data - 1][0] - 1,)
        return [n, n]

    def pullback(self, inputs: Any, outputs: Any, output_grads: Any) -> Any:
        g_dsum, g_ssw = (
            pt.zeros_like(out) if isinstance(g.type, DisconnectedType) else g
            for g, out in zip(output_grads, outputs, strict=True)
        )
        grads: Any = WorkerSumsGrad(self.layout)(*inputs, g_dsum, g_ssw)
        if self.n_params == 1:
            grads = [grads]
        return [*grads, *(disconnected_type() for _ in inputs[self.n_params :])]


class WorkerSumsGrad(_KernelOp):
    """Gradient of ``sum_i gD_i D_i + gSSW_i SSW_i`` with respect to every table (inputs: those
    of :class:`WorkerSums`, then ``gD`` and ``gSSW``). First order only."""

    kind = "worker_sums_grad"
    n_extra_inputs = 2

    @property
    def n_outputs(self) -> int:
        return self.n_params

    def infer_shape(self, node: Apply, shapes: Any) -> Any:
        return [shapes[k] for k in range(self.n_params)]

    def pullback(self, inputs: Any, outputs: Any, output_grads: Any) -> Any:
        return [grad_not_implemented(self, k, v) for k, v in enumerate(inputs)]


class WithinSSW(_KernelOp):
    """``SSW = sum_i SSW_i`` with its gradient computed in the same pass.

    Outputs ``(SSW, dSSW/dtable...)``; the gradient of ``SSW`` is the scalar output gradient
    times the other outputs (first derivatives only: the gradient outputs themselves are not
    differentiable).
    """

    kind = "within_ssw"

    @property
    def n_outputs(self) -> int:
        return 1 + self.n_params

    def _output_types(self) -> list[Any]:
        return [pt.dscalar(), *(pt.dvector() for _ in range(self.n_params))]

    def infer_shape(self, node: Apply, shapes: Any) -> Any:
        return [(), *(shapes[k] for k in range(self.n_params))]

    def pullback(self, inputs: Any, outputs: Any, output_grads: Any) -> Any:
        g = output_grads[0]
        if any(not isinstance(v.type, DisconnectedType) for v in output_grads[1:]):
            return [grad_not_implemented(self, k, v) for k, v in enumerate(inputs)]
        if isinstance(g.type, DisconnectedType):
            g = pt.zeros(())
        return [g * outputs[k + 1] for k in range(self.n_params)] + [
            disconnected_type() for _ in inputs[self.n_params :]
        ]


@register_funcify_default_op_cache_key(WorkerSums)
@register_funcify_default_op_cache_key(WorkerSumsGrad)
@register_funcify_default_op_cache_key(WithinSSW)
def _numba_kernel(op: _KernelOp, node: Any = None, **kwargs: Any) -> Any:
    """PyTensor's numba backend (nutpie's) calls the compiled loop directly."""
    return _loops(op.layout)[op.kind]


# ---------------------------------------------------------------------------------------------
# design-time data and the log density
# ---------------------------------------------------------------------------------------------


def _row_values_index(n_rows: int, order: np.ndarray) -> KernelIndex:
    """A table of a term's per-row values gathered into sorted order (``order``), then indexed
    by the sorted row."""
    return KernelIndex(index=(np.arange(n_rows, dtype=np.int64),), constants={"order": order})


@dataclass(frozen=True)
class GaussianKernelData:
    """Row data sorted by worker and each term's kernel index, computed once per design.

    Every array that depends on the panel's values (not only on its shape) reaches the graph as
    a shared variable (:meth:`data_tensors`, :meth:`constant`), and the terms pad their tables to
    a power-of-two size (:func:`~bayescred.terms.base.capacity`): a model compiled for one panel
    serves another of the same shape (:mod:`bayescred.inference.compiled`). Padding entries are
    never indexed by a row, so they add nothing to the log density or its gradient.

    Attributes
    ----------
    prefix
        Prefix of the shared variables' names (the part's :class:`~bayescred.model.parts.Naming`).
    terms
        The design's terms, in order.
    indices
        Each term's :class:`~bayescred.terms.base.KernelIndex` on the sorted rows (its per-row
        values, for a term without a kernel form: :attr:`row_valued`).
    row_valued
        Per term, whether it enters by its per-row values.
    n_workers
        Workers.
    order
        Row order (sorted by worker, stable) applied to every row array.
    y
        Outcome per sorted row.
    start
        Worker ``i``'s rows are ``start[i]:start[i + 1]``.
    counts
        Rows per worker ``T_i`` (float).
    """

    prefix: str
    terms: tuple[Term, ...]
    indices: tuple[KernelIndex, ...]
    row_valued: tuple[bool, ...]
    n_workers: int
    order: np.ndarray
    y: np.ndarray
    start: np.ndarray
    counts: np.ndarray

    @property
    def n_rows(self) -> int:
        """Used rows."""
        return int(self.y.shape[0])

    @property
    def layout(self) -> Layout:
        """The loops' structure: one entry per term (:data:`Layout`)."""
        return tuple(index.layout for index in self.indices)

    @classmethod
    def from_design(cls, design: ModelDesign, prefix: str = "") -> GaussianKernelData:
        """Sort ``design``'s rows by worker and key each row into every term's tables."""
        p = design.panel
        if p.y is None:  # pragma: no cover - a model design always has an outcome
            raise ValueError("the design has no outcome")
        order = np.argsort(p.worker_codes, kind="stable")
        workers = p.worker_codes[order]
        sorted_rows = design.rows().take(order)
        indices: list[KernelIndex] = []
        row_valued: list[bool] = []
        for term in design.terms:
            index = term.kernel_index(sorted_rows)
            row_valued.append(index is None)
            indices.append(_row_values_index(len(order), order) if index is None else index)
        start = np.concatenate([[0], np.cumsum(np.bincount(workers, minlength=p.n_workers))])
        return cls(
            prefix=prefix,
            terms=tuple(design.terms),
            indices=tuple(indices),
            row_valued=tuple(row_valued),
            n_workers=p.n_workers,
            order=order,
            y=np.ascontiguousarray(p.y[order], dtype=float),
            start=np.asarray(start, dtype=np.int64),
            counts=p.periods_per_worker().astype(float),
        )

    def _shared(self, name: str, value: np.ndarray) -> Any:
        return pytensor.shared(value, name=f"{self.prefix}gaussian_kernel_{name}", borrow=True)

    def _term_name(self, j: int) -> str:
        return f"{self.terms[j].key}{j}"

    @functools.cached_property
    def shared(self) -> dict[str, Any]:
        """Every panel-dependent array as a PyTensor shared variable (nutpie passes them to its
        compiled function as data instead of embedding them as constants), by short name:
        ``y``, ``start``, ``counts``, and per term ``j`` (named ``{key}{j}``) its index arrays
        ``{key}{j}_index{f}`` and constants ``{key}{j}_{name}``.

        They are fixed when the model is built: ``pm.set_data`` on the model's own data does not
        reach them (build the model again for new data).
        """
        out = {name: self._shared(name, getattr(self, name)) for name in ("y", "start", "counts")}
        for j, index in enumerate(self.indices):
            term = self._term_name(j)
            for f, arr in enumerate(index.index):
                out[f"{term}_index{f}"] = self._shared(f"{term}_index{f}", arr)
            for name, arr in index.constants.items():
                out[f"{term}_{name}"] = self._shared(f"{term}_{name}", arr)
        return out

    def data_tensors(self) -> list[Any]:
        """The row arrays in the order the kernel's Ops take them: ``y``, every term's index
        arrays in order, ``start``."""
        s = self.shared
        index = [
            s[f"{self._term_name(j)}_index{f}"]
            for j, ix in enumerate(self.indices)
            for f in range(len(ix.index))
        ]
        return [s["y"], *index, s["start"]]

    def tables(self, built: Sequence[BuiltTerm]) -> list[Any]:
        """Every term's tables from the built terms (aligned with :attr:`terms`), in the order
        the kernel's Ops take them."""
        if len(built) != len(self.terms):
            raise ValueError(f"the kernel has {len(self.terms)} terms, not {len(built)}")
        out: list[Any] = []
        for j, (term, index, b) in enumerate(zip(self.terms, self.indices, built, strict=True)):
            if b.term is not term:
                raise ValueError(f"built term {j} is {b.term!r}, the design's is {term!r}")
            name = self._term_name(j)

            def constant(key: str, name: str = name) -> Any:
                return self.shared[f"{name}_{key}"]

            if self.row_valued[j]:
                out.append(pt.as_tensor(b.mean)[constant("order")])
            else:
                out.extend(term.kernel_tables(index, b, constant))
        return out


def gaussian_worker_loglik(
    kernel: GaussianKernelData,
    built: Sequence[BuiltTerm],
    *,
    sigma: Any,
    worker_effects: str = "within",
    sigma_alpha: Any = None,
    mu_alpha: Any = None,
    counts: Any = None,
    per_worker: bool = False,
) -> Any:
    """Log-likelihood of the Gaussian model with worker intercepts integrated out.

    Numerically the same as ``within_loglik(pt, y - m, ...)`` (or ``random_loglik``) summed
    over workers, with ``m`` the sum of the built terms' values, but computed from their small
    tables and one fused compiled loop over the rows (see the module docstring).

    Parameters
    ----------
    kernel
        :meth:`GaussianKernelData.from_design` of the model's design.
    built
        The design's terms as built into the model
        (:attr:`bayescred.model.predictor.Predictor.terms`).
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
    params = kernel.tables(built)
    data = kernel.data_tensors()
    layout = kernel.layout
    c = kernel.shared["counts"] if counts is None else pt.as_tensor(counts)
    n_rows = pt.cast(data[0].shape[0], "float64")
    sigma = pt.as_tensor(sigma)
    log_s2 = 2.0 * pt.log(sigma)
    if worker_effects == "within" and not per_worker:
        outs: Any = WithinSSW(layout)(*params, *data)
        ssw = outs[0]
        const = -0.5 * pt.log(c).sum()
        return -0.5 * (n_rows - c.shape[0]) * (LOG_2PI + log_s2) + const - 0.5 * ssw / sigma**2
    sums: Any = WorkerSums(layout)(*params, *data)
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


def kernel_loglik(
    design: ModelDesign,
    built: Sequence[BuiltTerm],
    *,
    prefix: str = "",
    sigma: Any,
    counts: Any = None,
    sigma_alpha: Any = None,
    mu_alpha: Any = None,
    per_worker: bool = False,
) -> Any:
    """:func:`gaussian_worker_loglik` of ``design``'s part from its built terms."""
    kernel = GaussianKernelData.from_design(design, prefix=prefix)
    return gaussian_worker_loglik(
        kernel,
        built,
        sigma=sigma,
        worker_effects=design.spec.worker_effects,
        sigma_alpha=sigma_alpha,
        mu_alpha=mu_alpha,
        counts=counts,
        per_worker=per_worker,
    )
