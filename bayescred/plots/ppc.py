"""Posterior predictive density overlay: observed outcome against replicated outcomes.

The replicated outcomes come from :func:`bayescred.analysis.checks.posterior_predictive` (one draw
at a time, bounded memory) through the small adapters :func:`replicate_draws` (one at a time)
and :func:`replicated_outcomes` (stacked), which also accept a fit whose tree already holds a
``posterior_predictive`` group. The checks for discrete outcomes (rootogram, shares of ones)
are in :mod:`bayescred.plots.discrete_ppc`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import arviz_plots as azp
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bayescred.analysis.checks import posterior_predictive
from bayescred.analysis.replicate import Scale, fit_design, uses_deviations
from bayescred.data.panel import demean_by_worker
from bayescred.model.design import ModelDesign
from bayescred.model.families import PredictivePlot, get_family
from bayescred.plots import discrete_ppc, style
from bayescred.plots.collections import draw_collection
from bayescred.spec import ModelSpec

#: Colour of the replicated densities and of the observed density.
REPLICATED_COLOUR = style.OKABE_ITO["sky_blue"]
OBSERVED_COLOUR = style.POPULATION_COLOUR
#: Kinds of the density overlay (arviz-plots ``plot_ppc_dist``).
DENSITY_KINDS: tuple[str, ...] = ("kde", "hist", "ecdf")
#: Kinds of the checks of discrete outcomes on their own scale.
DISCRETE_KINDS: tuple[str, ...] = ("rootogram", "shares")
#: Replicated data sets drawn by default: a few dozen lines for a density overlay, more for
#: the intervals of the discrete checks (reduced one draw at a time).
DEFAULT_SAMPLES: dict[str, int] = {
    "kde": 50,
    "hist": 50,
    "ecdf": 50,
    "rootogram": 200,
    "shares": 200,
}


def replicate_draws(
    tree: xr.DataTree,
    *,
    num_samples: int,
    random_seed: int | None = None,
    design: ModelDesign | None = None,
) -> Iterator[np.ndarray]:
    """Replicated outcome vectors, one at a time, from ``num_samples`` posterior draws.

    Uses the tree's ``posterior_predictive`` group (variable ``y``) when it has one, evenly
    thinned to ``num_samples`` draws (chain-major order); otherwise generates them with
    :func:`bayescred.analysis.checks.posterior_predictive`. One draw's rows are held at a
    time, so consumers that reduce each draw (frequencies, shares) use O(rows) memory.
    ``design`` is the fit's design (:attr:`bayescred.CredentialFit.design`), used to generate
    them; ``None`` rebuilds it from the tree.

    Raises
    ------
    NotImplementedError
        When neither source is available (or the likelihood has no predictive generator yet).
    """
    if "posterior_predictive" in tree.children and "y" in tree["posterior_predictive"]:
        pp = tree["posterior_predictive"]["y"]
        n_draw = pp.sizes["draw"]
        total = pp.sizes["chain"] * n_draw
        keep = np.unique(np.linspace(0, total - 1, min(num_samples, total)).round())
        for k in keep.astype(np.int64):
            chain, draw = divmod(int(k), n_draw)
            yield np.asarray(pp.isel(chain=chain, draw=draw).values, dtype=float)
        return
    for d in posterior_predictive(
        tree, max_draws=num_samples, random_seed=random_seed, design=design
    ):
        yield np.asarray(d.y, dtype=float)


def replicated_outcomes(
    tree: xr.DataTree,
    *,
    num_samples: int,
    random_seed: int | None = None,
    design: ModelDesign | None = None,
) -> xr.DataArray:
    """Replicated outcomes ``(chain=1, draw=num_samples, obs)``: :func:`replicate_draws`
    stacked (``num_samples`` x rows in memory)."""
    obs = tree["observed_data"]["y"]
    draws = replicate_draws(tree, num_samples=num_samples, random_seed=random_seed, design=design)
    values = np.stack(list(draws))
    return xr.DataArray(
        values[None],
        dims=("chain", "draw", "obs"),
        coords={"chain": [0], "draw": np.arange(len(values)), "obs": obs["obs"].values},
        name="y",
    )


def ppc_data(
    tree: xr.DataTree,
    spec: ModelSpec,
    *,
    num_samples: int,
    random_seed: int | None,
    scale: Scale,
    design: ModelDesign | None = None,
) -> xr.DataTree:
    """The ``posterior_predictive`` and ``observed_data`` groups that :func:`ppc_plot` plots.

    On the within-worker scale both are demeaned by worker; the worker intercepts, constant
    within a worker, then cancel exactly. Hurdle outcomes (amounts with zeros, heavy right
    tail) are shown as ``log(1 + y)``: the zeros form a spike at 0, the amounts a density.
    """
    replicated = replicated_outcomes(
        tree, num_samples=num_samples, random_seed=random_seed, design=design
    )
    observed = tree["observed_data"].to_dataset()[["y"]]
    family = get_family(spec.outcome.likelihood)
    replicated = replicated.copy(data=family.display(replicated.values)[0])
    observed = observed.assign(y=("obs", family.display(observed["y"].values)[0]))
    if uses_deviations(family, spec.worker_effects, scale):
        workers = np.asarray(tree["constant_data"]["worker_idx"].values)
        replicated = replicated.copy(data=demean_by_worker(replicated.values, workers))
        observed = observed.assign(y=("obs", demean_by_worker(observed["y"].values, workers)))
    return xr.DataTree.from_dict(
        {"posterior_predictive": replicated.to_dataset(), "observed_data": observed}
    )


def density_collection(
    tree: xr.DataTree,
    spec: ModelSpec,
    *,
    num_samples: int,
    random_seed: int | None,
    kind: str = "kde",
    scale: Scale = "auto",
    ax: Axes | None = None,
    design: ModelDesign | None = None,
) -> azp.PlotCollection:
    """arviz-plots ``plot_ppc_dist`` of the observed outcome over ``num_samples`` replicates.

    ``ax``: a matplotlib Axes to draw on (None makes a new figure, without pyplot). Returns the
    :class:`~arviz_plots.PlotCollection`; its figure is ``pc.get_viz("figure")``. ``design``:
    the fit's design (``None`` rebuilds it from the tree when replicates are generated).
    """
    if kind not in DENSITY_KINDS:
        raise ValueError(f"a density check's kind is one of {DENSITY_KINDS}, not {kind!r}")
    dt = ppc_data(
        tree, spec, num_samples=num_samples, random_seed=random_seed, scale=scale, design=design
    )
    n_rep = dt["posterior_predictive"].sizes["draw"]
    family = get_family(spec.outcome.likelihood)
    what = family.display(np.zeros(0))[1].format(style.outcome_label(spec))
    if uses_deviations(family, spec.worker_effects, scale):
        what = f"{what}, deviation from the worker's mean"
    visuals: dict[Any, Any] = {
        "predictive_dist": {"color": REPLICATED_COLOUR, "alpha": 0.35, "linewidth": 0.9},
        "observed_dist": {"color": OBSERVED_COLOUR, "linewidth": 2.2},
        "title": False,
    }

    def draw(pc: azp.PlotCollection | None, probe: bool) -> azp.PlotCollection:
        skip: dict[Any, Any] = {"predictive_dist": False, "observed_dist": False}
        return azp.plot_ppc_dist(
            dt,
            kind=kind,
            num_samples=n_rep,
            backend="matplotlib",
            visuals={**visuals, **skip} if probe else visuals,
            plot_collection=pc,
        )

    with style.style_context():
        pc, _ = draw_collection(draw, target=ax, figsize=(style.FIGURE_WIDTH, 3.8))
        target = pc.get_viz("plot", "y")
        target.set_xlabel(what)
        target.set_ylabel("density" if kind != "ecdf" else "cumulative share")
        target.set_title(
            "Posterior predictive check: observed vs replicated outcome densities", loc="left"
        )
        target.plot([], [], color=OBSERVED_COLOUR, linewidth=2.2, label="observed")
        target.plot(
            [],
            [],
            color=REPLICATED_COLOUR,
            linewidth=0.9,
            label=f"replicated ({n_rep} posterior draws)",
        )
        target.legend(loc="upper right")
    return pc


def discrete_figure(
    tree: xr.DataTree,
    spec: ModelSpec,
    *,
    kind: str,
    num_samples: int,
    random_seed: int | None,
    prob: float = 0.9,
    scale: Scale = "auto",
    ax: Axes | None = None,
    design: ModelDesign | None = None,
) -> Figure:
    """A check of a discrete outcome on its own scale: ``rootogram`` (counts) or ``shares``
    (0/1 outcomes, by group); see :mod:`bayescred.plots.discrete_ppc`. ``design``: the fit's
    design (``None`` rebuilds it from the tree where it is needed)."""
    if kind not in DISCRETE_KINDS:
        raise ValueError(f"a discrete check's kind is one of {DISCRETE_KINDS}, not {kind!r}")
    if scale == "within":
        raise ValueError(
            f"kind={kind!r} compares outcomes on their own scale (counts, 0/1), not within-worker "
            "deviations: use scale='outcome' (or 'auto'), or a density check"
        )
    uses_deviations(get_family(spec.outcome.likelihood), spec.worker_effects, scale)  # validates
    observed = np.asarray(tree["observed_data"]["y"].values, dtype=float)
    replicates = replicate_draws(
        tree, num_samples=num_samples, random_seed=random_seed, design=design
    )
    outcome = style.outcome_label(spec)
    if kind == "rootogram":
        freq = discrete_ppc.count_frequencies(observed, replicates)
        return discrete_ppc.rootogram_figure(freq, prob=prob, outcome=outcome, ax=ax)
    panel = fit_design(tree, design).panel
    shares = discrete_ppc.binary_shares(
        observed, replicates, panel.group_codes, np.asarray(panel.group_labels)
    )
    return discrete_ppc.shares_figure(shares, prob=prob, outcome=outcome, ax=ax)


def ppc_figure(
    tree: xr.DataTree,
    spec: ModelSpec,
    *,
    kind: PredictivePlot | None = None,
    num_samples: int | None = None,
    random_seed: int | None = 0,
    scale: Scale = "auto",
    prob: float = 0.9,
    ax: Axes | None = None,
    design: ModelDesign | None = None,
) -> Figure:
    """The posterior predictive check plot of ``kind`` (default: the family's
    :attr:`~bayescred.model.families.Family.predictive_plot`), as a matplotlib figure.

    ``num_samples`` defaults to :data:`DEFAULT_SAMPLES` of the kind; ``prob`` is the mass of
    the discrete checks' intervals; ``ax`` a matplotlib Axes to draw on; ``design`` the fit's
    design (:attr:`bayescred.CredentialFit.design`; ``None`` rebuilds it from the tree).
    """
    chosen: str = kind or get_family(spec.outcome.likelihood).predictive_plot
    n = DEFAULT_SAMPLES.get(chosen, 0) if num_samples is None else int(num_samples)
    if chosen in DENSITY_KINDS:
        pc = density_collection(
            tree,
            spec,
            num_samples=n,
            random_seed=random_seed,
            kind=chosen,
            scale=scale,
            ax=ax,
            design=design,
        )
        return style.root_figure(pc.get_viz("figure"))
    if chosen in DISCRETE_KINDS:
        return discrete_figure(
            tree,
            spec,
            kind=chosen,
            num_samples=n,
            random_seed=random_seed,
            prob=prob,
            scale=scale,
            ax=ax,
            design=design,
        )
    raise ValueError(f"kind must be one of {(*DENSITY_KINDS, *DISCRETE_KINDS)}, not {kind!r}")
