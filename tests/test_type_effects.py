"""Effects by credential type from a real (small) fit: the ranked table and its columns against
the posterior's own draws, holders against a count by hand, the typed profile effect, the
``type[...]`` hypothesis, the raw within estimate against a brute-force least squares with
worker dummies, and the figures."""

from __future__ import annotations

import numpy as np
import pytest

import bayescred as bc
from bayescred.analysis.type_effects import raw_type_estimates, row_shares
from bayescred.data.simulate import SimulatedPanel
from bayescred.maths.curves import credential_curve, track_record_modifier


def _flat(fit: bc.CredentialFit, name: str) -> np.ndarray:
    v = fit.posterior[name]
    return v.values.reshape(-1, *v.shape[2:])


def test_table_has_a_ranked_row_per_type_with_its_draws(types_fit: bc.CredentialFit) -> None:
    result = types_fit.type_effects()
    t = result.table
    labels = list(types_fit.posterior["credential_type"].values)
    assert sorted(t["credential_type"]) == sorted(labels)
    assert list(t.columns[:7]) == [
        "credential_type",
        "category",
        "holders",
        "mean",
        "sd",
        "hdi_low",
        "hdi_high",
    ]
    assert {"percent", "percent_hdi_low", "percent_hdi_high", "p_above_average"} <= set(t.columns)
    assert np.all(np.diff(t["mean"].to_numpy()) <= 0)  # sorted, best first
    # the effect, from the posterior by hand: row-share weighted beta plus the type's deviation
    beta = _flat(types_fit, "beta_group")
    u_type = _flat(types_fit, "u_type")
    u_cat = _flat(types_fit, "u_category")
    cats = list(types_fit.posterior["category"].values)
    table = types_fit.design.panel.credential_types.table
    w = row_shares(types_fit.design)
    for _, row in t.iterrows():
        j = labels.index(row["credential_type"])
        c = cats.index(
            table.loc[table.credential_type == row["credential_type"], "category"].item()
        )
        assert row["category"] == cats[c]
        draws = beta @ w + u_cat[:, c] + u_type[:, j]
        assert row["mean"] == pytest.approx(draws.mean(), rel=1e-10)
        assert row["sd"] == pytest.approx(draws.std(ddof=1), rel=1e-10)
        assert row["hdi_low"] < row["mean"] < row["hdi_high"]
        assert row["percent"] == pytest.approx(np.mean(100 * np.expm1(draws)), rel=1e-10)
    everything = np.stack(
        [
            beta @ w + u_cat[:, cats.index(c)] + u_type[:, j]
            for j, c in enumerate(
                [table.set_index("credential_type").loc[lab, "category"] for lab in labels]
            )
        ],
        axis=1,
    )
    above = (everything > everything.mean(axis=1, keepdims=True)).mean(axis=0)
    got = t.set_index("credential_type").loc[labels, "p_above_average"].to_numpy()
    np.testing.assert_allclose(got, above, rtol=0, atol=1e-12)


def test_group_and_category_scopes_and_the_match(types_fit: bc.CredentialFit) -> None:
    beta = _flat(types_fit, "beta_group")
    u_cat = _flat(types_fit, "u_category")
    rho = _flat(types_fit, "match_effect")
    groups = list(types_fit.posterior["group"].values)
    by_cat = types_fit.type_effects("category", group=groups[1], matched=True).table
    cats = list(types_fit.posterior["category"].values)
    assert sorted(by_cat["category"]) == sorted(cats)
    assert "raw_mean" not in by_cat.columns
    for _, row in by_cat.iterrows():
        c = cats.index(row["category"])
        assert row["mean"] == pytest.approx((beta[:, 1] + u_cat[:, c] + rho).mean(), rel=1e-10)
    with pytest.raises(KeyError, match="not a group"):
        types_fit.type_effects(group="no such group")
    with pytest.raises(ValueError, match="by must be"):
        types_fit.type_effects("skill")


def test_holders_count_workers_holding_each_type(
    types_fit: bc.CredentialFit, types_sim: SimulatedPanel
) -> None:
    t = types_fit.type_effects().table.set_index("credential_type")
    ev = types_sim.events
    used = types_fit.design.panel.frame  # the model's rows (missing outcomes set aside)
    last = used.groupby("worker_id")["period"].max()
    ev = ev[ev["worker_id"].isin(last.index)]
    held = ev["period"].isna() | (ev["period"] <= last.loc[ev["worker_id"]].to_numpy())
    by_hand = ev[held].groupby("credential_type")["worker_id"].nunique()
    for label, n in t["holders"].items():
        assert n == by_hand.get(label, 0)
    assert t["holders"].sum() > 0


