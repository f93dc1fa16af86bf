"""Tests of the simulator's credential types ("which credentials pay"): settings, the typed
credential term against a brute-force loop, the untouched default panels and the long tail of
type popularity."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bayescred.data.presets import (
    SimulationSettings,
    TypeSettings,
    event_study_preset,
    paper_preset,
    preset,
    types_preset,
)
from bayescred.data.simulate import SimulatedPanel, TrueParameters, simulate

# Digests of the frame, events and truth simulated before credential types existed (same
# presets, sizes and seeds): types=None must leave every panel unchanged, bit for bit.
BASELINE: dict[str, tuple[str, dict[str, Any], tuple[str, str, str, str]]] = {
    "paper": (
        "paper",
        {"n_workers": 300, "n_periods": 8, "seed": 3},
        (
            "f82686daae175438e5a95d7dfb3d80034d9b86e4d4084f926b65fdc1c6439aca",
            "acc1f02e1b84490cc3903a0754c07c222c3ab5cb6361dbfd338b5f5bf342c6c8",
            "37ee3e594293414ad52b6ee45d760639a07fa7f65aa01fa5c22b26a933ef1126",
            "2314ddb358fc21f47a343c432350550efba43fceb110d6b91af809b69c7af1c2",
        ),
    ),
    "event_study": (
        "event_study",
        {"n_workers": 200, "n_periods": 8, "seed": 5},
        (
            "3539e40f795809b0465a98bac180296b5a2b880983fb21d42a1dc235b8c6d2f5",
            "5a86c0737032a70abd75620213b4419b815895142b268c782743e36212331511",
            "d861994f30436718cc76beafd77bd586000d076eae5f3869648fcda6b86a2517",
            "6e959181a7ef1207c424bac533a7c09a1fd587aecf2b1689b61a3536f710f251",
        ),
    ),
    "paper_dip": (
        "paper",
        {"n_workers": 200, "n_periods": 6, "seed": 2, "dip_sd": 0.3, "max_credentials_gained": 2},
        (
            "7cf57a0acb9730f61d41989f7e5039e95c1fc7c853f57046e5f5e7b6b8a009b7",
            "209e7d5bd67ff8a2f66a172e7f443ecb6c5adab4481a6fbfcb98624222c227b1",
            "4c60e741eca42a423eb3fdfa6c5fa2d06b8f1c8decd36c43c74997929b5cbc32",
            "0ec06006b6435b8039259f645f2d79d8754f1167632cb71a52c79841fe774d39",
        ),
    ),
}

#: Columns that the credential term feeds (the only ones types may change).
VALUE_COLUMNS = ["log_project_value", "earnings", "log_earnings"]


def frame_digest(frame: pd.DataFrame) -> str:
    """A dtype-stable digest of a frame's column names and values."""
    h = hashlib.sha256()
    for name in frame.columns:
        col = frame[name]
        h.update(str(name).encode())
        if pd.api.types.is_numeric_dtype(col):
            h.update(col.to_numpy(dtype=np.float64).tobytes())
        else:
            h.update("\x00".join(col.astype(str)).encode())
    return h.hexdigest()


def truth_digest(truth: TrueParameters) -> str:
    """A digest of every variable, coordinate and attribute of ``truth.to_dataset()``."""
    ds = truth.to_dataset()
    h = hashlib.sha256()
    for name in sorted(ds.variables):
        values = np.asarray(ds[name].values)
        h.update(str(name).encode())
        if values.dtype.kind in "fiub":
            h.update(values.astype(np.float64).tobytes())
        else:
            h.update("\x00".join(map(str, values.ravel())).encode())
    for key in sorted(ds.attrs):
        h.update(f"{key}={ds.attrs[key]}".encode())
    return h.hexdigest()


def small(**changes: Any) -> SimulationSettings:
    """A small paper panel with many credentials and many same-period ties."""
    values: dict[str, Any] = {
        "n_workers": 250,
        "n_periods": 10,
        "credential_rate": 0.3,
        "double_credential_share": 0.5,
        "entry_credential_share": 0.4,
        "entry_credential_mean": 3.0,
    }
    values.update(changes)
    return paper_preset(**values)


