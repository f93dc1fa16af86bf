"""Outcomes drawn from the model's own likelihoods (bayescred.model.outcomes): seeds,
errors, moments of each likelihood, and the linear predictor checked against hand-coded
formulas and against the model's design."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy import stats
from scipy.special import expit

import bayescred as bc
from bayescred.data.simulate import simulate
from bayescred.model.build import build_prior_model
from bayescred.model.design import ModelDesign
from bayescred.model.families import FAMILIES, get_family
from bayescred.model.make import make_design
from bayescred.model.outcomes import (
    OutcomeTruth,
    PartTruth,
    linear_predictor,
    simulate_outcome,
    track_record_z,
    true_next_effect,
    worker_means,
)

SKELETON = ["worker_id", "period", "group", "credentials", "track_record"]
BETA = {"A": 0.15, "B": 0.15, "C": 0.15, "D": 0.25}
PART = PartTruth(
    beta=BETA, lambda_=0.25, gamma=(-0.3, -0.2), mu_alpha=0.4, sigma_alpha=0.5, psi=(-0.2, 0.1)
)


@pytest.fixture(scope="module")
def skeleton() -> pd.DataFrame:
    """A small paper-style panel skeleton (about 1,000 rows)."""
    frame = simulate("paper", seed=4, n_workers=150, n_periods=8).frame[SKELETON]
    # shuffle the rows: nothing may rely on the frame being sorted
    return frame.sample(frac=1.0, random_state=0)


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    """2,000 workers x 10 periods = 20,000 rows built by hand (no simulator)."""
    rng = np.random.default_rng(0)
    workers, periods = 2000, 10
    wid = np.repeat([f"w{i:05d}" for i in range(workers)], periods)
    gains = rng.random((workers, periods)) < 0.15
    cred = np.cumsum(gains, axis=1) - gains
    track = np.cumsum(rng.poisson(2.0, (workers, periods)), axis=1)
    return pd.DataFrame(
        {
            "worker_id": wid,
            "period": np.tile(np.arange(1, periods + 1), workers),
            "group": np.repeat(rng.choice(list("ABCD"), workers), periods),
            "credentials": cred.ravel(),
            "track_record": track.ravel(),
        }
    )


def _flat(mu_alpha: float, sigma_alpha: float = 1e-8) -> PartTruth:
    """No credential effect, (almost) no worker heterogeneity."""
    return PartTruth(
        beta=dict.fromkeys("ABCD", 0.0), lambda_=0.3, mu_alpha=mu_alpha, sigma_alpha=sigma_alpha
    )


# --------------------------------------------------------------------------- reproducibility


@pytest.mark.parametrize(
    "truth",
    [
        OutcomeTruth("poisson", PART),
        OutcomeTruth("negative_binomial", PART, phi=2.0),
        OutcomeTruth("bernoulli", PART),
        OutcomeTruth("normal", PART, sigma=0.5),
        OutcomeTruth("hurdle_lognormal", PART, extensive=PART, sigma=0.5),
    ],
    ids=lambda t: t.likelihood,
)
def test_same_seed_same_outcome(skeleton: pd.DataFrame, truth: OutcomeTruth) -> None:
    a = simulate_outcome(skeleton, truth, seed=11)
    b = simulate_outcome(skeleton, truth, seed=11)
    c = simulate_outcome(skeleton, truth, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(a["y"].to_numpy(), c["y"].to_numpy())
    # a copy with the skeleton untouched
    pd.testing.assert_frame_equal(a[SKELETON], skeleton)
    assert "y" not in skeleton
    expected = np.float64 if truth.likelihood in ("normal", "hurdle_lognormal") else np.int64
    assert a["y"].dtype == expected


def test_column_name_and_other_columns_kept(skeleton: pd.DataFrame) -> None:
    frame = skeleton.assign(extra=1.5)
    out = simulate_outcome(frame, OutcomeTruth("poisson", PART), column="n", seed=1)
    assert list(out.columns) == [*frame.columns, "n"]
    assert (out["extra"] == 1.5).all()


def test_parts_use_separate_streams(skeleton: pd.DataFrame) -> None:
    """Changing the extensive part leaves the intensive draws where both are positive."""
    base = OutcomeTruth("hurdle_lognormal", PART, extensive=_flat(0.0, 0.5), sigma=0.4)
    shifted = dataclasses.replace(base, extensive=_flat(1.0, 0.8))
    y0 = simulate_outcome(skeleton, base, seed=3)["y"].to_numpy()
    y1 = simulate_outcome(skeleton, shifted, seed=3)["y"].to_numpy()
    both = (y0 > 0) & (y1 > 0)
    assert both.sum() > 100 and (y1 > 0).sum() > (y0 > 0).sum()
    np.testing.assert_array_equal(y0[both], y1[both])
    # and the worker draws do not depend on the parameters: normal residuals stay put
    t0 = OutcomeTruth("normal", PART, sigma=0.3)
    t1 = dataclasses.replace(t0, main=dataclasses.replace(PART, beta=dict.fromkeys("ABCD", 1.0)))
    r0 = simulate_outcome(skeleton, t0, seed=5)["y"] - linear_predictor(skeleton, PART)
    r1 = simulate_outcome(skeleton, t1, seed=5)["y"] - linear_predictor(skeleton, t1.main)
    np.testing.assert_allclose(r0, r1, atol=1e-12)


# --------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("truth", "match"),
    [
        (OutcomeTruth("hurdle_lognormal", PART, sigma=0.5), "extensive"),
        (OutcomeTruth("hurdle_lognormal", PART, extensive=PART), "sigma"),
        (OutcomeTruth("negative_binomial", PART), "phi"),
        (OutcomeTruth("negative_binomial", PART, phi=-1.0), "phi"),
        (OutcomeTruth("normal", PART), "sigma"),
        (OutcomeTruth("poisson", PART, phi=2.0), "phi is only used"),
        (OutcomeTruth("bernoulli", PART, extensive=PART), "only used by hurdle"),
        (OutcomeTruth("student_t", PART, sigma=1.0), "unknown likelihood"),  # type: ignore[arg-type]
        (OutcomeTruth("poisson", dataclasses.replace(PART, lambda_=0.0)), "lambda_"),
    ],
)
def test_invalid_truth_is_refused(skeleton: pd.DataFrame, truth: OutcomeTruth, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        simulate_outcome(skeleton, truth, seed=0)


def test_missing_column_is_refused(skeleton: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="'track_record'"):
        simulate_outcome(
            skeleton.drop(columns="track_record"), OutcomeTruth("poisson", PART), seed=0
        )
    with pytest.raises(ValueError, match="skeleton column"):
        simulate_outcome(skeleton, OutcomeTruth("poisson", PART), column="group", seed=0)


def test_group_without_beta_is_refused(skeleton: pd.DataFrame) -> None:
    part = dataclasses.replace(PART, beta={"A": 0.1, "B": 0.1})
    with pytest.raises(ValueError, match=r"main\.beta has no value for group\(s\) 'C', 'D'"):
        simulate_outcome(skeleton, OutcomeTruth("poisson", part), seed=0)
    with pytest.raises(ValueError, match=r"extensive\.beta .*'C', 'D'"):
        simulate_outcome(
            skeleton, OutcomeTruth("hurdle_lognormal", PART, extensive=part, sigma=1.0), seed=0
        )
    with pytest.raises(ValueError, match="'C', 'D'"):
        true_next_effect(skeleton, part)


# --------------------------------------------------------------------------------- moments


def test_poisson_mean(big: pd.DataFrame) -> None:
    y = simulate_outcome(big, OutcomeTruth("poisson", _flat(0.5)), seed=1)["y"].to_numpy()
    mu = np.exp(0.5)
    assert abs(y.mean() - mu) < 4 * np.sqrt(mu / y.size)
    assert abs(y.var() / mu - 1) < 0.06  # equidispersed


def test_bernoulli_mean(big: pd.DataFrame) -> None:
    y = simulate_outcome(big, OutcomeTruth("bernoulli", _flat(0.3)), seed=2)["y"].to_numpy()
    assert set(np.unique(y)) == {0, 1}
    p = expit(0.3)
    assert abs(y.mean() - p) < 4 * np.sqrt(p * (1 - p) / y.size)


def test_negative_binomial_variance(big: pd.DataFrame) -> None:
    phi = 2.0
    truth = OutcomeTruth("negative_binomial", _flat(0.5), phi=phi)
    y = simulate_outcome(big, truth, seed=3)["y"].to_numpy()
    mu = np.exp(0.5)
    var = mu + mu**2 / phi
    assert abs(y.mean() - mu) < 4 * np.sqrt(var / y.size)
    assert y.var() == pytest.approx(var, rel=0.08)


def test_normal_moments(big: pd.DataFrame) -> None:
    truth = OutcomeTruth("normal", _flat(1.0, 0.4), sigma=0.7)
    y = simulate_outcome(big, truth, seed=4)["y"].to_numpy()
    workers = big["worker_id"].nunique()
    assert abs(y.mean() - 1.0) < 4 * np.sqrt(0.4**2 / workers + 0.7**2 / y.size)
    assert y.std() == pytest.approx(np.hypot(0.4, 0.7), rel=0.03)


def test_hurdle_moments(big: pd.DataFrame) -> None:
    truth = OutcomeTruth("hurdle_lognormal", main=_flat(1.2, 0.3), extensive=_flat(0.6), sigma=0.5)
    y = simulate_outcome(big, truth, seed=5)["y"].to_numpy()
    assert y.dtype == np.float64 and y.min() == 0.0
    p = expit(0.6)
    zero = (y == 0).mean()
    assert abs(zero - (1 - p)) < 4 * np.sqrt(p * (1 - p) / y.size)
    logs = np.log(y[y > 0])
    workers = big["worker_id"].nunique()
    assert abs(logs.mean() - 1.2) < 4 * np.sqrt(0.3**2 / workers + 0.5**2 / logs.size)
    assert logs.std() == pytest.approx(np.hypot(0.5, 0.3), rel=0.03)


# ---------------------------------------------------------------------- the predictor itself


def _by_hand(frame: pd.DataFrame, part: PartTruth, e: pd.Series | None = None) -> np.ndarray:
    """eta from the written-out formulas (no bayescred helper); ``e`` by worker_id, None = 0."""
    logr = np.log(1.0 + frame["track_record"].to_numpy(dtype=float))
    z = (logr - np.log(1.0 + np.median(frame["track_record"]))) / logr.std()
    n = frame["credentials"].to_numpy(dtype=float)
    lam = part.lambda_
    s = (1.0 - np.exp(-lam * n)) / (1.0 - np.exp(-lam))
    m = np.exp(part.gamma[0] * z + part.gamma[1] * z**2)
    beta = frame["group"].map(part.beta).to_numpy(dtype=float)
    means = pd.DataFrame({"w": frame["worker_id"].to_numpy(), "n": n, "z": z}).groupby("w").mean()
    std = (means - means.mean()) / means.std(ddof=0)
    e_w = 0.0 if e is None else e.reindex(std.index)
    alpha = part.mu_alpha + part.psi[0] * std["n"] + part.psi[1] * std["z"] + part.sigma_alpha * e_w
    return alpha.reindex(frame["worker_id"]).to_numpy() + beta * s * m


def test_linear_predictor_matches_hand_formulas(skeleton: pd.DataFrame) -> None:
    labels = np.sort(skeleton["worker_id"].unique())
    e = np.random.default_rng(9).standard_normal(labels.size)
    got = linear_predictor(skeleton, PART, e)
    expected = _by_hand(skeleton, PART, pd.Series(e, index=labels))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(linear_predictor(skeleton, PART), _by_hand(skeleton, PART))
    # the credential term is not trivially zero on this skeleton
    no_effect = dataclasses.replace(PART, beta=dict.fromkeys(BETA, 0.0))
    assert np.ptp(got - linear_predictor(skeleton, no_effect, e)) > 0.1
    with pytest.raises(ValueError, match="one value per worker"):
        linear_predictor(skeleton, PART, e[:-1])


def test_simulated_normal_outcome_is_the_predictor(skeleton: pd.DataFrame) -> None:
    """With sigma = 0 the normal outcome is eta; the worker draws are one N(0,1) per worker."""
    flat = dataclasses.replace(PART, sigma_alpha=0.0)
    y0 = simulate_outcome(skeleton, OutcomeTruth("normal", flat, sigma=0.0), seed=8)["y"]
    np.testing.assert_allclose(y0, _by_hand(skeleton, flat), atol=1e-12)
    wide = dataclasses.replace(PART, sigma_alpha=2.0)
    y = simulate_outcome(skeleton, OutcomeTruth("normal", wide, sigma=0.0), seed=8)["y"]
    dev = (y - y0).groupby(skeleton["worker_id"])
    assert (dev.max() - dev.min()).max() < 1e-12  # one intercept per worker
    e = dev.mean() / 2.0
    np.testing.assert_allclose(y, _by_hand(skeleton, wide, e), atol=1e-12)
    assert abs(e.mean()) < 0.3 and e.std() == pytest.approx(1.0, abs=0.2)


def test_standardisation_is_the_models(skeleton: pd.DataFrame) -> None:
    """z and the Mundlak worker means are those make_design computes for correlated effects."""
    frame = simulate_outcome(skeleton, OutcomeTruth("poisson", PART), seed=1)
    spec = bc.ModelSpec().with_changes(
        outcome={"column": "y", "likelihood": "poisson", "kind": "count"},
        worker_effects="correlated",
        period_effects=False,
    )
    design = make_design(spec, frame)
    panel = design.panel
    assert panel.n_rows == len(frame)
    w = worker_means(skeleton)
    assert design.mundlak_names == tuple(w.columns)
    assert list(panel.worker_labels) == list(w.index)
    np.testing.assert_allclose(design.mundlak_matrix(), w.to_numpy(), rtol=1e-10, atol=1e-12)
    z = pd.Series(
        track_record_z(skeleton),
        index=pd.MultiIndex.from_frame(skeleton[["worker_id", "period"]]),
    )
    keys = pd.MultiIndex.from_arrays(
        [panel.worker_labels[panel.worker_codes], panel.period_labels[panel.period_codes]]
    )
    np.testing.assert_allclose(design.z, z.reindex(keys).to_numpy(), rtol=1e-12)


def test_true_next_effect(skeleton: pd.DataFrame) -> None:
    got = true_next_effect(skeleton, PART)
    n = skeleton["credentials"].to_numpy(dtype=float)
    lam, (g1, g2) = PART.lambda_, PART.gamma

    def curve(k: np.ndarray) -> np.ndarray:
        return (1.0 - np.exp(-lam * k)) / (1.0 - np.exp(-lam))

    logr = np.log1p(skeleton["track_record"].to_numpy(dtype=float))
    z = (logr - np.log1p(np.median(skeleton["track_record"]))) / np.std(logr)
    beta = skeleton["group"].map(BETA).to_numpy(dtype=float)
    expected = beta * (curve(n + 1) - curve(n)) * np.exp(g1 * z + g2 * z**2)
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert np.all(got[n == 0] == beta[n == 0] * np.exp(g1 * z + g2 * z**2)[n == 0])
    # one more credential for everyone moves eta by exactly this (the standardised worker
    # means do not move when every worker's mean shifts by one)
    plus = skeleton.assign(credentials=skeleton["credentials"] + 1)
    np.testing.assert_allclose(
        _by_hand(plus, PART) - _by_hand(skeleton, PART), expected, atol=1e-12
    )


def _true_point(
    model: pm.Model, design: ModelDesign, part: PartTruth, e: np.ndarray, prefix: str = ""
) -> dict[str, np.ndarray]:
    """The model's unconstrained point at the true parameters (worker draws ``e``)."""
    labels = list(design.panel.group_labels)
    beta = np.array([part.beta[g] for g in labels])
    values = {
        "mu_beta": beta.mean(),
        "sigma_beta_log__": 0.0,
        "beta_offset": beta - beta.mean(),
        "log_lambda": np.log(part.lambda_),
        "sigma_log_lambda_log__": 0.0,
        "lambda_offset": np.zeros(len(labels)),
        "gamma": np.asarray(part.gamma),
        "mu_alpha": part.mu_alpha,
        "psi": np.asarray(part.psi),
        "sigma_alpha_log__": np.log(part.sigma_alpha),
        "alpha_offset": e,
    }
    start = model.initial_point()
    point = {k: np.asarray(v, dtype=start[k].dtype) for k, v in start.items()}
    for name, value in values.items():
        if prefix + name in point:
            point[prefix + name] = np.asarray(value, dtype=point[prefix + name].dtype)
    return point


