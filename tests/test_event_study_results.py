"""Event-study results and the pre-trend test on synthetic posterior draws (no MCMC):
summaries against direct NumPy, the figure's artists, the Mahalanobis statistic against a
brute-force computation, and the breakdown slope against a bisection over the slope."""

from __future__ import annotations

from dataclasses import replace

import arviz as az
import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.axes import Axes
from scipy.stats import chi2

from bayescred.analysis.event_study import EventStudyResult, PretrendTest
from bayescred.maths.event_time import EventWindow
from bayescred.plots.event_study import event_study_axes

matplotlib.use("Agg")

N_DRAWS = 4000
WINDOW = EventWindow(leads=3, lags=6)  # event times -3 .. 5: leads -3, -2; reference -1
#: A profile in log units: flat before, building up after.
PROFILE = np.array([0.002, -0.004, 0.0, 0.02, 0.05, 0.08, 0.09, 0.075, 0.065])


def _mvn_draws(mean: np.ndarray, scale: float, seed: int, rho: float = 0.3) -> np.ndarray:
    """Draws of a correlated normal around ``mean`` (``(draws, len(mean))``)."""
    k = len(mean)
    cov = scale**2 * (rho ** np.abs(np.subtract.outer(np.arange(k), np.arange(k))))
    return np.random.default_rng(seed).multivariate_normal(mean, cov, size=N_DRAWS)


def _profile_draws(
    window: EventWindow = WINDOW, profile: np.ndarray = PROFILE, scale: float = 0.01, seed: int = 0
) -> xr.DataArray:
    """``(draw, event_time)`` draws with the reference column exactly 0."""
    times = window.event_times
    ref = int(np.flatnonzero(times == -1)[0])
    free = np.delete(profile, ref)
    values = np.insert(_mvn_draws(free, scale, seed), ref, 0.0, axis=1)
    return xr.DataArray(values, dims=("draw", "event_time"), coords={"event_time": times})


def _hdi(x: np.ndarray, prob: float) -> tuple[float, float]:
    out = az.hdi(xr.DataArray(x, dims=("sample",)), prob=prob, dim="sample").values
    return float(out[0]), float(out[1])


# ---------------------------------------------------------------------- the table
def test_table_matches_numpy() -> None:
    da = _profile_draws()
    res = EventStudyResult(da, window=WINDOW, log_scale=False, hdi_prob=0.8, outcome="y")
    t = res.table
    assert list(t["event_time"]) == list(range(-3, 6))
    v = da.values
    np.testing.assert_allclose(t["mean"], v.mean(axis=0))
    np.testing.assert_allclose(t["sd"], v.std(axis=0, ddof=1))
    for i in range(v.shape[1]):
        lo, hi = _hdi(v[:, i], 0.8)
        assert t["hdi_low"].iloc[i] == pytest.approx(lo)
        assert t["hdi_high"].iloc[i] == pytest.approx(hi)
    assert "percent" not in t
    assert list(t["period"]) == ["lead", "lead", "reference", *["lag"] * 6]
    assert list(t["binned"]) == [True, *[False] * 7, True]
    assert list(t["label"]) == ["≤-3", "-2", "-1", "0", "1", "2", "3", "4", "≥5"]
    assert res.draws is da


def test_reference_row_is_zero() -> None:
    t = EventStudyResult(_profile_draws(), window=WINDOW, log_scale=True).table
    ref = t[t["event_time"] == -1].iloc[0]
    for col in ("mean", "sd", "hdi_low", "hdi_high", "percent", "percent_hdi_low"):
        assert ref[col] == 0.0


def test_percent_columns_are_per_draw() -> None:
    da = _profile_draws(scale=0.2)  # wide, so that exp(mean) differs from mean(exp)
    t = EventStudyResult(da, window=WINDOW, log_scale=True, hdi_prob=0.9).table
    pct = 100 * np.expm1(da.values)
    np.testing.assert_allclose(t["percent"], pct.mean(axis=0))
    assert not np.allclose(t["percent"], 100 * np.expm1(t["mean"]))
    lo, hi = _hdi(pct[:, -1], 0.9)
    assert t["percent_hdi_low"].iloc[-1] == pytest.approx(lo)
    assert t["percent_hdi_high"].iloc[-1] == pytest.approx(hi)


