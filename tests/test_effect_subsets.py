"""Average effects over subpopulations (by, where, bands, newdata), probabilities, comparisons,
plots, hypotheses and the mixture mode for unseen groups, each checked against a brute-force
computation over the posterior draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import bayescred as bc
from bayescred.analysis.average_effects import DEFAULT_BANDS


def _flat(fit: bc.CredentialFit, name: str) -> np.ndarray:
    v = fit.posterior[name].values
    return v.reshape(-1, *v.shape[2:])


def _next_effect(fit: bc.CredentialFit, g: np.ndarray, n: np.ndarray, r: np.ndarray) -> np.ndarray:
    """beta_g exp(-lambda_g n) M(z): the default spec's next-credential effect, (draws, rows)."""
    beta, lam = _flat(fit, "beta_group")[:, g], _flat(fit, "lambda_group")[:, g]
    gamma = _flat(fit, "gamma_group")[:, g, :]
    scale = fit.design.track_scale
    z = (np.log1p(r) - np.log1p(scale.reference)) / scale.scale
    return beta * np.exp(-lam * n) * np.exp(gamma[..., 0] * z + gamma[..., 1] * z**2)


@pytest.fixture(scope="module")
def per_row(tiny_fit: bc.CredentialFit) -> np.ndarray:
    p = tiny_fit.design.panel
    return _next_effect(tiny_fit, p.group_codes, p.credentials, p.track_record)


def test_where_and_by_equal_filtering_the_rows(
    tiny_fit: bc.CredentialFit, per_row: np.ndarray
) -> None:
    p = tiny_fit.design.panel
    newcomers = p.track_record == 0
    assert newcomers.any()
    res = tiny_fit.average_effect(where="track_record == 0")
    row = res.table.iloc[0]
    per_draw = per_row[:, newcomers].mean(axis=1)
    assert row["rows"] == newcomers.sum()
    assert row["mean"] == pytest.approx(per_draw.mean())
    assert row["median"] == pytest.approx(np.median(per_draw))
    assert row["prob_positive"] == pytest.approx((per_draw > 0).mean())
    pct = (100 * np.expm1(per_row[:, newcomers])).mean(axis=1)
    assert row["pct_mean"] == pytest.approx(pct.mean())
    np.testing.assert_allclose(res.draws.values.reshape(-1), per_draw, rtol=1e-10)
    # a boolean mask selects the same rows
    masked = tiny_fit.average_effect(where=newcomers).table
    assert masked.loc[0, "mean"] == pytest.approx(row["mean"], rel=1e-12)
    # by a default band: one row per non-empty band, in band order
    bands = tiny_fit.average_effect(by="track_record_band").table
    edges = DEFAULT_BANDS["track_record"]
    code = np.searchsorted(edges, p.track_record, side="right") - 1
    present = sorted(set(code))
    assert len(bands) == len(present)
    for k, (_, r) in zip(present, bands.iterrows(), strict=True):
        rows = code == k
        assert r["rows"] == rows.sum()
        assert r["mean"] == pytest.approx(per_row[:, rows].mean(axis=1).mean())
    assert bands.loc[0, "scope"] == "[0, 1)" and bands["track_record_band"].iloc[-1] in (
        "100+",
        "[20, 100)",
    )


def test_by_several_columns_and_own_bands(tiny_fit: bc.CredentialFit, per_row: np.ndarray) -> None:
    p = tiny_fit.design.panel
    res = tiny_fit.average_effect(
        by=["group", "track_record_band"],
        bands={"track_record": [0, 10, np.inf]},
        where=p.credentials > 0,
    )
    t = res.table
    assert list(t.columns[:4]) == ["group", "track_record_band", "scope", "rows"]
    assert set(t["track_record_band"]) <= {"[0, 10)", "10+"}
    for _, r in t.iterrows():
        g = list(p.group_labels).index(r["group"])
        short = p.track_record < 10 if r["track_record_band"] == "[0, 10)" else p.track_record >= 10
        rows = (p.group_codes == g) & short & (p.credentials > 0)
        assert r["rows"] == rows.sum()
        assert r["mean"] == pytest.approx(per_row[:, rows].mean(axis=1).mean())
        assert r["scope"] == f"group={r['group']}, track_record_band={r['track_record_band']}"
    assert res.draws.sizes["row"] == len(t)
    assert "Averaged over" in res.sentence(0) and t.loc[0, "scope"] in res.sentence(0)


