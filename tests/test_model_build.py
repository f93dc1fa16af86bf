"""Build-only structure tests: every switch of the spec changes the PyMC model as documented."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest

import bayescred as bc
from bayescred.model.build import build_prior_model
from bayescred.model.make import make_design
from bayescred.model.predictor import WORKER_LOGLIK


def _build(frame: pd.DataFrame, **changes: object) -> pm.Model:
    return bc.CredentialModel(bc.ModelSpec().with_changes(**changes)).build(frame)


def _names(model: pm.Model) -> set[str]:
    return {v.name for v in model.free_RVs} | {v.name for v in model.deterministics}


def test_data_enter_through_pm_data_with_labelled_coords(small_frame: pd.DataFrame) -> None:
    model = bc.CredentialModel().build(small_frame)
    data_names = set(model.named_vars) & {"credentials", "track_record_z", "group_idx", "y"}
    assert data_names == {"credentials", "track_record_z", "group_idx", "y"}
    assert model.named_vars_to_dims["credentials"] == ("obs",)
    assert list(model.coords["group"]) == sorted(small_frame["group"].unique())
    assert list(model.coords["period"]) == sorted(small_frame["period"].unique())
    assert model.named_vars_to_dims["beta_group"] == ("group",)
    # the default drops single-period workers (within) and rows without a project value
    workers = small_frame.loc[small_frame["log_project_value"].notna()].groupby("worker_id").size()
    assert len(model.coords["worker"]) == int((workers > 1).sum())


def test_default_model_is_finite_at_the_initial_point(small_frame: pd.DataFrame) -> None:
    model = bc.CredentialModel().build(small_frame)
    assert np.isfinite(model.compile_logp()(model.initial_point()))
    dlogp = model.compile_dlogp()(model.initial_point())
    assert np.all(np.isfinite(dlogp))


@pytest.mark.parametrize(
    ("curve", "present", "absent"),
    [
        ("geometric", {"log_lambda", "lambda", "lambda_group"}, {"kappa"}),
        ("quadratic", {"kappa", "kappa_group"}, {"lambda"}),
        ("linear", set(), {"lambda", "kappa"}),
        ("step", set(), {"lambda", "kappa"}),
    ],
)
def test_curve_switch(small_frame: pd.DataFrame, curve: str, present: set, absent: set) -> None:
    names = _names(_build(small_frame, effect={"curve": curve}))
    assert present <= names
    assert not (absent & names)


@pytest.mark.parametrize(
    ("modifier", "terms"),
    [("log_quadratic", ["z", "z_squared"]), ("log_linear", ["z"]), ("none", None)],
)
def test_modifier_switch(small_frame: pd.DataFrame, modifier: str, terms: list | None) -> None:
    model = _build(small_frame, effect={"modifier": modifier})
    if terms is None:
        assert "gamma" not in _names(model)
        assert "gamma_term" not in model.coords
    else:
        assert list(model.coords["gamma_term"]) == terms
        assert model.named_vars_to_dims["gamma_group"] == ("group", "gamma_term")


@pytest.mark.parametrize("pooling", ["partial", "none", "complete"])
def test_pooling_switch(small_frame: pd.DataFrame, pooling: str) -> None:
    model = _build(
        small_frame, effect={"pooling": {"beta": pooling, "lambda": pooling, "gamma": pooling}}
    )
    free = {v.name for v in model.free_RVs}
    names = _names(model)
    assert {"mu_beta", "lambda", "gamma", "beta_group", "lambda_group", "gamma_group"} <= names
    if pooling == "partial":
        # Gaussian outcome: beta and log lambda through their conditional posterior given the
        # population values (pilot estimates as data, the population density as a potential);
        # gamma (a vector per group) non-centred
        # population means too, given the between-group sds
        assert {"beta_whitened", "lambda_whitened", "gamma_offset", "sigma_beta"} <= free
        assert {"mu_beta_whitened", "log_lambda_whitened"} <= free
        assert {"beta_pilot_centre", "lambda_pilot_precision"} <= set(model.named_vars)
        potentials = {p.name for p in model.potentials}
        assert {"beta_population", "lambda_population", "mu_beta_prior"} <= potentials
        assert {"beta_group", "mu_beta", "log_lambda"}.isdisjoint(free)
        # the prior's form: every pooled parameter non-centred, no potential but the likelihood
        plain = build_prior_model(
            make_design(
                bc.ModelSpec().with_changes(
                    effect={"pooling": {"beta": pooling, "lambda": pooling, "gamma": pooling}}
                ),
                small_frame,
            )
        )
        assert {"beta_offset", "lambda_offset", "gamma_offset"} <= {v.name for v in plain.free_RVs}
        assert [p.name for p in plain.potentials] == ["worker_likelihood"]
    elif pooling == "none":
        assert {"beta_group", "log_lambda_group", "gamma_group"} <= free
        assert "sigma_beta" not in names
    else:
        assert not any(n.endswith("_offset") for n in free)
        assert free >= {"mu_beta", "log_lambda", "gamma"} and "beta_group" not in free


@pytest.mark.parametrize(
    ("effects", "present", "absent"),
    [
        ("within", {WORKER_LOGLIK}, {"mu_alpha", "sigma_alpha", "alpha_offset"}),
        ("random", {WORKER_LOGLIK, "mu_alpha", "sigma_alpha"}, {"psi", "alpha_offset"}),
        ("correlated", {WORKER_LOGLIK, "psi", "sigma_alpha"}, {"alpha_offset"}),
        ("none", {"mu_alpha"}, {WORKER_LOGLIK, "sigma_alpha"}),
    ],
)
def test_worker_effects_switch(
    small_frame: pd.DataFrame, effects: str, present: set, absent: set
) -> None:
    model = _build(small_frame, worker_effects=effects)
    names = _names(model)
    assert present <= names
    assert not (absent & names)
    if effects != "none":
        # Gaussian outcomes: no per-worker parameters, whatever the worker effects
        assert all(model.named_vars_to_dims.get(v.name, ()) != ("worker",) for v in model.free_RVs)
    if effects == "correlated":
        assert list(model.coords["mundlak_term"]) == ["mean_credentials", "mean_track_record_z"]


def test_student_t_uses_latent_noncentred_intercepts(small_frame: pd.DataFrame) -> None:
    model = _build(small_frame, outcome={"likelihood": "student_t"}, worker_effects="correlated")
    free = {v.name for v in model.free_RVs}
    assert {"nu", "alpha_offset", "psi"} <= free
    assert model.named_vars_to_dims["alpha_offset"] == ("worker",)


def test_count_likelihood_uses_latent_intercepts_without_sigma(small_frame: pd.DataFrame) -> None:
    model = _build(
        small_frame,
        outcome={"column": "n_projects", "likelihood": "negative_binomial"},
        worker_effects="correlated",
    )
    free = {v.name for v in model.free_RVs}
    assert {"phi", "alpha_offset", "psi", "sigma_alpha"} <= free
    assert "sigma" not in free and WORKER_LOGLIK not in _names(model)
    assert model.named_vars_to_dims["alpha_offset"] == ("worker",)


def test_period_effects_switch(small_frame: pd.DataFrame) -> None:
    assert "tau" in _names(_build(small_frame, period_effects=True))
    assert "tau" not in _names(_build(small_frame, period_effects=False))


def test_covariates_enter_with_named_dim(small_frame: pd.DataFrame) -> None:
    frame = small_frame.assign(hours=np.linspace(0, 1, len(small_frame)))
    model = _build(frame, covariates=["hours"])
    assert model.named_vars_to_dims["delta"] == ("covariate",)
    assert list(model.coords["covariate"]) == ["hours"]


def test_user_prior_overrides_the_default(small_frame: pd.DataFrame) -> None:
    model = bc.CredentialModel(
        bc.ModelSpec.from_dict(
            {"priors": {"mu_beta": {"dist": "normal", "mu": 3.0, "sigma": 0.01}}}
        )
    ).build(small_frame, plain=True)
    draws = pm.draw(model["mu_beta"], draws=200, random_seed=1)
    assert abs(draws.mean() - 3.0) < 0.01


def test_bad_data_raise_data_error_before_building(small_frame: pd.DataFrame) -> None:
    bad = small_frame.assign(track_record=-1.0)
    with pytest.raises(bc.DataError, match="track_record"):
        bc.CredentialModel().build(bad)


def test_fixed_scale_tau_prior_replaces_the_hierarchical_one(small_frame: pd.DataFrame) -> None:
    """linear_fe: period fixed effects (wide fixed-sd prior), no sigma_tau to shrink them."""
    model = bc.CredentialModel("linear_fe").build(small_frame)
    names = _names(model)
    assert "tau" in names and "sigma_tau" not in names
    draws = pm.draw(model["tau"], draws=2000, random_seed=2)
    assert draws.std() == pytest.approx(10.0 * np.sqrt(1 - 1 / draws.shape[1]), rel=0.05)