def big_types() -> TypeSettings:
    """Types with deviations large enough to see."""
    return TypeSettings(n_types=40, n_categories=5, sigma_type=0.3, sigma_category=0.2)


def brute_force_term(sim: SimulatedPanel) -> np.ndarray:
    """``M(z) sum_k w_k effect_k`` by a plain loop over rows and each worker's events."""
    f, truth = sim.frame, sim.truth
    assert truth.u_type is not None and truth.u_category is not None
    assert truth.type_category is not None and truth.worker_job_category is not None
    assert truth.match_effect is not None
    shape = dict(zip(truth.groups, truth.shape, strict=True))
    beta = dict(zip(truth.groups, truth.beta, strict=True))
    by_worker = {w: ev for w, ev in sim.events.groupby("worker_id", sort=False)}

    def curve(n: int, g: str) -> float:
        return float(truth.term.curve_value(np.array(float(n)), shape[g]))

    out = np.empty(len(f))
    for i, (w, t, g, r) in enumerate(
        zip(f["worker_id"], f["period"], f["group"], f["track_record"], strict=True)
    ):
        ev = by_worker.get(w)
        total = 0.0
        if ev is not None:
            periods = ev["period"].tolist()
            types = ev["credential_type"].tolist()
            job = truth.worker_job_category[w]
            for tk, jk in zip(periods, types, strict=True):
                if not (np.isnan(tk) or tk <= t):
                    continue
                # the tie block of event k: the worker's events first held in the same period
                same = [
                    m for m, p in enumerate(periods) if (np.isnan(p) and np.isnan(tk)) or p == tk
                ]
                lo, hi = min(same) + 1, max(same) + 1
                step = (curve(hi, g) - curve(lo - 1, g)) / (hi - lo + 1)
                cat = truth.type_category[jk]
                effect = (
                    beta[g]
                    + truth.u_category[cat]
                    + truth.u_type[jk]
                    + truth.match_effect * (cat == job)
                )
                total += step * effect
        out[i] = total * float(truth.modifier_value(g, r)[0])
    return out


def static_term(sim: SimulatedPanel) -> np.ndarray:
    """``beta_g S(n) M(z)`` of every row."""
    f, truth = sim.frame, sim.truth
    k = truth._group_index(f["group"].to_numpy(dtype=object))
    s = truth.term.curve_value(f["credentials"].to_numpy(dtype=float), truth.shape[k])
    return np.asarray(truth.beta[k] * s * truth.modifier_value(f["group"], f["track_record"]))


# --------------------------------------------------------------------------------------------
# types=None: nothing changes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(BASELINE))
def test_without_types_panels_are_bit_identical_to_before(case: str) -> None:
    name, kwargs, digests = BASELINE[case]
    kwargs = dict(kwargs)
    seed = kwargs.pop("seed")
    sim = simulate(name, seed=seed, **kwargs)
    got = (
        frame_digest(sim.frame),
        frame_digest(sim.events),
        truth_digest(sim.truth),
        frame_digest(sim.next_effect.to_frame()),
    )
    assert got == digests
    assert sim.settings.types is None and sim.credential_types is None
    assert not sim.truth.has_types and sim.truth.u_type is None
    assert "job_category" not in sim.frame and "credential_type" not in sim.events
    explicit = simulate(name, seed=seed, types=None, **kwargs)
    pd.testing.assert_frame_equal(sim.frame, explicit.frame, check_exact=True)
    pd.testing.assert_frame_equal(sim.events, explicit.events, check_exact=True)


