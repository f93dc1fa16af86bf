"""Recovery of credential-type effects on a simulated panel with known truth (slow tier):
the 90% intervals of the 200 type effects cover their true values at about the nominal rate,
the category and match effects are recovered, and partial pooling beats the unpooled within
estimate in mean squared error over the types with few holders."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import bayescred as bc
from bayescred.data.presets import TypeSettings
from bayescred.data.simulate import SimulatedPanel, simulate

pytestmark = pytest.mark.slow

#: Holders below which a type counts as small (its own data say little).
FEW_HOLDERS = 15


@pytest.fixture(scope="module")
def sim() -> SimulatedPanel:
    return simulate(
        "types",
        n_workers=3000,
        n_periods=16,
        seed=11,
        types=TypeSettings(sigma_type=0.08, sigma_category=0.05, match_effect=0.06),
    )


@pytest.fixture(scope="module")
def fit(sim: SimulatedPanel) -> bc.CredentialFit:
    spec = bc.ModelSpec().with_changes(credential_types={"match": True})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        return bc.CredentialModel(spec).fit(
            sim.frame,
            events=sim.events,
            credential_types=sim.credential_types,
            draws=500,
            tune=500,
            chains=2,
            random_seed=5,
            progressbar=False,
        )


def _joined(fit: bc.CredentialFit, sim: SimulatedPanel, by: str = "type"):
    key = "credential_type" if by == "type" else "category"
    est = fit.type_effects(by).table.set_index(key)
    truth = sim.truth.type_effects(by).set_index(key)
    return est.join(truth[["effect"]], how="inner")


def test_type_intervals_cover_at_the_nominal_rate(fit, sim) -> None:
    t = _joined(fit, sim)
    assert len(t) == 200
    covered = (t["hdi_low"] <= t["effect"]) & (t["effect"] <= t["hdi_high"])
    print(f"90% HDI coverage over {len(t)} types: {covered.mean():.3f}")
    assert 0.80 <= covered.mean() <= 0.97
    d = fit.diagnostics()
    assert d.table.set_index("check").loc["divergences", "value"] == 0


def test_category_and_match_effects_are_recovered(fit, sim) -> None:
    c = _joined(fit, sim, "category")
    covered = (c["hdi_low"] <= c["effect"]) & (c["effect"] <= c["hdi_high"])
    assert covered.mean() >= 0.75  # 8 categories
    rho = fit.posterior["match_effect"].values.ravel()
    lo, hi = np.quantile(rho, [0.05, 0.95])
    print(f"match effect {rho.mean():.3f} [{lo:.3f}, {hi:.3f}], truth {sim.truth.match_effect}")
    assert lo <= sim.truth.match_effect <= hi


def test_partial_pooling_beats_the_unpooled_within_estimate_for_small_types(fit, sim) -> None:
    """Over types with few holders the pooled posterior mean is closer to the truth than the
    raw within estimate (least squares from each type's own holders); the test fails if the
    model stops pooling (its means would then be the raw estimates)."""
    t = fit.type_effects(min_raw_holders=1).table.set_index("credential_type")
    truth = sim.truth.type_effects().set_index("credential_type")["effect"]
    small = t[(t["holders"] < FEW_HOLDERS) & t["raw_mean"].notna()]
    assert len(small) >= 30
    err_pooled = float(np.mean((small["mean"] - truth.loc[small.index]) ** 2))
    err_raw = float(np.mean((small["raw_mean"] - truth.loc[small.index]) ** 2))
    print(f"MSE over {len(small)} small types: pooled {err_pooled:.5f}, raw {err_raw:.5f}")
    assert err_pooled < 0.5 * err_raw
