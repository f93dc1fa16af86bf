"""Plots: the plotted values equal brute-force posterior quantities; API and style rules.

Effects are recomputed here from ``fit.posterior`` with xarray, straight from the model's
formulas (geometric curve, log-quadratic modifier, track record standardised with the median
and the sd of log(1 + r) of the rows used), independently of :mod:`bayescred.analysis.predictor`.
"""

from __future__ import annotations

import inspect

import arviz as az
import arviz_plots as azp
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from arviz_plots import PlotCollection
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import bayescred as bc
from bayescred.analysis.checks import posterior_predictive
from bayescred.model.families import get_family
from bayescred.plots import FitPlots
from bayescred.plots.collections import draw_collection
from bayescred.plots.parameters import population_parameters, rank_collection, trace_collection
from bayescred.plots.ppc import density_collection

matplotlib.use("Agg")

HDI = 0.9
SAMPLE = ("chain", "draw")


# ------------------------------------------------------------------ brute force
def _scale(fit: bc.CredentialFit) -> tuple[float, float]:
    """Reference (median) and sd of log(1 + r) over the rows used, from the tree itself."""
    r = np.asarray(fit.tree["constant_data"]["track_record"].values, dtype=float)
    return float(np.median(r)), float(np.std(np.log1p(r)))


def brute_effect(
    fit: bc.CredentialFit, scope: str, n_from: np.ndarray, n_to: np.ndarray, r: np.ndarray
) -> xr.DataArray:
    """``beta (S(n_to) - S(n_from)) M(z(r))`` per draw, dims ``(chain, draw, point)``."""
    assert fit.spec.effect.curve == "geometric"
    assert fit.spec.effect.modifier == "log_quadratic"
    post = fit.posterior
    if scope == "population":
        beta, lam, gamma = post["mu_beta"], post["lambda"], post["gamma"]
    else:
        sel = {"group": scope}
        beta = post["beta_group"].sel(sel)
        lam = post["lambda_group"].sel(sel)
        gamma = post["gamma_group"].sel(sel)
    a = xr.DataArray(np.asarray(n_from, float), dims="point")
    b = xr.DataArray(np.asarray(n_to, float), dims="point")
    ref, sd = _scale(fit)
    z = xr.DataArray((np.log1p(np.asarray(r, float)) - np.log1p(ref)) / sd, dims="point")

    def curve(n: xr.DataArray) -> xr.DataArray:
        return (1 - np.exp(-lam * n)) / (1 - np.exp(-lam))

    modifier = np.exp(gamma.sel(gamma_term="z") * z + gamma.sel(gamma_term="z_squared") * z**2)
    return (beta * (curve(b) - curve(a)) * modifier).transpose("chain", "draw", "point")