def test_scoped_table() -> None:
    a, b = _profile_draws(seed=1), _profile_draws(profile=-PROFILE, seed=2)
    da = xr.concat([a, b], dim=pd.Index(["A", "B"], name="group")).transpose(
        "draw", "group", "event_time"
    )
    res = EventStudyResult(da, window=WINDOW, log_scale=True, outcome="log project value")
    t = res.table
    assert res.scope == "group"
    assert len(t) == 2 * len(WINDOW.event_times)
    assert list(t.columns[:3]) == ["event_time", "group", "label"]
    np.testing.assert_allclose(res.rows("B")["mean"], b.values.mean(axis=0))
    np.testing.assert_allclose(res.rows("A")["mean"], a.values.mean(axis=0))
    text = res.sentence()
    assert text.startswith("In group A, the effect") and "In group B, the effect" in text
    with pytest.raises(ValueError, match="unknown group"):
        res.rows("C")


def test_chain_dimension_is_stacked() -> None:
    da = _profile_draws()
    chained = xr.DataArray(
        da.values.reshape(4, N_DRAWS // 4, -1),
        dims=("chain", "draw", "event_time"),
        coords={"event_time": da["event_time"].values},
    )
    a = EventStudyResult(da, window=WINDOW).table
    b = EventStudyResult(chained, window=WINDOW).table
    pd.testing.assert_frame_equal(a, b)


def test_bad_draws_are_refused() -> None:
    da = _profile_draws()
    with pytest.raises(ValueError, match="window's event times"):
        EventStudyResult(da, window=EventWindow(leads=2, lags=6))
    with pytest.raises(ValueError, match="must all be 0"):
        EventStudyResult(da + 1.0, window=WINDOW)
    with pytest.raises(ValueError, match="scope dimension"):
        EventStudyResult(da.expand_dims(region=["x"]), window=WINDOW)


# ---------------------------------------------------------------------- words and display
def test_sentence_mentions_the_numbers() -> None:
    res = EventStudyResult(
        _profile_draws(scale=0.005), window=WINDOW, log_scale=True, outcome="log project value"
    )
    t = res.table
    text = str(res)
    assert text == res.sentence()
    first = t.loc[t["event_time"] == 0, "percent"].iloc[0]
    last = t.loc[t["event_time"] == 5, "percent"].iloc[0]
    peak = t.loc[t["event_time"] == 3, "percent"].iloc[0]
    bound = t.loc[t["period"] == "lead", "percent"].abs().max()
    assert "log project value" in text
    assert f"builds up from {first:+.1f}%" in text
    assert f"to {peak:+.1f}% three periods later" in text
    assert f"{last:+.1f}% from period 5 on" in text
    assert f"within ±{bound:.1f}% of the reference period" in text
    assert "90% HDI" in text
    assert "every lead's 90% HDI includes zero" in text
    assert "<table" in res._repr_html_()
    assert "EventStudyResult" in repr(res)


def test_sentence_gives_the_probability_of_the_build_up() -> None:
    da = _profile_draws(scale=0.05)
    res = EventStudyResult(da, window=WINDOW)
    rise = float(((da.sel(event_time=3) - da.sel(event_time=0)) > 0).mean())
    assert 0.0 < rise < 1.0  # noisy enough that the number tells something
    assert f"(posterior probability of the rise {rise:.2f})" in res.sentence()


def test_sentence_says_when_intervals_include_zero() -> None:
    flat = np.zeros_like(PROFILE)
    res = EventStudyResult(_profile_draws(profile=flat, scale=0.05), window=WINDOW)
    text = res.sentence()
    assert "every lag's 90% HDI includes zero" in text
    shifted = PROFILE.copy()
    shifted[0] = 0.5  # a lead far from zero
    text = EventStudyResult(_profile_draws(profile=shifted), window=WINDOW).sentence()
    assert "HDI of period ≤-3 excludes zero" in text


def test_sentence_without_leads_and_one_lag() -> None:
    w = EventWindow(leads=1, lags=1)
    da = xr.DataArray(
        np.column_stack([np.zeros(500), np.random.default_rng(0).normal(0.1, 0.01, 500)]),
        dims=("draw", "event_time"),
        coords={"event_time": w.event_times},
    )
    res = EventStudyResult(da, window=w)
    text = res.sentence()
    assert "from the period it is first held on" in text
    assert "No lead is estimated" in text
    assert list(res.table["label"]) == ["≤-1", "≥0"]


# ---------------------------------------------------------------------- the figure
def test_plot_returns_axes_with_the_points() -> None:
    res = EventStudyResult(_profile_draws(), window=WINDOW, log_scale=True, outcome="log value")
    with pytest.raises(ValueError, match="no plotter"):
        res.plot()
    ax = replace(res, plotter=event_study_axes).plot()
    assert isinstance(ax, Axes)
    (points,) = [ln for ln in ax.lines if ln.get_gid() == "estimate:all"]
    assert len(points.get_xdata()) == len(WINDOW.event_times) - 1  # all but the reference
    np.testing.assert_allclose(points.get_ydata(), res.table["percent"].drop(index=2))
    (ref,) = [ln for ln in ax.lines if ln.get_gid() == "reference"]
    assert list(ref.get_xdata()) == [-1.0] and ref.get_markerfacecolor() == "white"
    (event,) = [ln for ln in ax.lines if ln.get_gid() == "event"]
    assert list(event.get_xdata()) == [-0.5, -0.5]
    assert any(p.get_gid() == "pre-period" for p in ax.patches)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0] == "≤-3" and ticks[-1] == "≥5"
    assert "%" in ax.get_ylabel() and "log value" in ax.get_ylabel()


