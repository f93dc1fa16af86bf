"""Replicated outcomes, one posterior (or prior) draw at a time, in bounded memory.

Replicated outcomes are generated in NumPy for a thinned subset of the draws, one draw at a time
and, within a draw, in chunks of rows: draws x rows are never held at once. With ``m`` the
linear predictor without intercepts (:func:`bayescred.analysis.predictor.mean_without_intercepts`)
each part of a model is replicated by a :class:`Replicator`:

* closed-form Gaussian parts (``within``, ``random``, ``correlated``): each draw's worker
  intercepts are drawn from their conditional posterior given the draw's other parameters
  (:func:`~bayescred.maths.worker_likelihoods.random_intercept_posterior`: flat prior for
  ``within``, Normal(mu_alpha [+ Mundlak], sigma_alpha) otherwise), which makes them a draw
  from the joint posterior; then the family adds its noise: ``y_rep = alpha + m + e``;
* ``worker_effects = "none"``: ``y_rep = mu_alpha + m + noise``;
* latent-intercept parts (Student-t, counts, binary): the intercepts are rebuilt exactly from
  the stored non-centred offsets, ``alpha = mu_alpha [+ Mundlak] + sigma_alpha * alpha_offset``
  (``alpha`` itself is not stored), and the family draws the outcome given ``eta = alpha + m``.
  Unless the family's outcomes are ``eta + noise`` the intercepts do not cancel from
  within-worker deviations, so they are always rebuilt.

A two-part (hurdle) model is replicated by :class:`TwoPartReplicator`: "any positive outcome"
by its extensive part's replicator, the positive outcome by the intensive part's family on
every row (workers without any positive outcome draw their intensive intercept from the
intercepts' distribution, with Mundlak means over all of their rows).

Within-worker deviations (outcomes minus their worker means) do not depend on additive
intercepts. They are the default scale of the checks for ``within`` fits, whose likelihood
describes nothing else: level replicates there carry intercepts drawn under a flat prior, more
dispersed across workers than the data by about ``2 sigma^2 / T_i``. For the prior predictive
they are the only scale under ``within``: the flat intercept prior is improper.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pymc as pm
import xarray as xr

from bayescred.analysis.levels import intercepts_from_offsets
from bayescred.analysis.predictor import chunks, mean_without_intercepts, stack_draws
from bayescred.inference.reconstruct import design_from_tree
from bayescred.maths.worker_likelihoods import flat_intercept_moments, random_intercept_posterior
from bayescred.model.build import build_prior_model
from bayescred.model.design import ModelDesign
from bayescred.model.families import Family, HurdleFamily, family_of
from bayescred.model.families.base import Part

OUTCOME_SCALE = "outcome"
WITHIN_SCALE = "within-worker deviation"
Source = Literal["posterior", "prior"]
Scale = Literal["auto", "outcome", "within"]
#: Parameters of the worker intercepts a replicator reads.
INTERCEPT_PARAMETERS: tuple[str, ...] = ("mu_alpha", "sigma_alpha", "psi", "alpha", "alpha_offset")


def uses_deviations(family: Family, worker_effects: str, scale: Scale) -> bool:
    """Whether a check on ``scale`` compares within-worker deviations.

    ``auto`` means deviations under ``within`` worker effects, whose likelihood describes only
    the deviations; a two-part model is always checked on the outcome's scale (its ``within``
    applies to the amount part alone).
    """
    if scale not in ("auto", "outcome", "within"):
        raise ValueError(f"scale must be 'auto', 'outcome' or 'within', not {scale!r}")
    if family.margins and scale == "within":
        raise ValueError("a hurdle model is checked on the outcome's scale (amounts with zeros)")
    return scale == "within" or (
        scale == "auto" and worker_effects == "within" and not family.margins
    )


def part_variables(part: Part) -> list[str]:
    """Plain names of the parameters one part's predictive distribution depends on."""
    design, family = part.design, part.family
    effects = design.spec.worker_effects
    term_variables = [name for term in design.terms for name in term.variables()]
    wanted = {
        "mu_alpha": effects != "within",
        "sigma_alpha": effects in ("random", "correlated"),
        "psi": effects == "correlated",
        "alpha_offset": not family.closed_form(effects) and effects != "none",
    }
    names = term_variables + [name for name, keep in wanted.items() if keep]
    return names[:1] + list(family.parameters) + names[1:]


def effect_variables(design: ModelDesign) -> list[str]:
    """Names of the parameters the outcome's predictive distribution depends on (all parts)."""
    return [
        part.naming(name)
        for part in family_of(design).parts(design)
        for name in part_variables(part)
    ]