@pytest.mark.parametrize("likelihood", ["poisson", "negative_binomial", "bernoulli", "hurdle"])
def test_model_likelihood_at_the_truth_matches_scipy(
    skeleton: pd.DataFrame, likelihood: str
) -> None:
    """The PyMC model's log-likelihood at the true parameters equals scipy's log density of
    the outcomes under this module's predictor: the two compute the same eta."""
    e = np.random.default_rng(9).standard_normal(skeleton["worker_id"].nunique())
    part = PART
    if likelihood == "hurdle":
        truth = OutcomeTruth("hurdle_lognormal", main=PART, extensive=PART, sigma=0.8)
        kind, column, observed, prefix = "nonnegative", "earnings", "ext_outcome", "ext_"
    else:
        phi = 2.0 if likelihood == "negative_binomial" else None
        truth = OutcomeTruth(likelihood, main=PART, phi=phi)  # type: ignore[arg-type]
        kind = "binary" if likelihood == "bernoulli" else "count"
        column, observed, prefix = "y", "outcome", ""
    frame = simulate_outcome(skeleton, truth, column=column, seed=2)
    spec = bc.ModelSpec().with_changes(
        outcome={"column": column, "likelihood": truth.likelihood, "kind": kind},
        worker_effects="correlated",
        period_effects=False,
    )
    design = make_design(spec, frame)
    model = build_prior_model(design)  # non-centred: the point sets offsets
    point = _true_point(model, design, part, e, prefix)
    if likelihood == "negative_binomial":
        point["phi_log__"] = np.asarray(np.log(2.0))
    got = model.compile_logp(vars=[model[observed]], sum=True)(point)
    order = frame.sort_values(["worker_id", "period"])  # the design's row order
    eta = linear_predictor(order, part, e)
    y = order[column].to_numpy(float)
    if likelihood == "poisson":
        want = stats.poisson.logpmf(y, np.exp(eta)).sum()
    elif likelihood == "negative_binomial":
        want = stats.nbinom.logpmf(y, 2.0, 2.0 / (2.0 + np.exp(eta))).sum()
    else:
        binary = y > 0
        want = stats.bernoulli.logpmf(binary, expit(eta)).sum()
    assert got == pytest.approx(want, rel=1e-9)


