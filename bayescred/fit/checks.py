"""Posterior and prior predictive checks with Bayesian p-values, in bounded memory.

Replicated outcomes are generated in NumPy for a thinned subset of the draws, one draw at a time
and, within a draw, in chunks of rows: draws x rows are never held at once. With ``m`` the
linear predictor without intercepts (:func:`bayescred.fit.predictor.mean_without_intercepts`):

* closed-form Gaussian models (``within``, ``random``, ``correlated``): each draw's worker
  intercepts are drawn from their conditional posterior given the draw's other parameters
  (:func:`~bayescred.model.worker_likelihoods.random_intercept_posterior`: flat prior for
  ``within``, Normal(mu_alpha [+ Mundlak], sigma_alpha) otherwise), which makes them a draw
  from the joint posterior; then ``y_rep = alpha + m + Normal(0, sigma)``;
* ``worker_effects = "none"``: ``y_rep = mu_alpha + m + noise``;
* latent-intercept models (Student-t, Poisson, negative binomial and Bernoulli with
  ``random``/``correlated`` effects): the intercepts are rebuilt exactly from the stored
  non-centred offsets, ``alpha = mu_alpha [+ Mundlak] + sigma_alpha * alpha_offset`` (``alpha``
  itself is not stored); noise is Student-t, or, on a link scale, the outcome is drawn given
  ``eta = alpha + m``: ``Poisson(exp(eta))``, ``NegBin(exp(eta), phi)``, ``Bernoulli(expit(eta))``.
  There the intercepts do not cancel from within-worker deviations, so they are always rebuilt.

Within-worker deviations (outcomes minus their worker means) do not depend on the intercepts.
They are the default scale of the checks for ``within`` fits, whose likelihood describes
nothing else: level replicates there carry intercepts drawn under a flat prior, more dispersed
across workers than the data by about ``2 sigma^2 / T_i``, which flags the sd for no fault of
the credential terms. For the prior predictive they are the only scale under ``within``: the
flat intercept prior is improper. Tables say which scale they use.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from scipy.special import expit

from bayescred.fit.predictor import chunks, mean_without_intercepts, stack_draws
from bayescred.fit.reconstruct import design_from_tree
from bayescred.model.build import LINK_LIKELIHOODS, build_model
from bayescred.model.curves import CURVE_SHAPE_PARAMETER, MODIFIER_TERMS
from bayescred.model.design import ModelDesign
from bayescred.model.worker_likelihoods import random_intercept_posterior

#: Statistics of a check, in table order (``zero_share`` only for outcomes that can be zero).
STATISTICS: tuple[str, ...] = ("mean", "sd", "q10", "q50", "q90", "zero_share")
QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)
#: Outcome kinds for which the share of zeros is checked.
ZERO_KINDS: tuple[str, ...] = ("nonnegative", "count", "binary")
#: Bayesian p-values outside this interval are flagged.
FLAG_BOUNDS: tuple[float, float] = (0.05, 0.95)
OUTCOME_SCALE = "outcome"
WITHIN_SCALE = "within-worker deviation"
CLOSED_FORM_EFFECTS: tuple[str, ...] = ("within", "random", "correlated")

if TYPE_CHECKING:
    from bayescred.fit.hurdle_replicate import HurdleReplicator

Source = Literal["posterior", "prior"]


class PredictiveDraw(NamedTuple):
    """One replicated outcome vector: the posterior ``chain`` and ``draw`` it comes from."""

    chain: int
    draw: int
    y: np.ndarray


class _CachedDesign(ModelDesign):
    """A design whose standardised track record is computed once (read once per row chunk)."""

    @cached_property
    def z(self) -> np.ndarray:
        return super().z


def cached_design(design: ModelDesign) -> ModelDesign:
    """``design`` with ``z`` cached, so chunked predictors do not recompute it per chunk."""
    if isinstance(design, _CachedDesign):
        return design
    return _CachedDesign(**{f.name: getattr(design, f.name) for f in fields(design)})


def thin_draws(posterior: xr.Dataset, max_draws: int) -> tuple[xr.Dataset, np.ndarray]:
    """Evenly spaced draws of ``posterior`` as a ``(chain=1, draw=k)`` dataset, and their
    stacked (chain-major) indices."""
    n = posterior.sizes["chain"] * posterior.sizes["draw"]
    idx = np.unique(np.linspace(0, n - 1, max(1, min(int(max_draws), n))).round().astype(np.int64))
    data = {k: (v.dims, stack_draws(v)[idx][None]) for k, v in posterior.data_vars.items()}
    coords = {d: posterior[d].values for d in posterior.dims if d in posterior.coords}
    coords.update(chain=np.array([0]), draw=np.arange(len(idx)))
    return xr.Dataset(data, coords=coords), idx


def effect_variables(design: ModelDesign) -> list[str]:
    """Names of the parameters the outcome's predictive distribution depends on."""
    if design.spec.is_hurdle:
        from bayescred.model.hurdle import EXTENSIVE_NAMING, hurdle_parts

        parts = hurdle_parts(design)
        return [EXTENSIVE_NAMING(n) for n in effect_variables(parts.extensive)] + effect_variables(
            parts.intensive
        )
    spec, effects = design.spec, design.spec.worker_effects
    shape = CURVE_SHAPE_PARAMETER[spec.effect.curve]
    wanted = {
        "beta_group": True,
        "sigma": spec.outcome.likelihood in ("normal", "student_t"),
        f"{shape}_group": shape is not None,
        "gamma_group": bool(MODIFIER_TERMS[spec.effect.modifier]),
        "tau": spec.period_effects and design.panel.n_periods > 1,
        "delta": bool(design.panel.covariates),
        "mu_alpha": effects != "within",
        "sigma_alpha": effects in ("random", "correlated"),
        "psi": effects == "correlated",
        "nu": spec.outcome.likelihood == "student_t",
        "phi": spec.outcome.likelihood == "negative_binomial",
        "alpha_offset": not is_closed_form(design) and effects != "none",
    }
    return [name for name, keep in wanted.items() if keep]