def test_types_change_only_the_credential_term_values() -> None:
    base = simulate("paper", n_workers=300, n_periods=8, seed=3)
    typed = simulate("paper", n_workers=300, n_periods=8, seed=3, types=big_types())
    assert list(typed.frame.columns) == [*base.frame.columns, "job_category"]
    keep = [c for c in base.frame.columns if c not in VALUE_COLUMNS]
    pd.testing.assert_frame_equal(base.frame[keep], typed.frame[keep], check_exact=True)
    pd.testing.assert_frame_equal(
        base.events, typed.events[["worker_id", "period"]], check_exact=True
    )
    pd.testing.assert_series_equal(base.next_effect, typed.next_effect, check_exact=True)
    np.testing.assert_array_equal(
        base.frame["log_project_value"].isna(), typed.frame["log_project_value"].isna()
    )
    assert not np.allclose(
        base.frame["log_project_value"].dropna(), typed.frame["log_project_value"].dropna()
    )
    # every truth variable of the untyped panel is unchanged
    ds_base, ds_typed = base.truth.to_dataset(), typed.truth.to_dataset()
    for name in ds_base.data_vars:
        np.testing.assert_array_equal(ds_base[name].values, ds_typed[name].values)


def test_zero_deviations_reproduce_the_untyped_panel_exactly() -> None:
    zero = TypeSettings(sigma_type=0.0, sigma_category=0.0, match_effect=0.0)
    base = simulate(small(), seed=8)
    typed = simulate(small(types=zero), seed=8)
    pd.testing.assert_frame_equal(
        base.frame, typed.frame.drop(columns="job_category"), check_exact=True
    )


# --------------------------------------------------------------------------------------------
# the typed credential term
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("curve", ["geometric", "quadratic", "step"])
def test_typed_term_matches_a_brute_force_loop(curve: str) -> None:
    settings = small(curve=curve, n_workers=150, n_periods=8, types=big_types())
    typed = simulate(settings, seed=4)
    base = simulate(dataclasses.replace(settings, types=None), seed=4)
    ev = typed.events
    assert ev["period"].isna().any()  # entry credentials have types too
    assert ev.duplicated(["worker_id", "period"]).any()  # ties within a period
    term = typed.truth.typed_credential_term(typed.frame, ev)
    np.testing.assert_allclose(term, brute_force_term(typed), rtol=0, atol=1e-12)
    # the events' order does not matter
    shuffled = ev.sample(frac=1.0, random_state=0)
    again = typed.truth.typed_credential_term(typed.frame, shuffled)
    np.testing.assert_allclose(term, again, rtol=0, atol=1e-14)
    # the outcome moved by exactly (typed term - static term)
    diff = typed.frame["log_project_value"] - base.frame["log_project_value"]
    has = typed.frame["n_projects"].to_numpy() > 0
    np.testing.assert_allclose(
        diff.to_numpy()[has], (term - static_term(base))[has], rtol=0, atol=1e-12
    )


def test_typed_term_equals_the_static_term_without_deviations() -> None:
    zero = TypeSettings(sigma_type=0.0, sigma_category=0.0, match_effect=0.0)
    sim = simulate(small(types=zero, n_workers=120), seed=1)
    np.testing.assert_allclose(
        sim.truth.typed_credential_term(sim.frame, sim.events),
        static_term(sim),
        rtol=0,
        atol=1e-12,
    )


def test_typed_term_needs_types() -> None:
    sim = simulate("paper", n_workers=30, n_periods=4, seed=0)
    with pytest.raises(ValueError, match="without credential types"):
        sim.truth.typed_credential_term(sim.frame, sim.events)
    with pytest.raises(ValueError, match="without credential types"):
        sim.truth.type_effects()


# --------------------------------------------------------------------------------------------
# outputs and truth
# --------------------------------------------------------------------------------------------


