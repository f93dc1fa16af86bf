"""The hurdle (two-part) earnings model: spec, parts, model structure, effects split by margin,
predictive checks and log-likelihood, each checked against an independent computation."""

from __future__ import annotations

import warnings
from types import SimpleNamespace
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from scipy import integrate
from scipy.special import expit

import bayescred as bc
from bayescred.analysis.hurdle_effects import hurdle_profile_effects
from bayescred.analysis.replicate import TwoPartReplicator
from bayescred.data.simulate import simulate
from bayescred.maths.quadrature import marginal_probability
from bayescred.model.build import build_model, build_prior_model
from bayescred.model.design import ModelDesign
from bayescred.model.families import family_of
from bayescred.model.make import make_design
from bayescred.model.parts import EXTENSIVE, POSITIVE


def hurdle_parts(design: ModelDesign) -> SimpleNamespace:
    """The two parts' designs and the mask of the intensive part's rows."""
    ext, pos = family_of(design).parts(design)
    return SimpleNamespace(extensive=ext.design, intensive=pos.design, positive=pos.rows)


def part_posterior(posterior: xr.Dataset, which: str) -> xr.Dataset:
    if which == "extensive":
        return EXTENSIVE.view(posterior)
    return POSITIVE.view(posterior, others=(EXTENSIVE,))


def family_of_spec(spec: bc.ModelSpec) -> Any:
    from bayescred.model.families import get_family

    return get_family(spec.outcome.likelihood)


def _spec(**changes: Any) -> bc.ModelSpec:
    return bc.load_spec("hurdle_earnings").with_changes(**changes)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return simulate("paper", seed=3, n_workers=150, n_periods=8).frame


# ----------------------------------------------------------------------------------- spec
def test_worker_effects_default_follows_the_likelihood() -> None:
    assert bc.ModelSpec().worker_effects == "within"
    for likelihood in ("hurdle_lognormal", "poisson", "negative_binomial", "bernoulli"):
        spec = bc.ModelSpec(outcome={"column": "earnings", "likelihood": likelihood})
        assert spec.worker_effects == "correlated"
        # changing the likelihood of a spec that kept the default keeps following it
        assert bc.ModelSpec().with_changes(outcome={"likelihood": likelihood}).worker_effects == (
            "correlated"
        )
    # an explicit choice is kept
    spec = bc.ModelSpec(worker_effects="random").with_changes(outcome={"likelihood": "poisson"})
    assert spec.worker_effects == "random"


def test_extensive_section_belongs_to_hurdles_and_checks_its_priors() -> None:
    with pytest.raises(bc.SpecError, match=r"\[extensive\].*hurdle_lognormal"):
        bc.ModelSpec.from_dict({"extensive": {"curve": "linear"}})
    with pytest.raises(bc.SpecError, match="unknown extensive prior 'sigma'"):
        _spec(extensive={"priors": {"sigma": {"dist": "half_normal", "sigma": 1.0}}})
    with pytest.raises(bc.SpecError, match="unknown key 'curv'.*allowed keys: curve"):
        bc.ModelSpec.from_dict(
            {"outcome": {"likelihood": "hurdle_lognormal"}, "extensive": {"curv": "linear"}}
        )


def test_bundled_spec_round_trips_and_defaults_the_extensive_part() -> None:
    spec = bc.load_spec("hurdle_earnings")
    assert family_of_spec(spec).margins and spec.outcome.column == "earnings"
    assert spec.extensive is not None and spec.extensive.pooling.lambda_ == "complete"
    assert bc.ModelSpec.from_toml_string(spec.to_toml_string()) == spec
    bare = bc.ModelSpec(outcome={"column": "earnings", "likelihood": "hurdle_lognormal"})
    assert bare.extensive is None
    assert bare.extensive_effect.curve == bare.effect.curve
    assert bare.extensive_effect.modifier == bare.effect.modifier


