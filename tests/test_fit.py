"""A tiny real fit: the DataTree it holds, its tables, its diagnostics and warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayescred as bc
from bayescred.analysis.diagnostics import Diagnostics
from bayescred.data.simulate import SimulatedPanel


def test_fit_tree_holds_posterior_data_spec_and_versions(
    tiny_fit: bc.CredentialFit, small_frame: pd.DataFrame
) -> None:
    tree = tiny_fit.tree
    assert {"posterior", "sample_stats", "constant_data", "observed_data"} <= set(tree.children)
    post = tiny_fit.posterior
    assert post.sizes["chain"] == 2 and post.sizes["draw"] == 150
    assert list(post["beta_group"].dims) == ["chain", "draw", "group"]
    assert list(post["group"].values) == sorted(small_frame["group"].unique())
    assert bc.ModelSpec.from_json(tree.attrs["bayescred_spec"]) == bc.load_spec("default")
    assert tiny_fit.versions["pymc"] != "not installed"
    const = tree["constant_data"].to_dataset()
    used = small_frame["log_project_value"].notna()
    assert const.sizes["obs"] + int(tiny_fit.rows_not_used()["rows"].sum()) == len(small_frame)
    assert int(
        tiny_fit.rows_not_used().set_index("reason")["rows"].filter(like="outcome").sum()
    ) == int((~used).sum())


def test_rows_not_used_counts_single_period_workers(
    tiny_fit: bc.CredentialFit, small_frame: pd.DataFrame
) -> None:
    with_value = small_frame.loc[small_frame["log_project_value"].notna()]
    singles = int((with_value.groupby("worker_id").size() == 1).sum())
    table = tiny_fit.rows_not_used().set_index("reason")["rows"]
    assert int(table.filter(like="one period").sum()) == singles


def test_summary_is_tidy_with_readable_names(tiny_fit: bc.CredentialFit) -> None:
    table = tiny_fit.summary(hdi_prob=0.8)
    assert {
        "parameter",
        "label",
        "description",
        "mean",
        "sd",
        "hdi_low",
        "hdi_high",
        "r_hat",
    } <= set(table.columns)
    assert table.attrs["hdi_prob"] == 0.8
    beta = table[table["parameter"] == "beta_group"]
    assert len(beta) == 4  # one row per group, labelled by the group
    post = tiny_fit.posterior["beta_group"]
    for _, row in beta.iterrows():
        draws = post.sel(group=row["label"]).values.ravel()
        assert row["mean"] == pytest.approx(draws.mean())
        assert row["hdi_low"] < row["mean"] < row["hdi_high"]
        # an 80% interval holds about 80% of the draws
        assert np.mean((draws >= row["hdi_low"]) & (draws <= row["hdi_high"])) == pytest.approx(
            0.8, abs=0.02
        )
    # gamma is pooled completely by default: reported once, not per group
    assert "gamma_group" not in set(table["parameter"])
    assert set(table.loc[table["parameter"] == "gamma", "label"]) == {"z", "z_squared"}


def test_diagnostics_table_and_verdict(tiny_fit: bc.CredentialFit) -> None:
    table = tiny_fit.diagnostics()
    assert list(table["check"]) == [
        "divergences",
        "max R-hat",
        "min bulk ESS",
        "min tail ESS",
        "min BFMI",
    ]
    assert table.attrs["verdict"].startswith(
        "Converged" if table["pass"].all() else "Not converged"
    )
    ess = float(table.set_index("check").loc["min bulk ESS", "value"])
    assert 0 < ess < 2 * 150 * 1.5


def test_diagnostics_flag_each_failed_threshold() -> None:
    bad = Diagnostics(
        divergences=3,
        max_rhat=1.2,
        min_ess_bulk=50,
        min_ess_tail=60,
        min_bfmi=0.1,
        chains=4,
        draws=100,
        problems=("x",),
    )
    assert not bad.ok and bad.verdict.startswith("Not converged")
    assert bad.to_frame()["pass"].tolist() == [False, False, False, False, False]


def test_convergence_warning_names_what_to_try(small_sim: SimulatedPanel) -> None:
    spec = bc.load_spec("linear_fe")
    with pytest.warns(bc.ConvergenceWarning, match="more draws"):
        bc.CredentialModel(spec).fit(
            small_sim.frame, draws=15, tune=30, chains=1, random_seed=1, progressbar=False
        )


def test_unknown_sampler_is_refused(small_frame: pd.DataFrame) -> None:
    with pytest.raises(bc.SpecError, match="allowed: nutpie, pymc, numpyro"):
        bc.CredentialModel().fit(small_frame, sampler="stan", draws=5, tune=5)  # type: ignore[arg-type]


def test_fit_methods_delegate_to_checks_and_loo(tiny_fit: bc.CredentialFit) -> None:
    from bayescred.analysis import checks, loo

    mine = tiny_fit.check(max_draws=20, random_seed=3)
    direct = checks.check(tiny_fit.tree, max_draws=20, random_seed=3)
    pd.testing.assert_frame_equal(mine, direct)
    ll = tiny_fit.log_likelihood()
    assert ll["y"].dims == ("chain", "draw", "worker")
    np.testing.assert_allclose(ll["y"].values, loo.log_likelihood(tiny_fit.tree)["y"].values)
    table = bc.compare({"a": tiny_fit, "b": tiny_fit})
    assert set(table.index) == {"a", "b"}


def test_fit_keeps_the_design_it_was_sampled_from(
    tiny_fit: bc.CredentialFit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``CredentialModel.fit`` hands its design to the fit: what the fit computes never rebuilds
    it from the tree, and it holds the numbers (and the rows' frame) a rebuilt one would."""
    from bayescred.analysis import average_effects, replicate
    from bayescred.facade import credential_fit
    from bayescred.inference.reconstruct import design_from_tree

    rebuilt = design_from_tree(tiny_fit.tree)

    def refuse(tree: xr.DataTree) -> None:
        raise AssertionError("the design was rebuilt from the tree")

    monkeypatch.setattr(replicate, "design_from_tree", refuse)
    monkeypatch.setattr(credential_fit, "design_from_tree", refuse)
    design = tiny_fit.design
    assert tiny_fit.design is design
    for name in ("worker_codes", "period_codes", "group_codes", "credentials", "track_record", "y"):
        np.testing.assert_array_equal(getattr(design.panel, name), getattr(rebuilt.panel, name))
    for name in ("spec", "priors", "track_scale", "y_mean", "y_sd", "mundlak_center"):
        assert getattr(design, name) == getattr(rebuilt, name), name
    pd.testing.assert_frame_equal(
        average_effects.rows_frame(design), average_effects.rows_frame(rebuilt), check_exact=True
    )
    tiny_fit.check(max_draws=5, random_seed=0)
    tiny_fit.prior_check(draws=5, random_seed=0)
    assert tiny_fit.log_likelihood()["y"].dims == ("chain", "draw", "worker")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pareto k of a tiny fit
        tiny_fit.loo()
    tiny_fit.plot.ppc(num_samples=3)
    copy = bc.CredentialFit(tiny_fit.tree.copy(), design=design)
    copy.add_groups(max_draws=5, prior_draws=5, random_seed=0)
    assert {"log_likelihood", "posterior_predictive", "prior"} <= set(copy.tree.children)


@pytest.mark.parametrize(
    ("used", "advice"),
    [
        (0.8, "raise target_accept from 0.8 to 0.95"),
        (0.95, "raise target_accept from 0.95 to 0.99"),
        (0.99, "target_accept is already 0.99"),
    ],
)
def test_divergence_advice_never_repeats_the_setting_used(
    tiny_fit: bc.CredentialFit, used: float, advice: str
) -> None:
    from bayescred.analysis.diagnostics import diagnose

    tree = tiny_fit.tree.copy()
    stats = tree["sample_stats"].to_dataset()
    diverging = stats["diverging"].copy(data=np.zeros(stats["diverging"].shape, dtype=bool))
    diverging[0, 0] = True
    tree["sample_stats"] = xr.DataTree(stats.assign(diverging=diverging))
    tree.attrs["target_accept"] = used
    problems = " ".join(diagnose(tree).problems)
    assert advice in problems
    assert tiny_fit.tree.attrs["target_accept"] == tiny_fit.spec.sampling.target_accept