def test_outputs_with_types() -> None:
    ts = TypeSettings(n_types=30, n_categories=4)
    sim = simulate(small(types=ts), seed=2)
    f, ev, truth = sim.frame, sim.events, sim.truth
    assert f.columns[-1] == "job_category"
    assert pd.api.types.is_string_dtype(f["job_category"])
    assert pd.api.types.is_string_dtype(ev["credential_type"])
    assert (f.groupby("worker_id")["job_category"].nunique() == 1).all()
    assert truth.worker_job_category is not None
    np.testing.assert_array_equal(
        f["job_category"].to_numpy(dtype=object),
        truth.worker_job_category.reindex(f["worker_id"]).to_numpy(dtype=object),
    )
    assert not ev.duplicated(["worker_id", "credential_type"]).any()
    key = np.where(ev["period"].isna(), -np.inf, ev["period"])
    order = np.lexsort((key, ev["worker_id"].to_numpy(dtype=str)))
    np.testing.assert_array_equal(order, np.arange(len(ev)))

    labels = [f"t{j:03d}" for j in range(1, 31)]
    assert sim.credential_types is not None
    assert sim.credential_types["credential_type"].tolist() == labels
    assert set(sim.credential_types["category"]) == {"c1", "c2", "c3", "c4"}
    assert truth.type_labels == tuple(labels)
    assert truth.category_labels == ("c1", "c2", "c3", "c4")

    te = truth.type_effects()
    assert list(te.columns) == ["credential_type", "category", "holders", "effect", "match_effect"]
    assert te["credential_type"].tolist() == labels
    assert truth.u_type is not None and truth.u_category is not None
    expected = (
        truth.row_weighted_beta
        + truth.u_category.reindex(te["category"]).to_numpy()
        + truth.u_type.reindex(te["credential_type"]).to_numpy()
    )
    np.testing.assert_allclose(te["effect"], expected, rtol=0, atol=1e-15)
    assert (te["match_effect"] == ts.match_effect).all()
    rows = f["group"].value_counts(normalize=True).reindex(list(truth.groups)).to_numpy()
    assert truth.row_weighted_beta == pytest.approx(float(rows @ truth.beta), abs=1e-12)

    # holders: workers holding the type in some row
    last = f.groupby("worker_id")["period"].max()
    held = ev[ev["period"].isna() | (ev["period"] <= last.reindex(ev["worker_id"]).to_numpy())]
    holders = held.groupby("credential_type")["worker_id"].nunique()
    np.testing.assert_array_equal(
        te["holders"].to_numpy(), holders.reindex(labels).fillna(0).to_numpy()
    )
    assert truth.type_category is not None
    held_cat = truth.type_category.reindex(held["credential_type"]).to_numpy()
    cat_holders = pd.Series(held["worker_id"].to_numpy()).groupby(held_cat).nunique()
    tc = truth.type_effects("category")
    assert list(tc.columns) == ["category", "holders", "effect", "match_effect"]
    np.testing.assert_array_equal(tc["holders"], cat_holders.reindex(tc["category"]).fillna(0))
    np.testing.assert_allclose(
        tc["effect"], truth.row_weighted_beta + truth.u_category.to_numpy(), atol=1e-15
    )

    ds = truth.to_dataset()
    assert ds.sizes["credential_type"] == 30 and ds.sizes["category"] == 4
    for name in ("u_type", "u_category", "type_category", "type_holders", "match_effect"):
        assert name in ds
    assert ds["match_effect"].item() == ts.match_effect
    np.testing.assert_array_equal(ds["type_holders"].values, te["holders"].to_numpy())


def test_types_draw_is_deterministic_and_seed_dependent() -> None:
    a = simulate(small(types=TypeSettings(n_types=30)), seed=6)
    b = simulate(small(types=TypeSettings(n_types=30)), seed=6)
    c = simulate(small(types=TypeSettings(n_types=30)), seed=7)
    pd.testing.assert_frame_equal(a.events, b.events, check_exact=True)
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
    assert a.truth.u_type is not None and c.truth.u_type is not None
    assert not np.array_equal(a.truth.u_type.to_numpy(), c.truth.u_type.to_numpy())


# --------------------------------------------------------------------------------------------
# the long tail and the match share
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def types_panel() -> SimulatedPanel:
    return simulate(types_preset(n_workers=3000), seed=0)


def test_holders_have_a_long_tail(types_panel: SimulatedPanel) -> None:
    holders = types_panel.truth.type_effects()["holders"].to_numpy()
    assert holders.size == 200
    assert holders.max() > 300
    assert (holders < 10).sum() >= 30
    # the most popular types are spread over the categories
    truth = types_panel.truth
    assert truth.type_popularity is not None and truth.type_category is not None
    top = truth.type_popularity.sort_values(ascending=False).index[:8]
    assert truth.type_category.reindex(top).nunique() == 8


