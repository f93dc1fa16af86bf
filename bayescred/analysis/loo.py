"""Per-worker log-likelihoods and model comparison by PSIS-LOO.

The pointwise unit is the worker: ``log_likelihood`` holds ``log p(y_i | theta)`` for all rows
``y_i`` of worker ``i`` jointly, so PSIS-LOO leaves one worker out at a time. That is the right
unit for panel data (a worker's rows are not exchangeable given the parameters once the
intercepts are integrated out) and the only one the ``within`` likelihood allows, since it has
no per-row density.

* Closed-form Gaussian models: the likelihoods of :mod:`bayescred.maths.worker_likelihoods`
  (the ``worker_loglik`` deterministic of the PyMC model), evaluated in NumPy over the draws.
  For ``within`` this is the density of the worker's within-worker deviations
  (``T_i - 1`` degrees of freedom), for ``random``/``correlated`` that of the outcome levels
  with the intercept integrated out.
* Latent-intercept models: the row log densities (normal, Student-t; Poisson, negative
  binomial and Bernoulli on their link scale) summed within worker, given the draw's
  intercepts (rebuilt from the stored ``alpha_offset``). Leave-one-worker-out PSIS then has to
  move the intercept from its posterior to its prior and the Pareto k values are often high;
  ``worker_effects = "none"`` has no such problem.

Models whose likelihood has a density per row given the intercepts (latent intercepts,
``worker_effects = "none"``) can also give it per row (``unit="row"``, dims ``obs``; for
ArviZ's LOO-PIT and the like); leave-one-worker-out LOO sums those rows within worker.

:func:`loo` and :func:`compare` use a fit's stored ``log_likelihood`` group when it has one
(:meth:`bayescred.CredentialFit.add_groups`) and compute it otherwise.

Memory is O(draws x workers) for the result plus O(chunk) for the work (``unit="row"``:
O(draws x rows)).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

import arviz as az
import numpy as np
import pymc as pm
import xarray as xr

from bayescred.analysis.comparison import ComparisonTable
from bayescred.analysis.predictor import chunks, mean_without_intercepts
from bayescred.analysis.replicate import Replicator, fit_design, posterior_replicator
from bayescred.inference.io import HasTree
from bayescred.inference.schema import DESIGN_ATTR, SPEC_ATTR
from bayescred.model.build import build_model
from bayescred.model.design import ModelDesign
from bayescred.model.families import family_of
from bayescred.model.families.normal import Normal
from bayescred.model.predictor import OBSERVED_VAR, WORKER_LOGLIK

#: Elements of draws x rows evaluated at once.
CHUNK_ELEMENTS = 1_000_000


Unit = Literal["worker", "row"]


def has_row_density(design: ModelDesign) -> bool:
    """Whether the model's likelihood has a density per row (given the draw's intercepts).

    Latent-intercept parts and ``worker_effects = "none"`` do; closed-form Gaussian parts
    (``within``, ``random``, ``correlated``) integrate the intercepts out, so only the worker's
    rows jointly have a density. A two-part model needs both parts to have one.
    """
    effects = design.spec.worker_effects
    return not any(part.family.closed_form(effects) for part in family_of(design).parts(design))


def _row_loglik_draw(rep: Replicator, j: int, y: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Per-row log density of draw ``j`` given its intercepts (not for closed-form parts)."""
    family = rep.family
    params = {k: v[j] for k, v in rep.flat.items()}
    alpha = rep.intercepts(j, m, np.random.default_rng(0))  # stored intercepts: no randomness
    a = alpha[rep.design.panel.worker_codes] if isinstance(alpha, np.ndarray) else alpha
    if family.additive:
        assert isinstance(family, Normal)
        return np.asarray(family.residual_logpdf(y - m - a, params))
    return np.asarray(family.row_logpdf(y, m + a, params))


