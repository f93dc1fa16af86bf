"""Posterior and prior predictive checks: p-values, observed statistics, flags, memory bound."""

from __future__ import annotations

import dataclasses
import json
import tracemalloc
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayescred as bc
from bayescred.analysis.checks import check, posterior_predictive, prior_check
from bayescred.inference.reconstruct import design_from_tree
from bayescred.inference.sampling import design_datasets


def retarget(
    tree: xr.DataTree,
    *,
    spec: dict[str, Any] | None = None,
    posterior: xr.Dataset | None = None,
    observed: np.ndarray | None = None,
    design: dict[str, Any] | None = None,
) -> xr.DataTree:
    """A copy of a fit's tree with a changed spec, posterior, outcome or design attributes."""
    groups = {name: node.to_dataset() for name, node in tree.children.items()}
    if posterior is not None:
        groups["posterior"] = posterior
    if observed is not None:
        groups["observed_data"] = groups["observed_data"].assign(y=("obs", observed))
    out = xr.DataTree.from_dict(groups)
    out.attrs.update(tree.attrs)
    if spec is not None:
        old = bc.ModelSpec.from_json(tree.attrs["bayescred_spec"]).model_dump(by_alias=True)
        out.attrs["bayescred_spec"] = bc.ModelSpec.model_validate({**old, **spec}).to_json()
    if design is not None:
        out.attrs["bayescred_design"] = json.dumps(
            {**json.loads(tree.attrs["bayescred_design"]), **design}
        )
    return out


def latent_tree(tree: xr.DataTree, *, store_alpha: bool = False, seed: int = 0) -> xr.DataTree:
    """The tiny fit turned into a Student-t random-intercept fit with made-up intercept draws."""
    post = tree["posterior"].to_dataset()
    n_workers = tree["constant_data"].sizes["worker"]
    shape = (post.sizes["chain"], post.sizes["draw"])
    rng = np.random.default_rng(seed)
    post = post.assign(
        mu_alpha=(("chain", "draw"), 4.0 + 0.05 * rng.standard_normal(shape)),
        sigma_alpha=(("chain", "draw"), 0.7 + 0.02 * rng.standard_normal(shape)),
        nu=(("chain", "draw"), 6.0 + rng.standard_normal(shape)),
        alpha_offset=(("chain", "draw", "worker"), rng.standard_normal((*shape, n_workers))),
    ).assign_coords(worker=tree["constant_data"].to_dataset()["worker"].values)
    if store_alpha:
        post["alpha"] = post["mu_alpha"] + post["sigma_alpha"] * post["alpha_offset"]
    return retarget(
        tree,
        spec={"worker_effects": "random", "outcome": {"likelihood": "student_t"}},
        posterior=post,
    )


def observed_y(tree: xr.DataTree) -> np.ndarray:
    return np.asarray(tree["observed_data"].to_dataset()["y"].values)


def data_frame(tree: xr.DataTree) -> pd.DataFrame:
    const = tree["constant_data"].to_dataset()
    return pd.DataFrame(
        {
            "y": observed_y(tree),
            "group": np.asarray(const["group"].values)[const["group_idx"].values],
            "worker": const["worker_idx"].values,
        }
    )


def test_check_table_is_tidy_with_valid_p_values(tiny_fit: bc.CredentialFit) -> None:
    table = check(tiny_fit.tree, max_draws=60, random_seed=1)
    assert list(table.columns) == [
        "scope", "statistic", "scale", "observed", "replicated_mean", "replicated_sd", "p_value", "flag",
    ]  # fmt: skip
    assert table["p_value"].between(0, 1).all()
    assert (table["flag"] == ((table["p_value"] < 0.05) | (table["p_value"] > 0.95))).all()
    groups = list(tiny_fit.posterior["group"].values)
    assert list(dict.fromkeys(table["scope"])) == ["all", *groups]
    # the default (within) model describes within-worker deviations: checked on that scale
    assert set(table["scale"]) == {"within-worker deviation"}
    assert set(table["statistic"]) == {"sd", "q10", "q50", "q90"}
    assert table.attrs["check"] == "posterior" and table.attrs["draws"] == 60
    # a reasonable fit of data from its own model family: few flags
    assert table["flag"].mean() < 0.3