def test_types_are_distinct_and_job_category_constant(types_panel: SimulatedPanel) -> None:
    ev, f = types_panel.events, types_panel.frame
    assert not ev.duplicated(["worker_id", "credential_type"]).any()
    assert (f.groupby("worker_id")["job_category"].nunique() == 1).all()
    assert ev["credential_type"].notna().all()


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_match_share(share: float) -> None:
    sim = simulate(types_preset(n_workers=1500, types=TypeSettings(match_share=share)), seed=1)
    truth, ev = sim.truth, sim.events
    assert truth.type_category is not None and truth.worker_job_category is not None
    assert truth.type_popularity is not None
    cat = truth.type_category.reindex(ev["credential_type"]).to_numpy()
    job = truth.worker_job_category.reindex(ev["worker_id"]).to_numpy()
    observed = float(np.mean(cat == job))
    mass = truth.type_popularity.groupby(truth.type_category).sum()
    # a worker's job category is drawn by the categories' popularity, so an overall draw
    # lands in it with probability sum_c P_c^2
    chance = float((mass**2).sum())
    assert observed == pytest.approx(share + (1 - share) * chance, abs=0.05)


# --------------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------------


def test_type_settings_are_checked() -> None:
    for bad in (
        {"n_types": 0},
        {"n_types": 2.5},
        {"n_categories": 0},
        {"n_types": 5, "n_categories": 6},
        {"popularity_exponent": -1.0},
        {"sigma_type": -0.1},
        {"sigma_category": float("nan")},
        {"match_effect": float("inf")},
        {"match_share": 1.5},
    ):
        with pytest.raises(ValueError, match="TypeSettings"):
            TypeSettings(**bad)
    ts = TypeSettings()
    assert (ts.n_types, ts.n_categories, ts.popularity_exponent) == (200, 8, 1.1)
    assert ts.type_labels[0] == "t001" and ts.type_labels[-1] == "t200"
    assert ts.category_labels == tuple(f"c{c}" for c in range(1, 9))
    assert TypeSettings(n_types=12, n_categories=12).category_labels[0] == "c01"
    with pytest.raises(ValueError, match="types must be None or a TypeSettings"):
        paper_preset(types={"n_types": 3})


def test_types_with_dynamics_are_refused() -> None:
    with pytest.raises(ValueError, match="types with event-time dynamics are not supported"):
        event_study_preset(types=TypeSettings())
    with pytest.raises(ValueError, match="types with event-time dynamics are not supported"):
        types_preset(cohort_slope=0.5)


def test_presets_and_kwargs() -> None:
    assert preset("types").types == TypeSettings()
    assert types_preset(n_workers=100).n_workers == 100
    sim = simulate("paper", n_workers=40, n_periods=4, seed=0, types=TypeSettings(n_types=20))
    assert sim.settings.types is not None and sim.settings.types.n_types == 20
    assert len(sim.truth.type_effects()) == 20
    via = simulate("types", n_workers=40, n_periods=4, seed=0, types=TypeSettings(n_types=20))
    pd.testing.assert_frame_equal(sim.frame, via.frame, check_exact=True)


def test_too_few_types_are_refused() -> None:
    ts = TypeSettings(n_types=2, n_categories=1)
    with pytest.raises(ValueError, match="n_types"):
        simulate(small(types=ts), seed=0)


def test_panel_without_credentials() -> None:
    sim = simulate(
        paper_preset(
            n_workers=20,
            n_periods=3,
            credential_rate=1e-9,
            entry_credential_share=0.0,
            types=TypeSettings(n_types=10, n_categories=2),
        ),
        seed=0,
    )
    assert sim.events.empty and "credential_type" in sim.events
    assert (sim.truth.type_effects()["holders"] == 0).all()
    np.testing.assert_array_equal(
        sim.truth.typed_credential_term(sim.frame, sim.events), np.zeros(len(sim.frame))
    )