# --------------------------------------------------------------------------- design, parts
def test_priors_of_each_part_on_its_own_scale(frame: pd.DataFrame) -> None:
    spec = _spec(
        extensive={"priors": {"mu_beta": {"dist": "normal", "mu": 0.1, "sigma": 0.2}}},
        priors={"sigma": {"dist": "half_normal", "sigma": 3.0}},
    )
    pr = make_design(spec, frame).priors
    log_amount = np.log(frame.loc[frame["earnings"] > 0, "earnings"])
    share = float((frame["earnings"] > 0).mean())
    assert pr["mu_alpha"].mu == pytest.approx(log_amount.mean())
    assert pr["mu_beta"].sigma == pytest.approx(0.5 * log_amount.std(ddof=0))
    assert pr["sigma"].sigma == 3.0  # [priors] applies to the amount part
    assert pr["ext_mu_alpha"].mu == pytest.approx(np.log(share / (1 - share)))
    assert pr["ext_mu_beta"].parameters() == {"mu": 0.1, "sigma": 0.2}  # [extensive.priors]
    assert pr["ext_sigma_alpha"].sigma == 1.0  # unit logit scale
    assert "ext_sigma" not in pr and "ext_nu" not in pr


@pytest.mark.parametrize(
    ("values", "message"), [((1.0, 2.0), "no zeros"), ((0.0, 0.0), "no positive")]
)
def test_outcome_needs_zeros_and_amounts(
    frame: pd.DataFrame, values: tuple[float, float], message: str
) -> None:
    bad = frame.assign(earnings=np.where(frame.index % 2 == 0, *values))
    with pytest.raises(bc.SpecError, match=message):
        make_design(_spec(), bad)


def test_parts_split_rows_and_compute_their_own_worker_means(frame: pd.DataFrame) -> None:
    design = make_design(_spec(), frame)
    parts = hurdle_parts(design)
    y = design.panel.y
    np.testing.assert_array_equal(parts.extensive.panel.y, (y > 0).astype(float))
    assert parts.extensive.panel.n_rows == design.panel.n_rows
    np.testing.assert_allclose(parts.intensive.panel.y, np.log(y[y > 0]))
    assert parts.intensive.spec.outcome.likelihood == "normal"
    assert parts.extensive.spec.outcome.likelihood == "bernoulli"
    assert parts.extensive.spec.effect.pooling.lambda_ == "complete"  # from [extensive]
    # Mundlak means of the intensive part: over each worker's positive rows, by pandas
    used = design.panel.frame  # the rows and the track record the model reads
    pos = used[used["earnings"] > 0].copy()
    pos["z"] = design.track_scale.z(pos["track_record"].to_numpy(float))
    means = pos.groupby("worker_id")[["credentials", "z"]].mean()
    expected = (means - means.mean()) / means.std(ddof=0)
    np.testing.assert_allclose(parts.intensive.mundlak_matrix(), expected.to_numpy(), atol=1e-10)
    assert list(parts.intensive.panel.worker_labels) == list(means.index)


# ----------------------------------------------------------------------------------- model
@pytest.mark.parametrize("amount_effects", ["correlated", "within"])
def test_model_is_the_product_of_its_parts(frame: pd.DataFrame, amount_effects: str) -> None:
    """log p(hurdle) at a point = log p(extensive model) + log p(intensive model), with the
    amount part's intercepts correlated or (``within``, the logit part's still correlated)
    flat and integrated out: no amount intercept parameter at all."""
    spec = _spec(
        extensive={"curve": "linear", "modifier": "log_linear"}, worker_effects=amount_effects
    )
    design = make_design(spec, frame)
    model = build_model(design)
    names = {v.name for v in model.free_RVs}
    # population means, group effects and logit intercepts in the sampler's whitened coordinates
    assert {"ext_mu_beta_whitened", "ext_alpha_whitened", "ext_psi", "mu_beta_whitened"} <= names
    assert "sigma" in names
    amount_intercepts = {"mu_alpha", "sigma_alpha", "psi"}
    if amount_effects == "within":
        assert not (amount_intercepts | {"alpha_offset"}) & names
    else:
        assert amount_intercepts <= names
    assert "ext_log_lambda" not in names  # the extensive curve is linear
    assert model.named_vars_to_dims["ext_gamma"] == ("ext_gamma_term",)
    assert model.named_vars_to_dims["gamma"] == ("gamma_term",)
    assert model.named_vars_to_dims["ext_outcome"] == ("obs",)
    assert model.named_vars_to_dims["worker_loglik"] == ("worker_positive",)
    parts = hurdle_parts(design)
    ext_model, int_model = build_model(parts.extensive), build_model(parts.intensive)
    point = model.initial_point()
    rng = np.random.default_rng(0)
    point = {k: v + 0.1 * rng.standard_normal(np.shape(v)) for k, v in point.items()}
    ext_point = {k[4:]: v for k, v in point.items() if k.startswith("ext_")}
    int_point = {k: v for k, v in point.items() if not k.startswith("ext_")}
    joint = model.compile_logp()(point)
    assert np.isfinite(joint)
    assert joint == pytest.approx(
        ext_model.compile_logp()(ext_point) + int_model.compile_logp()(int_point), rel=1e-10
    )