def test_average_over_newdata_is_the_mean_of_the_profiles_effects(
    tiny_fit: bc.CredentialFit,
) -> None:
    newdata = pd.DataFrame(
        {
            "group": ["A", "B", "D", "D", "C"],
            "credentials": [0, 2, 1, 5, 0],
            "track_record": [0.0, 3.0, 12.0, 40.0, 0.0],
            "segment": ["new", "old", "old", "old", "new"],
        }
    )
    profiles = tiny_fit.effect(profiles=newdata.drop(columns="segment"))
    res = tiny_fit.average_effect(newdata=newdata, by="segment")
    t = res.table.set_index("scope")
    for seg in ("new", "old"):
        rows = (newdata["segment"] == seg).to_numpy()
        per_draw = profiles.draws.values[..., rows].mean(axis=-1).reshape(-1)
        pct = profiles.percent.values[..., rows].mean(axis=-1).reshape(-1)
        assert t.loc[seg, "rows"] == rows.sum()
        assert t.loc[seg, "mean"] == pytest.approx(per_draw.mean(), rel=1e-10)
        assert t.loc[seg, "pct_median"] == pytest.approx(np.median(pct), rel=1e-10)
        assert t.loc[seg, "parameters_from"] == "group posterior"
    one = tiny_fit.average_effect(newdata=newdata, where="segment == 'new'").table
    assert one.loc[0, "mean"] == pytest.approx(t.loc["new", "mean"], rel=1e-12)
    with pytest.raises(ValueError, match="new_group='mixture'"):
        tiny_fit.average_effect(newdata=newdata.assign(group="Z"))


def test_mixture_gives_each_draw_one_observed_groups_parameters(
    tiny_fit: bc.CredentialFit,
) -> None:
    res = tiny_fit.effect(
        group="Z", credentials=1, track_record=8.0, new_group="mixture", random_seed=3
    )
    assert res.table.loc[0, "parameters_from"] == "mixture of observed groups"
    got = res.draws.values.reshape(-1)
    labels = list(tiny_fit.posterior["group"].values)
    k = len(labels)
    each = np.stack(
        [
            _next_effect(tiny_fit, np.array([g]), np.array([1.0]), np.array([8.0]))[:, 0]
            for g in range(k)
        ],
        axis=1,
    )
    match = np.isclose(got[:, None], each, rtol=1e-12, atol=0)
    assert match.any(axis=1).all()  # every draw is one observed group's effect at that draw
    used = match.argmax(axis=1)
    counts = np.bincount(used, minlength=k)
    assert counts.max() - counts.min() <= 1  # equal weights
    again = tiny_fit.effect(
        group="Z", credentials=1, track_record=8.0, new_group="mixture", random_seed=3
    )
    np.testing.assert_array_equal(again.draws.values, res.draws.values)
    avg = tiny_fit.average_effect(
        newdata=pd.DataFrame(
            {"group": ["Z", "A"], "credentials": [1, 1], "track_record": [8.0, 8.0]}
        ),
        new_group="mixture",
        random_seed=3,
    ).table
    assert avg.loc[0, "parameters_from"] == "group posterior; mixture of observed groups"


def test_prob_and_compare_are_shares_of_draws(tiny_fit: bc.CredentialFit) -> None:
    profiles = pd.DataFrame(
        {"group": ["D", "A"], "credentials": [0, 0], "track_record": [10.0, 10.0]}
    )
    res = tiny_fit.effect(profiles=profiles)
    pct = res.percent.values.reshape(-1, 2)
    log = res.draws.values.reshape(-1, 2)
    np.testing.assert_allclose(res.prob(gt=5).to_numpy(), (pct > 5).mean(axis=0))
    np.testing.assert_allclose(
        res.prob(gt=2, lt=12).to_numpy(), ((pct > 2) & (pct < 12)).mean(axis=0)
    )
    np.testing.assert_allclose(res.prob().to_numpy(), res.table["prob_positive"].to_numpy())
    assert res.prob(gt=0.05, scale="model", row=1) == pytest.approx((log[:, 1] > 0.05).mean())
    cmp = res.compare(0, 1)
    assert cmp.probability == pytest.approx((pct[:, 0] > pct[:, 1]).mean())
    assert cmp.summary.loc[0, "mean"] == pytest.approx((pct[:, 0] - pct[:, 1]).mean())
    assert "probability" in cmp.sentence()
    with pytest.raises(ValueError, match="out of range"):
        res.compare(0, 5)
    with pytest.raises(ValueError, match="scale must be"):
        res.prob(gt=1, scale="odds")  # type: ignore[arg-type]
    avg = tiny_fit.average_effect(by="group")
    d = avg.percent.values.reshape(-1, len(avg.table))
    np.testing.assert_allclose(avg.prob(gt=3).to_numpy(), (d > 3).mean(axis=0))


def test_plot_draws_each_row(tiny_fit: bc.CredentialFit) -> None:
    res = tiny_fit.average_effect(by="group")
    fig = res.plot()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    gids = {line.get_gid() for line in ax.get_lines()}
    n = len(res.table)
    assert {f"median:{i}" for i in range(n)} <= gids and {f"hdi:{i}" for i in range(n)} <= gids
    med = next(line for line in ax.get_lines() if line.get_gid() == "median:0")
    assert med.get_xdata()[0] == pytest.approx(res.table.loc[0, "pct_median"])
    assert "%" in ax.get_xlabel()
    mine = Figure().subplots()
    assert tiny_fit.effect(group="A", credentials=0, track_record=1.0).plot(ax=mine) is mine.figure


