"""Posterior predictive density overlay: observed outcome against replicated outcomes.

The replicated outcomes come from :func:`bayescred.analysis.checks.posterior_predictive` (one draw
at a time, bounded memory) through the small adapter :func:`replicated_outcomes`, which also
accepts a fit whose tree already holds a ``posterior_predictive`` group.
"""

from __future__ import annotations

from typing import Any

import arviz_plots as azp
import numpy as np
import xarray as xr

from bayescred.analysis.checks import posterior_predictive
from bayescred.analysis.replicate import Scale, uses_deviations
from bayescred.data.panel import demean_by_worker
from bayescred.model.families import get_family
from bayescred.plots import style
from bayescred.spec import ModelSpec

#: Colour of the replicated densities and of the observed density.
REPLICATED_COLOUR = style.OKABE_ITO["sky_blue"]
OBSERVED_COLOUR = style.POPULATION_COLOUR


def replicated_outcomes(
    tree: xr.DataTree, *, num_samples: int, random_seed: int | None = None
) -> xr.DataArray:
    """Replicated outcomes ``(chain=1, draw=num_samples, obs)`` from the posterior predictive.

    Uses the tree's ``posterior_predictive`` group (variable ``y``) when it has one, evenly
    thinned to ``num_samples`` draws; otherwise generates them with
    :func:`bayescred.analysis.checks.posterior_predictive`.

    Raises
    ------
    NotImplementedError
        When neither source is available (or the likelihood has no predictive generator yet).
    """
    obs = tree["observed_data"]["y"]
    if "posterior_predictive" in tree.children and "y" in tree["posterior_predictive"]:
        pp = tree["posterior_predictive"]["y"]
        flat = np.asarray(pp.values).reshape(-1, pp.shape[-1])
        keep = np.unique(np.linspace(0, len(flat) - 1, min(num_samples, len(flat))).round())
        values = flat[keep.astype(np.int64)]
    else:
        draws = posterior_predictive(tree, max_draws=num_samples, random_seed=random_seed)
        values = np.stack([np.asarray(d.y, dtype=float) for d in draws])
    return xr.DataArray(
        values[None],
        dims=("chain", "draw", "obs"),
        coords={"chain": [0], "draw": np.arange(len(values)), "obs": obs["obs"].values},
        name="y",
    )


def ppc_data(
    tree: xr.DataTree, spec: ModelSpec, *, num_samples: int, random_seed: int | None, scale: Scale
) -> xr.DataTree:
    """The ``posterior_predictive`` and ``observed_data`` groups that :func:`ppc_plot` plots.

    On the within-worker scale both are demeaned by worker; the worker intercepts, constant
    within a worker, then cancel exactly. Hurdle outcomes (amounts with zeros, heavy right
    tail) are shown as ``log(1 + y)``: the zeros form a spike at 0, the amounts a density.
    """
    replicated = replicated_outcomes(tree, num_samples=num_samples, random_seed=random_seed)
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


def ppc_plot(
    tree: xr.DataTree,
    spec: ModelSpec,
    *,
    num_samples: int,
    random_seed: int | None,
    kind: str = "kde",
    scale: Scale = "auto",
) -> azp.PlotCollection:
    """arviz-plots ``plot_ppc_dist`` of the observed outcome over ``num_samples`` replicates."""
    dt = ppc_data(tree, spec, num_samples=num_samples, random_seed=random_seed, scale=scale)
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
    with style.style_context():
        pc = azp.plot_ppc_dist(
            dt,
            kind=kind,
            num_samples=n_rep,
            backend="matplotlib",
            visuals=visuals,
            figure_kwargs={"figsize": (style.FIGURE_WIDTH, 3.8), "layout": "constrained"},
        )
        ax = pc.get_viz("plot", "y")
        ax.set_xlabel(what)
        ax.set_ylabel("density")
        ax.set_title(
            "Posterior predictive check: observed vs replicated outcome densities", loc="left"
        )
        ax.plot([], [], color=OBSERVED_COLOUR, linewidth=2.2, label="observed")
        ax.plot(
            [],
            [],
            color=REPLICATED_COLOUR,
            linewidth=0.9,
            label=f"replicated ({n_rep} posterior draws)",
        )
        ax.legend(loc="upper right")
    return pc
