"""The fitted model: posterior, data, spec and the tables users read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.analysis import curve_points, effects
from bayescred.analysis.average_effects import AverageEffect, By, Where
from bayescred.analysis.binary_effects import with_probability_change
from bayescred.analysis.contrast import HypothesisResult
from bayescred.analysis.diagnostics import Diagnostics, diagnose
from bayescred.analysis.effects import is_log_scale
from bayescred.analysis.event_profiles import (
    check_event_time_family,
    dynamic_term,
    event_profile_draws,
    group_profile_at,
)
from bayescred.analysis.event_study import EventStudyResult, PretrendTest
from bayescred.analysis.hurdle_effects import hurdle_profile_effects
from bayescred.analysis.summary import parameter_descriptions, summary_table
from bayescred.analysis.type_effects import TypeEffectsResult
from bayescred.inference.reconstruct import design_from_tree
from bayescred.inference.schema import DESIGN_ATTR, POSTERIOR_GROUP, SPEC_ATTR, VERSIONS_ATTR
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
    design
        The design the tree was sampled from (:meth:`CredentialModel.fit` passes it, with its
        parts already computed); ``None`` (a loaded fit, or a tree of your own) rebuilds it
        from the tree on first use (:attr:`design`).
    """

    def __init__(self, tree: xr.DataTree, *, design: ModelDesign | None = None) -> None:
        if POSTERIOR_GROUP not in tree.children or SPEC_ATTR not in tree.attrs:
            raise ValueError("not a bayescred fit: the tree lacks a posterior or a spec")
        self.tree = tree
        self._design = design

    # ------------------------------------------------------------------ metadata
    @cached_property
    def spec(self) -> ModelSpec:
        """The model specification the fit was made with."""
        return ModelSpec.from_json(self.tree.attrs[SPEC_ATTR])

    @cached_property
    def family(self) -> Family:
        """The family of the outcome's likelihood (:mod:`bayescred.model.families`)."""
        return get_family(self.spec.outcome.likelihood)

    @cached_property
    def design_info(self) -> dict[str, Any]:
        """Data-derived constants recorded at build time (track-record scale, rows used...)."""
        return dict(json.loads(self.tree.attrs[DESIGN_ATTR]))

    @property
    def posterior(self) -> xr.Dataset:
        """The posterior draws (``chain``, ``draw`` and named dims)."""
        return self.tree[POSTERIOR_GROUP].to_dataset()

    @property
    def versions(self) -> dict[str, str]:
        """Versions of bayescred and its main dependencies at fit time."""
        return dict(json.loads(self.tree.attrs[VERSIONS_ATTR]))

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
            self.tree,
            by_group=by_group,
            max_draws=max_draws,
            scale=scale,
            random_seed=random_seed,
            design=self.design,
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
            self.tree,
            draws=draws,
            by_group=by_group,
            scale=scale,
            random_seed=random_seed,
            design=self.design,
        )

    def log_likelihood(self) -> xr.Dataset:
        """Pointwise log-likelihood per worker ``(chain, draw, worker)`` for PSIS-LOO.

        The ``within`` likelihood has no per-row density; the unit is the worker
        (leave-one-worker-out), the natural unit for panel data.
        """
        from bayescred.analysis.loo import log_likelihood

        return log_likelihood(self.tree, design=self.design)

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
            design=self.design,
        )
        return self

    # ------------------------------------------------------------------ effects
    @property
    def design(self) -> ModelDesign:
        """The model's design (rows used, track-record scale, priors): the one the fit was
        sampled from, or, for a loaded fit, rebuilt from the tree once and kept."""
        if self._design is None:
            # the load path (and trees of your own): the tree holds everything the design needs
            self._design = design_from_tree(self.tree)
        return self._design

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
        event_time: int | None = None,
        credential_type: str | None = None,
        job_category: str | None = None,
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
            draws that group's parameters from the population distribution (a new group);
            ``"mixture"`` gives it, at each draw, the parameters of one of the observed groups,
            each equally often (a worker of one of the observed groups, identity unknown; see
            :func:`bayescred.analysis.effects.mixture_group_draws`). Recorded in the table's
            ``parameters_from`` column.
        random_seed
            Seed for the draws of unseen groups.
        event_time
            Models with ``[dynamics]`` only: the effect ``event_time`` periods after the extra
            credentials are first held (negative: before, a lead; binned beyond the window's
            ends), ``f_g(e) (S(to) - S(n)) M(z)``. None (default): the effect averaged over the
            lag window (``beta``). Recorded in the table's ``event_time`` column. Not for
            hurdle or binary models, nor for groups the model has not seen.
        credential_type
            Models with ``[credential_types]`` only: the effect of extra credentials of this
            type, ``(beta_g + u_category[c] + u_type[j]) (S(to) - S(n)) M(z)``
            (``docs/design.md`` 3.9). None (default): a credential of a typical type
            (``u = 0``). Recorded in the table's ``credential_type`` column. Not for hurdle
            models.
        job_category
            With ``credential_type`` and ``match = true``: the profile's job category; the
            match effect is added when it is the type's category.

        Returns
        -------
        EffectResult
            ``.table`` (one row per profile), ``.draws`` (labelled xarray), ``.sentence()``,
            ``.prob(gt=...)``, ``.compare(i, j)`` and ``.plot()``.
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
        if event_time is not None:
            return self._event_time_effect(frame, int(event_time), hdi_prob)
        if credential_type is not None or job_category is not None:
            return self._typed_effect(
                frame, credential_type, job_category, hdi_prob, new_group, random_seed
            )
        if self.family.margins:
            return self._plottable(
                hurdle_profile_effects(
                    self.posterior,
                    self.design,
                    frame,
                    hdi_prob=hdi_prob,
                    new_group=new_group,
                    random_seed=random_seed,
                )
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
            new_group=new_group,
            group_parameters=group_parameters,
        )
        if self.family.probability_change:
            result = with_probability_change(
                result, self.posterior, self.design, frame, group_parameters
            )
        return self._plottable(result)

    def _event_time_effect(
        self, frame: pd.DataFrame, event_time: int, hdi_prob: float
    ) -> effects.EffectResult:
        """:meth:`effect` at one event time: each group's ``beta`` replaced by its profile
        ``f_g(bin(event_time))`` (:mod:`bayescred.terms.dynamics`)."""
        check_event_time_family(self.design)
        params, codes = effects.profile_group_parameters(
            self.posterior, self.spec, frame, "raise", None
        )
        at_time = replace(params, beta=group_profile_at(self.posterior, self.design, event_time))
        result = effects.profile_effects(
            self.posterior,
            self.spec,
            self.design.track_scale,
            frame,
            hdi_prob=hdi_prob,
            new_group="raise",
            group_parameters=(at_time, codes),
        )
        table = result.table.copy()
        table.insert(0, "event_time", event_time)
        return self._plottable(replace(result, table=table))

    def _typed_effect(
        self,
        frame: pd.DataFrame,
        credential_type: str | None,
        job_category: str | None,
        hdi_prob: float,
        new_group: effects.NewGroup,
        random_seed: int | None,
    ) -> effects.EffectResult:
        """:meth:`effect` for credentials of one type: each group's ``beta`` plus the type's
        deviation (and the match effect where the job category is the type's)."""
        from bayescred.analysis.type_effects import typed_effect_shift

        if credential_type is None:
            raise ValueError("job_category= needs credential_type= (the type of the credential)")
        if self.family.margins:
            raise ValueError(
                "effects by credential type are not available for hurdle models yet; use "
                "fit.type_effects() for the amount part's ranking"
            )
        shift = typed_effect_shift(self.posterior, self.design, credential_type, job_category)
        params, codes = effects.profile_group_parameters(
            self.posterior, self.spec, frame, new_group, random_seed
        )
        typed = replace(params, beta=params.beta + shift[:, None])
        result = effects.profile_effects(
            self.posterior,
            self.spec,
            self.design.track_scale,
            frame,
            hdi_prob=hdi_prob,
            new_group=new_group,
            group_parameters=(typed, codes),
        )
        if self.family.probability_change:
            result = with_probability_change(
                result, self.posterior, self.design, frame, (typed, codes)
            )
        table = result.table.copy()
        table.insert(0, "credential_type", str(credential_type))
        if job_category is not None:
            table.insert(1, "job_category", str(job_category))
        return self._plottable(replace(result, table=table))

    def type_effects(
        self,
        by: Literal["type", "category"] = "type",
        *,
        group: str | None = None,
        matched: bool = False,
        hdi_prob: float = 0.9,
        min_raw_holders: int | None = None,
    ) -> TypeEffectsResult:
        """Which credentials pay: the effect of a worker's first credential by type, ranked.

        Needs a spec with ``[credential_types]`` (``docs/design.md`` section 3.9). The effect
        of a first credential of type ``j``, in the outcome's units, at the reference track
        record: ``(beta_g + u_category[c(j)] + u_type[j]) (S(1) - S(0))``, averaged over groups
        by their share of rows (or for ``group``), with the match effect when ``matched``.

        Parameters
        ----------
        by
            ``"type"`` (one row per credential type) or ``"category"`` (a typical type of
            each skill category).
        group
            A group's label; None: the row-share average over groups.
        matched
            Add the match effect (for a worker whose job category is the type's).
        hdi_prob
            Mass of the highest-density intervals.
        min_raw_holders
            Holders a type needs before its raw within estimate is shown (default 20).

        Returns
        -------
        TypeEffectsResult
            ``.table`` (label, category, holders, mean, sd, HDI, percent columns for log-scale
            outcomes, ``p_above_average``, and by type ``raw_mean``/``raw_se``: the unpooled
            within estimate), sorted, ``.sentence()``, ``.plot(ax=)`` (caterpillar) and
            ``.plot_shrinkage(ax=)``.
        """
        from bayescred.analysis.type_effects import (
            MIN_RAW_HOLDERS,
            holders,
            raw_type_estimates,
            type_effect_draws,
        )
        from bayescred.plots.type_effects import shrinkage_axes, type_effects_axes

        draws = type_effect_draws(self.posterior, self.design, by, group=group, matched=matched)
        rows = self.design.rows()
        sig = rows.type_signatures
        assert sig is not None
        if by == "type":
            category = np.asarray(rows.category_labels, dtype=object)[sig.type_category]
            raw = self._memo_raw(raw_type_estimates)
        else:
            category = np.asarray(rows.category_labels, dtype=object)
            raw = None
        return TypeEffectsResult(
            draws=draws,
            category=category,
            holders=holders(self.design, by),
            raw=raw,
            log_scale=is_log_scale(self.spec),
            hdi_prob=hdi_prob,
            group=group,
            outcome=self._event_outcome_words(),
            min_raw_holders=MIN_RAW_HOLDERS if min_raw_holders is None else int(min_raw_holders),
            plotter=type_effects_axes,
            shrinkage_plotter=shrinkage_axes,
        )

    def _memo_raw(self, compute: Any) -> pd.DataFrame:
        """The raw within type estimates, computed once per fit."""
        cached = self.__dict__.get("_raw_type_estimates")
        if cached is None:
            cached = compute(self.design, self.posterior)
            self.__dict__["_raw_type_estimates"] = cached
        return cached

    def _plottable(self, result: effects.EffectResult) -> Any:
        """``result`` with :func:`bayescred.plots.effects.effect_figure` as its plotter."""
        from bayescred.plots.effects import effect_figure

        return replace(result, plotter=partial(effect_figure, spec=self.spec))

    def average_effect(
        self,
        *,
        by: By = None,
        where: Where = None,
        newdata: pd.DataFrame | None = None,
        bands: Mapping[str, Sequence[float]] | None = None,
        hdi_prob: float = 0.9,
        new_group: effects.NewGroup = "raise",
        random_seed: int | None = None,
        event_time: int | None = None,
    ) -> AverageEffect:
        """Average effect of one more credential over the observed rows or new profiles.

        The effect is averaged over rows for each posterior draw, then summarised. Without
        arguments it is the average over every row the model used (``scope`` "all observed
        profiles").

        Parameters
        ----------
        by
            A column name or a list of them: one table row per combination of values among the
            selected rows, e.g. ``"group"``, ``"track_record_band"``,
            ``["group", "credentials_band"]``. The rows used carry the panel's columns (worker,
            period, group, credentials, track record, outcome, covariates) and bands.
        where
            The rows to average over: a pandas expression over the columns
            (``"track_record == 0"``: newcomers) or a boolean mask of the rows' length.
        newdata
            A DataFrame of profiles (``group``, ``credentials``, ``track_record``, optionally
            ``to`` and covariates, and any other columns to select or split by) to average over
            instead of the rows used. Each profile is a new worker with that profile, as in
            :meth:`effect`; its effect is of going to ``to`` (default ``credentials + 1``).
        bands
            Edges of bands of numeric columns, each making a ``<column>_band`` column to split
            or select by: ``{"track_record": [0, 1, 5, 20, np.inf]}``. Bands are left-closed,
            labelled ``"[1, 5)"`` (the last ``"20+"``). Defaults:
            :data:`bayescred.analysis.average_effects.DEFAULT_BANDS` (track record: 0, 1-4,
            5-19, 20-99, 100+; credentials: 0, 1, 2-4, 5-9, 10+).
        hdi_prob
            Mass of the highest-density intervals.
        new_group, random_seed
            For ``newdata`` with groups the model has not seen, as in :meth:`effect`; the
            table's ``parameters_from`` column says where each scope's parameters came from.
        event_time
            Models with ``[dynamics]`` only: the average effect ``event_time`` periods after
            the extra credential is first held (negative: before it; binned beyond the
            window's ends), as in :meth:`effect`; recorded in the table's ``event_time``
            column. None (default): averaged over the lag window. Not for hurdle or binary
            models, nor for ``newdata`` groups the model has not seen.

        Returns
        -------
        AverageEffect
            ``.table``: the ``by`` columns, ``scope`` (a label), ``rows`` (rows averaged over),
            mean, median, HDI and ``prob_positive`` on the model's scale and, for log-scale
            outcomes, the average percentage change (``pct_*``). Hurdle models give one row per
            scope and margin (``total``, ``extensive``, ``intensive``; see
            :mod:`bayescred.analysis.hurdle_effects`). ``.draws`` and ``.percent`` hold the
            per-draw averages aligned with the table; ``.prob``, ``.compare``, ``.plot`` and
            ``.sentence`` work as for :meth:`effect`.

        Raises
        ------
        ValueError
            For unknown columns in ``by`` or ``where``, a selection without rows, bands that
            do not cover the values, or unseen groups in ``newdata`` with ``new_group="raise"``.
        """
        from bayescred.analysis.average_effects import average_effect

        result = average_effect(
            self.posterior,
            self.design,
            by=by,
            where=where,
            newdata=newdata,
            bands=bands,
            hdi_prob=hdi_prob,
            new_group=new_group,
            random_seed=random_seed,
            event_time=event_time,
        )
        return self._plottable(result)

    def hypothesis(
        self, hypothesis: str, *, rope: float | None = None, hdi_prob: float = 0.9
    ) -> HypothesisResult:
        """Posterior probability of a comparison of parameters, over the joint draws.

        ``fit.hypothesis("beta_group[D] > beta_group[A]")`` gives the probability that group
        D's first-credential effect exceeds group A's, with the difference's mean, sd, median
        and HDI (``.summary``) and a sentence (``.sentence()``). Variables are the posterior's
        (``fit.posterior``), indexed by coordinate labels; numbers, ``+ - * / **`` and
        ``exp``/``log``/``log1p``/``expm1``/``sqrt``/``abs`` are allowed; ``==`` needs
        ``rope=`` (probability that ``|left - right| < rope``). The text is parsed, never
        evaluated as code (:mod:`bayescred.analysis.hypothesis`). To compare the effects of two
        profiles, use :meth:`bayescred.analysis.effects.EffectResult.compare`.

        Models with ``[dynamics]`` store the event-time profile ``f(e)`` by event time (labels
        ``-L .. K-1``, ``f(-1) = 0``): ``"event_profile[2] > event_profile[0]"`` asks whether
        the effect two periods after a credential is first held exceeds the first period's (a
        build-up), ``"event_profile_group[A, 3] > event_profile_group[B, 3]"`` compares groups
        at one event time and ``"event_profile[-2] < 0"`` reads a lead (a dip before the
        credential). ``event_profile_cohort[c, e]`` holds the adoption cohorts' profiles.

        Models with ``[credential_types]`` read ``type[python]`` as the population effect of a
        first credential of type ``python`` (``type_effect``) and ``category[programming]`` as
        a typical type's of that category (``category_effect``):
        ``fit.hypothesis("type[python] > type[excel]")``.
        """
        from bayescred.analysis.hypothesis import hypothesis as test

        aliases = (
            {"type": "type_effect", "category": "category_effect"}
            if "type_effect" in self.posterior.data_vars
            else None
        )
        return test(self.posterior, hypothesis, rope=rope, hdi_prob=hdi_prob, aliases=aliases)

    # ------------------------------------------------------------------ event time
    def event_study(
        self, by: Literal["group", "cohort"] | None = None, *, hdi_prob: float = 0.9
    ) -> EventStudyResult:
        """The event study: the effect of a worker's first credential at each event time.

        Needs a spec with ``[dynamics]`` (``docs/design.md`` section 3.8). The value at event
        time ``e`` is the effect, in the outcome's units, of the first credential ``e`` periods
        after it is first held (leads: before), at the reference track record; it does not
        depend on how the model normalises its profile, and is 0 at the reference ``e = -1``.

        Parameters
        ----------
        by
            None: the population's profile; ``"group"``: each group's; ``"cohort"``: each
            adoption cohort's (a spec with ``cohort_width``).
        hdi_prob
            Mass of the highest-density intervals.

        Returns
        -------
        EventStudyResult
            ``.table`` (``event_time``, the scope column, ``mean``, ``sd``, ``hdi_low``,
            ``hdi_high`` and percent columns for log-scale outcomes), ``.draws``,
            ``.plot(ax=)`` (the event-study figure) and ``.sentence``.
        """
        from bayescred.plots.event_study import event_study_axes

        draws = event_profile_draws(self.posterior, self.design, by)
        return EventStudyResult(
            draws=draws,
            window=dynamic_term(self.design).window,
            log_scale=is_log_scale(self.spec),
            hdi_prob=hdi_prob,
            outcome=self._event_outcome_words(),
            plotter=event_study_axes,
        )

    def pretrend_test(self, *, hdi_prob: float = 0.9, level: float = 0.95) -> PretrendTest:
        """Are the population profile's leads compatible with zero (no pre-trends)?

        ``.flagged`` is True when zero lies outside the joint ``level`` credible region of the
        leads (squared Mahalanobis distance against the chi-square quantile); ``.sensitivity``
        gives the breakdown slope of a linear pre-trend (in the spirit of HonestDiD): the
        smallest slope that, extrapolated after the event, would make the ``hdi_prob`` interval
        of the average post-event effect include zero. Needs ``[dynamics] leads >= 2``.
        """
        draws = event_profile_draws(self.posterior, self.design, None)
        window = dynamic_term(self.design).window
        leads = draws.sel(event_time=[int(e) for e in window.lead_times])
        lags = draws.sel(event_time=[int(e) for e in window.lag_times])
        return PretrendTest(
            lead_draws=leads.rename(event_time="lead"),
            lag_draws=lags.rename(event_time="lag"),
            hdi_prob=hdi_prob,
            level=level,
            outcome=self._event_outcome_words(),
            log_scale=is_log_scale(self.spec),
        )

    def _event_outcome_words(self) -> str:
        """The outcome in words for event-study text: its level (``project value``) when
        effects are read as percentages, else as modelled."""
        outcome = self.spec.outcome
        return outcome.level_words if is_log_scale(self.spec) else outcome.words

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
    data frame afterwards. Its :attr:`~CredentialFit.design` is rebuilt from the tree on first
    use and kept.

    Raises
    ------
    bayescred.FitFileError
        If the file is missing, damaged, not a bayescred fit or written in a newer format.
    """
    from bayescred.inference.io import load_tree

    return CredentialFit(load_tree(path))