@pytest.mark.parametrize(
    ("effects", "present", "absent"),
    [
        ("random", {"ext_alpha_whitened", "ext_sigma_alpha", "sigma_alpha"}, {"psi", "ext_psi"}),
        ("none", {"ext_mu_alpha", "mu_alpha"}, {"ext_alpha_whitened", "sigma_alpha"}),
    ],
)
def test_other_worker_effects(
    frame: pd.DataFrame, effects: str, present: set[str], absent: set[str]
) -> None:
    model = build_model(make_design(_spec(worker_effects=effects), frame))
    names = {v.name for v in model.free_RVs}
    assert present <= names and not absent & names
    # without worker effects the amount part has no closed form: a normal on positive rows
    assert ("outcome" in model.named_vars) == (effects == "none")
    if effects == "none":
        assert model.named_vars_to_dims["outcome"] == ("obs_positive",)
    assert np.isfinite(model.compile_logp()(model.initial_point()))


# --------------------------------------------------------------------------------- effects
def test_marginal_probability_matches_numerical_integration() -> None:
    level = np.array([[-2.0, 0.3, 1.5], [0.0, 4.0, -0.7]])
    sa = np.array([0.8, 2.0])
    got = marginal_probability(level, sa)
    for d in range(2):
        for i in range(3):
            want, _ = integrate.quad(
                lambda u, d=d, i=i: (
                    expit(level[d, i] + sa[d] * u) * np.exp(-(u**2) / 2) / np.sqrt(2 * np.pi)
                ),
                -12,
                12,
            )
            assert got[d, i] == pytest.approx(want, abs=1e-8)
    np.testing.assert_allclose(marginal_probability(level, None), expit(level))


@pytest.fixture(scope="module")
def prior_posterior(frame: pd.DataFrame) -> tuple[Any, xr.Dataset]:
    """Prior draws of every hurdle parameter, used as a posterior with known values (with a
    track-record modifier in both parts, so the brute force covers it)."""
    spec = _spec(covariates=())
    extensive = spec.extensive_effect.model_dump(by_alias=True) | {"modifier": "log_quadratic"}
    design = make_design(spec.with_changes(extensive=extensive), frame)
    model = build_prior_model(design)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The effect of Potentials")
        tree = pm.sample_prior_predictive(draws=40, model=model, random_seed=4)
    return design, tree["prior"].to_dataset()


