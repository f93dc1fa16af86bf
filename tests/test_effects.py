"""Effects for profiles, averages, saturation and peak, checked against brute-force formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest

import bayescred as bc
from bayescred.analysis.predictor import mean_without_intercepts
from bayescred.maths.worker_likelihoods import within_loglik
from bayescred.model.build import build_model
from bayescred.model.predictor import WORKER_LOGLIK


def _flat(fit: bc.CredentialFit, name: str) -> np.ndarray:
    v = fit.posterior[name].values
    return v.reshape(-1, *v.shape[2:])


def _brute_next(
    fit: bc.CredentialFit, group: str, n: int, r: float, to: int | None = None
) -> np.ndarray:
    """beta_g (S(m) - S(n)) M(z) written out for the geometric/log-quadratic default."""
    g = list(fit.posterior["group"].values).index(group)
    beta = _flat(fit, "beta_group")[:, g]
    lam = _flat(fit, "lambda_group")[:, g]
    gamma = _flat(fit, "gamma_group")[:, g, :]
    scale = fit.design.track_scale
    z = (np.log(1 + r) - np.log(1 + scale.reference)) / scale.scale
    m = n + 1 if to is None else to

    def s(k: int) -> np.ndarray:
        return sum(np.exp(-lam * j) for j in range(k)) if k else np.zeros_like(lam)

    return beta * (s(m) - s(n)) * np.exp(gamma[:, 0] * z + gamma[:, 1] * z**2)


def test_next_credential_effect_matches_brute_force(tiny_fit: bc.CredentialFit) -> None:
    res = tiny_fit.effect(group="B", credentials=3, track_record=25.0)
    expected = _brute_next(tiny_fit, "B", 3, 25.0)
    np.testing.assert_allclose(res.draws.values.reshape(-1), expected, rtol=1e-10, atol=1e-15)
    row = res.table.iloc[0]
    assert row["mean"] == pytest.approx(expected.mean())
    assert row["median"] == pytest.approx(np.median(expected))
    assert row["prob_positive"] == pytest.approx((expected > 0).mean())
    assert row["hdi_low"] <= row["median"] <= row["hdi_high"]
    # log project value: percentage gains are exp(effect) - 1 of each draw
    np.testing.assert_allclose(res.percent.values.reshape(-1), 100 * np.expm1(expected))
    assert res.draws.dims == ("chain", "draw", "profile")
    assert "B" in res.sentence() and "%" in res.sentence()


def test_effect_from_n_to_m_is_additive(tiny_fit: bc.CredentialFit) -> None:
    two = tiny_fit.effect(group="A", credentials=1, track_record=5.0, to=3).draws.values
    a = tiny_fit.effect(group="A", credentials=1, track_record=5.0).draws.values
    b = tiny_fit.effect(group="A", credentials=2, track_record=5.0).draws.values
    np.testing.assert_allclose(two, a + b, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(
        two.reshape(-1), _brute_next(tiny_fit, "A", 1, 5.0, to=3), rtol=1e-10, atol=1e-15
    )


def test_profiles_frame_gives_one_row_per_profile(tiny_fit: bc.CredentialFit) -> None:
    profiles = pd.DataFrame(
        {"group": ["A", "D", "D"], "credentials": [0, 0, 8], "track_record": [0.0, 20.0, 20.0]}
    )
    res = tiny_fit.effect(profiles=profiles)
    assert len(res.table) == 3 and res.draws.sizes["profile"] == 3
    for i, row in profiles.iterrows():
        np.testing.assert_allclose(
            res.draws.isel(profile=i).values.reshape(-1),
            _brute_next(tiny_fit, row["group"], int(row["credentials"]), row["track_record"]),
            rtol=1e-10,
            atol=1e-15,
        )


def test_unseen_group_is_refused_unless_population_is_asked_for(tiny_fit: bc.CredentialFit) -> None:
    with pytest.raises(ValueError, match="new_group='population'"):
        tiny_fit.effect(group="Mars", credentials=0, track_record=10.0)
    a = tiny_fit.effect(
        group="Mars", credentials=0, track_record=10.0, new_group="population", random_seed=4
    )
    b = tiny_fit.effect(
        group="Mars", credentials=0, track_record=10.0, new_group="population", random_seed=4
    )
    assert a.table.loc[0, "parameters_from"] == "population distribution"
    np.testing.assert_array_equal(a.draws.values, b.draws.values)
    # the new group's first-credential effect at M = 1 is mu_beta + sigma_beta * N(0, 1)
    at_ref = tiny_fit.effect(
        group="Mars",
        credentials=0,
        track_record=tiny_fit.design.track_scale.reference,
        new_group="population",
        random_seed=5,
    ).draws.values.reshape(-1)
    mu, sd = _flat(tiny_fit, "mu_beta"), _flat(tiny_fit, "sigma_beta")
    z = (at_ref - mu) / sd
    assert abs(z.mean()) < 0.15 and z.std() == pytest.approx(1.0, abs=0.12)
    known = tiny_fit.effect(group="A", credentials=0, track_record=10.0, new_group="population")
    assert known.table.loc[0, "parameters_from"] == "group posterior"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"group": "A", "credentials": -1, "track_record": 1.0}, "whole number"),
        ({"group": "A", "credentials": 1.5, "track_record": 1.0}, "whole number"),
        ({"group": "A", "credentials": 1, "track_record": -3.0}, "track_record"),
        ({"group": "A", "credentials": 1}, "needs group=, credentials= and track_record="),
        (
            {"group": "A", "credentials": 1, "track_record": 1.0, "covariates": {"hours": 3.0}},
            "unknown profile field",
        ),
    ],
)
def test_bad_profiles_raise_clear_errors(
    tiny_fit: bc.CredentialFit, kwargs: dict, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        tiny_fit.effect(**kwargs)


def test_average_effect_is_the_per_draw_mean_over_rows(tiny_fit: bc.CredentialFit) -> None:
    p = tiny_fit.design.panel
    beta = _flat(tiny_fit, "beta_group")[:, p.group_codes]
    lam = _flat(tiny_fit, "lambda_group")[:, p.group_codes]
    gamma = _flat(tiny_fit, "gamma_group")[:, p.group_codes, :]
    z = tiny_fit.design.z
    per_row = beta * np.exp(-lam * p.credentials) * np.exp(gamma[..., 0] * z + gamma[..., 1] * z**2)
    table = tiny_fit.average_effect().table
    assert table.loc[0, "mean"] == pytest.approx(per_row.mean(axis=1).mean())
    assert table.loc[0, "median"] == pytest.approx(np.median(per_row.mean(axis=1)))
    assert table.loc[0, "pct_mean"] == pytest.approx((100 * np.expm1(per_row)).mean(axis=1).mean())
    by = tiny_fit.average_effect(by="group").table.set_index("scope")
    for code, label in enumerate(p.group_labels):
        assert by.loc[label, "mean"] == pytest.approx(
            per_row[:, p.group_codes == code].mean(axis=1).mean()
        )
        assert by.loc[label, "rows"] == int((p.group_codes == code).sum())


def test_saturation_point_matches_closed_form(tiny_fit: bc.CredentialFit) -> None:
    """Geometric curve at M = 1: next effect beta exp(-lambda n) < t from n* = ceil(log(beta/t)/lambda)."""
    t = 0.01
    table = tiny_fit.saturation_point(threshold=t, max_credentials=400).set_index("scope")
    beta, lam = _flat(tiny_fit, "mu_beta"), _flat(tiny_fit, "lambda")
    n_star = np.where(beta < t, 0, np.floor(np.log(np.maximum(beta / t, 1e-300)) / lam) + 1)
    ok = n_star <= 400
    assert table.loc["population", "prob_saturates"] == pytest.approx(ok.mean())
    assert table.loc["population", "median"] == pytest.approx(np.median(n_star[ok]))
    assert set(table.index) == {"population", *map(str, tiny_fit.posterior["group"].values)}


def test_peak_track_record_matches_grid_maximum(tiny_fit: bc.CredentialFit) -> None:
    table = tiny_fit.peak_track_record()
    assert list(table["scope"]) == ["population"]  # gamma is pooled completely by default
    g = _flat(tiny_fit, "gamma")
    scale = tiny_fit.design.track_scale
    r = tiny_fit.design.panel.track_record
    grid = np.linspace(r.min(), r.max(), 20001)
    z = scale.z(grid)
    best = grid[np.argmax(g[:, :1] * z + g[:, 1:] * z**2, axis=1)]
    interior = (g[:, 1] < 0) & (best > grid[1]) & (best < grid[-2])
    assert table.loc[0, "prob_interior_peak"] == pytest.approx(interior.mean(), abs=0.01)
    if interior.mean() >= 0.5:
        assert table.loc[0, "median"] == pytest.approx(np.median(best[interior]), rel=0.02)
        assert "peaks at a track record" in table.loc[0, "statement"]


def test_numpy_predictor_matches_the_pymc_model(tiny_fit: bc.CredentialFit) -> None:
    """The NumPy linear predictor used for effects and checks agrees with the PyMC graph."""
    design = tiny_fit.design
    model = build_model(design)
    sub = tiny_fit.posterior.isel(chain=[0], draw=slice(0, 5))
    ll = pm.compute_deterministics(sub, var_names=[WORKER_LOGLIK], model=model, progressbar=False)
    p = design.panel
    m = mean_without_intercepts(sub, design, np.arange(5), slice(None))
    counts = p.periods_per_worker().astype(float)
    sigma = sub["sigma"].values.reshape(-1)
    for i in range(5):
        mine = within_loglik(np, p.y - m[i], p.worker_codes, counts, sigma[i])
        np.testing.assert_allclose(mine, ll[WORKER_LOGLIK].values[0, i], rtol=1e-9, atol=1e-9)


def test_average_effect_does_not_depend_on_the_chunking(tiny_fit: bc.CredentialFit) -> None:
    """Rows are averaged in chunks sized to the draws (bounded memory); any chunking gives the
    same numbers."""
    from bayescred.analysis import effects
    from bayescred.analysis.average_effects import average_effect

    args = (tiny_fit.posterior, tiny_fit.design)
    default = average_effect(*args, by="group").table
    tiny = average_effect(*args, by="group", chunk_rows=7).table
    cols = ["mean", "median", "hdi_low", "hdi_high", "prob_positive", "pct_mean"]
    np.testing.assert_allclose(default[cols], tiny[cols], rtol=1e-12, atol=1e-14)
    assert effects.rows_per_chunk(4000) == 250 and effects.rows_per_chunk(10**9) == 1
