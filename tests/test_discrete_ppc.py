"""Predictive checks for discrete outcomes: hanging rootograms for counts and shares of ones for
binary outcomes, their kind chosen by the family, drawn into the caller's axes or a new figure.

Frequencies and shares are checked exactly against brute-force counts of the same replicated
data sets (regenerated with the same seed, or stored in the fit's tree)."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import bayescred as bc
from bayescred.analysis.checks import posterior_predictive
from bayescred.data.simulate import simulate
from bayescred.model.families import FAMILIES, get_family
from bayescred.plots import FitPlots
from bayescred.plots.discrete_ppc import (
    MAX_SINGLE_VALUES,
    binary_shares,
    count_frequencies,
    count_top,
)
from bayescred.reporting.html import PPC_CAPTIONS, report

PROB = 0.9


def _fit(likelihood: str, column: str) -> bc.CredentialFit:
    """A small real fit (60 workers x 6 periods, 2 chains x 60 draws)."""
    frame = simulate("paper", seed=5, n_workers=60, n_periods=6).frame
    spec = bc.ModelSpec().with_changes(
        outcome={"column": column, "likelihood": likelihood}, worker_effects="random"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bc.CredentialModel(spec).fit(
            frame, draws=60, tune=60, chains=2, random_seed=3, progressbar=False
        )


@pytest.fixture(scope="module")
def count_fit() -> bc.CredentialFit:
    return _fit("poisson", "n_projects")


@pytest.fixture(scope="module")
def binary_fit() -> bc.CredentialFit:
    return _fit("bernoulli", "any_project")


def by_gid(fig: Figure, gid: str) -> list[object]:
    return list(fig.findobj(lambda a: a.get_gid() == gid))


def brute_frequencies(values: np.ndarray, top: int) -> np.ndarray:
    """Rows equal to each of 0 .. top - 1 and rows >= top, counted one by one."""
    return np.array([np.sum(values == k) for k in range(top)] + [np.sum(values >= top)], float)


# ------------------------------------------------------------------ the kind per family
def test_each_family_names_its_predictive_plot() -> None:
    kinds = {name: family.predictive_plot for name, family in FAMILIES.items()}
    assert kinds == {
        "normal": "kde",
        "student_t": "kde",
        "poisson": "rootogram",
        "negative_binomial": "rootogram",
        "bernoulli": "shares",
        "hurdle_lognormal": "kde",  # amounts with zeros: density on log(1 + y)
        "hurdle_negative_binomial": "rootogram",  # counts with zeros: the zeros are a bin
    }


# ------------------------------------------------------------------ frequencies and shares
def test_count_frequencies_equal_a_brute_force_count() -> None:
    rng = np.random.default_rng(1)
    observed = rng.negative_binomial(2, 0.3, size=500)
    replicates = [rng.negative_binomial(2, 0.3, size=500).astype(float) for _ in range(25)]
    freq = count_frequencies(observed, iter(replicates))
    top = count_top(observed)
    assert top == min(int(observed.max()), MAX_SINGLE_VALUES) + 1 or top > MAX_SINGLE_VALUES
    want_obs = brute_frequencies(observed, top)
    want_rep = np.stack([brute_frequencies(r, top) for r in replicates])
    keep = len(freq.values)
    np.testing.assert_array_equal(freq.observed, want_obs[:keep])
    np.testing.assert_array_equal(freq.replicated, want_rep[:, :keep])
    assert freq.pooled == (want_obs[top] > 0 or want_rep[:, top].any())
    if not freq.pooled:  # nothing dropped: the bins hold every row
        assert freq.observed.sum() == len(observed)
    np.testing.assert_allclose(freq.expected, want_rep[:, :keep].mean(axis=0))
    low, high = freq.interval(PROB)
    np.testing.assert_allclose(low, np.quantile(want_rep[:, :keep], 0.05, axis=0))
    np.testing.assert_allclose(high, np.quantile(want_rep[:, :keep], 0.95, axis=0))


def test_a_long_tail_is_pooled_into_one_bin() -> None:
    observed = np.concatenate([np.zeros(300), np.arange(1, 101)])  # max 100, 99th pct 96
    freq = count_frequencies(observed, [observed.copy()], top=None)
    top = count_top(observed)
    assert top == int(np.ceil(np.quantile(observed, 0.99))) + 1
    assert freq.pooled and freq.labels[-1] == f"≥{top}"
    assert freq.observed[-1] == np.sum(observed >= top)
    assert freq.observed.sum() == len(observed)


def test_rootogram_refuses_non_counts() -> None:
    with pytest.raises(ValueError, match="non-negative integer counts"):
        count_frequencies(np.array([0.0, 1.5, 2.0]), [np.zeros(3)])
    with pytest.raises(ValueError, match="no replicated"):
        count_frequencies(np.array([0, 1, 2]), [])


def test_binary_shares_equal_a_groupby() -> None:
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 4, size=300)
    codes[codes == 2] = 3  # group "c" has no rows: left out
    labels = np.array(["a", "b", "c", "d"])
    observed = (rng.random(300) < 0.4).astype(float)
    replicates = [(rng.random(300) < 0.4).astype(float) for _ in range(15)]
    shares = binary_shares(observed, iter(replicates), codes, labels)
    assert shares.labels == ["all rows", "group a", "group b", "group d"]

    def brute(y: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame({"g": labels[codes], "y": y})
        return np.concatenate([[y.mean()], frame.groupby("g")["y"].mean().loc[["a", "b", "d"]]])

    np.testing.assert_allclose(shares.observed, brute(observed))
    np.testing.assert_allclose(shares.replicated, np.stack([brute(r) for r in replicates]))
    np.testing.assert_array_equal(shares.rows, [300, *(np.sum(labels[codes] == g) for g in "abd")])
    with pytest.raises(ValueError, match="0/1 outcomes"):
        binary_shares(observed + 1, iter(replicates), codes, labels)


# ------------------------------------------------------------------ real fits
def test_count_fit_ppc_is_a_rootogram_of_the_replicated_frequencies(
    count_fit: bc.CredentialFit,
) -> None:
    """fit.plot.ppc() of a Poisson fit draws a hanging rootogram whose bars, curve and band are
    the brute-force frequencies of the replicated data sets of the same seed."""
    assert get_family(count_fit.spec.outcome.likelihood).predictive_plot == "rootogram"
    fig = count_fit.plot.ppc(num_samples=30, random_seed=4)
    assert isinstance(fig, Figure)
    y = np.asarray(count_fit.tree["observed_data"]["y"].values)
    top = count_top(y)
    reps = np.stack(
        [d.y for d in posterior_predictive(count_fit.tree, max_draws=30, random_seed=4)]
    )
    want_obs = brute_frequencies(y, top)
    want_rep = np.stack([brute_frequencies(r, top) for r in reps])
    keep = top + 1 if (want_obs[top] > 0 or want_rep[:, top].any()) else top
    expected = want_rep[:, :keep].mean(axis=0)
    (curve,) = by_gid(fig, "expected")
    assert isinstance(curve, Line2D)
    np.testing.assert_array_equal(curve.get_xdata(), np.arange(keep))
    np.testing.assert_allclose(curve.get_ydata(), np.sqrt(expected))
    bars = [
        p
        for p in fig.findobj()
        if (getattr(p, "get_gid", lambda: None)() or "").startswith("observed:")
    ]
    assert len(bars) == keep
    for k, bar in enumerate(bars):
        top_end = bar.get_y() + bar.get_height()
        assert bar.get_height() == pytest.approx(np.sqrt(want_obs[k]))
        assert top_end == pytest.approx(np.sqrt(expected[k]))  # hangs from the expected
    (band,) = by_gid(fig, "interval")
    vertices = np.concatenate([p.vertices for p in band.get_paths()])  # type: ignore[attr-defined]
    lows = np.sqrt(expected) - np.sqrt(np.quantile(want_rep[:, :keep], 0.95, axis=0))
    highs = np.sqrt(expected) - np.sqrt(np.quantile(want_rep[:, :keep], 0.05, axis=0))
    np.testing.assert_allclose(
        [vertices[:, 1].min(), vertices[:, 1].max()], [lows.min(), highs.max()]
    )
    assert "count" in fig.axes[0].get_xlabel() and "√" in fig.axes[0].get_ylabel()


def test_rootogram_of_a_stored_posterior_predictive_group(count_fit: bc.CredentialFit) -> None:
    """Stored replicates are counted as they are, evenly thinned (chain-major)."""
    n_obs = count_fit.tree["observed_data"].sizes["obs"]
    rng = np.random.default_rng(0)
    values = rng.poisson(np.arange(1.0, 9.0)[:, None], size=(8, n_obs)).astype(float)
    tree = count_fit.tree.copy()
    tree["posterior_predictive"] = xr.DataTree(
        xr.Dataset(
            {"y": (("chain", "draw", "obs"), values.reshape(2, 4, n_obs))},
            coords={"obs": count_fit.tree["observed_data"]["obs"].values},
        )
    )
    fig = FitPlots(bc.CredentialFit(tree)).ppc(num_samples=4)
    y = np.asarray(tree["observed_data"]["y"].values)
    top = count_top(y)
    kept = values[[0, 2, 5, 7]]  # evenly spaced of the 8 stored
    want = np.stack([brute_frequencies(r, top) for r in kept])
    (curve,) = by_gid(fig, "expected")
    n = len(curve.get_ydata())  # type: ignore[attr-defined]
    np.testing.assert_allclose(curve.get_ydata(), np.sqrt(want[:, :n].mean(axis=0)))  # type: ignore[attr-defined]


def test_binary_fit_ppc_shows_shares_by_group(binary_fit: bc.CredentialFit) -> None:
    fig = binary_fit.plot.ppc(num_samples=25, random_seed=2)
    y = np.asarray(binary_fit.tree["observed_data"]["y"].values)
    panel = binary_fit.design.panel
    groups = np.asarray(panel.group_labels)[panel.group_codes]
    present = [g for g in np.asarray(panel.group_labels) if (groups == g).any()]

    def brute(v: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame({"g": groups, "y": v})
        return np.concatenate([[v.mean()], frame.groupby("g")["y"].mean().loc[present]])

    reps = np.stack(
        [brute(d.y) for d in posterior_predictive(binary_fit.tree, max_draws=25, random_seed=2)]
    )
    (observed,) = by_gid(fig, "observed")
    (expected,) = by_gid(fig, "expected")
    np.testing.assert_allclose(observed.get_ydata(), brute(y))  # type: ignore[attr-defined]
    np.testing.assert_allclose(expected.get_ydata(), reps.mean(axis=0))  # type: ignore[attr-defined]
    (interval,) = by_gid(fig, "interval")
    segments = np.asarray(interval.get_segments())  # type: ignore[attr-defined]
    np.testing.assert_allclose(segments[:, 0, 1], np.quantile(reps, 0.05, axis=0))
    np.testing.assert_allclose(segments[:, 1, 1], np.quantile(reps, 0.95, axis=0))
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["all rows", *(f"group {g}" for g in present)]


def test_discrete_checks_draw_into_the_callers_axes(
    count_fit: bc.CredentialFit, binary_fit: bc.CredentialFit
) -> None:
    before = set(plt.get_fignums())
    fig = Figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
    assert count_fit.plot.ppc(num_samples=5, ax=left) is fig
    assert binary_fit.plot.ppc(num_samples=5, ax=right) is fig
    assert by_gid(fig, "expected") and len(fig.axes) == 2
    assert left.get_title(loc="left").endswith("rootogram")
    assert "share" in right.get_title(loc="left")
    assert not fig.texts and not fig.legends  # the caller's figure is left alone
    # a density check of the same counts is available too, also into the caller's axes
    assert count_fit.plot.ppc(kind="ecdf", num_samples=5, scale="outcome", ax=left) is fig
    assert set(plt.get_fignums()) == before
    with pytest.raises(ValueError, match="own scale"):
        count_fit.plot.ppc(scale="within", num_samples=5)
    with pytest.raises(ValueError, match="kind must be"):
        count_fit.plot.ppc(kind="violin", num_samples=5)  # type: ignore[arg-type]


def test_report_shows_the_rootogram_of_a_count_fit(
    count_fit: bc.CredentialFit, tmp_path: Path
) -> None:
    """The HTML report's predictive-check figure is the family's kind, with its caption."""
    text = report(count_fit, tmp_path / "report.html").read_text(encoding="utf-8")
    section = text[text.index('id="predictive-check"') :]
    alt, caption = PPC_CAPTIONS["rootogram"]
    assert f'alt="{alt}"' in section and "Hanging rootogram" in section
    assert PPC_CAPTIONS["kde"][0] not in text
    assert caption.split(":")[0] in section