def _worker_loglik_draw(
    rep: Replicator, j: int, y: np.ndarray, m: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """Per-worker log-likelihood of draw ``j`` (``m``: its predictor without intercepts)."""
    design, family = rep.design, rep.family
    codes = design.panel.worker_codes
    effects = design.spec.worker_effects
    if family.closed_form(effects):
        assert isinstance(family, Normal)
        params = {k: v[j] for k, v in rep.flat.items()}
        mean = rep.intercept_mean(j) if effects != "within" else 0.0
        return family.worker_loglik(y - m, codes, counts, effects, params, mean)
    lp = _row_loglik_draw(rep, j, y, m)
    return np.bincount(codes, weights=lp, minlength=len(counts))


def _loglik(rep: Replicator, n_draws: int, chunk_elements: int, unit: Unit) -> np.ndarray:
    """Log-likelihood ``(draws, workers)`` or ``(draws, rows)`` of one single-part replicator."""
    design, p = rep.design, rep.design.panel
    y, counts = np.asarray(p.y, dtype=float), p.periods_per_worker().astype(float)
    out = np.empty((n_draws, p.n_workers if unit == "worker" else p.n_rows))
    for draws in chunks(n_draws, max(1, chunk_elements // max(p.n_rows, 1))):
        sel = np.arange(draws.start, draws.stop)
        m = np.empty((len(sel), p.n_rows))
        for rows in chunks(p.n_rows, max(1, chunk_elements // len(sel))):
            m[:, rows] = mean_without_intercepts(rep.params, design, sel, rows)
        for i, j in enumerate(sel):
            if unit == "worker":
                out[j] = _worker_loglik_draw(rep, int(j), y, m[i], counts)
            else:
                out[j] = _row_loglik_draw(rep, int(j), y, m[i])
        del m
    return out


def log_likelihood(
    fit_tree: xr.DataTree,
    *,
    unit: Unit = "worker",
    chunk_elements: int = CHUNK_ELEMENTS,
    design: ModelDesign | None = None,
) -> xr.Dataset:
    """Pointwise log-likelihood of every posterior draw (see the module docstring).

    Parameters
    ----------
    fit_tree
        A fit's DataTree (loaded fits work too).
    unit
        ``"worker"`` (default): ``log p(y_i | theta)`` of all rows of each worker jointly, the
        unit of leave-one-worker-out LOO, available for every model. ``"row"``: the density of
        each row given the draw's intercepts, for models that have one
        (:func:`has_row_density`: latent intercepts or ``worker_effects = "none"``); it is
        ``draws x rows`` numbers, so mind the memory on large panels. Summed within worker the
        rows give the worker unit exactly.
    chunk_elements
        Draws x rows evaluated at once (blocks of draws, or one draw when its rows exceed it).
    design
        The fit's design (:attr:`bayescred.CredentialFit.design`); ``None`` rebuilds it from
        the tree (:func:`~bayescred.analysis.replicate.fit_design`).

    Returns
    -------
    xarray.Dataset
        Variable ``y`` (named as in ``observed_data``, as ArviZ expects) with dims
        ``(chain, draw, worker)`` or ``(chain, draw, obs)``, ready to be a ``log_likelihood``
        group; ``attrs["unit"]`` and ``attrs["scale"]`` say what density it is.

    Raises
    ------
    ValueError
        For ``unit="row"`` when the likelihood has no per-row density, or an unknown unit.

    A hurdle model's log-likelihood is the sum of its parts' (the extensive part's given the
    stored intercepts, the intensive part's with its intercepts integrated out unless they are
    latent); a row without an amount only has the extensive part's. The intensive part's density
    is of the outcome itself (a log-normal amount's includes ``-log y``,
    :meth:`~bayescred.model.families.HurdleFamily.positive_log_jacobian`), so it compares with
    other models of the same outcome.
    """
    if unit not in ("worker", "row"):
        raise ValueError(f"unit must be 'worker' or 'row', not {unit!r}")
    posterior = fit_tree["posterior"].to_dataset()
    sizes = posterior.sizes
    n_draws = sizes["chain"] * sizes["draw"]
    rep, _ = posterior_replicator(
        fit_tree, max_draws=n_draws, chunk_rows=chunk_elements, design=design
    )
    design, p = rep.design, rep.design.panel
    if unit == "row" and not has_row_density(design):
        raise ValueError(
            f"this model (worker_effects = {design.spec.worker_effects!r}) integrates "
            "the worker intercepts out: only a worker's rows jointly have a density, so the "
            "log-likelihood exists per worker only (unit='worker')"
        )
    if isinstance(rep, Replicator):
        out = _loglik(rep, n_draws, chunk_elements, unit)
    else:  # two parts: their likelihoods multiply; rows/workers without amounts only have one
        out = _loglik(rep.extensive, n_draws, chunk_elements, unit)
        assert rep.intensive.part.rows is not None
        rows = np.flatnonzero(rep.intensive.part.rows)
        where = rep.kept_workers if unit == "worker" else rows
        jacobian = rep.family.positive_log_jacobian(np.asarray(p.y, dtype=float)[rows])
        if unit == "worker":  # per kept worker, in the order of kept_workers (sorted codes)
            codes = np.searchsorted(rep.kept_workers, p.worker_codes[rows])
            jacobian = np.bincount(codes, weights=jacobian, minlength=len(rep.kept_workers))
        out[:, where] += _loglik(rep.intensive, n_draws, chunk_elements, unit) + jacobian
    scale = "within-worker deviations" if design.spec.worker_effects == "within" else "outcome"
    if unit == "worker":
        dim, labels = "worker", np.asarray(p.worker_labels)
    else:
        dim, labels = "obs", np.asarray(fit_tree["observed_data"]["obs"].values)
    dims = ("chain", "draw", dim)
    return xr.Dataset(
        {OBSERVED_VAR: (dims, out.reshape(sizes["chain"], sizes["draw"], -1))},
        coords={"chain": posterior["chain"].values, "draw": posterior["draw"].values, dim: labels},
        attrs={"unit": unit, "scale": scale, "outcome": p.outcome},
    )


def stored_log_likelihood(fit_tree: xr.DataTree) -> xr.Dataset | None:
    """The per-worker log-likelihood from the tree's ``log_likelihood`` group, if it has one.

    A stored per-row group is summed within worker (exact: rows are independent given the
    intercepts). ``None`` when there is no such group, or when it does not cover every
    posterior draw (then it is not the fit's and is recomputed instead).
    """
    if "log_likelihood" not in fit_tree.children:
        return None
    group = fit_tree["log_likelihood"].to_dataset()
    if OBSERVED_VAR not in group or group.attrs.get("unit") not in ("worker", "row"):
        return None
    post = fit_tree["posterior"].to_dataset()
    ll = group[OBSERVED_VAR]
    for dim in ("chain", "draw"):
        if dim not in ll.dims or not np.array_equal(ll[dim].values, post[dim].values):
            return None
    if group.attrs["unit"] == "worker":
        return group
    codes = np.asarray(fit_tree["constant_data"]["worker_idx"].values)
    labels = np.asarray(fit_tree["constant_data"]["worker"].values)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(labels)))
    values = ll.transpose("chain", "draw", "obs").values
    # every worker has rows, so the sorted rows split into one run per worker
    summed = np.stack([np.add.reduceat(v[:, order], starts, axis=-1) for v in values])
    dims = ("chain", "draw", "worker")
    return xr.Dataset(
        {OBSERVED_VAR: (dims, summed)},
        coords={"chain": ll["chain"].values, "draw": ll["draw"].values, "worker": labels},
        attrs={**group.attrs, "unit": "worker"},
    )


def worker_loglik_pymc(fit_tree: xr.DataTree, *, design: ModelDesign | None = None) -> xr.Dataset:
    """The same per-worker log-likelihood from the PyMC model's ``worker_loglik`` deterministic.

    Closed-form models only; recompiles and evaluates the model graph draw by draw, so it is
    slower than :func:`log_likelihood` and kept as a cross-check. ``design``: the fit's design
    (``None`` rebuilds it from the tree).
    """
    design = fit_design(fit_tree, design)
    if not family_of(design).closed_form(design.spec.worker_effects):
        raise ValueError("only closed-form Gaussian models have a worker_loglik deterministic")
    model = build_model(design)
    free = [v.name for v in model.free_RVs]
    posterior = fit_tree["posterior"].to_dataset()[free]
    out = pm.compute_deterministics(
        posterior, model=model, var_names=[WORKER_LOGLIK], progressbar=False
    )
    assert isinstance(out, xr.Dataset)
    return out


def _tree_of(fit: HasTree | xr.DataTree) -> xr.DataTree:
    tree = getattr(fit, "tree", fit)
    if not isinstance(tree, xr.DataTree) or "posterior" not in tree.children:
        raise TypeError("expected a CredentialFit or a fit's DataTree")
    return tree


def _design_of(fit: HasTree | xr.DataTree) -> ModelDesign | None:
    """The design a fit object holds (:attr:`bayescred.CredentialFit.design`); ``None`` for a
    bare tree (or an object without one): the design is then rebuilt from the tree."""
    if isinstance(fit, xr.DataTree):
        return None
    design = getattr(fit, "design", None)
    return design if isinstance(design, ModelDesign) else None


def loo_tree(fit_tree: xr.DataTree, *, design: ModelDesign | None = None) -> xr.DataTree:
    """A DataTree with the fit's posterior and per-worker ``log_likelihood`` (for ArviZ).

    The tree's own ``log_likelihood`` group is used when it has one
    (:func:`stored_log_likelihood`); otherwise it is computed by :func:`log_likelihood` (with
    the fit's ``design`` when given, else the design rebuilt from the tree).
    """
    return _loo_data(fit_tree, lambda: design)


def _loo_data(tree: xr.DataTree, design: Callable[[], ModelDesign | None]) -> xr.DataTree:
    """:func:`loo_tree`, asking for the fit's design only when the log-likelihood has to be
    computed (a loaded fit rebuilds its design on first use)."""
    stored = stored_log_likelihood(tree)
    ll = log_likelihood(tree, design=design()) if stored is None else stored
    return xr.DataTree.from_dict(
        {"posterior": tree["posterior"].to_dataset(), "log_likelihood": ll}
    )


def loo(fit: HasTree | xr.DataTree, *, pointwise: bool = True) -> Any:
    """Leave-one-worker-out PSIS-LOO of a fit (ArviZ's ``ELPDData``).

    Parameters
    ----------
    fit
        A :class:`~bayescred.CredentialFit` (whose design computes the log-likelihood when the
        tree has none stored) or its DataTree.
    pointwise
        Keep the per-worker ``elpd_i`` and ``pareto_k`` (needed by :func:`compare`).
    """
    tree = _loo_data(_tree_of(fit), lambda: _design_of(fit))
    return az.loo(tree, pointwise=pointwise, var_name=OBSERVED_VAR)


def _data_signature(tree: xr.DataTree) -> dict[str, Any]:
    info: dict[str, Any] = {}
    design = json.loads(tree.attrs[DESIGN_ATTR])
    spec = json.loads(tree.attrs[SPEC_ATTR])
    const = tree["constant_data"]
    info["outcome"] = design["outcome"]
    info["unit"] = "within" if spec.get("worker_effects", "within") == "within" else "levels"
    info["y"] = np.asarray(tree["observed_data"]["y"].values)
    info["worker"] = np.asarray(const["worker"].values)[np.asarray(const["worker_idx"].values)]
    return info


def check_same_data(trees: Mapping[str, xr.DataTree]) -> None:
    """Raise ``ValueError`` unless all fits model the same outcome of the same rows and workers."""
    sigs = {name: _data_signature(t) for name, t in trees.items()}
    (first, ref), *rest = sigs.items()
    for name, sig in rest:
        pair = f"{first!r} and {name!r}"
        if sig["outcome"] != ref["outcome"]:
            raise ValueError(
                f"fits {pair} model different outcomes ({ref['outcome']!r} and "
                f"{sig['outcome']!r}): LOO across different data is meaningless"
            )
        same_rows = len(sig["y"]) == len(ref["y"]) and np.array_equal(sig["worker"], ref["worker"])
        if not same_rows or not np.array_equal(sig["y"], ref["y"]):
            raise ValueError(
                f"fits {pair} use different rows ({len(ref['y'])} and {len(sig['y'])} rows, or "
                "other workers or outcome values; within worker effects drop single-period "
                "workers): LOO across different data is meaningless. Fit both on the same rows."
            )
        if sig["unit"] != ref["unit"]:
            raise ValueError(
                f"fits {pair} have likelihoods of different data: 'within' worker effects "
                "model only the within-worker deviations, the other worker effects the outcome "
                "levels, so their LOO values are not comparable"
            )


def compare(
    fits: Mapping[str, HasTree | xr.DataTree],
    *,
    method: Literal["stacking", "BB-pseudo-BMA", "pseudo-BMA"] = "stacking",
    round_to: int | Literal["auto", "none"] = "none",
) -> ComparisonTable:
    """Compare fits by leave-one-worker-out PSIS-LOO (``arviz.compare``).

    Parameters
    ----------
    fits
        Two or more named fits (or their DataTrees) of the same outcome on the same rows.
    method
        How ArviZ computes the model weights.
    round_to
        ArviZ's rounding of the table: ``"none"`` (raw numbers, the default), ``"auto"`` or a
        number of decimals.

    Returns
    -------
    ComparisonTable
        A :class:`pandas.DataFrame` that shows itself as a readable table with sentences in
        Jupyter and in its ``repr`` (:mod:`bayescred.analysis.comparison`; ``to_string()``
        gives the raw table). ArviZ's table, best model first: ``rank``, ``elpd`` (higher is
        better), ``p``, ``elpd_diff`` and ``dse`` (its standard error), ``weight``, ``se``,
        ``p_worse``,
        ``diag_diff`` and ``diag_elpd`` (warns of high Pareto k values); plus
        ``n_high_pareto_k``, the number of workers whose k exceeds ArviZ's threshold.

    Raises
    ------
    ValueError
        When fewer than two fits are given or they do not share outcome, rows and workers, or
        mix ``within`` with level likelihoods: LOO across different data is meaningless.
    """
    if len(fits) < 2:
        raise ValueError("compare needs at least two fits")
    trees = {name: _tree_of(f) for name, f in fits.items()}
    check_same_data(trees)
    results = {name: loo(fits[name], pointwise=True) for name in trees}
    table = az.compare(results, method=method, round_to=round_to)
    table["n_high_pareto_k"] = [
        int((np.asarray(results[name].pareto_k) > results[name].good_k).sum())
        for name in table.index
    ]
    out = ComparisonTable(table)
    first = results[str(table.index[0])]
    out.attrs.update(
        unit="worker",
        n_units=int(first.n_data_points),
        good_k=float(first.good_k),
        log_likelihood={
            name: "stored" if stored_log_likelihood(t) is not None else "computed"
            for name, t in trees.items()
        },
    )
    return out
