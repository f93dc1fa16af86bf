"""Per-worker log-likelihoods, leave-one-worker-out PSIS-LOO and model comparison."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pymc as pm
import pytest
import xarray as xr
from test_checks import latent_tree, observed_y, retarget

import bayescred as bc
from bayescred.analysis.loo import compare, log_likelihood, loo, worker_loglik_pymc
from bayescred.data.simulate import paper_preset, simulate
from bayescred.inference.reconstruct import design_from_tree
from bayescred.model.build import build_model


def quiet_loo(fit: bc.CredentialFit | xr.DataTree) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pareto k warnings of tiny fits
        return loo(fit)


def test_log_likelihood_matches_the_model_deterministic(tiny_fit: bc.CredentialFit) -> None:
    ll = log_likelihood(tiny_fit.tree)
    ref = worker_loglik_pymc(tiny_fit.tree)["worker_loglik"]
    assert ll["y"].dims == ("chain", "draw", "worker")
    assert list(ll["worker"].values) == list(
        tiny_fit.tree["constant_data"].to_dataset()["worker"].values
    )
    np.testing.assert_allclose(
        ll["y"].values, ref.transpose("chain", "draw", "worker").values, rtol=0, atol=1e-8
    )
    assert ll.attrs["unit"] == "worker" and ll.attrs["scale"] == "within-worker deviations"
    # evaluated in blocks of draws and rows: the blocking does not change the values
    small = log_likelihood(tiny_fit.tree, chunk_elements=100)
    np.testing.assert_allclose(small["y"].values, ll["y"].values, rtol=0, atol=1e-10)


def test_random_effects_log_likelihood_matches_the_model(tiny_fit: bc.CredentialFit) -> None:
    post = tiny_fit.posterior
    shape = (post.sizes["chain"], post.sizes["draw"])
    rng = np.random.default_rng(1)
    post = post.assign(
        mu_alpha=(("chain", "draw"), 4.0 + 0.1 * rng.standard_normal(shape)),
        sigma_alpha=(("chain", "draw"), 0.6 + 0.05 * rng.random(shape)),
    )
    tree = retarget(tiny_fit.tree, spec={"worker_effects": "random"}, posterior=post)
    ll = log_likelihood(tree)
    assert ll.attrs["scale"] == "outcome"
    ref = worker_loglik_pymc(tree)["worker_loglik"].transpose("chain", "draw", "worker")
    np.testing.assert_allclose(ll["y"].values, ref.values, rtol=0, atol=1e-8)


def test_latent_log_likelihood_sums_row_densities_within_worker(tiny_fit: bc.CredentialFit) -> None:
    tree = latent_tree(tiny_fit.tree)
    model = build_model(design_from_tree(tree))
    free = [v.name for v in model.free_RVs]
    rows = pm.compute_log_likelihood(
        xr.DataTree.from_dict({"posterior": tree["posterior"].to_dataset()[free]}),
        model=model,
        extend_inferencedata=False,
        progressbar=False,
    )
    rows = rows["log_likelihood"]["outcome"] if isinstance(rows, xr.DataTree) else rows["outcome"]
    codes = xr.DataArray(tree["constant_data"].to_dataset()["worker_idx"].values, dims="obs")
    expected = rows.groupby(codes.rename("worker_code")).sum().transpose("chain", "draw", ...)
    got = log_likelihood(tree)["y"]
    np.testing.assert_allclose(got.values, expected.values, rtol=0, atol=1e-8)


def test_loo_leaves_one_worker_out(tiny_fit: bc.CredentialFit) -> None:
    result = quiet_loo(tiny_fit)
    n_workers = tiny_fit.tree["constant_data"].sizes["worker"]
    assert np.isfinite(result.elpd) and result.n_data_points == n_workers
    assert result.pareto_k.dims == ("worker",)
    assert result.elpd == pytest.approx(quiet_loo(tiny_fit.tree).elpd)


def test_compare_ranks_a_worse_posterior_lower(tiny_fit: bc.CredentialFit) -> None:
    post = tiny_fit.posterior
    wide = retarget(tiny_fit.tree, posterior=post.assign(sigma=post["sigma"] * 1.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = compare({"fit": tiny_fit, "too_wide": wide})
    assert list(table.index) == ["fit", "too_wide"]
    assert {
        "rank",
        "elpd",
        "se",
        "elpd_diff",
        "dse",
        "weight",
        "diag_elpd",
        "n_high_pareto_k",
    } <= set(table.columns)
    assert table["elpd_diff"].loc["too_wide"] < 0


def test_compare_refuses_different_data(tiny_fit: bc.CredentialFit) -> None:
    y = observed_y(tiny_fit.tree)
    shifted = retarget(tiny_fit.tree, observed=y + 0.01)
    with pytest.raises(ValueError, match="LOO across different data is meaningless"):
        compare({"a": tiny_fit, "b": shifted})
    other_outcome = retarget(tiny_fit.tree, design={"outcome": "log_earnings"})
    with pytest.raises(ValueError, match="different outcomes"):
        compare({"a": tiny_fit, "b": other_outcome})
    # same rows, but 'within' models deviations and 'random' levels: not comparable
    levels = latent_tree(tiny_fit.tree)
    with pytest.raises(ValueError, match="not comparable"):
        compare({"a": tiny_fit, "b": levels})
    with pytest.raises(ValueError, match="at least two"):
        compare({"a": tiny_fit})


def test_loo_prefers_the_true_curve() -> None:
    """Geometric truth with a strong, saturating credential effect: LOO picks geometric over step."""
    base = paper_preset(n_workers=150, n_periods=10, curve="geometric", modifier="none")
    settings = dataclasses.replace(
        base,
        groups=tuple(dataclasses.replace(g, beta=0.8, shape=0.4) for g in base.groups),
        credential_rate=0.5,
        entry_credential_share=0.0,
        selection=0.0,
        sigma=0.4,
    )
    frame = simulate(settings, seed=11).frame
    fits = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for curve in ("geometric", "step"):
            spec = bc.ModelSpec.model_validate({"effect": {"curve": curve, "modifier": "none"}})
            fits[curve] = bc.CredentialModel(spec).fit(
                frame, draws=100, tune=150, chains=2, random_seed=5, progressbar=False
            )
        table = compare(fits)
    assert table.index[0] == "geometric"
    diff, dse = -table["elpd_diff"].loc["step"], table["dse"].loc["step"]
    assert diff > 4 * dse, table