def test_observed_statistics_equal_the_data(tiny_fit: bc.CredentialFit) -> None:
    df = data_frame(tiny_fit.tree)
    levels = check(tiny_fit.tree, max_draws=5, scale="outcome", random_seed=0).set_index(
        ["scope", "statistic"]
    )
    dev = df["y"] - df.groupby("worker")["y"].transform("mean")
    within = check(tiny_fit.tree, max_draws=5, random_seed=0).set_index(["scope", "statistic"])
    for scope, part in [("all", df), *df.groupby("group")]:
        y = part["y"].to_numpy()
        obs = levels["observed"].loc[scope]
        assert obs["mean"] == pytest.approx(y.mean(), rel=1e-12)
        assert obs["sd"] == pytest.approx(y.std(), rel=1e-12)
        assert obs[["q10", "q50", "q90"]].to_numpy() == pytest.approx(
            np.quantile(y, [0.1, 0.5, 0.9])
        )
        d = dev.loc[part.index].to_numpy()
        assert within["observed"].loc[(scope, "sd")] == pytest.approx(d.std(), rel=1e-12)
        assert within["observed"].loc[(scope, "q90")] == pytest.approx(np.quantile(d, 0.9))
    assert "zero_share" not in set(levels.index.get_level_values("statistic"))  # real outcome


def test_posterior_predictive_is_chunk_invariant_and_centred(tiny_fit: bc.CredentialFit) -> None:
    tree = tiny_fit.tree
    a = list(posterior_predictive(tree, max_draws=4, chunk_rows=97, random_seed=3))
    b = list(posterior_predictive(tree, max_draws=4, chunk_rows=10**6, random_seed=3))
    n = tree["observed_data"].sizes["obs"]
    assert len(a) == 4 and all(d.y.shape == (n,) for d in a)
    assert [(d.chain, d.draw) for d in a] == [(0, 0), (0, 100), (1, 49), (1, 149)]
    for x, z in zip(a, b, strict=True):
        np.testing.assert_allclose(x.y, z.y, rtol=0, atol=1e-12)
    y = observed_y(tree)
    assert abs(np.mean([d.y.mean() for d in a]) - y.mean()) < 0.1


def test_too_small_sigma_is_flagged_on_sd(tiny_fit: bc.CredentialFit) -> None:
    post = tiny_fit.posterior
    bad = retarget(tiny_fit.tree, posterior=post.assign(sigma=post["sigma"] * 0.3))
    table = check(bad, max_draws=40, random_seed=2).set_index(["scope", "statistic"])
    sd = table.xs("sd", level="statistic")
    assert sd["flag"].all() and (sd["p_value"] == 0).all()
    p_value = table["p_value"]
    assert p_value.loc[("all", "q10")] == 1 and p_value.loc[("all", "q90")] == 0


def test_zero_share_is_checked_when_the_outcome_can_be_zero(tiny_fit: bc.CredentialFit) -> None:
    y = observed_y(tiny_fit.tree)
    y0 = np.where(y < np.quantile(y, 0.2), 0.0, y)
    tree = retarget(tiny_fit.tree, observed=y0, design={"outcome_kind": "nonnegative"})
    table = check(tree, max_draws=20, scale="outcome", random_seed=0).set_index(
        ["scope", "statistic"]
    )
    zero = table.xs(("all", "zero_share"))
    assert zero["observed"] == pytest.approx(np.mean(y0 == 0))
    # a normal likelihood never replicates exact zeros
    assert zero["replicated_mean"] == 0 and zero["p_value"] == 0 and zero["flag"]
    # no zeros observed, none replicated: a tie, counted one half, is no misfit
    positive = retarget(tiny_fit.tree, design={"outcome_kind": "nonnegative"})
    tie = check(positive, max_draws=10, by_group=False, random_seed=0).set_index("statistic")
    assert tie["p_value"].loc["zero_share"] == 0.5 and not tie["flag"].loc["zero_share"]