def test_hypothesis_probability_is_the_share_of_draws(tiny_fit: bc.CredentialFit) -> None:
    beta = _flat(tiny_fit, "beta_group")
    labels = list(tiny_fit.posterior["group"].values)
    d, a = beta[:, labels.index("D")], beta[:, labels.index("A")]
    res = tiny_fit.hypothesis("beta_group[D] > beta_group[A]")
    assert res.probability == pytest.approx((d > a).mean())
    s = res.summary.iloc[0]
    assert s["mean"] == pytest.approx((d - a).mean())
    assert s["sd"] == pytest.approx((d - a).std(ddof=1))
    assert s["hdi_low"] <= s["median"] <= s["hdi_high"]
    assert "beta_group[D] > beta_group[A]" in res.sentence() and "HypothesisResult" in repr(res)
    mu = _flat(tiny_fit, "mu_beta")
    two = tiny_fit.hypothesis("exp(beta_group['D']) - 1 < 1.5 * mu_beta + 0.01")
    assert two.probability == pytest.approx((np.expm1(d) < 1.5 * mu + 0.01).mean())
    eq = tiny_fit.hypothesis("beta_group[D] == beta_group[A]", rope=0.02)
    assert eq.probability == pytest.approx((np.abs(d - a) < 0.02).mean())
    g = _flat(tiny_fit, "gamma")
    assert tiny_fit.hypothesis("gamma[z_squared] < 0").probability == pytest.approx(
        (g[:, 1] < 0).mean()
    )


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("beta_group[Z] > 0", "no group 'Z'"),
        ("nothing > 0", "no posterior variable 'nothing'"),
        ("beta_group > 0", "needs 1 label"),
        ("beta_group[D]", "exactly one comparison"),
        ("0 < beta_group[D] < 1", "exactly one comparison"),
        ("__import__('os').system('true') > 0", "not allowed|unknown function"),
        ("beta_group[D].real > 0", "not allowed"),
        ("beta_group[D] == 0", "needs rope="),
        ("1 > 0", "at least one posterior variable"),
        ("beta_group[D] >", "not a valid expression"),
    ],
)
def test_bad_hypotheses_are_refused(tiny_fit: bc.CredentialFit, text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        tiny_fit.hypothesis(text)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"by": "nope"}, "unknown column"),
        ({"where": "nope > 1"}, "could not be evaluated"),
        ({"where": "track_record < 0"}, "selects no rows"),
        ({"where": np.ones(3, dtype=bool)}, "boolean mask of length"),
        ({"by": "track_record_band", "bands": {"track_record": [1, 5]}}, "outside the bands"),
        ({"bands": {"track_record": [5, 1]}}, "increasing edges"),
        ({"bands": {"hours": [0, 1]}}, "no column 'hours'"),
        ({"newdata": pd.DataFrame({"group": ["A"]})}, "lacks column"),
    ],
)
def test_bad_subsets_are_refused(tiny_fit: bc.CredentialFit, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        tiny_fit.average_effect(**kwargs)


def test_an_infinite_percentage_stays_in_its_own_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    """A prior draw can imply a gain beyond float range in one scope: it is infinite there and
    the other scopes of that draw keep their finite averages (brute force by loops)."""
    from types import SimpleNamespace

    from bayescred.analysis import average_effects as ae

    eff = np.array([[1000.0, 0.1, 0.2, 0.3], [0.1, 0.2, 0.3, 0.4]])
    monkeypatch.setattr(ae, "credential_effect", lambda *args, **kwargs: eff)
    scope = np.array([0, 1, 1, -1])  # the last row is in no scope
    zeros = np.zeros(4)
    params = SimpleNamespace(n_draws=2)
    mean, pct = ae.single_part_means(None, params, zeros, zeros, zeros, zeros, scope, 2)  # type: ignore[arg-type]
    assert np.isinf(pct[0, 0]) and np.isfinite(pct[1]).all()
    for d in range(2):
        for k in range(2):
            rows = scope == k
            assert mean[d, k] == pytest.approx(eff[d, rows].mean())
            if (d, k) != (0, 0):
                assert pct[d, k] == pytest.approx(100 * np.expm1(eff[d, rows]).mean())


def test_hypothesis_sentence_never_rounds_a_probability_to_certainty(
    tiny_fit: bc.CredentialFit,
) -> None:
    """0.9965 used to read "is 1.00"; a probability of exactly 1 names the draws it rests on,
    in the sentence a fit's hypothesis writes too."""
    from bayescred.analysis.contrast import probability_words

    sure = tiny_fit.hypothesis("sigma > 0")
    assert sure.probability == 1.0
    assert f"sigma > 0 is 1 (every one of the {sure.draws.size} draws);" in sure.sentence()

    assert probability_words(0.9965, 4000) == "0.997"
    assert probability_words(0.00004, 100_000) == "0.00004"
    assert probability_words(0.5, 4000) == "0.50"
    assert probability_words(1.0, 400) == "1 (every one of the 400 draws)"
    assert probability_words(0.0, 400) == "0 (none of the 400 draws)"
