"""The fitted model: posterior, data, spec and the tables users read."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import xarray as xr

from bayescred.analysis import curve_points, effects
from bayescred.analysis.binary_effects import with_probability_change
from bayescred.analysis.diagnostics import Diagnostics, diagnose
from bayescred.analysis.hurdle_effects import hurdle_average_effect, hurdle_profile_effects
from bayescred.analysis.summary import parameter_descriptions, summary_table
from bayescred.inference.reconstruct import design_from_tree
from bayescred.model.design import ModelDesign
from bayescred.model.families import Family, get_family
from bayescred.spec import ModelSpec

if TYPE_CHECKING:
    from bayescred.plots import FitPlots


class CredentialFit:
    """A fitted credential model.

    Holds one :class:`xarray.DataTree` (``posterior``, ``sample_stats``, ``constant_data``,
    ``observed_data``; the spec, priors, design constants and package versions as JSON attributes)
    and computes everything users take away from it over posterior draws. :meth:`add_groups`
    adds ``log_likelihood``, ``posterior_predictive``, ``prior`` and ``prior_predictive``, which
    make the tree a complete ArviZ object.

    Parameters
    ----------
    tree
        The DataTree returned by sampling (or read by :func:`bayescred.load`).
    """

    def __init__(self, tree: xr.DataTree) -> None:
        if "posterior" not in tree.children or "bayescred_spec" not in tree.attrs:
            raise ValueError("not a bayescred fit: the tree lacks a posterior or a spec")
        self.tree = tree

    # ------------------------------------------------------------------ metadata
    @cached_property
    def spec(self) -> ModelSpec:
        """The model specification the fit was made with."""
        return ModelSpec.from_json(self.tree.attrs["bayescred_spec"])

    @cached_property
    def family(self) -> Family:
        """The family of the outcome's likelihood (:mod:`bayescred.model.families`)."""
        return get_family(self.spec.outcome.likelihood)

    @cached_property
    def design_info(self) -> dict[str, Any]:
        """Data-derived constants recorded at build time (track-record scale, rows used...)."""
        return dict(json.loads(self.tree.attrs["bayescred_design"]))

    @property
    def posterior(self) -> xr.Dataset:
        """The posterior draws (``chain``, ``draw`` and named dims)."""
        return self.tree["posterior"].to_dataset()

    @property
    def versions(self) -> dict[str, str]:
        """Versions of bayescred and its main dependencies at fit time."""
        return dict(json.loads(self.tree.attrs["bayescred_versions"]))

    def rows_not_used(self) -> pd.DataFrame:
        """Input rows the model could not use, counted by reason."""
        d = self.design_info["rows_not_used"]
        return pd.DataFrame({"reason": d.get("reason", []), "rows": d.get("rows", [])})

    def save(self, path: str | Path) -> Path:
        """Write the fit to one NetCDF (``.nc``) or Zarr (``.zarr``) file (:func:`bayescred.load`).

        The file holds the posterior, sampler statistics, the rows used, the spec, the priors,
        the data schema and the package versions. Nothing is pickled.
        """
        from bayescred.inference.io import save_fit

        return save_fit(self, path)

    # ------------------------------------------------------------------ tables
    def summary(self, *, hdi_prob: float = 0.9) -> pd.DataFrame:
        """Population and group parameters: mean, sd, HDI, ESS and R-hat, one row per element.

        Parameters
        ----------
        hdi_prob
            Mass of the highest-density interval (``hdi_low``, ``hdi_high``).
        """
        parts = self.family.summary_parts(self.spec)
        table = summary_table(self.posterior, hdi_prob=hdi_prob, namings=tuple(n for n, _ in parts))
        shared = {
            naming(name)
            for naming, effect in parts
            for name, how in (
                ("beta_group", effect.pooling.beta),
                ("lambda_group", effect.pooling.lambda_),
                ("kappa_group", effect.pooling.lambda_),
                ("gamma_group", effect.pooling.gamma),
            )
            if how == "complete"
        }
        # with complete pooling every group's value is the population value: report it once
        return table[~table["parameter"].isin(shared)].reset_index(drop=True)

    @cached_property
    def _diagnostics(self) -> Diagnostics:
        names = [str(n) for n in self.posterior.data_vars if n not in ("alpha",)]
        return diagnose(self.tree, names)

    def diagnostics(self) -> pd.DataFrame:
        """Divergences, max R-hat, min bulk and tail ESS and BFMI, each with its threshold.

        The table's ``attrs["verdict"]`` holds a one-sentence verdict.
        """
        return self._diagnostics.to_frame()

    @property
    def converged(self) -> bool:
        """Whether every diagnostic passes its threshold."""
        return self._diagnostics.ok

    @property
    def verdict(self) -> str:
        """One-sentence convergence verdict."""
        return self._diagnostics.verdict

    @cached_property
    def _text(self) -> str:
        from bayescred.facade.display import fit_text

        return fit_text(self)

    def __repr__(self) -> str:
        """The spec, the data used, the verdict, the headline effect and the population
        parameters, as text (the same as the HTML view in Jupyter)."""
        return self._text

    def _repr_html_(self) -> str:
        from bayescred.facade.display import fit_html

        return fit_html(self)

    def parameter_names(self) -> list[str]:
        """Names of the parameters :meth:`summary` reports."""
        namings = tuple(n for n, _ in self.family.summary_parts(self.spec))
        return list(parameter_descriptions(self.posterior, namings))

    @cached_property
    def plot(self) -> FitPlots:
        """Posterior plots: ``effect_curve``, ``track_record``, ``groups``, ``ppc``, ``trace``,
        ``rank`` (keyword-only arguments; each returns its figure or plot collection)."""
        from bayescred.plots import FitPlots

        return FitPlots(self)

    # ------------------------------------------------------------------ checks
    def check(
        self,
        *,
        by_group: bool = True,
        max_draws: int = 200,
        scale: Literal["auto", "outcome", "within"] = "auto",
        random_seed: int | None = None,
    ) -> pd.DataFrame:
        """Posterior predictive check: Bayesian p-values of the mean, sd, 10/50/90% quantiles
        and (for outcomes with zeros) the share of zeros, overall and by group; ``flag`` marks
        p-values outside [0.05, 0.95]. Replicates are generated over at most ``max_draws``
        thinned draws and in row chunks (memory O(rows + draws x statistics)). ``within`` fits
        are checked on within-worker deviations by default (see
        :func:`bayescred.analysis.checks.check`)."""
        from bayescred.analysis.checks import check

        return check(
            self.tree, by_group=by_group, max_draws=max_draws, scale=scale, random_seed=random_seed
        )

    def prior_check(
        self,
        *,
        draws: int = 200,
        by_group: bool = True,
        scale: Literal["auto", "outcome", "within"] = "auto",
        random_seed: int | None = None,
    ) -> pd.DataFrame:
        """Prior predictive check: the same table as :meth:`check` for prior draws."""
        from bayescred.analysis.checks import prior_check

        return prior_check(
            self.tree, draws=draws, by_group=by_group, scale=scale, random_seed=random_seed
        )

    def log_likelihood(self) -> xr.Dataset:
        """Pointwise log-likelihood per worker ``(chain, draw, worker)`` for PSIS-LOO.

        The ``within`` likelihood has no per-row density; the unit is the worker
        (leave-one-worker-out), the natural unit for panel data.
        """
        from bayescred.analysis.loo import log_likelihood

        return log_likelihood(self.tree)

    def loo(self) -> Any:
        """PSIS-LOO (leave one worker out) of this fit, ArviZ's ``ELPDData``.

        Uses the tree's ``log_likelihood`` group when it has one (:meth:`add_groups`).
        """
        from bayescred.analysis.loo import loo

        return loo(self)

    def add_groups(
        self,
        groups: Iterable[str] | str | None = None,
        *,
        unit: Literal["worker", "row"] = "worker",
        max_draws: int = 500,
        prior_draws: int = 500,
        random_seed: int | None = None,
    ) -> CredentialFit:
        """Add the ArviZ groups to :attr:`tree`, so that ArviZ works on it directly.

        After it, ``az.loo(fit.tree)``, ``az.compare({"a": fit_a.tree, "b": fit_b.tree})`` and
        arviz-plots' predictive checks (``azp.plot_ppc_dist(fit.tree)``) work on the tree,
        :meth:`loo` and :func:`bayescred.compare` reuse the stored log-likelihood, and
        :meth:`save` writes the groups with the fit (checksummed like the rest).

        Parameters
        ----------
        groups
            Names among ``log_likelihood``, ``posterior_predictive``, ``prior`` and
            ``prior_predictive``; ``None`` or ``"all"`` (default): every group the model has
            (no ``prior_predictive`` under ``within`` worker effects, whose intercept prior is
            flat and improper). Existing groups of the same name are replaced.
        unit
            Of ``log_likelihood``: ``"worker"`` (default; all of a worker's rows jointly, the
            unit of leave-one-worker-out LOO, ``dims (chain, draw, worker)``) or ``"row"``
            (``(chain, draw, obs)``; only where the likelihood has a per-row density: latent
            intercepts or ``worker_effects = "none"``; ``draws x rows`` numbers).
        max_draws
            ``posterior_predictive`` uses every ``k``-th draw of every chain, ``k`` the
            smallest stride keeping at most this many draws (at least one per chain); its
            ``chain``/``draw`` coordinates are those of the posterior draws used.
        prior_draws
            Draws in ``prior`` and ``prior_predictive``.
        random_seed
            Seed of the replicated outcomes and the prior draws.

        Returns
        -------
        CredentialFit
            This fit (its :attr:`tree` now holds the groups), for chaining.

        Raises
        ------
        ValueError
            For an unknown group name, ``prior_predictive`` under ``within`` worker effects,
            or ``unit="row"`` for a likelihood without a per-row density.

        See :mod:`bayescred.analysis.groups` for what each group holds.
        """
        from bayescred.analysis.groups import with_groups

        self.tree = with_groups(
            self.tree,
            groups,
            unit=unit,
            max_draws=max_draws,
            prior_draws=prior_draws,
            random_seed=random_seed,
        )
        return self

    # ------------------------------------------------------------------ effects
    @cached_property
    def design(self) -> ModelDesign:
        """The model's design (rows used, track-record scale, priors), rebuilt from the tree."""
        return design_from_tree(self.tree)

    def effect(
        self,
        group: str | None = None,
        credentials: int | None = None,
        track_record: float | None = None,
        *,
        profiles: pd.DataFrame | None = None,
        to: int | None = None,
        covariates: dict[str, float] | None = None,
        hdi_prob: float = 0.9,
        new_group: effects.NewGroup = "raise",
        random_seed: int | None = None,
    ) -> effects.EffectResult:
        """Posterior of the effect of one more credential (or of going to ``to``) for profiles.

        Parameters
        ----------
        group, credentials, track_record
            One worker profile: group label, credentials held, track record (e.g. completed
            projects).
        profiles
            Instead of one profile, a DataFrame with columns ``group``, ``credentials``,
            ``track_record`` and optionally ``to``.
        to
            Credential count to compare with (default ``credentials + 1``).
        covariates
            Covariate values of the profile; they enter additively, so they cancel in the
            contrast and are only checked for names.
        hdi_prob
            Mass of the highest-density intervals.
        new_group
            ``"raise"`` (default) refuses a group the model has not seen; ``"population"``
            draws that group's parameters from the population distribution (recorded in the
            table's ``parameters_from`` column).
        random_seed
            Seed for the population draws of unseen groups.

        Returns
        -------
        EffectResult
            ``.table`` (one row per profile), ``.draws`` (labelled xarray), ``.sentence()``.
            Bernoulli models add the change in probability for a typical worker with the
            profile (``pp_*`` columns, percentage points; see
            :mod:`bayescred.analysis.binary_effects`).
            For hurdle models the effect is on the expected outcome, and ``.margins`` splits it
            into the extensive margin (more periods with earnings) and the intensive margin
            (more per such period); see :mod:`bayescred.analysis.hurdle_effects`.
        """
        frame = effects.profiles_frame(
            group, credentials, track_record, profiles, to, covariates, self.spec
        )
        if self.family.margins:
            return hurdle_profile_effects(
                self.posterior,
                self.design,
                frame,
                hdi_prob=hdi_prob,
                new_group=new_group,
                random_seed=random_seed,
            )
        group_parameters = effects.profile_group_parameters(
            self.posterior, self.spec, frame, new_group, random_seed
        )
        result = effects.profile_effects(
            self.posterior,
            self.spec,
            self.design.track_scale,
            frame,
            hdi_prob=hdi_prob,
            group_parameters=group_parameters,
        )
        if self.family.probability_change:
            result = with_probability_change(
                result, self.posterior, self.design, frame, group_parameters
            )
        return result

    def average_effect(
        self, *, by: Literal["group"] | None = None, hdi_prob: float = 0.9
    ) -> pd.DataFrame:
        """Average effect of one more credential over the observed profiles (rows used).

        Computed per posterior draw, then summarised; ``by="group"`` gives one row per group.
        For log-scale outcomes the ``pct_*`` columns give the average percentage gain. Hurdle
        models give one row per scope and margin (``total``, ``extensive``, ``intensive``; see
        :mod:`bayescred.analysis.hurdle_effects`).
        """
        d = self.design
        p = d.panel
        if self.family.margins:
            return hurdle_average_effect(self.posterior, d, by=by, hdi_prob=hdi_prob)
        return effects.average_effect(
            self.posterior,
            self.spec,
            p.group_codes,
            p.credentials,
            d.z,
            [str(g) for g in p.group_labels],
            by=by,
            hdi_prob=hdi_prob,
        )

    def saturation_point(
        self,
        threshold: float = 0.01,
        *,
        track_record: float | None = None,
        max_credentials: int = 100,
        hdi_prob: float = 0.9,
    ) -> pd.DataFrame:
        """Posterior of the credential count past which one more adds less than ``threshold``.

        See :func:`bayescred.analysis.curve_points.saturation_point`.
        """
        return curve_points.saturation_point(
            self.posterior,
            self.spec,
            self.design.track_scale,
            threshold=threshold,
            track_record=track_record,
            max_credentials=max_credentials,
            hdi_prob=hdi_prob,
        )

    def peak_track_record(self, *, hdi_prob: float = 0.9) -> pd.DataFrame:
        """Posterior of the track record at which credentials help most, or a statement that the
        effect is monotone over the data's range. See
        :func:`bayescred.analysis.curve_points.peak_track_record`."""
        r = self.design.panel.track_record
        return curve_points.peak_track_record(
            self.posterior,
            self.spec,
            self.design.track_scale,
            (float(r.min()), float(r.max())),
            hdi_prob=hdi_prob,
        )


def load_fit(path: str | Path) -> CredentialFit:
    """Read a fit saved by :meth:`CredentialFit.save` (``bayescred.load``).

    The file is read fully into memory and checked (see
    :func:`bayescred.inference.io.load_tree`); the fit needs neither the file nor the original
    data frame afterwards.

    Raises
    ------
    bayescred.FitFileError
        If the file is missing, damaged, not a bayescred fit or written in a newer format.
    """
    from bayescred.inference.io import load_tree

    return CredentialFit(load_tree(path))
