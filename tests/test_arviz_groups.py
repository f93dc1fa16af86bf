"""The ArviZ groups a fit adds to its tree (log_likelihood, posterior_predictive, prior,
prior_predictive): their contents, ArviZ working on ``fit.tree`` directly, LOO and compare
reusing the stored log-likelihood, saving and loading them, and the CLI and fit-time options."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any

import arviz as az
import arviz_plots as azp
import h5py
import numpy as np
import pytest
import xarray as xr
from test_checks import latent_tree, retarget

import bayescred as bc
from bayescred.analysis import loo as loo_module
from bayescred.analysis.groups import (
    GROUPS,
    stored_variable_names,
    thinning_stride,
    with_groups,
)
from bayescred.analysis.loo import compare, log_likelihood, stored_log_likelihood
from bayescred.cli import commands as cli_commands
from bayescred.cli.main import main
from bayescred.errors import FitFileError
from bayescred.facade import credential_model
from bayescred.model.build import build_model, build_prior_model, stored_variables
from bayescred.model.families import family_of
from bayescred.model.make import make_design

MAX_DRAWS = 40
PRIOR_DRAWS = 30


def quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` without the Pareto k warnings of tiny fits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def grouped(tiny_fit: bc.CredentialFit) -> bc.CredentialFit:
    """A copy of the tiny fit (``within``) with every group it can have."""
    fit = bc.CredentialFit(tiny_fit.tree.copy())
    return fit.add_groups(max_draws=MAX_DRAWS, prior_draws=PRIOR_DRAWS, random_seed=1)


@pytest.fixture(scope="module")
def latent(tiny_fit: bc.CredentialFit) -> xr.DataTree:
    """A Student-t random-intercept tree (per-row density, a proper intercept prior)."""
    return latent_tree(tiny_fit.tree)


# ------------------------------------------------------------------------------ contents
def test_groups_are_named_and_shaped_as_arviz_expects(
    grouped: bc.CredentialFit, tiny_fit: bc.CredentialFit
) -> None:
    tree = grouped.tree
    post = tiny_fit.posterior
    assert "log_likelihood" not in tiny_fit.tree.children  # the fixture's tree is untouched
    # within: the intercept prior is flat, so there is no prior predictive of the level
    assert {"log_likelihood", "posterior_predictive", "prior"} <= set(tree.children)
    assert "prior_predictive" not in tree.children
    observed = tree["observed_data"]["y"]
    ll = tree["log_likelihood"]["y"]
    assert ll.dims == ("chain", "draw", "worker")
    assert tree["log_likelihood"].attrs["unit"] == "worker"
    np.testing.assert_array_equal(ll.values, log_likelihood(tiny_fit.tree)["y"].values)
    pp = tree["posterior_predictive"]["y"]
    assert pp.dims == ("chain", "draw", "obs")
    np.testing.assert_array_equal(pp["obs"].values, observed["obs"].values)
    # a true subset of the posterior draws: every k-th draw of every chain
    k = tree["posterior_predictive"].attrs["thinned_by"]
    assert k == thinning_stride(post.sizes["chain"], post.sizes["draw"], MAX_DRAWS) > 1
    np.testing.assert_array_equal(pp["chain"].values, post["chain"].values)
    np.testing.assert_array_equal(pp["draw"].values, post["draw"].values[::k])
    assert pp.sizes["chain"] * pp.sizes["draw"] <= MAX_DRAWS
    assert np.isfinite(pp.values).all()
    prior = tree["prior"].to_dataset()
    # every stored variable but the sampler's whitened coordinates (flat: no prior draws)
    whitened = {n for n in post.data_vars if str(n).endswith("_whitened")}
    assert whitened == {
        "beta_whitened",
        "lambda_whitened",
        "mu_beta_whitened",
        "log_lambda_whitened",
    }
    assert set(prior.data_vars) == set(post.data_vars) - whitened
    assert prior.sizes["chain"] == 1 and prior.sizes["draw"] == PRIOR_DRAWS
    # the sampler's groups are unchanged
    xr.testing.assert_identical(tree["posterior"].to_dataset(), post)


@pytest.mark.parametrize(
    "name", ["default", "hurdle_earnings", "project_counts", "hurdle_projects"]
)
def test_prior_names_from_the_parts_are_the_built_models_stored_variables(
    name: str, small_frame: Any
) -> None:
    """The names the ``prior`` group holds, derived from the design's parts without building a
    model (:func:`stored_variable_names`), are the free variables and deterministics of the
    sampled model (:func:`build_model`), less two kinds on purpose:

    * the per-worker and per-row bulk a fit does not store either (``worker_loglik``, latent
      ``alpha``, ``alpha_whitened``; :func:`bayescred.model.build.stored_variables`), and
    * the sampler's flat whitened coordinates (``*_whitened``), which have no prior draws.

    They are also what the names were before: the stored variables of the model the prior
    draws are made from (:func:`build_prior_model`) that the sampled model stores too (the
    prior model's non-centred ``*_offset`` of whitened parameters are not stored by a fit).
    Build only, no sampling."""
    design = make_design(bc.load_spec(name), small_frame)
    derived = stored_variable_names(design)
    assert len(derived) == len(set(derived))
    sampled = build_model(design)
    built = [v.name for v in sampled.free_RVs] + [v.name for v in sampled.deterministics]
    bulk = {
        part.naming(n)
        for part in family_of(design).parts(design)
        for n in ("worker_loglik", "alpha", "alpha_whitened")
    }
    assert set(derived) == {n for n in built if n not in bulk and not n.endswith("_whitened")}
    stored = set(stored_variables(sampled, design))
    before = [n for n in stored_variables(build_prior_model(design), design) if n in stored]
    assert set(derived) == set(before)


@pytest.mark.parametrize(
    ("chains", "draws", "most"), [(2, 150, 40), (4, 1000, 500), (4, 10, 3), (1, 7, 7), (3, 5, 100)]
)
def test_thinning_stride_is_the_smallest_that_fits(chains: int, draws: int, most: int) -> None:
    k = thinning_stride(chains, draws, most)
    kept = chains * len(range(0, draws, k))
    assert kept <= most or k == draws  # at least one draw per chain
    if k > 1:  # one less would keep too many
        assert chains * len(range(0, draws, k - 1)) > most


def test_posterior_predictive_draws_come_from_their_labelled_draws(
    tiny_fit: bc.CredentialFit,
) -> None:
    """No credential, period or covariate effect and almost no noise: each replicate is its
    draw's ``mu_alpha``, which encodes the draw's chain and label."""
    post = tiny_fit.posterior
    chain = post["chain"].broadcast_like(post["mu_beta"])
    draw = post["draw"].broadcast_like(post["mu_beta"])
    zeroed = {
        name: xr.zeros_like(post[name]) for name in ("beta_group", "tau", "delta") if name in post
    }
    post = post.assign(
        {
            **zeroed,
            "mu_alpha": (1000.0 * chain + draw).astype(float),
            "sigma": xr.full_like(post["sigma"], 1e-9),
        }
    )
    tree = retarget(tiny_fit.tree, spec={"worker_effects": "none"}, posterior=post)
    pp = with_groups(tree, ["posterior_predictive"], max_draws=30, random_seed=0)
    y = pp["posterior_predictive"]["y"]
    expected = 1000.0 * y["chain"] + y["draw"]
    np.testing.assert_allclose(y.values, expected.broadcast_like(y).values, atol=1e-6)


def test_row_log_likelihood_sums_to_the_worker_one(latent: xr.DataTree) -> None:
    rows = log_likelihood(latent, unit="row")
    assert rows["y"].dims == ("chain", "draw", "obs") and rows.attrs["unit"] == "row"
    workers = log_likelihood(latent)
    codes = xr.DataArray(latent["constant_data"]["worker_idx"].values, dims="obs")
    summed = rows["y"].groupby(codes.rename("code")).sum().transpose("chain", "draw", "code")
    np.testing.assert_allclose(summed.values, workers["y"].values, rtol=0, atol=1e-8)
    # the stored per-row group serves leave-one-worker-out as the same sums
    tree = with_groups(latent, ["log_likelihood"], unit="row")
    stored = stored_log_likelihood(tree)
    assert stored is not None
    np.testing.assert_allclose(stored["y"].values, workers["y"].values, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(stored["worker"].values, workers["worker"].values)


def test_bad_requests_are_refused(grouped: bc.CredentialFit) -> None:
    tree = grouped.tree
    with pytest.raises(ValueError, match="per worker only"):
        log_likelihood(tree, unit="row")
    with pytest.raises(ValueError, match="no prior_predictive group under worker_effects"):
        with_groups(tree, ["prior_predictive"])
    with pytest.raises(ValueError, match="unknown group"):
        with_groups(tree, ["posterior", "log_lik"])
    with pytest.raises(ValueError, match="max_draws must be at least 1"):
        with_groups(tree, ["posterior_predictive"], max_draws=0)


# ------------------------------------------------------------------------------ ArviZ
def test_arviz_works_on_the_tree(grouped: bc.CredentialFit, tiny_fit: bc.CredentialFit) -> None:
    direct = quiet(az.loo, grouped.tree)
    ours = quiet(loo_module.loo, tiny_fit)  # computed: the fixture has no group
    assert direct.elpd == pytest.approx(ours.elpd, rel=1e-12)
    assert direct.n_data_points == tiny_fit.tree["constant_data"].sizes["worker"]
    post = grouped.posterior
    wide = bc.CredentialFit(
        retarget(grouped.tree, posterior=post.assign(sigma=post["sigma"] * 1.5))
    ).add_groups(["log_likelihood"])
    table = quiet(az.compare, {"fit": grouped.tree, "too_wide": wide.tree})
    assert list(table.index) == ["fit", "too_wide"] and table["elpd_diff"].iloc[1] != 0
    pc = azp.plot_ppc_dist(grouped.tree, num_samples=10, backend="matplotlib")
    assert pc.get_viz("plot", "y") is not None


def test_prior_predictive_of_a_random_intercept_model(latent: xr.DataTree) -> None:
    tree = with_groups(latent, None, max_draws=10, prior_draws=PRIOR_DRAWS, random_seed=3)
    assert set(GROUPS) <= set(tree.children)
    prior = tree["prior"].to_dataset()
    pp = tree["prior_predictive"]["y"]
    assert pp.dims == ("chain", "draw", "obs") and pp.sizes["draw"] == PRIOR_DRAWS
    # each prior draw's replicates are centred on its mu_alpha (no effects at zero credentials
    # aside, Student-t noise): the draw-wise means follow the prior's mu_alpha closely
    corr = np.corrcoef(pp.median("obs").values.ravel(), prior["mu_alpha"].values.ravel())[0, 1]
    assert corr > 0.9
    pc = azp.plot_ppc_dist(tree, group="prior_predictive", num_samples=5, backend="matplotlib")
    assert pc.get_viz("plot", "y") is not None


# ------------------------------------------------------------------------------ reuse
def test_loo_and_compare_reuse_the_stored_log_likelihood(
    grouped: bc.CredentialFit, tiny_fit: bc.CredentialFit, monkeypatch: pytest.MonkeyPatch
) -> None:
    post = tiny_fit.posterior
    wide_tree = retarget(tiny_fit.tree, posterior=post.assign(sigma=post["sigma"] * 1.5))
    computed = quiet(compare, {"fit": tiny_fit, "wide": wide_tree})
    computed_loo = quiet(loo_module.loo, tiny_fit)
    assert computed.attrs["log_likelihood"] == {"fit": "computed", "wide": "computed"}
    wide = bc.CredentialFit(wide_tree).add_groups(["log_likelihood"])

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the log-likelihood was recomputed")

    monkeypatch.setattr(loo_module, "log_likelihood", refuse)
    stored = quiet(compare, {"fit": grouped, "wide": wide})
    assert stored.attrs["log_likelihood"] == {"fit": "stored", "wide": "stored"}
    columns = ["rank", "elpd", "se", "elpd_diff", "dse", "weight", "p", "n_high_pareto_k"]
    np.testing.assert_allclose(
        stored[columns].to_numpy(float), computed[columns].to_numpy(float), rtol=1e-12
    )
    assert quiet(grouped.loo).elpd == pytest.approx(computed_loo.elpd, rel=1e-12)
    with pytest.raises(AssertionError, match="recomputed"):
        quiet(loo_module.loo, tiny_fit)  # no stored group: it would compute


def test_a_stale_log_likelihood_group_is_not_used(grouped: bc.CredentialFit) -> None:
    """A group that does not cover the posterior's draws is not the fit's: recomputed."""
    ll = grouped.tree["log_likelihood"].to_dataset().isel(draw=slice(0, 10))
    tree = grouped.tree.copy()
    tree["log_likelihood"] = xr.DataTree(ll)
    assert stored_log_likelihood(tree) is None
    assert stored_log_likelihood(grouped.tree) is not None


# ------------------------------------------------------------------------------ files
@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_groups_round_trip_through_a_saved_fit(
    grouped: bc.CredentialFit, tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if suffix == ".zarr":
        pytest.importorskip("zarr")
    path = grouped.save(tmp_path / f"fit{suffix}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # version notes of a checkout
        loaded = bc.load(path)
    for name in ("log_likelihood", "posterior_predictive", "prior"):
        xr.testing.assert_equal(loaded.tree[name].to_dataset(), grouped.tree[name].to_dataset())
        assert loaded.tree[name].attrs.get("unit") == grouped.tree[name].attrs.get("unit")
    monkeypatch.setattr(loo_module, "log_likelihood", lambda *a, **k: 1 / 0)
    assert quiet(loaded.loo).elpd == pytest.approx(quiet(grouped.loo).elpd, rel=1e-12)


def test_damage_to_the_new_groups_is_refused(grouped: bc.CredentialFit, tmp_path: Path) -> None:
    saved = grouped.save(tmp_path / "fit.nc")
    for variable in ("log_likelihood/y", "posterior_predictive/y", "prior/sigma"):
        path = tmp_path / f"{variable.replace('/', '_')}.nc"
        shutil.copy(saved, path)
        with h5py.File(path, "r+") as f:
            f[variable][0, 0] = f[variable][0, 0] + 1e-9
        with pytest.raises(FitFileError, match=f"no longer match .*/{variable}"):
            bc.load(path)
    # a group deleted after saving is refused too
    path = tmp_path / "deleted.nc"
    shutil.copy(saved, path)
    with h5py.File(path, "r+") as f:
        del f["posterior_predictive"]
    with pytest.raises(FitFileError, match="posterior_predictive"):
        bc.load(path)
    table = json.loads(h5py.File(saved, "r").attrs["bayescred_checksums"])
    assert {"/log_likelihood", "/posterior_predictive", "/prior"} <= set(table["groups"])


# ------------------------------------------------------------------------------ options
def test_fit_time_groups(
    tiny_fit: bc.CredentialFit, small_frame: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``CredentialModel.fit(groups=...)``: the sampler is replaced by the tiny fit's tree."""
    monkeypatch.setattr(credential_model, "run_sampler", lambda *a, **k: tiny_fit.tree.copy())
    model = bc.CredentialModel("default")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        fit = model.fit(small_frame, groups=["log_likelihood"], random_seed=2)
        plain = model.fit(small_frame, random_seed=2)
    assert "log_likelihood" in fit.tree.children
    assert "posterior_predictive" not in fit.tree.children
    assert not {"log_likelihood", "prior"} & set(plain.tree.children)


def test_cli_fit_groups(
    tiny_fit: bc.CredentialFit,
    small_frame: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(
        cli_commands, "fit_with_progress", lambda *a, **k: bc.CredentialFit(tiny_fit.tree.copy())
    )
    data = tmp_path / "panel.csv"
    small_frame.to_csv(data, index=False)
    out = tmp_path / "fit.nc"
    assert main(["fit", str(data), "--out", str(out), "--groups", "all", "--seed", "1"]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        loaded = bc.load(out)
    assert {"log_likelihood", "posterior_predictive", "prior"} <= set(loaded.tree.children)
    code = main(["fit", str(data), "--out", str(out), "--groups", "prior_predictive"])
    assert code == 2
    assert "no prior_predictive group" in capsys.readouterr().err