# ------------------------------------------------------------------ the families draw the outcome


def test_part_families_are_those_of_the_models_parts(skeleton: pd.DataFrame) -> None:
    """``Family.part_families`` (no design) names the parts and families ``parts`` builds."""
    truth = OutcomeTruth("hurdle_lognormal", PART, extensive=PART, sigma=0.5)
    frame = simulate_outcome(skeleton, truth, column="earnings", seed=1)
    for likelihood, column, kind in [
        ("hurdle_lognormal", "earnings", "nonnegative"),
        ("normal", "y", "real"),
    ]:
        spec = bc.ModelSpec().with_changes(
            outcome={"column": column, "likelihood": likelihood, "kind": kind},
            worker_effects="correlated",
            period_effects=False,
        )
        design = make_design(spec, frame.assign(y=np.log1p(frame["earnings"])))
        family = get_family(likelihood)
        built = [(part.name, part.family) for part in family.parts(design)]
        assert built == list(family.part_families())


def test_hurdle_draw_parts_combines_each_parts_draw() -> None:
    """Zeros where the extensive part draws 0, the positive family's draw elsewhere; every
    count family is integer-valued."""
    family = get_family("hurdle_negative_binomial")
    eta = {"extensive": np.array([-30.0, 30.0, 30.0]), "intensive": np.array([0.5, 0.5, 3.0])}
    params = {"extensive": {}, "intensive": {"phi": 2.0}}
    rng = {name: np.random.default_rng(i) for i, name in enumerate(eta)}
    y = family.draw_parts(eta, params, rng)
    assert y[0] == 0.0 and (y[1:] >= 1).all() and (y == np.round(y)).all()
    integer = {name for name, f in FAMILIES.items() if f.integer_valued}
    assert integer == {"poisson", "negative_binomial", "bernoulli", "hurdle_negative_binomial"}