def _brute_profile(
    design: Any, post: xr.Dataset, group: str, n: int, r: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log changes (extensive, intensive) and the currency gain, written out draw by draw."""
    g = list(post["group"].values).index(group)
    z = (np.log1p(r) - np.log1p(design.track_scale.reference)) / design.track_scale.scale
    parts = hurdle_parts(design)

    def flat(name: str) -> np.ndarray:
        v = post[name].values
        return v.reshape(-1, *v.shape[2:])

    def term(prefix: str, k: int, pooled_lambda: bool) -> np.ndarray:
        lam = flat(prefix + "lambda_group")[:, 0 if pooled_lambda else g]
        s = (1 - np.exp(-lam * k)) / (1 - np.exp(-lam))
        beta = flat(prefix + "beta_group")[:, g]
        if prefix + "gamma_group" not in post:  # no modifier in this part: M = 1
            return beta * s
        gam = flat(prefix + "gamma_group")[:, g, :]
        return beta * s * np.exp(gam[:, 0] * z + gam[:, 1] * z**2)

    def level(prefix: str, part: Any) -> np.ndarray:
        w = (np.array([n, z]) - np.array(part.mundlak_center)) / np.array(part.mundlak_scale)
        return flat(prefix + "mu_alpha") + flat(prefix + "psi") @ w

    out = []
    # the intercepts' normal average by a dense trapezoid rule (not the package's Gauss-Hermite)
    u = np.linspace(-12.0, 12.0, 48_001)
    w = np.exp(-0.5 * u**2) / np.sqrt(2 * np.pi) * (u[1] - u[0])
    w[[0, -1]] /= 2
    for k in (n, n + 1):
        eta = level("ext_", parts.extensive) + term("ext_", k, True)
        sa = flat("ext_sigma_alpha")
        out.append(np.array([expit(e + s * u) @ w for e, s in zip(eta, sa, strict=True)]))
    p0, p1 = out
    d_int = term("", n + 1, False) - term("", n, False)
    log_v0 = (
        level("", parts.intensive)
        + term("", n, False)
        + flat("sigma") ** 2 / 2
        + flat("sigma_alpha") ** 2 / 2
    )
    v0, v1 = np.exp(log_v0), np.exp(log_v0 + d_int)
    return np.log(p1 / p0), d_int, p1 * v1 - p0 * v0


def test_profile_effect_split_matches_brute_force(prior_posterior: tuple[Any, xr.Dataset]) -> None:
    design, post = prior_posterior
    profiles = pd.DataFrame(
        {"group": ["B", "D"], "credentials": [2, 0], "track_record": [12.0, 0.0], "to": [3, 1]}
    )
    res = hurdle_profile_effects(post, design, profiles)
    assert res.margins is not None and res.margin_draws is not None
    md = res.margin_draws
    np.testing.assert_allclose(
        md.sel(margin="total"), md.sel(margin="extensive") + md.sel(margin="intensive")
    )
    for i, row in profiles.iterrows():
        ext, inten, gain = _brute_profile(
            design, post, row["group"], int(row["credentials"]), float(row["track_record"])
        )
        got = md.isel(profile=i).values.reshape(-1, 3)
        np.testing.assert_allclose(got[:, 1], ext, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(got[:, 2], inten, rtol=1e-10, atol=1e-12)
        m = res.margins[res.margins["profile"] == i].set_index("margin")
        assert m.loc["total", "gain_mean"] == pytest.approx(gain.mean(), rel=5e-3)
        # the currency split adds up exactly, draw by draw, so its means do too
        assert m.loc["total", "gain_mean"] == pytest.approx(
            m.loc["extensive", "gain_mean"] + m.loc["intensive", "gain_mean"], rel=1e-9
        )
        assert res.table.loc[i, "mean"] == pytest.approx(m.loc["total", "mean"])
    assert list(res.margins["margin"][:3]) == ["total", "extensive", "intensive"]


def test_extensive_margin_is_zero_without_an_extensive_effect(
    prior_posterior: tuple[Any, xr.Dataset],
) -> None:
    design, post = prior_posterior
    post = post.assign(ext_beta_group=post["ext_beta_group"] * 0.0)
    res = hurdle_profile_effects(
        post,
        design,
        pd.DataFrame({"group": ["A"], "credentials": [1], "track_record": [4.0], "to": [2]}),
    )
    np.testing.assert_allclose(res.margin_draws.sel(margin="extensive"), 0.0, atol=1e-12)
    pct = res.margins.set_index("margin")["pct_mean"]
    assert pct["total"] == pytest.approx(pct["intensive"])


def test_replicates_reproduce_zero_share_and_amounts(frame: pd.DataFrame) -> None:
    """With no credential effect and no intercept spread the replicates follow the two parts."""
    spec = _spec(worker_effects="none", period_effects=False)
    design = make_design(spec, frame)
    groups = list(design.panel.group_labels)
    zeros = np.zeros((1, 1, len(groups)))
    gamma = np.zeros((1, 1, len(groups), 2))
    data: dict[str, Any] = {}
    for prefix, mu in (("ext_", 0.8), ("", 2.5)):
        data[prefix + "beta_group"] = (("chain", "draw", "group"), zeros)
        data[prefix + "lambda_group"] = (("chain", "draw", "group"), zeros + 0.3)
        data[prefix + "gamma_group"] = (("chain", "draw", "group", prefix + "gamma_term"), gamma)
        data[prefix + "mu_alpha"] = (("chain", "draw"), np.array([[mu]]))
    data["sigma"] = (("chain", "draw"), np.array([[0.7]]))
    params = xr.Dataset(data, coords={"group": groups})
    rep = TwoPartReplicator(design, params, "posterior")
    rng = np.random.default_rng(0)
    y = np.concatenate([rep.draw(0, rng) for _ in range(20)])
    assert (y == 0).mean() == pytest.approx(1 - expit(0.8), abs=0.02)
    log_amount = np.log(y[y > 0])
    assert log_amount.mean() == pytest.approx(2.5, abs=0.03)
    assert log_amount.std() == pytest.approx(0.7, rel=0.05)


# ------------------------------------------------------------------------- one real fit
@pytest.fixture(scope="module")
def hurdle_fit(frame: pd.DataFrame) -> bc.CredentialFit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        return bc.CredentialModel(_spec()).fit(
            frame, draws=150, tune=200, chains=2, random_seed=5, progressbar=False
        )


def test_fit_reports_both_parts(hurdle_fit: bc.CredentialFit) -> None:
    table = hurdle_fit.summary()
    params = set(table["parameter"])
    assert {"mu_beta", "sigma", "ext_mu_beta", "ext_sigma_alpha", "ext_psi"} <= params
    assert "ext_lambda_group" not in params  # completely pooled: reported once
    ext = table[table["parameter"].str.startswith("ext_")]
    assert ext["description"].str.startswith("any positive amount").all()
    assert "alpha_offset" not in params and "ext_alpha_offset" in hurdle_fit.posterior


def test_average_effect_by_margin(hurdle_fit: bc.CredentialFit) -> None:
    avg = hurdle_fit.average_effect().table
    assert list(avg["margin"]) == ["total", "extensive", "intensive"]
    m = avg.set_index("margin")
    assert m.loc["total", "mean"] == pytest.approx(
        m.loc["extensive", "mean"] + m.loc["intensive", "mean"]
    )
    by = hurdle_fit.average_effect(by="group").table
    assert len(by) == 3 * len(hurdle_fit.design.panel.group_labels)


def test_posterior_check_covers_the_share_of_zeros(hurdle_fit: bc.CredentialFit) -> None:
    table = hurdle_fit.check(max_draws=40, random_seed=1)
    overall = table[table["scope"] == "all"].set_index("statistic")
    observed = float((hurdle_fit.design.panel.y == 0).mean())
    assert overall.loc["zero_share", "observed"] == pytest.approx(observed)
    assert abs(overall.loc["zero_share", "replicated_mean"] - observed) < 0.04
    assert not overall.loc[["zero_share", "q50"], "flag"].any()
    with pytest.raises(ValueError, match="outcome's scale"):
        hurdle_fit.check(scale="within")


def test_log_likelihood_sums_the_parts(hurdle_fit: bc.CredentialFit) -> None:
    ll = hurdle_fit.log_likelihood()["y"]
    workers = hurdle_fit.design.panel.n_workers
    assert ll.shape[-1] == workers and np.isfinite(ll.values).all()
    # a worker with no earnings in any period contributes only the extensive part: the log
    # probability of all-zero rows, which is at most 0
    y = hurdle_fit.design.panel.y
    codes = hurdle_fit.design.panel.worker_codes
    never = np.setdiff1d(np.arange(workers), codes[y > 0])
    if never.size:
        assert (ll.values[..., never] <= 0).all()


def test_log_likelihood_is_the_density_of_earnings_themselves(
    hurdle_fit: bc.CredentialFit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The amounts' density is that of log earnings times the Jacobian 1 / y: each worker's
    log-likelihood differs from the log-scale one by minus the sum of log y over its rows
    with earnings (brute force by pandas), so LOO compares with other models of earnings."""
    ll = hurdle_fit.log_likelihood()["y"].values
    family = type(family_of(hurdle_fit.design))
    monkeypatch.setattr(family, "positive_log_jacobian", lambda self, y: np.zeros(np.shape(y)))
    on_log_scale = hurdle_fit.log_likelihood()["y"].values
    p = hurdle_fit.design.panel
    frame = pd.DataFrame({"worker": p.worker_codes, "y": np.asarray(p.y, dtype=float)})
    positive = frame[frame["y"] > 0]
    expected = np.zeros(p.n_workers)
    sums = (-np.log(positive["y"])).groupby(positive["worker"]).sum()
    expected[sums.index.to_numpy()] = sums.to_numpy()
    np.testing.assert_allclose(ll - on_log_scale, np.broadcast_to(expected, ll.shape), atol=1e-9)


def test_arviz_groups_hold_the_outcome_itself(hurdle_fit: bc.CredentialFit) -> None:
    """One outcome, two parts: the predictive groups hold amounts with zeros, as observed."""
    fit = bc.CredentialFit(hurdle_fit.tree.copy())
    fit.add_groups(max_draws=20, prior_draws=20, random_seed=4)
    tree = fit.tree
    y = np.asarray(tree["observed_data"]["y"].values)
    pp = tree["posterior_predictive"]["y"]
    assert pp.dims == ("chain", "draw", "obs") and pp.sizes["obs"] == y.size
    replicated = pp.values
    assert (replicated >= 0).all() and np.isfinite(replicated).all()
    assert abs(float((replicated == 0).mean()) - float((y == 0).mean())) < 0.05
    positive = replicated[replicated > 0]
    assert np.log(positive).mean() == pytest.approx(np.log(y[y > 0]).mean(), abs=0.1)
    prior_y = tree["prior_predictive"]["y"].values
    assert (prior_y >= 0).all() and (prior_y == 0).any() and (prior_y > 0).any()
    np.testing.assert_array_equal(
        tree["log_likelihood"]["y"].values, hurdle_fit.log_likelihood()["y"].values
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert az.loo(tree).elpd == pytest.approx(hurdle_fit.loo().elpd, rel=1e-12)
    # the intensive part integrates its intercepts out: no per-row density
    with pytest.raises(ValueError, match="per worker only"):
        fit.add_groups(["log_likelihood"], unit="row")


def test_saved_fit_gives_the_same_effects(hurdle_fit: bc.CredentialFit, tmp_path: Any) -> None:
    path = hurdle_fit.save(tmp_path / "hurdle.nc")
    loaded = bc.load(path)
    a = hurdle_fit.effect(group="C", credentials=1, track_record=8.0)
    b = loaded.effect(group="C", credentials=1, track_record=8.0)
    pd.testing.assert_frame_equal(a.margins, b.margins)
    assert "the chance of earning anything" in b.sentence()
    unseen = loaded.effect(group="Z", credentials=1, track_record=8.0, new_group="population")
    assert unseen.table.loc[0, "parameters_from"] == "population distribution"


def test_part_posterior_renames_the_extensive_part(hurdle_fit: bc.CredentialFit) -> None:
    ext = part_posterior(hurdle_fit.posterior, "extensive")
    assert "mu_beta" in ext and "ext_mu_beta" not in ext
    assert not any(str(n).startswith("ext_") for n in [*ext.data_vars, *ext.dims])
    np.testing.assert_array_equal(ext["mu_beta"], hurdle_fit.posterior["ext_mu_beta"])
    inten = part_posterior(hurdle_fit.posterior, "intensive")
    assert not any(str(v).startswith("ext_") for v in inten.data_vars)


# --------------------------------------------------------------- command line and report
def test_cli_predict_prints_and_writes_each_margin(
    hurdle_fit: bc.CredentialFit, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from bayescred.cli import main

    path = hurdle_fit.save(tmp_path / "hurdle.nc")
    out = tmp_path / "effects.csv"
    args = ["predict", str(path), "--group", "A", "--credentials", "2", "--track-record", "5"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for margin in ("total", "extensive", "intensive"):
        assert margin in printed
    assert "amount median" in printed and "chance of earning anything" in printed
    table = pd.read_csv(out)
    assert list(table["margin"]) == ["total", "extensive", "intensive"]
    assert (table["group"] == "A").all() and (table["credentials"] == 2).all()
    assert table["gain_mean"].iloc[0] == pytest.approx(table["gain_mean"].iloc[1:].sum())


def test_report_explains_the_margins(hurdle_fit: bc.CredentialFit, tmp_path: Any) -> None:
    html = bc.report(hurdle_fit, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "extensive margin" in html and "intensive margin" in html
    assert "This is a hurdle model" in html
    assert "ext_mu_beta" in html  # the extensive part's parameters are reported
    assert "effect curves of the extensive part" in html  # and its curves


def test_curve_plots_show_either_part_with_its_scale(hurdle_fit: bc.CredentialFit) -> None:
    import matplotlib.pyplot as plt

    labels = {}
    for part in ("intensive", "extensive"):
        fig = hurdle_fit.plot.effect_curve(part=part)
        labels[part] = fig.axes[0].get_ylabel()
        hurdle_fit.plot.track_record(part=part)
        hurdle_fit.plot.groups(part=part)
        plt.close("all")
    assert labels["intensive"] == "Δ log earnings"
    assert labels["extensive"] == "Δ log-odds of any earnings"
    assert hurdle_fit.plot.effect_curve().axes[0].get_ylabel() == labels["intensive"]
    with pytest.raises(ValueError, match="'intensive' or 'extensive'"):
        hurdle_fit.plot.groups(part="both")  # type: ignore[arg-type]


def test_part_is_refused_for_single_part_fits(tiny_fit: bc.CredentialFit) -> None:
    with pytest.raises(ValueError, match="this fit has one part"):
        tiny_fit.plot.groups(part="extensive")


def test_subset_averages_of_the_margins(hurdle_fit: bc.CredentialFit) -> None:
    """where/by agree with each other, and an average over newdata is the per-draw mean of the
    profiles' own effects (computed by fit.effect, an independent path)."""
    by = hurdle_fit.average_effect(by="group").table.set_index(["scope", "margin"])
    one = hurdle_fit.average_effect(where="group == 'B'").table.set_index("margin")
    cols = ["rows", "mean", "median", "pct_mean"]
    for margin in ("total", "extensive", "intensive"):
        np.testing.assert_allclose(
            one.loc[margin, cols].astype(float), by.loc[("B", margin), cols].astype(float)
        )
    newdata = pd.DataFrame(
        {
            "group": ["A", "B", "D"],
            "credentials": [0, 2, 1],
            "track_record": [0.0, 4.0, 30.0],
        }
    )
    res = hurdle_fit.average_effect(newdata=newdata)
    draws = hurdle_fit.effect(profiles=newdata).margin_draws
    assert draws is not None
    t = res.table.set_index("margin")
    for margin in ("total", "extensive", "intensive"):
        per_draw = draws.sel(margin=margin).mean("profile").values.reshape(-1)
        assert t.loc[margin, "mean"] == pytest.approx(per_draw.mean(), rel=1e-9)
        assert t.loc[margin, "median"] == pytest.approx(np.median(per_draw), rel=1e-9)
    assert res.draws.sizes["row"] == 3
    assert res.prob(gt=0, scale="model").to_numpy() == pytest.approx(t["prob_positive"].to_numpy())


def test_mixture_takes_one_group_for_both_parts(hurdle_fit: bc.CredentialFit) -> None:
    """An unseen group under new_group='mixture' is, at each draw, one observed group in both
    parts: its total effect is one of the observed groups' total effects at that draw."""
    labels = [str(g) for g in hurdle_fit.posterior["group"].values]
    known = hurdle_fit.effect(
        profiles=pd.DataFrame({"group": labels, "credentials": 1, "track_record": 6.0})
    ).draws.values.reshape(-1, len(labels))
    res = hurdle_fit.effect(
        group="new", credentials=1, track_record=6.0, new_group="mixture", random_seed=2
    )
    got = res.draws.values.reshape(-1)
    assert np.isclose(got[:, None], known, rtol=1e-9, atol=1e-12).any(axis=1).all()
    assert res.table.loc[0, "parameters_from"] == "mixture of observed groups"
