"""Simulation-based calibration (SBC) of a spec on the skeleton of the user's own panel.

One simulation ``i`` (:func:`run_sbc_simulation`):

1. the true parameters are drawn from the model's prior (``pm.sample_prior_predictive`` on
   the model built for the panel's used rows: workers, periods, groups, credentials and track
   records as observed);
2. an outcome is drawn from the model's own likelihood given them, by the same replicators
   the prior predictive checks use (:mod:`bayescred.analysis.replicate`). Under ``within``
   worker effects the intercepts have a flat prior and the likelihood sees only within-worker
   deviations: the simulated deviations are added to the observed worker means (any worker
   constant gives the same fit);
3. the model is fitted to the simulated outcome and the rank of each true parameter among the
   posterior draws is recorded, after thinning each parameter's draws to about its bulk ESS so
   that the kept draws are nearly independent.

The priors of the default specs are scaled by the observed outcome (its mean and sd). For SBC
the prior must not change with the simulated outcome, so the priors are resolved once on the
user's panel and written into the spec (:func:`fixed_prior_spec`): the fitted model is the
user's model, with the prior it has on the user's data.

Specs with ``[dynamics]`` (event-time effects) are supported: their event-time priors
(``lag_step``, ``lead``, their sds, the cohorts' sds) are resolved and fixed like the others,
and the skeleton's credential events (given with ``events=`` or carried by a validated
:class:`~bayescred.data.panel.Panel`; otherwise derived from the credentials column) reach the
prior model, the replicator and every refit. The event-time parameters and profiles are ranked
like the others, except the profiles' reference entries (``f(-1) = 0`` by construction), which
are the same constant in the truth and every draw (:func:`fixed_elements`).

Under a correct sampler the ranks of each parameter are uniform on ``0..L`` (Talts et al.
2018); :mod:`bayescred.calibration.result` tests and plots them.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from bayescred.analysis.replicate import effect_variables, make_replicator, uses_deviations
from bayescred.calibration.record import failed_record, fitted_record
from bayescred.data.panel import Panel
from bayescred.model.build import build_prior_model
from bayescred.model.design import ModelDesign
from bayescred.model.families import family_of
from bayescred.model.make import make_design
from bayescred.spec import EXTENSIVE_PRIOR_NAMES, PRIOR_NAMES, ModelSpec, PriorSpec

#: Dims of per-worker and per-row variables: their elements are not ranked.
_BULK_DIM_WORDS: tuple[str, ...] = ("worker", "obs")


def fixed_prior_spec(
    spec: ModelSpec,
    data: pd.DataFrame | Panel,
    overrides: dict[str, PriorSpec] | None = None,
    *,
    events: pd.DataFrame | None = None,
) -> ModelSpec:
    """``spec`` with every prior resolved on ``data`` written in (then ``overrides`` applied).

    The fitted model's priors then no longer depend on the outcome: a simulated outcome is
    fitted with the very prior its parameters were drawn from. ``overrides`` (plain names, or
    ``ext_`` names for a hurdle's extensive part) replace resolved priors, e.g. a wider
    simulation prior. ``events`` are credential events as data for a frame
    (:func:`~bayescred.model.make.make_design`); a spec with ``[dynamics]`` gets its event-time
    priors written in too.
    """
    design = make_design(spec, data, events)
    dump = spec.model_dump(by_alias=True)
    for part in family_of(design).parts(design):
        own = part.naming.own(design.priors)
        own.update(part.naming.own(overrides or {}))
        if part.naming.prefix:
            ext = dump.get("extensive") or spec.extensive_effect.model_dump(by_alias=True)
            ext["priors"] = {
                k: v.model_dump(exclude_none=True)
                for k, v in own.items()
                if k in EXTENSIVE_PRIOR_NAMES
            }
            dump["extensive"] = ext
        else:
            dump["priors"] = {
                k: v.model_dump(exclude_none=True) for k, v in own.items() if k in PRIOR_NAMES
            }
    return ModelSpec.model_validate(dump)


def ranked_variables(model: pm.Model) -> list[str]:
    """Variables whose SBC ranks are recorded: the model's parameters without per-worker or
    per-row dims, minus the non-centred offsets (their group-level values are ranked)."""
    dims = model.named_vars_to_dims
    names = [v.name for v in model.free_RVs] + [v.name for v in model.deterministics]
    out = []
    for name in names:
        if name.endswith("_offset"):
            continue
        if any(w in d for d in dims.get(name, ()) or () for w in _BULK_DIM_WORDS):
            continue
        out.append(name)
    return out


def element_values(ds: xr.Dataset, names: list[str]) -> dict[str, np.ndarray]:
    """Each element of ``names`` in ``ds`` as ``{"beta_group[A]": draws}`` (draws stacked)."""
    out: dict[str, np.ndarray] = {}
    for name in names:
        da = ds[name]
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        values = np.asarray(da.transpose("chain", "draw", *extra).values)
        values = values.reshape(-1, *values.shape[2:])
        if not extra:
            out[name] = values
            continue
        labels = [np.asarray(da[d].values).astype(str) for d in extra]
        for index in np.ndindex(*values.shape[1:]):
            label = ",".join(labels[k][i] for k, i in enumerate(index))
            out[f"{name}[{label}]"] = values[(slice(None), *index)]
    return out


@dataclass(frozen=True)
class SBCJob:
    """Everything a worker needs to run any simulation of one SBC study (picklable).

    Attributes
    ----------
    spec
        The fitted model: the user's spec with its priors resolved on the user's panel.
    simulation_spec
        The model the truths and outcomes are drawn from (``spec`` unless a different
        simulation prior was asked for: a deliberately mis-specified study).
    panel
        The user's panel, restricted to the rows the model uses (the skeleton).
    fit
        Sampler arguments of :meth:`CredentialModel.fit` (draws, tune, chains, ...).
    seed
        Base seed; simulation ``i`` uses ``(seed, i)``.
    """

    spec: ModelSpec
    simulation_spec: ModelSpec
    panel: Panel
    fit: dict[str, Any] = field(default_factory=dict)
    seed: int = 0


def prepare_sbc(
    spec: ModelSpec,
    data: pd.DataFrame | Panel,
    *,
    fit: dict[str, Any],
    seed: int,
    simulation_priors: dict[str, PriorSpec] | None = None,
    events: pd.DataFrame | None = None,
) -> SBCJob:
    """The :class:`SBCJob` of ``spec`` on the skeleton of ``data`` (with credential ``events``
    as data for a frame: the skeleton's panel carries them to every simulation)."""
    fixed = fixed_prior_spec(spec, data, events=events)
    design = make_design(fixed, data, events)
    simulation = (
        fixed
        if not simulation_priors
        else fixed_prior_spec(fixed, data, simulation_priors, events=events)
    )
    return SBCJob(spec=fixed, simulation_spec=simulation, panel=design.panel, fit=fit, seed=seed)


def distinct_elements(truth: dict[str, float], draws: dict[str, np.ndarray]) -> list[str]:
    """The elements of ``truth`` that are not exact copies of an earlier one.

    A completely pooled parameter's group values (``gamma_group[A,z]`` under
    ``gamma = "complete"``) are the population value repeated: same truth, same draws, so the
    same rank. Ranking each copy would count one parameter several times in the uniformity
    tests' multiplicity correction and test it several times with different PIT jitter.
    """
    kept: list[str] = []
    for name, value in truth.items():
        copy = any(truth[k] == value and np.array_equal(draws[k], draws[name]) for k in kept)
        if not copy:
            kept.append(name)
    return kept


def fixed_elements(truth: dict[str, float], draws: dict[str, np.ndarray]) -> list[str]:
    """The elements of ``truth`` equal to their truth in every draw: constants of the model
    (an event-time profile's reference entry ``event_profile[-1]``, 0 by construction).

    Their rank is always ``L / 2``, which the uniformity tests would flag although nothing is
    wrong, and they carry no information about the sampler: they are not ranked.
    """
    return [name for name, value in truth.items() if np.all(draws[name] == value)]


def _prior_draw(design: ModelDesign, names: list[str], seed: np.random.SeedSequence) -> xr.Dataset:
    model = build_prior_model(design)
    wanted = [
        n for n in dict.fromkeys([*effect_variables(design), *names]) if n in model.named_vars
    ]
    logging.getLogger("pymc").setLevel(logging.WARNING)  # no "Sampling: [...]" per simulation
    with warnings.catch_warnings():
        # the closed-form likelihood is a Potential, rightly left out of the prior draws
        warnings.filterwarnings("ignore", message="The effect of Potentials", category=UserWarning)
        tree = pm.sample_prior_predictive(
            draws=1, model=model, var_names=wanted, random_seed=np.random.default_rng(seed)
        )
    return tree["prior"].to_dataset()


def simulate_outcome(
    design: ModelDesign, params: xr.Dataset, rng: np.random.Generator
) -> np.ndarray:
    """An outcome for ``design``'s rows drawn from its likelihood given one parameter draw.

    Flat-prior (``within``) intercepts have no prior draw; the likelihood sees only
    within-worker deviations, so each worker keeps its observed level (for a hurdle, that of
    its amounts: :class:`~bayescred.analysis.replicate.TwoPartReplicator`).
    """
    within = uses_deviations(family_of(design), design.spec.worker_effects, "auto")
    rep = make_replicator(design, params, "prior", "within" if within else "outcome", 100_000)
    y = np.asarray(rep.draw(0, rng), dtype=float)
    if within:  # deviations only: put them around the observed worker means
        observed = np.asarray(design.panel.y, dtype=float)
        y = y + (observed - design.panel.demean(observed))
    return y


def with_outcome(panel: Panel, y: np.ndarray) -> Panel:
    """``panel`` with its outcome replaced by ``y`` (frame column and array)."""
    assert panel.outcome is not None
    frame = panel.frame.copy()
    frame[panel.outcome] = y
    return replace(panel, frame=frame, y=np.asarray(y, dtype=float))


def thinned_rank(draws: np.ndarray, chains: int, truth: float) -> tuple[int, int]:
    """Rank of ``truth`` among ``draws`` (stacked chain-major) thinned to about their bulk ESS.

    Returns ``(rank, L)``: the number of kept draws below the truth (ties split at random is
    not needed for continuous parameters; ties count half, rounded down) and the number kept.
    """
    from arviz_stats.base import array_stats

    per_chain = draws.reshape(chains, -1)
    ess = float(array_stats.ess(per_chain, chain_axis=0, draw_axis=1, method="bulk"))
    n = per_chain.size
    step = max(1, int(np.ceil(n / ess))) if np.isfinite(ess) and ess > 0 else n
    kept = per_chain[:, ::step].ravel()
    below = int(np.sum(kept < truth)) + int(np.sum(kept == truth)) // 2
    return below, int(kept.size)


def run_sbc_simulation(job: SBCJob, index: int) -> dict[str, Any]:
    """Draw a truth and an outcome, fit, and rank: simulation ``index`` of ``job``.

    Returns a record (:mod:`bayescred.calibration.record`): ``index``, ``status`` (``ok`` or
    the error), the fit's divergences and largest R-hat, the worker's process id and
    compilation count, and ``elements``: per ranked element its ``truth``, ``rank`` and ``L``
    (kept draws).
    """
    from bayescred.facade.credential_model import CredentialModel

    streams = np.random.SeedSequence([int(job.seed), int(index)]).spawn(3)
    try:
        sim_design = make_design(job.simulation_spec, job.panel)
        names = ranked_variables(build_prior_model(sim_design))
        params = _prior_draw(sim_design, names, streams[0])
        y = simulate_outcome(sim_design, params, np.random.default_rng(streams[1]))
        truth = {k: float(v[0]) for k, v in element_values(params, names).items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = CredentialModel(job.spec).fit(
                with_outcome(job.panel, y),
                random_seed=int(streams[2].generate_state(1)[0]),
                progressbar=False,
                **job.fit,
            )
    except Exception as err:
        return failed_record(index, err)
    posterior = fit.posterior
    chains = int(posterior.sizes["chain"])
    draws = element_values(posterior, names)
    ranks = {}
    constant = set(fixed_elements(truth, draws))
    for name in distinct_elements(truth, draws):
        if name in constant:
            continue
        rank, kept = thinned_rank(draws[name], chains, truth[name])
        ranks[name] = {"truth": truth[name], "rank": rank, "L": kept}
    return fitted_record(index, fit, ranks)