def test_profile_effect_of_a_type_adds_its_deviation(types_fit: bc.CredentialFit) -> None:
    group = str(types_fit.posterior["group"].values[0])
    label = str(types_fit.posterior["credential_type"].values[3])
    plain = types_fit.effect(group, credentials=2, track_record=5.0)
    typed = types_fit.effect(group, credentials=2, track_record=5.0, credential_type=label)
    assert typed.table["credential_type"].iloc[0] == label
    ct = types_fit.design.panel.credential_types
    c = list(ct.category_labels).index(ct.category_of(label))
    j = list(ct.labels).index(label)
    shift = _flat(types_fit, "u_category")[:, c] + _flat(types_fit, "u_type")[:, j]
    lam = _flat(types_fit, "lambda_group")[:, 0]
    gamma = _flat(types_fit, "gamma_group")[:, 0, :]
    step = credential_curve(np, "geometric", 3.0, lam) - credential_curve(np, "geometric", 2.0, lam)
    z = types_fit.design.track_scale.z(np.array([5.0]))[0]
    m = track_record_modifier(np, "log_quadratic", z, gamma[:, 0], gamma[:, 1])
    diff = typed.draws.values.ravel() - plain.draws.values.ravel()
    np.testing.assert_allclose(diff, shift * step * m, rtol=1e-9, atol=1e-12)
    matched = types_fit.effect(
        group,
        credentials=2,
        track_record=5.0,
        credential_type=label,
        job_category=ct.category_of(label),
    )
    rho = _flat(types_fit, "match_effect")
    np.testing.assert_allclose(
        matched.draws.values.ravel() - typed.draws.values.ravel(),
        rho * step * m,
        rtol=1e-9,
        atol=1e-12,
    )
    with pytest.raises(KeyError, match="did you mean"):
        types_fit.effect(group, credentials=2, track_record=5.0, credential_type=label + "x")


def test_hypothesis_reads_type_and_category(types_fit: bc.CredentialFit) -> None:
    labels = list(types_fit.posterior["credential_type"].values)
    a, b = labels[0], labels[1]
    result = types_fit.hypothesis(f"type[{a}] > type[{b}]")
    te = _flat(types_fit, "type_effect")
    assert result.probability == pytest.approx(np.mean(te[:, 0] > te[:, 1]))
    cats = list(types_fit.posterior["category"].values)
    res = types_fit.hypothesis(f"category[{cats[0]}] > 0")
    ce = _flat(types_fit, "category_effect")
    assert res.probability == pytest.approx(np.mean(ce[:, 0] > 0))


def test_raw_within_estimate_is_least_squares_with_worker_dummies(
    types_fit: bc.CredentialFit,
) -> None:
    """The raw estimate equals a dense least squares with one dummy per worker and period,
    columns built from each row's events by a plain loop."""
    design = types_fit.design
    raw = raw_type_estimates(design, types_fit.posterior).set_index("credential_type")
    p = design.panel
    rows = design.rows()
    ct = p.credential_types
    lam = _flat(types_fit, "lambda_group").mean(axis=0)
    gamma = _flat(types_fit, "gamma_group").mean(axis=0)
    ev = p.events
    types = ct.codes(ev.credential_type)
    n_types = ct.n_types
    X = np.zeros((p.n_rows, n_types + 1))
    job = ct.job_codes(p.frame["job_category"], p.n_rows)
    for r in range(p.n_rows):
        w, t, g = p.worker_codes[r], p.row_time[r], p.group_codes[r]
        own = np.flatnonzero(ev.worker == w)
        times = ev.time[own]
        m = track_record_modifier(np, "log_quadratic", rows.z[r], gamma[g, 0], gamma[g, 1])
        for e in own[times <= t]:
            tie = np.flatnonzero(np.sort(times) == ev.time[e]) + 1
            lo, hi = tie.min(), tie.max()
            s = credential_curve(np, "geometric", float(hi), lam[g]) - credential_curve(
                np, "geometric", float(lo - 1), lam[g]
            )
            step = s / (hi - lo + 1) * m
            X[r, types[e]] += step
            X[r, n_types] += step * float(ct.category_codes[types[e]] == job[r])
    workers = np.eye(p.n_workers)[p.worker_codes]
    periods = np.eye(p.n_periods)[p.period_codes][:, 1:]
    held = np.flatnonzero(np.abs(X).sum(axis=0) > 0)
    full = np.column_stack([X[:, held], periods, workers])
    coef, *_ = np.linalg.lstsq(full, np.asarray(p.y), rcond=None)
    got = raw["raw_mean"].to_numpy()[held[held < n_types]]
    np.testing.assert_allclose(got, coef[: len(held)][held < n_types], rtol=1e-7, atol=1e-9)


def test_figures_and_text(types_fit: bc.CredentialFit) -> None:
    result = types_fit.type_effects()
    ax = result.plot(top=10)
    gids = {a.get_gid() for a in ax.get_children()} | {
        c.get_gid() for line in ax.containers for c in line.get_children()
    }
    assert "average" in gids
    assert len(ax.get_yticks()) == 10
    ax2 = types_fit.type_effects(min_raw_holders=1).plot_shrinkage()
    assert {"raw", "pooled"} <= {c.get_gid() for c in ax2.collections}
    text = result.sentence()
    assert "Highest:" in text and "holders" in text
    assert "<table" in result._repr_html_()
    assert "TypeEffectsResult(by='type'" in repr(result)


def test_a_fit_without_types_says_what_to_do(tiny_fit: bc.CredentialFit) -> None:
    with pytest.raises(ValueError, match=r"\[credential_types\]"):
        tiny_fit.type_effects()