def is_closed_form(design: ModelDesign) -> bool:
    """Whether the model integrates the worker intercepts out in closed form."""
    spec = design.spec
    return spec.outcome.likelihood == "normal" and spec.worker_effects in CLOSED_FORM_EFFECTS


@dataclass
class Replicator:
    """Generates replicated outcomes one draw at a time (see the module docstring).

    ``params`` holds the parameter draws ``(chain, draw, ...)`` (posterior or prior);
    ``source`` says whether intercepts are drawn given the data (``posterior``) or from their
    prior; with ``deviations`` the outcomes are returned minus their worker means.
    """

    design: ModelDesign
    params: xr.Dataset
    source: Source
    deviations: bool = False
    chunk_rows: int = 100_000
    flat: dict[str, np.ndarray] = field(init=False, repr=False)  # parameters, (draws, ...)

    def __post_init__(self) -> None:
        spec = self.design.spec
        if spec.outcome.likelihood not in ("normal", "student_t", *LINK_LIKELIHOODS):
            raise ValueError(
                f"a Replicator replicates one part; the {spec.outcome.likelihood!r} likelihood "
                "has its own (make_replicator)"
            )
        if self.source == "prior" and spec.worker_effects == "within" and not self.deviations:
            raise ValueError(
                "under worker_effects = 'within' the worker intercepts have a flat, improper "
                "prior: the prior predictive exists only for within-worker deviations"
            )
        self.design = cached_design(self.design)
        names = ("sigma", "mu_alpha", "sigma_alpha", "psi", "nu", "phi", "alpha", "alpha_offset")
        self.flat = {n: stack_draws(self.params[n]) for n in names if n in self.params}
        self._mundlak = self.design.mundlak_matrix() if "psi" in self.flat else np.zeros((0, 0))
        latent = not is_closed_form(self.design) and spec.worker_effects != "none"
        # on a link scale the intercepts do not cancel from within-worker deviations
        needed = not self.deviations or self.link
        if latent and not {"alpha", "alpha_offset"} & set(self.flat) and needed:
            raise NotImplementedError(
                "this latent-intercept fit stores neither 'alpha' nor 'alpha_offset': the "
                "worker intercepts cannot be reconstructed"
            )

    @property
    def link(self) -> bool:
        """Whether the likelihood is on a link scale (counts, binary): outcomes are sampled."""
        return self.design.spec.outcome.likelihood in LINK_LIKELIHOODS

    def _sample_link(self, j: int, eta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Outcomes drawn given the link-scale predictor ``eta`` (intercepts included)."""
        likelihood = self.design.spec.outcome.likelihood
        if likelihood == "bernoulli":
            return (rng.random(eta.shape) < expit(eta)).astype(float)
        mu = np.exp(eta)
        if likelihood == "poisson":
            return rng.poisson(mu).astype(float)
        phi = float(self.flat["phi"][j])  # negative binomial: variance mu + mu^2 / phi
        return rng.negative_binomial(phi, phi / (phi + mu)).astype(float)

    @property
    def n_draws(self) -> int:
        return int(self.params.sizes["chain"] * self.params.sizes["draw"])

    @property
    def scale(self) -> str:
        """``outcome`` or ``within-worker deviation``."""
        return WITHIN_SCALE if self.deviations else OUTCOME_SCALE

    def observed(self) -> np.ndarray:
        """The observed outcome on the replicates' scale."""
        y = np.asarray(self.design.panel.y, dtype=float)
        return demean_by_worker(self.design, y) if self.deviations else y.copy()

    def intercept_mean(self, j: int) -> np.ndarray | float:
        mu = float(self.flat["mu_alpha"][j])
        if "psi" in self.flat:
            return mu + self._mundlak @ self.flat["psi"][j]
        return mu

    def _noise(self, j: int, size: int, rng: np.random.Generator) -> np.ndarray:
        sigma = float(self.flat["sigma"][j])
        if self.design.spec.outcome.likelihood == "student_t":
            return sigma * rng.standard_t(float(self.flat["nu"][j]), size)
        return sigma * rng.standard_normal(size)

    def intercepts(self, j: int, m: np.ndarray, rng: np.random.Generator) -> np.ndarray | float:
        """Worker intercepts of draw ``j`` (``m``: the predictor without them, all rows)."""
        effects = self.design.spec.worker_effects
        p = self.design.panel
        if effects == "none":
            return float(self.flat["mu_alpha"][j])
        if "alpha" in self.flat:
            return np.asarray(self.flat["alpha"][j])
        if not is_closed_form(self.design):
            sa = float(self.flat["sigma_alpha"][j])
            return self.intercept_mean(j) + sa * self.flat["alpha_offset"][j]
        if self.source == "prior":
            sa = float(self.flat["sigma_alpha"][j])
            return self.intercept_mean(j) + sa * rng.standard_normal(p.n_workers)
        counts = p.periods_per_worker().astype(float)
        d = np.asarray(p.y, dtype=float) - m
        sigma = self.flat["sigma"][j]
        if effects == "within":
            mean, sd = random_intercept_posterior(d, p.worker_codes, counts, sigma, None, 0.0)
        else:
            sa = self.flat["sigma_alpha"][j]
            mu = self.intercept_mean(j)
            mean, sd = random_intercept_posterior(d, p.worker_codes, counts, sigma, sa, mu)
        return mean + sd * rng.standard_normal(p.n_workers)

    def draw(self, j: int, rng: np.random.Generator) -> np.ndarray:
        """Replicated outcomes of all rows for stacked draw ``j`` (a new array of ``rows``)."""
        p = self.design.panel
        n = p.n_rows
        out = np.empty(n)
        for rows in chunks(n, self.chunk_rows):
            out[rows] = mean_without_intercepts(self.params, self.design, np.array([j]), rows)[0]
        if self.link:
            alpha = self.intercepts(j, out, rng)
            for rows in chunks(n, self.chunk_rows):
                a = alpha[p.worker_codes[rows]] if isinstance(alpha, np.ndarray) else alpha
                out[rows] = self._sample_link(j, out[rows] + a, rng)
            return demean_by_worker(self.design, out, out=out) if self.deviations else out
        # constant within worker: the intercepts cancel from within-worker deviations
        alpha = 0.0 if self.deviations else self.intercepts(j, out, rng)
        for rows in chunks(n, self.chunk_rows):
            out[rows] += self._noise(j, rows.stop - rows.start, rng)
            out[rows] += alpha[p.worker_codes[rows]] if isinstance(alpha, np.ndarray) else alpha
        return demean_by_worker(self.design, out, out=out) if self.deviations else out


def demean_by_worker(
    design: ModelDesign, values: np.ndarray, *, out: np.ndarray | None = None
) -> np.ndarray:
    """``values`` minus their worker means (in place when ``out is values``)."""
    p = design.panel
    counts = p.periods_per_worker().astype(float)
    means = np.bincount(p.worker_codes, weights=values, minlength=p.n_workers) / counts
    result = np.empty_like(values) if out is None else out
    for rows in chunks(len(values), 100_000):
        result[rows] = values[rows] - means[p.worker_codes[rows]]
    return result


Scale = Literal["auto", "outcome", "within"]


def _deviations(design: ModelDesign, scale: Scale) -> bool:
    if scale not in ("auto", "outcome", "within"):
        raise ValueError(f"scale must be 'auto', 'outcome' or 'within', not {scale!r}")
    if design.spec.is_hurdle and scale == "within":
        raise ValueError("a hurdle model is checked on the outcome's scale (amounts with zeros)")
    return scale == "within" or (scale == "auto" and design.spec.worker_effects == "within")


def posterior_replicator(
    fit_tree: xr.DataTree, *, max_draws: int, chunk_rows: int, scale: Scale = "outcome"
) -> tuple[Replicator | HurdleReplicator, np.ndarray]:
    """A :class:`Replicator` over ``max_draws`` thinned posterior draws, and their indices."""
    design = design_from_tree(fit_tree)
    posterior = fit_tree["posterior"].to_dataset()
    wanted = effect_variables(design)
    missing = [n for n in wanted if n not in posterior and n != "alpha_offset"]
    if missing:
        raise ValueError(f"the fit's posterior lacks {', '.join(missing)}: cannot replicate")
    params, idx = thin_draws(
        posterior[[n for n in [*wanted, "alpha"] if n in posterior]], max_draws
    )
    return make_replicator(design, params, "posterior", scale, chunk_rows), idx


def make_replicator(
    design: ModelDesign, params: xr.Dataset, source: Source, scale: Scale, chunk_rows: int
) -> Replicator | HurdleReplicator:
    """The replicator of ``design``: a :class:`Replicator`, or a hurdle model's two-part one."""
    deviations = _deviations(design, scale)
    if design.spec.is_hurdle:
        from bayescred.fit.hurdle_replicate import HurdleReplicator

        return HurdleReplicator(design, params, source, chunk_rows)
    return Replicator(design, params, source, deviations, chunk_rows)


def posterior_predictive(
    fit_tree: xr.DataTree,
    *,
    max_draws: int = 200,
    chunk_rows: int = 100_000,
    scale: Literal["outcome", "within"] = "outcome",
    random_seed: int | np.random.Generator | None = None,
) -> Iterator[PredictiveDraw]:
    """Replicated outcomes from the posterior predictive, one draw at a time (lazily).

    Parameters
    ----------
    fit_tree
        A fit's DataTree (``fit.tree``; loaded fits work too).
    max_draws
        At most this many evenly spaced posterior draws are used.
    chunk_rows
        Rows evaluated at once within a draw.
    scale
        ``outcome`` (levels) or ``within`` (minus each worker's mean; see the module docstring).
    random_seed
        Seed or generator for the intercepts and the noise.

    Yields
    ------
    PredictiveDraw
        ``(chain, draw, y)`` with ``y`` the replicated outcome of every used row, in the order
        of ``fit_tree["observed_data"]["y"]``. One draw's rows are held at a time: memory is
        O(rows) whatever ``max_draws``. Hurdle models replicate both parts (zeros and
        amounts; see :mod:`bayescred.fit.hurdle_replicate`).
    """
    rep, idx = posterior_replicator(
        fit_tree, max_draws=max_draws, chunk_rows=chunk_rows, scale=scale
    )
    post = fit_tree["posterior"].to_dataset()
    chains, draws = np.asarray(post["chain"].values), np.asarray(post["draw"].values)
    rng = np.random.default_rng(random_seed)
    return (
        PredictiveDraw(int(chains[f // len(draws)]), int(draws[f % len(draws)]), rep.draw(j, rng))
        for j, f in enumerate(idx)
    )


# ---------------------------------------------------------------------------------- statistics
@dataclass
class _Statistics:
    """Computes every (scope, statistic) of one outcome vector in O(rows) extra memory."""

    group_codes: np.ndarray
    group_labels: np.ndarray
    statistics: tuple[str, ...]
    by_group: bool
    chunk_rows: int = 100_000

    def __post_init__(self) -> None:
        n_groups = len(self.group_labels)
        self._counts = np.bincount(self.group_codes, minlength=n_groups).astype(float)
        self._present = [int(k) for k in np.flatnonzero(self._counts > 0)]
        if self.by_group:
            self._order = np.argsort(self.group_codes, kind="stable")
            self._bounds = np.concatenate([[0], np.cumsum(self._counts).astype(np.int64)])

    def labels(self) -> list[tuple[str, str]]:
        """``(scope, statistic)`` of each entry returned by :meth:`__call__`."""
        scopes = ["all"]
        if self.by_group:
            scopes += [str(self.group_labels[g]) for g in self._present]
        return [(s, t) for s in scopes for t in self.statistics]

    def __call__(self, y: np.ndarray) -> np.ndarray:
        g, n_groups, counts = self.group_codes, len(self.group_labels), self._counts
        sums, zeros, ss = np.zeros(n_groups), np.zeros(n_groups), np.zeros(n_groups)
        for rows in chunks(len(y), self.chunk_rows):
            sums += np.bincount(g[rows], weights=y[rows], minlength=n_groups)
            zeros += np.bincount(g[rows], weights=y[rows] == 0, minlength=n_groups)
        means = np.divide(sums, counts, out=np.zeros(n_groups), where=counts > 0)
        for rows in chunks(len(y), self.chunk_rows):  # two passes: no cancellation
            dev = y[rows] - means[g[rows]]
            ss += np.bincount(g[rows], weights=dev * dev, minlength=n_groups)
        n, mean = float(len(y)), float(sums.sum()) / len(y)
        var = float(ss.sum() + (counts * (means - mean) ** 2).sum()) / n  # total variance
        q_all, q_groups = self._quantiles(y)
        out = [self._row(mean, var, float(zeros.sum()) / n, q_all)]
        if self.by_group:
            c = counts
            out += [
                self._row(means[k], ss[k] / c[k], zeros[k] / c[k], q_groups[k])
                for k in self._present
            ]
        return np.concatenate(out)

    def _quantiles(self, y: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """Quantiles overall and per group, from one copy of ``y`` partitioned in place."""
        if not self.by_group:
            return np.quantile(y.copy(), QUANTILES, overwrite_input=True), {}
        ordered = y[self._order]
        b = self._bounds
        per_group = {
            k: np.quantile(ordered[b[k] : b[k + 1]], QUANTILES, overwrite_input=True)
            for k in self._present
        }
        return np.quantile(ordered, QUANTILES, overwrite_input=True), per_group

    def _row(self, mean: float, var: float, zero: float, q: np.ndarray) -> np.ndarray:
        values = dict(zip(STATISTICS, [mean, np.sqrt(var), *q, zero], strict=True))
        return np.asarray([values[t] for t in self.statistics], dtype=float)


def _check_table(
    rep: Replicator | HurdleReplicator,
    *,
    by_group: bool,
    random_seed: int | np.random.Generator | None,
    kind: Source,
) -> pd.DataFrame:
    p = rep.design.panel
    statistics = STATISTICS if p.outcome_kind in ZERO_KINDS else STATISTICS[:-1]
    if rep.deviations:  # worker means are removed: every scope's mean is 0 by construction
        statistics = tuple(t for t in statistics if t != "mean")
    stats = _Statistics(
        p.group_codes, np.asarray(p.group_labels), statistics, by_group, rep.chunk_rows
    )
    observed = stats(rep.observed())
    rng = np.random.default_rng(random_seed)
    replicated = np.empty((rep.n_draws, len(observed)))
    for j in range(rep.n_draws):
        replicated[j] = stats(rep.draw(j, rng))
    # P(T(y_rep) >= T(y)), ties counted one half (they occur for discrete statistics only)
    p_value = np.mean(replicated > observed, axis=0) + 0.5 * np.mean(replicated == observed, axis=0)
    labels = stats.labels()
    table = pd.DataFrame(
        {
            "scope": [s for s, _ in labels],
            "statistic": [t for _, t in labels],
            "scale": rep.scale,
            "observed": observed,
            "replicated_mean": replicated.mean(axis=0),
            "replicated_sd": replicated.std(axis=0),
            "p_value": p_value,
            "flag": (p_value < FLAG_BOUNDS[0]) | (p_value > FLAG_BOUNDS[1]),
        }
    )
    table.attrs.update(
        check=kind,
        draws=rep.n_draws,
        scale=rep.scale,
        outcome=p.outcome,
        p_value=f"P(T(y_rep) > T(y)) + P(T(y_rep) = T(y)) / 2; flagged outside {FLAG_BOUNDS}",
    )
    return table


def check(
    fit_tree: xr.DataTree,
    *,
    by_group: bool = True,
    max_draws: int = 200,
    scale: Scale = "auto",
    chunk_rows: int = 100_000,
    random_seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Posterior predictive check: Bayesian p-values of summary statistics, overall and by group.

    For each statistic ``T`` (mean, sd with ``ddof=0``, 10%/50%/90% quantiles and, for outcomes
    that can be zero, the share of zeros) the p-value is ``P(T(y_rep) >= T(y))`` over
    ``max_draws`` evenly spaced posterior draws, ties (only the share of zeros has them)
    counting one half; values near 0 or 1 mean the model does not reproduce that feature.

    Memory is O(rows + max_draws x statistics): replicates are generated one draw at a time in
    chunks of ``chunk_rows`` rows; means, sds and zero shares accumulate over chunks, quantiles
    partition one copy of the draw's rows in place, and only the statistics are kept.

    Parameters
    ----------
    fit_tree
        A fit's DataTree (loaded fits work too).
    by_group
        Also report each group (``scope`` = the group label).
    max_draws
        Posterior draws used.
    scale
        ``outcome``; ``within`` (outcomes minus worker means; no ``mean`` rows, 0 by
        construction); ``auto`` (default): ``within`` for ``within`` worker effects, whose
        likelihood describes only within-worker deviations (level replicates there carry
        flat-prior intercepts and overstate the sd), ``outcome`` otherwise.
    chunk_rows
        Rows evaluated at once.
    random_seed
        Seed or generator.

    Returns
    -------
    pandas.DataFrame
        Columns ``scope`` (``"all"`` or a group label), ``statistic``, ``scale`` (``outcome`` or
        ``within-worker deviation``), ``observed``, ``replicated_mean``, ``replicated_sd``,
        ``p_value`` and ``flag`` (p-value outside [0.05, 0.95]); ``attrs`` record the kind of
        check (``posterior``), the draws used and the scale.
    """
    rep, _ = posterior_replicator(fit_tree, max_draws=max_draws, chunk_rows=chunk_rows, scale=scale)
    return _check_table(rep, by_group=by_group, random_seed=random_seed, kind="posterior")


def prior_draws(
    design: ModelDesign, draws: int, random_seed: int | np.random.Generator | None
) -> xr.Dataset:
    """Draws of the outcome's parameters from the priors of the model rebuilt from ``design``."""
    model = build_model(design)
    names = [n for n in effect_variables(design) if n in model.named_vars]
    seed: Any = random_seed
    with warnings.catch_warnings():
        # the model's only Potential is the closed-form likelihood, rightly left out here
        warnings.filterwarnings("ignore", message="The effect of Potentials", category=UserWarning)
        tree = pm.sample_prior_predictive(
            draws=draws, model=model, var_names=names, random_seed=seed
        )
    return tree["prior"].to_dataset()


def prior_check(
    fit_tree: xr.DataTree,
    *,
    draws: int = 200,
    by_group: bool = True,
    scale: Scale = "auto",
    chunk_rows: int = 100_000,
    random_seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Prior predictive check: the :func:`check` table for outcomes drawn from the priors.

    Parameters (including deterministics such as ``beta_group``, ``lambda_group``, ``tau``) are
    drawn from the priors of the model rebuilt from the fit's tree, intercepts from their prior.
    Under ``within`` worker effects that prior is flat and improper and the outcome's level has
    no prior predictive: the check is made on within-worker deviations, observed and replicated
    outcomes both minus their worker means (``scale="outcome"`` raises ``ValueError``).

    Parameters
    ----------
    fit_tree
        A fit's DataTree.
    draws
        Prior draws.
    by_group, scale, chunk_rows
        As in :func:`check`.
    random_seed
        Seed for the parameters, the intercepts and the noise.

    Returns
    -------
    pandas.DataFrame
        The :func:`check` table, with ``attrs["check"] = "prior"``.
    """
    design = design_from_tree(fit_tree)
    rng = np.random.default_rng(random_seed)
    rep = make_replicator(design, prior_draws(design, draws, rng), "prior", scale, chunk_rows)
    return _check_table(rep, by_group=by_group, random_seed=rng, kind="prior")