def median_and_hdi(da: xr.DataArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    hdi = az.hdi(da, prob=HDI)
    return (
        np.asarray(da.median(SAMPLE).values),
        np.asarray(hdi.sel(ci_bound="lower").values),
        np.asarray(hdi.sel(ci_bound="upper").values),
    )


# ------------------------------------------------------------------ artist lookup
def by_gid(fig: Figure, gid: str) -> Artist:
    found = fig.findobj(lambda a: a.get_gid() == gid)
    assert len(found) == 1, f"expected one artist with gid {gid!r}, found {len(found)}"
    return found[0]


def line_xy(fig: Figure, gid: str) -> tuple[np.ndarray, np.ndarray]:
    line = by_gid(fig, gid)
    assert isinstance(line, Line2D)
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def band_limits(fig: Figure, gid: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edge of a ``fill_between`` band at each ``x``."""
    poly = by_gid(fig, gid)
    vertices = np.concatenate([p.vertices for p in poly.get_paths()])  # type: ignore[attr-defined]
    low, high = [], []
    for xi in x:
        ys = vertices[np.isclose(vertices[:, 0], xi), 1]
        low.append(ys.min())
        high.append(ys.max())
    return np.asarray(low), np.asarray(high)


@pytest.fixture(scope="module")
def plots(tiny_fit: bc.CredentialFit) -> FitPlots:
    return FitPlots(tiny_fit)


@pytest.fixture(scope="module")
def effect_fig(plots: FitPlots) -> Figure:
    return plots.effect_curve()


# ------------------------------------------------------------------ effect curve
@pytest.mark.parametrize("scope", ["population", "A", "B", "C", "D"])
def test_effect_curve_plots_posterior_medians_and_hdis(
    tiny_fit: bc.CredentialFit, effect_fig: Figure, scope: str
) -> None:
    ref, _ = _scale(tiny_fit)
    top = int(tiny_fit.tree["constant_data"]["credentials"].max())
    n = np.arange(top + 1, dtype=float)

    x, y = line_xy(effect_fig, f"cumulative:{scope}")
    np.testing.assert_array_equal(x, n)
    med, low, high = median_and_hdi(brute_effect(tiny_fit, scope, 0 * n, n, np.full(n.size, ref)))
    np.testing.assert_allclose(y, med, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(line_xy(effect_fig, f"cumulative-hdi-low:{scope}")[1], low)
    np.testing.assert_allclose(line_xy(effect_fig, f"cumulative-hdi-high:{scope}")[1], high)

    x, y = line_xy(effect_fig, f"next:{scope}")
    np.testing.assert_array_equal(x, n[:-1])
    med, low, high = median_and_hdi(brute_effect(tiny_fit, scope, x, x + 1, np.full(x.size, ref)))
    np.testing.assert_allclose(y, med, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(line_xy(effect_fig, f"next-hdi-low:{scope}")[1], low)
    np.testing.assert_allclose(line_xy(effect_fig, f"next-hdi-high:{scope}")[1], high)
    if scope != "population":  # groups also get a filled band with the same edges
        band_low, band_high = band_limits(effect_fig, f"next-hdi:{scope}", x)
        np.testing.assert_allclose(band_low, low)
        np.testing.assert_allclose(band_high, high)


def test_effect_curve_options(tiny_fit: bc.CredentialFit, plots: FitPlots) -> None:
    fig = plots.effect_curve(groups=["B"], max_credentials=8, track_record=100.0, hdi_prob=0.5)
    gids = [a.get_gid() or "" for a in fig.findobj()]
    assert {g.split(":")[1] for g in gids if g} == {"population", "B"}
    x, y = line_xy(fig, "cumulative:B")
    np.testing.assert_array_equal(x, np.arange(9.0))
    expected = brute_effect(tiny_fit, "B", 0 * x, x, np.full(x.size, 100.0))
    np.testing.assert_allclose(y, expected.median(SAMPLE).values, rtol=1e-9, atol=1e-12)
    hdi = az.hdi(expected, prob=0.5)
    low, high = band_limits(fig, "cumulative-hdi:B", x)
    np.testing.assert_allclose(low, hdi.sel(ci_bound="lower").values)
    np.testing.assert_allclose(high, hdi.sel(ci_bound="upper").values)
    with pytest.raises(ValueError, match="unknown group"):
        plots.effect_curve(groups=["nope"])


def test_effect_curve_labels_units_and_percent_axis(effect_fig: Figure) -> None:
    ax_cum, ax_next = effect_fig.axes
    assert ax_next.get_xlabel() == "credentials held, n"
    for ax in (ax_cum, ax_next):
        assert ax.get_ylabel() == "Δ log project value"
        assert ax.get_title(loc="left")
        secondary = [c for c in ax.child_axes if "% change" in c.get_ylabel()]
        assert len(secondary) == 1, "log-scale outcomes get a % axis"
        # the % axis is 100 * (exp(effect) - 1) of the left axis
        fwd = secondary[0]._functions[0]  # type: ignore[attr-defined]
        np.testing.assert_allclose(fwd(np.array([0.0, np.log(1.1)])), [0.0, 10.0])
    legend_texts = {t.get_text() for t in effect_fig.legends[0].get_texts()}
    assert {"population mean", "group A", "90% HDI"} <= legend_texts


def test_outcome_scale_labels_without_percent_axis(tiny_fit: bc.CredentialFit) -> None:
    """A synthetic fit whose outcome is in its own units: no % axis, units in the label."""
    tree = tiny_fit.tree.copy()
    spec = tiny_fit.spec.with_changes(outcome={"column": "hourly_rate"})
    tree.attrs = {**tree.attrs, "bayescred_spec": spec.to_json()}
    fig = FitPlots(bc.CredentialFit(tree)).effect_curve()
    main = [a for a in fig.axes if a.get_ylabel()]
    assert main and all(a.get_ylabel() == "Δ hourly rate (outcome units)" for a in main)
    assert not any(c.get_ylabel() for a in main for c in a.child_axes)


# ------------------------------------------------------------------ track record
@pytest.mark.parametrize(("group", "credentials"), [(None, 0), ("B", 2)])
def test_track_record_plots_posterior_medians_and_hdis(
    tiny_fit: bc.CredentialFit, plots: FitPlots, group: str | None, credentials: int
) -> None:
    fig = plots.track_record(group=group, credentials=credentials)
    scope = "population" if group is None else group
    r, y = line_xy(fig, f"track:{scope}")
    observed = np.asarray(tiny_fit.tree["constant_data"]["track_record"].values, float)
    assert r[0] == 0.0
    np.testing.assert_allclose(r[-1], observed.max())
    n = np.full(r.size, float(credentials))
    med, low, high = median_and_hdi(brute_effect(tiny_fit, scope, n, n + 1, r))
    np.testing.assert_allclose(y, med, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(line_xy(fig, f"track-hdi-low:{scope}")[1], low)
    np.testing.assert_allclose(line_xy(fig, f"track-hdi-high:{scope}")[1], high)

    ax = next(a for a in fig.axes if a.get_xscale() == "function")
    assert ax.get_xlim()[0] == 0.0
    assert "track record" in ax.get_xlabel()
    # the data's range: rug of observed values and the shaded middle 90%
    rug_x, _ = line_xy(fig, "rug")
    np.testing.assert_array_equal(rug_x, np.unique(observed))
    span = by_gid(fig, "data-range")
    xs = span.get_path().transformed(span.get_patch_transform()).vertices[:, 0]  # type: ignore[attr-defined]
    np.testing.assert_allclose([xs.min(), xs.max()], np.percentile(observed, [5, 95]))
    ref_x, _ = line_xy(fig, "reference")
    np.testing.assert_allclose(ref_x, _scale(tiny_fit)[0])
    # the peak: marked at the posterior median of the interior peak when P(interior) >= 0.5
    peak = tiny_fit.peak_track_record().iloc[0]
    marked = fig.findobj(lambda a: a.get_gid() == "peak")
    assert bool(marked) == (peak["prob_interior_peak"] >= 0.5)
    if marked:
        np.testing.assert_allclose(line_xy(fig, "peak")[0], peak["median"])


# ------------------------------------------------------------------ forest
def test_groups_forest_plots_medians_hdis_and_population_mean(
    tiny_fit: bc.CredentialFit, plots: FitPlots
) -> None:
    fig = plots.groups(hdi_prob=HDI)
    beta = tiny_fit.posterior["beta_group"]
    med, low, high = median_and_hdi(beta)
    labels = [str(g) for g in beta["group"].values]
    rows = []
    for i, g in enumerate(labels):
        x, y_point = line_xy(fig, f"median:{g}")
        np.testing.assert_allclose(x, [med[i]])
        hx, hy = line_xy(fig, f"hdi:{g}")
        np.testing.assert_allclose(hx, [low[i], high[i]])
        assert hy[0] == hy[1] == y_point[0]
        rows.append(y_point[0])
    assert rows == sorted(rows, reverse=True), "first group on top"
    mu_med, mu_low, mu_high = median_and_hdi(tiny_fit.posterior["mu_beta"])
    np.testing.assert_allclose(line_xy(fig, "mu_beta")[0], float(mu_med))
    span = by_gid(fig, "mu_beta-hdi")
    xs = span.get_path().transformed(span.get_patch_transform()).vertices[:, 0]  # type: ignore[attr-defined]
    np.testing.assert_allclose([xs.min(), xs.max()], [float(mu_low), float(mu_high)])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"group {g}" for g in labels]
    assert "first credential" in ax.get_xlabel()


# ------------------------------------------------------------------ arviz-based plots
def test_trace_plots_the_draws_of_population_parameters(
    tiny_fit: bc.CredentialFit, plots: FitPlots
) -> None:
    names = population_parameters(tiny_fit.posterior)
    assert {"mu_beta", "sigma_beta", "lambda", "gamma", "sigma"} <= set(names)
    assert not any(n.endswith("_group") for n in names)
    pc = trace_collection(tiny_fit.tree, names)
    assert isinstance(pc, PlotCollection)
    fig = pc.get_viz("figure")
    assert isinstance(fig, Figure) and fig.get_suptitle().startswith("MCMC traces")
    traces = pc.viz["trace"]
    assert set(traces.data_vars) == set(names)
    for name in names:
        lines = traces[name]
        draws = tiny_fit.posterior[name]
        for idx in np.ndindex(lines.shape):
            sel = {d: lines[d].values[i] for d, i in zip(lines.dims, idx, strict=True)}
            line = lines.sel(sel).item()
            assert line.axes.figure is fig
            np.testing.assert_allclose(line.get_ydata(), draws.sel(sel).values)
    # fit.plot.trace() returns the figure of the same plot
    own = plots.trace()
    assert isinstance(own, Figure) and len(own.axes) == len(fig.axes)
    assert _line_data(own) == _line_data(fig)


def test_rank_plots_population_parameters(tiny_fit: bc.CredentialFit, plots: FitPlots) -> None:
    pc = rank_collection(tiny_fit.tree, ["mu_beta", "sigma"])
    assert isinstance(pc, PlotCollection)
    assert set(pc.viz["ecdf_lines"].data_vars) == {"mu_beta", "sigma"}
    assert pc.viz["ecdf_lines"]["mu_beta"].sizes["chain"] == 2
    fig = plots.rank(var_names=["mu_beta", "sigma"])
    assert isinstance(fig, Figure)
    assert _line_data(fig) == _line_data(pc.get_viz("figure"))


def _line_data(fig: Figure) -> list[list[float]]:
    """The y data of every line of every axes of ``fig``, in order."""
    return [np.asarray(line.get_ydata(), float).tolist() for ax in fig.axes for line in ax.lines]


def assert_kde_spans(x: np.ndarray, data: np.ndarray) -> None:
    """arviz's KDE grid has ``len(x)`` bins over ``[min(data), max(data)]``, at bin centres."""
    lo, hi = float(np.min(data)), float(np.max(data))
    half_bin = (hi - lo) / len(x) / 2
    np.testing.assert_allclose([x.min(), x.max()], [lo + half_bin, hi - half_bin], rtol=1e-6)


def _demean(values: np.ndarray, workers: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame({"w": workers, "y": values})
    return np.asarray(frame["y"] - frame.groupby("w")["y"].transform("mean"))


def test_ppc_overlays_observed_and_replicated_densities(
    tiny_fit: bc.CredentialFit, plots: FitPlots
) -> None:
    pc = density_collection(tiny_fit.tree, tiny_fit.spec, num_samples=12, random_seed=5)
    assert isinstance(pc, PlotCollection)
    workers = np.asarray(tiny_fit.tree["constant_data"]["worker_idx"].values)
    # within worker effects: observed and replicated are compared as within-worker deviations
    observed = _demean(np.asarray(tiny_fit.tree["observed_data"]["y"].values), workers)
    obs_line = pc.viz["observed_dist"]["y"].item()
    x, dens = np.asarray(obs_line.get_xdata()), np.asarray(obs_line.get_ydata())
    assert_kde_spans(x, observed)
    assert np.trapezoid(dens, x) == pytest.approx(1.0, abs=0.05)
    replicated = [
        _demean(d.y, workers)
        for d in posterior_predictive(tiny_fit.tree, max_draws=12, random_seed=5)
    ]
    lines = pc.viz["predictive_dist"]["y"]
    assert lines.sizes["sample"] == 12
    for i in range(12):
        rep = replicated[int(lines["draw"].values[i])]
        assert_kde_spans(np.asarray(lines.values[i].get_xdata()), rep)
    ax = pc.get_viz("plot", "y")
    assert "deviation" in ax.get_xlabel()
    plt.close(pc.get_viz("figure"))
    # fit.plot.ppc() picks the density overlay for this (normal) family and returns its figure
    assert get_family(tiny_fit.spec.outcome.likelihood).predictive_plot == "kde"
    fig = plots.ppc(num_samples=12, random_seed=5)
    assert isinstance(fig, Figure) and _line_data(fig) == _line_data(pc.get_viz("figure"))
    # on the outcome scale, the observed density spans the observed outcomes themselves
    pc = density_collection(
        tiny_fit.tree, tiny_fit.spec, num_samples=5, random_seed=0, scale="outcome"
    )
    y = np.asarray(tiny_fit.tree["observed_data"]["y"].values)
    assert_kde_spans(np.asarray(pc.viz["observed_dist"]["y"].item().get_xdata()), y)


def test_ppc_uses_a_stored_posterior_predictive_group(tiny_fit: bc.CredentialFit) -> None:
    """Synthetic replicates stored in the tree are what gets plotted, thinned evenly."""
    n_obs = tiny_fit.tree["observed_data"].sizes["obs"]
    rng = np.random.default_rng(0)
    values = 10.0 * np.arange(8.0)[:, None] + rng.standard_normal((8, n_obs))
    pp = xr.Dataset(
        {"y": (("chain", "draw", "obs"), values.reshape(2, 4, n_obs))},
        coords={"obs": tiny_fit.tree["observed_data"]["obs"].values},
    )
    tree = tiny_fit.tree.copy()
    tree["posterior_predictive"] = xr.DataTree(pp)
    pc = density_collection(tree, tiny_fit.spec, num_samples=4, random_seed=0, scale="outcome")
    lines = sorted(pc.viz["predictive_dist"]["y"].values, key=lambda line: line.get_xdata()[0])
    for line, k in zip(lines, [0, 2, 5, 7], strict=True):  # evenly spaced of the 8 stored
        assert_kde_spans(np.asarray(line.get_xdata()), values[k])


# ------------------------------------------------------------------ API rules
PUBLIC = [n for n, m in inspect.getmembers(FitPlots, inspect.isfunction) if not n.startswith("_")]


def test_public_plot_methods_are_the_expected_ones() -> None:
    assert set(PUBLIC) == {"effect_curve", "track_record", "groups", "trace", "rank", "ppc"}


@pytest.mark.parametrize("name", PUBLIC)
def test_plot_methods_take_keyword_arguments_only(name: str) -> None:
    params = list(inspect.signature(getattr(FitPlots, name)).parameters.values())
    assert params[0].name == "self"
    for p in params[1:]:
        assert p.kind is inspect.Parameter.KEYWORD_ONLY, f"{name}({p.name}) must be keyword-only"
        assert p.default is not inspect.Parameter.empty, f"{name}({p.name}) needs a default"


def test_plots_never_call_show(plots: FitPlots, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("show() was called")

    monkeypatch.setattr(plt, "show", forbidden)
    monkeypatch.setattr(Figure, "show", forbidden)
    monkeypatch.setattr(PlotCollection, "show", forbidden)
    before = set(plt.get_fignums())
    for name in PUBLIC:
        out = getattr(plots, name)()
        assert isinstance(out, Figure)
        assert isinstance(out.axes[0], Axes)
    assert set(plt.get_fignums()) == before, "matplotlib figures must not stay open in pyplot"


def test_style_is_scoped_and_colour_blind_safe(plots: FitPlots) -> None:
    before = dict(matplotlib.rcParams)
    fig = plots.effect_curve()
    assert dict(matplotlib.rcParams) == before, "plots must not change global rcParams"
    assert fig.get_figwidth() == pytest.approx(7.0)
    colours = {
        to_hex(line.get_color())
        for line in fig.findobj(Line2D)
        if (line.get_gid() or "").startswith("cumulative:")
        and "population" not in (line.get_gid() or "")
    }
    assert colours == {"#0072b2", "#d55e00", "#009e73", "#cc79a7"}  # Okabe-Ito


def test_plots_draw_on_the_callers_axes(plots: FitPlots, effect_fig: Figure) -> None:
    """Every plot draws into a figure of the user's own and returns it; the numbers drawn are
    those of the plot's own figure."""
    before = set(plt.get_fignums())
    fig = Figure(figsize=(14, 12), layout="constrained")
    top, bottom = fig.subfigures(2, 1)
    grid = top.subplots(2, 3)
    assert plots.effect_curve(ax=(grid[0, 0], grid[1, 0])) is fig
    assert plots.track_record(ax=grid[0, 1]) is fig
    assert plots.groups(ax=grid[1, 1]) is fig
    assert plots.ppc(num_samples=4, ax=grid[0, 2]) is fig
    assert (
        grid[0, 2].lines
        and grid[0, 2].get_xlabel() == plots.ppc(num_samples=4).axes[0].get_xlabel()
    )
    trace_fig, rank_fig = bottom.subfigures(1, 2)
    assert plots.trace(var_names=["mu_beta", "sigma"], figure=trace_fig) is fig
    assert plots.rank(var_names=["mu_beta", "sigma"], figure=rank_fig) is fig
    assert len(trace_fig.axes) == 4 and len(rank_fig.axes) == 2  # laid out in the subfigures
    assert _line_data(trace_fig) == _line_data(plots.trace(var_names=["mu_beta", "sigma"]))
    assert _line_data(rank_fig) == _line_data(plots.rank(var_names=["mu_beta", "sigma"]))
    assert not fig.texts and not trace_fig.texts  # no suptitle added to the caller's figure
    assert set(plt.get_fignums()) == before  # the probes' pyplot figures are closed
    # a multi-panel arviz-plots figure cannot go into one Axes
    tree = plots._fit.tree

    def draw(pc: PlotCollection | None, probe: bool) -> PlotCollection:
        return azp.plot_rank(
            tree, var_names=["mu_beta", "sigma"], backend="matplotlib", plot_collection=pc
        )

    with pytest.raises(ValueError, match="pass a figure"):
        draw_collection(draw, target=grid[1, 2], figsize=(7.0, 3.0))
    own = line_xy(effect_fig, "next:population")
    drawn = [
        a
        for a in grid[1, 0].get_children()
        if getattr(a, "get_gid", None) and a.get_gid() == "next:population"
    ]
    assert drawn
    x, y = drawn[0].get_data()
    np.testing.assert_allclose(np.asarray(x, float), own[0])
    np.testing.assert_allclose(np.asarray(y, float), own[1])
    with pytest.raises(ValueError, match="2 matplotlib Axes"):
        plots.effect_curve(ax=grid[0, 0])