def thin_draws(posterior: xr.Dataset, max_draws: int) -> tuple[xr.Dataset, np.ndarray]:
    """Evenly spaced draws of ``posterior`` as a ``(chain=1, draw=k)`` dataset, and their
    stacked (chain-major) indices."""
    n = posterior.sizes["chain"] * posterior.sizes["draw"]
    idx = np.unique(np.linspace(0, n - 1, max(1, min(int(max_draws), n))).round().astype(np.int64))
    data = {k: (v.dims, stack_draws(v)[idx][None]) for k, v in posterior.data_vars.items()}
    coords = {d: posterior[d].values for d in posterior.dims if d in posterior.coords}
    coords.update(chain=np.array([0]), draw=np.arange(len(idx)))
    return xr.Dataset(data, coords=coords), idx


@dataclass
class Replicator:
    """Generates one part's replicated outcomes one draw at a time (see the module docstring).

    ``params`` holds the part's parameter draws ``(chain, draw, ...)`` under plain names
    (posterior or prior); ``source`` says whether intercepts are drawn given the data
    (``posterior``) or from their prior; with ``deviations`` the outcomes are returned minus
    their worker means.
    """

    part: Part
    params: xr.Dataset
    source: Source
    deviations: bool = False
    chunk_rows: int = 100_000
    flat: dict[str, np.ndarray] = field(init=False, repr=False)  # parameters, (draws, ...)

    def __post_init__(self) -> None:
        design, family = self.part.design, self.part.family
        effects = design.spec.worker_effects
        if self.source == "prior" and effects == "within" and not self.deviations:
            raise ValueError(
                "under worker_effects = 'within' the worker intercepts have a flat, improper "
                "prior: the prior predictive exists only for within-worker deviations"
            )
        names = (*family.parameters, *INTERCEPT_PARAMETERS)
        self.flat = {n: stack_draws(self.params[n]) for n in names if n in self.params}
        self._mundlak = design.mundlak_matrix() if "psi" in self.flat else np.zeros((0, 0))
        latent = not family.closed_form(effects) and effects != "none"
        # unless outcomes are eta + noise the intercepts do not cancel from deviations
        needed = not self.deviations or not family.additive
        if latent and not {"alpha", "alpha_offset"} & set(self.flat) and needed:
            raise NotImplementedError(
                "this latent-intercept fit stores neither 'alpha' nor 'alpha_offset': the "
                "worker intercepts cannot be reconstructed"
            )

    @property
    def design(self) -> ModelDesign:
        return self.part.design

    @property
    def family(self) -> Family:
        return self.part.family

    @property
    def n_draws(self) -> int:
        return int(self.params.sizes["chain"] * self.params.sizes["draw"])

    @property
    def scale(self) -> str:
        """``outcome`` or ``within-worker deviation``."""
        return WITHIN_SCALE if self.deviations else OUTCOME_SCALE

    def draw_parameters(self, j: int) -> dict[str, Any]:
        """The family's parameters of stacked draw ``j``."""
        return {name: self.flat[name][j] for name in self.family.parameters}

    def observed(self) -> np.ndarray:
        """The observed outcome on the replicates' scale."""
        p = self.design.panel
        y = np.asarray(p.y, dtype=float)
        return p.demean(y) if self.deviations else y.copy()

    def intercept_mean(self, j: int) -> np.ndarray | float:
        mu = float(self.flat["mu_alpha"][j])
        if "psi" in self.flat:
            return mu + self._mundlak @ self.flat["psi"][j]
        return mu

    def intercepts(self, j: int, m: np.ndarray, rng: np.random.Generator) -> np.ndarray | float:
        """Worker intercepts of draw ``j`` (``m``: the predictor without them, all rows)."""
        effects = self.design.spec.worker_effects
        p = self.design.panel
        if effects == "none":
            return float(self.flat["mu_alpha"][j])
        if "alpha" in self.flat:
            return np.asarray(self.flat["alpha"][j])
        if not self.family.closed_form(effects):
            psi = self.flat["psi"][j] if "psi" in self.flat else None
            return intercepts_from_offsets(
                float(self.flat["mu_alpha"][j]),
                float(self.flat["sigma_alpha"][j]),
                self.flat["alpha_offset"][j],
                psi,
                self._mundlak,
            )
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

    def predictor(self, j: int, design: ModelDesign | None = None) -> np.ndarray:
        """The predictor without intercepts of draw ``j`` on every row of ``design``."""
        design = design or self.design
        n = design.panel.n_rows
        out = np.empty(n)
        for rows in chunks(n, self.chunk_rows):
            out[rows] = mean_without_intercepts(self.params, design, np.array([j]), rows)[0]
        return out

    def draw(self, j: int, rng: np.random.Generator) -> np.ndarray:
        """Replicated outcomes of all rows for stacked draw ``j`` (a new array of ``rows``)."""
        p = self.design.panel
        n = p.n_rows
        out = self.predictor(j)
        params = self.draw_parameters(j)
        if not self.family.additive:
            alpha = self.intercepts(j, out, rng)
            for rows in chunks(n, self.chunk_rows):
                a = alpha[p.worker_codes[rows]] if isinstance(alpha, np.ndarray) else alpha
                out[rows] = self.family.draw(out[rows] + a, params, rng)
            return p.demean(out, out=out) if self.deviations else out
        # constant within worker: the intercepts cancel from within-worker deviations
        alpha = 0.0 if self.deviations else self.intercepts(j, out, rng)
        for rows in chunks(n, self.chunk_rows):
            out[rows] += self.family.noise(params, rows.stop - rows.start, rng)
            out[rows] += alpha[p.worker_codes[rows]] if isinstance(alpha, np.ndarray) else alpha
        return p.demean(out, out=out) if self.deviations else out