def test_scoped_plot_dodges_one_colour_per_scope() -> None:
    da = xr.concat(
        [_profile_draws(seed=s) for s in range(3)],
        dim=pd.Index(["c1", "c2", "c3"], name="cohort"),
    ).transpose("draw", "cohort", "event_time")
    res = EventStudyResult(da, window=WINDOW)
    fig = matplotlib.figure.Figure()
    ax = event_study_axes(res, ax=fig.subplots())
    series = [ln for ln in ax.lines if str(ln.get_gid()).startswith("estimate:")]
    assert len(series) == 3
    assert len({ln.get_color() for ln in series}) == 3
    assert all(len(ln.get_xdata()) == len(WINDOW.event_times) - 1 for ln in series)
    x0 = [float(ln.get_xdata()[0]) for ln in series]
    assert x0[0] < x0[1] < x0[2] and x0[1] == pytest.approx(-3.0)
    assert "effect on the outcome" in ax.get_ylabel()


# ---------------------------------------------------------------------- the pre-trend test
def _split(da: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    t = da["event_time"].values
    return (
        da.sel(event_time=t[t < -1]).rename(event_time="lead"),
        da.sel(event_time=t[t >= 0]).rename(event_time="lag"),
    )


def test_mahalanobis_against_brute_force() -> None:
    leads, lags = _split(_profile_draws(profile=PROFILE + 0.01))
    test = PretrendTest(leads, lags)
    x = leads.values
    mu = x.mean(axis=0)
    cov = np.cov(x.T)
    assert test.statistic == pytest.approx(float(mu @ np.linalg.inv(cov) @ mu), rel=1e-9)
    own = np.array([(d - mu) @ np.linalg.inv(cov) @ (d - mu) for d in x])
    assert test.tail_probability == pytest.approx(np.mean(own > test.statistic))
    assert test.threshold == pytest.approx(chi2.ppf(0.95, df=2))
    assert test.n_leads == 2
    np.testing.assert_allclose(test.leads["mean"], mu)
    assert list(test.leads["label"]) == ["≤-3", "-2"]


def test_flagged_on_shifted_leads_not_on_centred() -> None:
    centred = PROFILE.copy()
    centred[:2] = 0.0
    leads, lags = _split(_profile_draws(profile=centred, scale=0.01))
    calm = PretrendTest(leads, lags)
    assert not calm.flagged and calm.tail_probability > 0.05
    assert calm.sentence().startswith("No evidence of pre-trends")
    shifted = centred.copy()
    shifted[:2] = [0.04, 0.03]
    leads, lags = _split(_profile_draws(profile=shifted, scale=0.01))
    alarm = PretrendTest(leads, lags)
    assert alarm.flagged and alarm.tail_probability < 0.01
    assert alarm.sentence().startswith("Evidence of pre-trends")


def test_breakdown_slope_against_bisection() -> None:
    leads, lags = _split(_profile_draws())
    test = PretrendTest(leads, lags, hdi_prob=0.9)
    sens = test.sensitivity
    average = lags.values.mean(axis=1)
    e = lags["lag"].values
    assert sens.horizon == pytest.approx(np.mean(e + 1))

    def includes_zero(s: float) -> bool:
        lo, hi = _hdi(average - s * np.mean(e + 1), 0.9)
        return lo <= 0 <= hi

    assert _hdi(average, 0.9)[0] > 0  # a positive effect: the breakdown slope is positive
    lo, hi = 0.0, float(average.mean() / np.mean(e + 1))  # at hi the average is centred on 0
    assert not includes_zero(lo) and includes_zero(hi)
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if includes_zero(mid) else (mid, hi)
    assert sens.breakdown_slope == pytest.approx(hi, rel=1e-6)
    # the slope through (-3, f(-3)), (-2, f(-2)), (-1, 0), per draw
    pts = np.column_stack([leads.values, np.zeros(N_DRAWS)])
    slopes = np.array([np.polyfit([-3, -2, -1], p, 1)[0] for p in pts[:200]])
    np.testing.assert_allclose(sens.slope_draws[:200], slopes, atol=1e-12)
    assert sens.ratio == pytest.approx(sens.slope_mean / sens.breakdown_slope)
    text = test.sentence()
    assert f"{sens.breakdown_slope:+.3g} per period" in text
    assert f"slope of {sens.slope_mean:+.3g}" in text
    assert f"{test.statistic:.3g} vs {test.threshold:.3g}" in text


def test_breakdown_slope_is_signed_and_zero_when_the_interval_includes_zero() -> None:
    leads, lags = _split(_profile_draws(profile=-PROFILE))
    assert PretrendTest(leads, lags).sensitivity.breakdown_slope < 0
    leads, lags = _split(_profile_draws(profile=np.zeros_like(PROFILE), scale=0.05))
    test = PretrendTest(leads, lags)
    assert test.sensitivity.breakdown_slope == 0.0
    assert np.isnan(test.sensitivity.ratio)
    assert "already includes zero" in test.sentence()


def test_from_event_study_matches_direct() -> None:
    da = _profile_draws()
    res = EventStudyResult(da, window=WINDOW, hdi_prob=0.8)
    a = PretrendTest.from_event_study(res)
    b = PretrendTest(*_split(da), hdi_prob=0.8)
    assert a.statistic == pytest.approx(b.statistic)
    assert a.sensitivity.breakdown_slope == pytest.approx(b.sensitivity.breakdown_slope)
    assert "<table" in a._repr_html_()


def test_no_leads_raises() -> None:
    w = EventWindow(leads=1, lags=3)
    da = _profile_draws(window=w, profile=np.array([0.0, 0.02, 0.05, 0.04]))
    res = EventStudyResult(da, window=w)
    with pytest.raises(ValueError, match=r"\[dynamics\] leads >= 2"):
        PretrendTest.from_event_study(res)
