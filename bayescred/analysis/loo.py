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

Memory is O(draws x workers) for the result plus O(chunk) for the work.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from bayescred.analysis.predictor import chunks, mean_without_intercepts
from bayescred.analysis.replicate import Replicator, posterior_replicator
from bayescred.inference.io import HasTree
from bayescred.inference.reconstruct import design_from_tree
from bayescred.model.build import build_model
from bayescred.model.families import family_of
from bayescred.model.families.normal import Normal
from bayescred.model.terms import OUTCOME_VAR, WORKER_LOGLIK

#: Elements of draws x rows evaluated at once.
CHUNK_ELEMENTS = 1_000_000


def _worker_loglik_draw(
    rep: Replicator, j: int, y: np.ndarray, m: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """Per-worker log-likelihood of draw ``j`` (``m``: its predictor without intercepts)."""
    design, family = rep.design, rep.family
    codes = design.panel.worker_codes
    d = y - m
    effects = design.spec.worker_effects
    params = {k: v[j] for k, v in rep.flat.items()}
    if family.closed_form(effects):
        assert isinstance(family, Normal)
        mean = rep.intercept_mean(j) if effects != "within" else 0.0
        return family.worker_loglik(d, codes, counts, effects, params, mean)
    alpha = rep.intercepts(j, m, np.random.default_rng(0))  # stored intercepts: no randomness
    a = alpha[codes] if isinstance(alpha, np.ndarray) else alpha
    if family.additive:
        assert isinstance(family, Normal)
        lp = family.residual_logpdf(d - a, params)
    else:
        lp = family.row_logpdf(y, m + a, params)
    return np.bincount(codes, weights=lp, minlength=len(counts))


def _worker_loglik(rep: Replicator, n_draws: int, chunk_elements: int) -> np.ndarray:
    """Per-worker log-likelihood ``(draws, workers)`` of one single-part replicator's design."""
    design, p = rep.design, rep.design.panel
    y, counts = np.asarray(p.y, dtype=float), p.periods_per_worker().astype(float)
    out = np.empty((n_draws, p.n_workers))
    for draws in chunks(n_draws, max(1, chunk_elements // max(p.n_rows, 1))):
        sel = np.arange(draws.start, draws.stop)
        m = np.empty((len(sel), p.n_rows))
        for rows in chunks(p.n_rows, max(1, chunk_elements // len(sel))):
            m[:, rows] = mean_without_intercepts(rep.params, design, sel, rows)
        for i, j in enumerate(sel):
            out[j] = _worker_loglik_draw(rep, int(j), y, m[i], counts)
        del m
    return out


def log_likelihood(fit_tree: xr.DataTree, *, chunk_elements: int = CHUNK_ELEMENTS) -> xr.Dataset:
    """Per-worker log-likelihood of every posterior draw (see the module docstring).

    Parameters
    ----------
    fit_tree
        A fit's DataTree (loaded fits work too).
    chunk_elements
        Draws x rows evaluated at once (blocks of draws, or one draw when its rows exceed it).

    Returns
    -------
    xarray.Dataset
        Variable ``outcome`` with dims ``(chain, draw, worker)``, ready to be a
        ``log_likelihood`` group; ``attrs["unit"] = "worker"`` and ``attrs["scale"]`` say what
        density it is.

    A hurdle model's worker log-likelihood is the sum of its parts' (the extensive part's
    given the stored intercepts, the intensive part's with its intercepts integrated out).
    """
    posterior = fit_tree["posterior"].to_dataset()
    sizes = posterior.sizes
    n_draws = sizes["chain"] * sizes["draw"]
    rep, _ = posterior_replicator(fit_tree, max_draws=n_draws, chunk_rows=chunk_elements)
    design, p = rep.design, rep.design.panel
    if isinstance(rep, Replicator):
        out = _worker_loglik(rep, n_draws, chunk_elements)
    else:  # two parts: their likelihoods multiply; workers without amounts only have one
        out = _worker_loglik(rep.extensive, n_draws, chunk_elements)
        out[:, rep.kept_workers] += _worker_loglik(rep.intensive, n_draws, chunk_elements)
    scale = "within-worker deviations" if design.spec.worker_effects == "within" else "outcome"
    dims = ("chain", "draw", "worker")
    return xr.Dataset(
        {OUTCOME_VAR: (dims, out.reshape(sizes["chain"], sizes["draw"], -1))},
        coords={
            "chain": posterior["chain"].values,
            "draw": posterior["draw"].values,
            "worker": np.asarray(p.worker_labels),
        },
        attrs={"unit": "worker", "scale": scale, "outcome": p.outcome},
    )


def worker_loglik_pymc(fit_tree: xr.DataTree) -> xr.Dataset:
    """The same per-worker log-likelihood from the PyMC model's ``worker_loglik`` deterministic.

    Closed-form models only; recompiles and evaluates the model graph draw by draw, so it is
    slower than :func:`log_likelihood` and kept as a cross-check.
    """
    design = design_from_tree(fit_tree)
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


def loo_tree(fit_tree: xr.DataTree) -> xr.DataTree:
    """A DataTree with the fit's posterior and per-worker ``log_likelihood`` (for ArviZ)."""
    return xr.DataTree.from_dict(
        {
            "posterior": fit_tree["posterior"].to_dataset(),
            "log_likelihood": log_likelihood(fit_tree),
        }
    )


def loo(fit: HasTree | xr.DataTree, *, pointwise: bool = True) -> Any:
    """Leave-one-worker-out PSIS-LOO of a fit (ArviZ's ``ELPDData``).

    Parameters
    ----------
    fit
        A :class:`~bayescred.CredentialFit` or its DataTree.
    pointwise
        Keep the per-worker ``elpd_i`` and ``pareto_k`` (needed by :func:`compare`).
    """
    return az.loo(loo_tree(_tree_of(fit)), pointwise=pointwise, var_name=OUTCOME_VAR)


def _data_signature(tree: xr.DataTree) -> dict[str, Any]:
    info: dict[str, Any] = {}
    design = json.loads(tree.attrs["bayescred_design"])
    spec = json.loads(tree.attrs["bayescred_spec"])
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
) -> pd.DataFrame:
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
    pandas.DataFrame
        ArviZ's table, best model first: ``rank``, ``elpd`` (higher is better), ``p``,
        ``elpd_diff`` and ``dse`` (its standard error), ``weight``, ``se``, ``p_worse``,
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
    results = {name: loo(t, pointwise=True) for name, t in trees.items()}
    table = az.compare(results, method=method, round_to=round_to)
    table["n_high_pareto_k"] = [
        int((np.asarray(results[name].pareto_k) > results[name].good_k).sum())
        for name in table.index
    ]
    return table
