"""``fit.plot``: the figures of one fitted credential model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from bayescred.analysis import curve_points
from bayescred.analysis.replicate import Scale
from bayescred.model.design import ModelDesign
from bayescred.model.families import Family, PredictivePlot, family_of
from bayescred.model.parts import PartName as HurdlePart
from bayescred.plots import curves, parameters, ppc, style
from bayescred.spec import ModelSpec


class FitLike(Protocol):
    """What the plots read of a fit (a :class:`~bayescred.CredentialFit`)."""

    @property
    def tree(self) -> xr.DataTree: ...

    @property
    def spec(self) -> ModelSpec: ...

    @property
    def posterior(self) -> xr.Dataset: ...

    @property
    def design(self) -> ModelDesign: ...


class FitPlots:
    """Figures of a fitted model, computed over posterior draws.

    Every method takes keyword arguments only, returns its matplotlib
    :class:`~matplotlib.figure.Figure` and never calls ``show()``. Each draws into a figure of
    the caller's when given one: ``ax=`` (single-panel plots: an Axes; :meth:`effect_curve`:
    two) or ``figure=`` (the multi-panel :meth:`trace` and :meth:`rank`: a figure or subfigure
    to lay their grid out in), and then returns the figure holding it, adding no figure title
    or legend outside the axes. New figures are made without pyplot, so they are not kept open
    by pyplot's figure manager; save one with ``fig.savefig(...)``. The arviz-plots based
    figures (:meth:`trace`, :meth:`rank`, density :meth:`ppc`) are also available as
    :class:`~arviz_plots.PlotCollection` objects from the functions their docstrings name.

    Parameters
    ----------
    fit
        The fitted model.

    Examples
    --------
    >>> fig = fit.plot.effect_curve(groups=["A", "B"])  # doctest: +SKIP
    >>> fig.savefig("effect_curve.png")  # doctest: +SKIP

    Several plots in one figure of your own:

    >>> from matplotlib.figure import Figure  # doctest: +SKIP
    >>> fig = Figure(figsize=(12, 8), layout="constrained")  # doctest: +SKIP
    >>> left, right = fig.subfigures(1, 2)  # doctest: +SKIP
    >>> fit.plot.trace(figure=left)  # doctest: +SKIP
    >>> fit.plot.ppc(ax=right.subplots())  # doctest: +SKIP
    """

    def __init__(self, fit: FitLike) -> None:
        self._fit = fit

    def __repr__(self) -> str:
        return "FitPlots: effect_curve, track_record, groups, trace, rank, ppc"

    def _part(self, part: HurdlePart | None) -> tuple[xr.Dataset, ModelSpec]:
        """The posterior and spec a curve plot shows: the fit's, or one part of a hurdle."""
        fit = self._fit
        family: Family = family_of(fit.design)
        parts = family.parts(fit.design)
        if len(parts) == 1:
            if part is not None:
                raise ValueError("part= selects a part of a hurdle model; this fit has one part")
            return fit.posterior, fit.spec
        by_name = {p.name: p for p in parts}
        if part not in (None, *by_name):
            raise ValueError(f"part must be 'intensive' or 'extensive', not {part!r}")
        chosen = by_name[part or "intensive"]
        others = tuple(p.naming for p in parts if p is not chosen)
        return chosen.posterior(fit.posterior, others), chosen.design.spec

    def effect_curve(
        self,
        *,
        groups: Sequence[str] | None = None,
        max_credentials: int | None = None,
        track_record: float | None = None,
        hdi_prob: float = 0.9,
        part: HurdlePart | None = None,
        ax: Axes | Sequence[Axes] | None = None,
    ) -> Figure:
        """Effect of credentials against the number held, per group and for the population.

        Top panel: the cumulative effect of holding ``n`` credentials, ``beta S(n) M``; bottom
        panel: the next credential's effect, ``beta (S(n + 1) - S(n)) M``. Lines are posterior
        medians, bands HDIs; the population curve (dashed) uses the population parameters.

        Parameters
        ----------
        groups
            Group labels to show (default: all).
        max_credentials
            Largest count on the x axis (default: the most credentials observed).
        track_record
            Track record at which ``M`` is evaluated (default: the reference, where ``M = 1``).
        hdi_prob
            Mass of the HDI bands.
        part
            Hurdle models: ``"intensive"`` (default; the amount in periods with any) or
            ``"extensive"`` (whether there is any, on the logit scale).
        ax
            Two matplotlib Axes (cumulative, next) to draw on, e.g. in a figure of your own;
            None makes a new figure. The figure holding them is returned.
        """
        posterior, spec = self._part(part)
        design = self._fit.design
        if max_credentials is None:
            max_credentials = int(np.max(design.panel.credentials, initial=1))
        return curves.effect_curve_figure(
            posterior,
            spec,
            design.track_scale,
            groups=None if groups is None else list(groups),
            max_credentials=max_credentials,
            track_record=design.track_scale.reference if track_record is None else track_record,
            hdi_prob=hdi_prob,
            ax=ax,
        )

    def track_record(
        self,
        *,
        group: str | None = None,
        credentials: int = 0,
        hdi_prob: float = 0.9,
        part: HurdlePart | None = None,
        ax: Axes | None = None,
    ) -> Figure:
        """The next credential's effect against track record, with the data's range marked.

        Parameters
        ----------
        group
            A group label, or None for the population mean parameters.
        credentials
            Credentials already held (the effect is that of going to ``credentials + 1``).
        hdi_prob
            Mass of the HDI band.
        part
            Hurdle models: ``"intensive"`` (default; the amount in periods with any) or
            ``"extensive"`` (whether there is any, on the logit scale).
        ax
            A matplotlib Axes to draw on; None makes a new figure.
        """
        posterior, spec = self._part(part)
        design = self._fit.design
        r = design.panel.track_record
        peak = curve_points.peak_track_record(
            posterior, spec, design.track_scale, (float(r.min()), float(r.max())), hdi_prob=hdi_prob
        )
        return curves.track_record_figure(
            posterior,
            spec,
            design.track_scale,
            r,
            peak,
            group=group,
            credentials=int(credentials),
            hdi_prob=hdi_prob,
            ax=ax,
        )

    def groups(
        self, *, hdi_prob: float = 0.9, part: HurdlePart | None = None, ax: Axes | None = None
    ) -> Figure:
        """Forest of the groups' first-credential effects with the population mean.

        Parameters
        ----------
        hdi_prob
            Mass of the HDIs.
        part
            Hurdle models: ``"intensive"`` (default; the amount in periods with any) or
            ``"extensive"`` (whether there is any, on the logit scale).
        ax
            A matplotlib Axes to draw on; None makes a new figure.
        """
        posterior, spec = self._part(part)
        return parameters.groups_figure(posterior, spec, hdi_prob=hdi_prob, ax=ax)

    def trace(
        self,
        *,
        var_names: Sequence[str] | None = None,
        figure: Figure | SubFigure | None = None,
    ) -> Figure:
        """Trace and per-chain density of the population parameters (arviz-plots).

        Parameters
        ----------
        var_names
            Parameters to show (default: the population-level parameters).
        figure
            A matplotlib figure or subfigure (e.g. ``fig.subfigures(1, 2)[0]``) to lay the
            panels out in; None makes a new figure. The top-level figure is returned. For the
            arviz-plots :class:`~arviz_plots.PlotCollection` itself, call
            :func:`bayescred.plots.parameters.trace_collection`.
        """
        names = var_names or parameters.population_parameters(self._fit.posterior)
        pc = parameters.trace_collection(self._fit.tree, list(names), figure=figure)
        return style.root_figure(pc.get_viz("figure"))

    def rank(
        self,
        *,
        var_names: Sequence[str] | None = None,
        figure: Figure | SubFigure | None = None,
    ) -> Figure:
        """Rank plots (fractional-rank ECDF differences by chain) of the population parameters.

        Parameters
        ----------
        var_names
            Parameters to show (default: the population-level parameters).
        figure
            A matplotlib figure or subfigure to lay the panels out in; None makes a new figure.
            The top-level figure is returned (the PlotCollection:
            :func:`bayescred.plots.parameters.rank_collection`).
        """
        names = var_names or parameters.population_parameters(self._fit.posterior)
        pc = parameters.rank_collection(self._fit.tree, list(names), figure=figure)
        return style.root_figure(pc.get_viz("figure"))

    def ppc(
        self,
        *,
        kind: PredictivePlot | None = None,
        num_samples: int | None = None,
        scale: Scale = "auto",
        prob: float = 0.9,
        random_seed: int | None = 0,
        ax: Axes | None = None,
    ) -> Figure:
        """Posterior predictive check: the observed outcome against replicated data sets.

        Replicated outcomes come from :func:`bayescred.analysis.checks.posterior_predictive`
        (or the fit's ``posterior_predictive`` group when it has one), one posterior draw at a
        time. The default kind suits the likelihood (its family's ``predictive_plot``):

        * ``"kde"`` (continuous outcomes; also ``"hist"``, ``"ecdf"``): the observed outcome's
          density over the replicates' densities (arviz-plots ``plot_ppc_dist``; hurdle
          amounts on ``log(1 + y)``);
        * ``"rootogram"`` (counts: Poisson, negative binomial, count hurdle): a hanging
          rootogram, observed frequency of each count value hanging from the expected one on a
          square-root scale, with the replicated frequencies' ``prob`` interval;
        * ``"shares"`` (0/1 outcomes): the observed share of ones, overall and by group,
          against the replicated shares' mean and ``prob`` interval.

        See :mod:`bayescred.plots.discrete_ppc` for the discrete checks.

        Parameters
        ----------
        kind
            One of the kinds above; None picks the family's.
        num_samples
            Number of replicated data sets (evenly spaced posterior draws); default 50 for the
            densities, 200 for the discrete checks.
        scale
            Density checks: ``"outcome"`` (levels), ``"within"`` (each worker's rows minus the
            worker's mean, observed and replicated alike) or ``"auto"`` (``within`` for models
            with ``within`` worker effects, whose likelihood describes only those deviations;
            as in :func:`bayescred.analysis.checks.check`). The discrete checks are on the
            outcome's own scale (``"auto"`` or ``"outcome"``).
        prob
            Mass of the discrete checks' central intervals.
        random_seed
            Seed for the replicated outcomes.
        ax
            A matplotlib Axes to draw on; None makes a new figure. The figure holding it is
            returned. (The density kinds' arviz-plots PlotCollection:
            :func:`bayescred.plots.ppc.density_collection`.)
        """
        return ppc.ppc_figure(
            self._fit.tree,
            self._fit.spec,
            kind=kind,
            num_samples=num_samples,
            random_seed=random_seed,
            scale=scale,
            prob=prob,
            ax=ax,
            design=self._fit.design,
        )