def test_latent_intercepts_come_from_the_stored_offsets(tiny_fit: bc.CredentialFit) -> None:
    from_offsets = latent_tree(tiny_fit.tree)
    from_alpha = latent_tree(tiny_fit.tree, store_alpha=True)
    a = check(from_offsets, max_draws=10, random_seed=4)
    b = check(from_alpha, max_draws=10, random_seed=4)
    assert set(a["scale"]) == {"outcome"} and "mean" in set(a["statistic"])
    pd.testing.assert_frame_equal(a, b)


def test_prior_check_within_is_on_deviations(tiny_fit: bc.CredentialFit) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = prior_check(tiny_fit.tree, draws=30, random_seed=5)
    assert table.attrs["check"] == "prior" and table.attrs["draws"] == 30
    assert set(table["scale"]) == {"within-worker deviation"}
    assert "mean" not in set(table["statistic"])  # zero by construction
    assert table["p_value"].between(0, 1).all()
    with pytest.raises(ValueError, match="flat, improper prior"):
        prior_check(tiny_fit.tree, draws=5, scale="outcome")


def test_prior_check_of_random_effects_is_on_levels(tiny_fit: bc.CredentialFit) -> None:
    tree = retarget(tiny_fit.tree, spec={"worker_effects": "random"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = prior_check(tree, draws=30, by_group=False, random_seed=6)
        again = prior_check(tree, draws=30, by_group=False, random_seed=6)
        latent = prior_check(latent_tree(tiny_fit.tree), draws=10, by_group=False, random_seed=6)
    pd.testing.assert_frame_equal(table, again)
    assert list(table["scope"].unique()) == ["all"] and set(table["scale"]) == {"outcome"}
    observed_mean = table["observed"][table["statistic"] == "mean"].item()
    assert observed_mean == pytest.approx(observed_y(tiny_fit.tree).mean())
    assert table["p_value"].between(0, 1).all() and latent["p_value"].between(0, 1).all()


def million_row_tree(tree: xr.DataTree, *, n_workers: int, periods: int, draws: int) -> xr.DataTree:
    """A tree with the tiny fit's spec and ``draws`` of its posterior on a synthetic panel."""
    rng = np.random.default_rng(0)
    small = design_from_tree(tree)
    n = n_workers * periods
    panel = dataclasses.replace(
        small.panel,
        frame=pd.DataFrame(index=pd.RangeIndex(n)),
        worker_labels=np.array([f"w{i:06d}" for i in range(n_workers)]),
        worker_codes=np.repeat(np.arange(n_workers), periods),
        period_codes=np.tile(np.arange(periods), n_workers),
        group_codes=np.repeat(rng.integers(0, small.panel.n_groups, n_workers), periods),
        credentials=rng.integers(0, 6, n),
        track_record=rng.gamma(2.0, 20.0, n).round(),
        covariate_matrix=np.zeros((n, 0)),
        y=rng.normal(4.0, 0.9, n),
    )
    const, observed = design_datasets(dataclasses.replace(small, panel=panel))
    half = draws // tree["posterior"].sizes["chain"]
    post = tree["posterior"].to_dataset().isel(draw=slice(0, half))
    out = xr.DataTree.from_dict(
        {"posterior": post, "constant_data": const, "observed_data": observed}
    )
    out.attrs.update(tree.attrs)
    return out


def test_check_memory_stays_far_below_draws_times_rows(tiny_fit: bc.CredentialFit) -> None:
    draws, n_workers, periods = 100, 125_000, 8
    tree = million_row_tree(tiny_fit.tree, n_workers=n_workers, periods=periods, draws=draws)
    n = n_workers * periods
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        table = check(tree, max_draws=draws, random_seed=0)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    dense = draws * n * 8  # all replicated draws x rows as float64
    assert table.attrs["draws"] == draws and table["p_value"].between(0, 1).all()
    assert peak < 0.25 * dense, f"peak {peak / 1e6:.0f} MB against {dense / 1e6:.0f} MB dense"