@dataclass
class TwoPartReplicator:
    """Replicates a two-part model's outcome one draw at a time (see the module docstring).

    Offers what the predictive-check table needs of a :class:`Replicator`: ``design``,
    ``deviations`` (always False), ``chunk_rows``, ``n_draws``, ``scale``, ``observed()`` and
    ``draw(j, rng)``; ``extensive`` and ``intensive`` are the parts' own replicators.
    """

    design: ModelDesign
    params: xr.Dataset
    source: Source
    chunk_rows: int = 100_000
    deviations: bool = field(default=False, init=False)
    extensive: Replicator = field(init=False, repr=False)
    intensive: Replicator = field(init=False, repr=False)
    kept_workers: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        family = family_of(self.design)
        assert isinstance(family, HurdleFamily)
        self.family = family
        ext, pos = family.parts(self.design)
        self.extensive = Replicator(ext, ext.posterior(self.params), self.source)
        # a within amount part's prior draws are made here (:meth:`_intensive_intercepts`),
        # not by the part's own replicator, which has no prior for flat intercepts
        flat_prior = self.source == "prior" and pos.design.spec.worker_effects == "within"
        self.intensive = Replicator(
            pos, pos.posterior(self.params, others=(ext.naming,)), self.source, flat_prior
        )
        self.extensive.chunk_rows = self.intensive.chunk_rows = self.chunk_rows
        assert pos.rows is not None
        self._positive = pos.rows
        # full-panel worker codes of the intensive part's workers (labels are sorted in both)
        self.kept_workers = np.unique(self.design.panel.worker_codes[pos.rows])
        # the intensive predictor on every row: the intensive design over the full panel,
        # whose Mundlak means (over all of a worker's rows) serve workers without amounts
        self._every_row = replace(pos.design, panel=self.design.panel)
        has_psi = "psi" in self.intensive.flat
        self._all_row_means = self._every_row.mundlak_matrix() if has_psi else None

    @property
    def n_draws(self) -> int:
        return self.extensive.n_draws

    @property
    def scale(self) -> str:
        return OUTCOME_SCALE

    def observed(self) -> np.ndarray:
        return np.asarray(self.design.panel.y, dtype=float).copy()

    def _intensive_intercepts(
        self, j: int, m: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray | float:
        rep = self.intensive
        if self.design.spec.worker_effects == "none":
            return float(rep.flat["mu_alpha"][j])
        flat: dict[str, Any] = rep.flat
        if self.source == "prior" and rep.design.spec.worker_effects == "within":
            return self._observed_levels
        kept = rep.intercepts(j, m[self._positive], rng)
        mean: np.ndarray | float
        sa: np.ndarray | float
        if rep.design.spec.worker_effects == "within":
            # no population parameters: a worker without amounts is drawn like the others
            own = rep.design.panel
            dbar = own.worker_means(np.asarray(own.y, dtype=float) - m[self._positive])
            mean, sa = flat_intercept_moments(dbar, own.periods_per_worker(), flat["sigma"][j])
        else:
            mean = float(flat["mu_alpha"][j])
            if self._all_row_means is not None:
                mean = mean + self._all_row_means @ flat["psi"][j]
            sa = float(flat["sigma_alpha"][j])
        alpha = mean + sa * rng.standard_normal(self.design.panel.n_workers)
        alpha[self.kept_workers] = kept
        return np.asarray(alpha)

    @cached_property
    def _observed_levels(self) -> np.ndarray:
        """Worker levels for prior draws of a ``within`` amount part: flat-prior intercepts
        have no prior to draw from, and the part's likelihood (of within-worker deviations)
        is the same whatever they are, so each worker keeps its observed mean amount on the
        part's scale (workers without amounts: the mean over workers). The same for every
        draw: computed once."""
        own = self.intensive.design.panel
        means = own.worker_means(np.asarray(own.y, dtype=float))
        levels = np.full(self.design.panel.n_workers, float(means.mean()))
        levels[self.kept_workers] = means
        return levels

    def draw(self, j: int, rng: np.random.Generator) -> np.ndarray:
        """Replicated outcomes of all rows for stacked draw ``j``."""
        p = self.design.panel
        any_amount = self.extensive.draw(j, rng)
        m = self.intensive.predictor(j, self._every_row)
        alpha = self._intensive_intercepts(j, m, rng)
        params = self.intensive.draw_parameters(j)
        family = self.intensive.family
        for rows in chunks(p.n_rows, self.chunk_rows):
            a = alpha[p.worker_codes[rows]] if isinstance(alpha, np.ndarray) else alpha
            value = self.family.from_positive_scale(family.draw(m[rows] + a, params, rng))
            m[rows] = np.where(any_amount[rows] > 0, value, 0.0)
        return m


AnyReplicator = Replicator | TwoPartReplicator


def make_replicator(
    design: ModelDesign, params: xr.Dataset, source: Source, scale: Scale, chunk_rows: int
) -> AnyReplicator:
    """The replicator of ``design``: a :class:`Replicator` of its only part, or a two-part
    model's :class:`TwoPartReplicator`."""
    family = family_of(design)
    deviations = uses_deviations(family, design.spec.worker_effects, scale)
    parts = family.parts(design)
    if len(parts) > 1:
        return TwoPartReplicator(design, params, source, chunk_rows)
    return Replicator(parts[0], params, source, deviations, chunk_rows)


def fit_design(fit_tree: xr.DataTree, design: ModelDesign | None = None) -> ModelDesign:
    """The design of the fit whose tree is ``fit_tree``: ``design`` when the caller holds it
    (:attr:`bayescred.CredentialFit.design`, the design the fit was sampled from), else the
    design rebuilt from the tree (:func:`~bayescred.inference.schema.design_from_tree`).

    The analysis functions that take a fit's tree also take its ``design``; this is their one
    fallback for a bare tree (no fit object at hand), and it rebuilds the design on every call.
    """
    return design_from_tree(fit_tree) if design is None else design


def posterior_replicator(
    fit_tree: xr.DataTree,
    *,
    max_draws: int,
    chunk_rows: int,
    scale: Scale = "outcome",
    design: ModelDesign | None = None,
) -> tuple[AnyReplicator, np.ndarray]:
    """A replicator over ``max_draws`` thinned posterior draws, and their indices.

    ``design``: the fit's design if at hand (else rebuilt from the tree, :func:`fit_design`).
    """
    design = fit_design(fit_tree, design)
    posterior = fit_tree["posterior"].to_dataset()
    wanted = effect_variables(design)
    missing = [n for n in wanted if n not in posterior and not n.endswith("alpha_offset")]
    if missing:
        raise ValueError(f"the fit's posterior lacks {', '.join(missing)}: cannot replicate")
    params, idx = thin_draws(
        posterior[[n for n in [*wanted, "alpha"] if n in posterior]], max_draws
    )
    return make_replicator(design, params, "posterior", scale, chunk_rows), idx


def prior_draws(
    design: ModelDesign, draws: int, random_seed: int | np.random.Generator | None
) -> xr.Dataset:
    """Draws of the outcome's parameters from the priors of the model rebuilt from ``design``."""
    model = build_prior_model(design)
    names = [n for n in effect_variables(design) if n in model.named_vars]
    seed: Any = random_seed
    with warnings.catch_warnings():
        # the model's only Potential is the closed-form likelihood, rightly left out here
        warnings.filterwarnings("ignore", message="The effect of Potentials", category=UserWarning)
        tree = pm.sample_prior_predictive(
            draws=draws, model=model, var_names=names, random_seed=seed
        )
    return tree["prior"].to_dataset()
