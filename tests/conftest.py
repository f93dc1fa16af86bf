"""Shared fixtures: small simulated panels and one tiny real fit reused across test modules."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

import bayescred as bc
from bayescred.data.simulate import SimulatedPanel, simulate


@pytest.fixture(scope="session")
def client() -> Iterator[object]:
    """A Dask cluster of 2 single-threaded worker processes (calibration and study tests)."""
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="session")
def small_sim() -> SimulatedPanel:
    """Paper preset, 150 workers x 8 periods (about 1,000 rows): fast to build and to fit."""
    return simulate("paper", seed=3, n_workers=150, n_periods=8)


@pytest.fixture(scope="session")
def small_frame(small_sim: SimulatedPanel) -> pd.DataFrame:
    return small_sim.frame


@pytest.fixture(scope="session")
def tiny_fit(small_sim: SimulatedPanel) -> bc.CredentialFit:
    """One small but real MCMC fit of the default spec (2 chains x 150 draws)."""
    spec = bc.load_spec("default")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        return bc.CredentialModel(spec).fit(
            small_sim.frame, draws=150, tune=150, chains=2, random_seed=7, progressbar=False
        )


@pytest.fixture(scope="session")
def dynamic_sim() -> SimulatedPanel:
    """Event-study preset, 300 workers x 10 periods, with its credential events."""
    return simulate("event_study", n_workers=300, n_periods=10, seed=1)


@pytest.fixture(scope="session")
def dynamic_fit(dynamic_sim: SimulatedPanel) -> bc.CredentialFit:
    """One small real fit with event-time dynamics (``[dynamics] leads = 3, lags = 3``; 2 chains
    x 100 draws), shared by the CLI, report and etable tests of the event study."""
    spec = bc.ModelSpec().with_changes(dynamics={"leads": 3, "lags": 3})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        return bc.CredentialModel(spec).fit(
            dynamic_sim.frame, draws=100, tune=100, chains=2, random_seed=1, progressbar=False
        )


@pytest.fixture(scope="session")
def types_sim() -> SimulatedPanel:
    """Types preset, 400 workers x 8 periods, 16 credential types in 4 categories."""
    from bayescred.data.presets import TypeSettings

    return simulate(
        "types",
        n_workers=400,
        n_periods=8,
        seed=2,
        types=TypeSettings(n_types=16, n_categories=4, sigma_type=0.1, sigma_category=0.08),
    )


@pytest.fixture(scope="session")
def types_panel(types_sim: SimulatedPanel) -> bc.Panel:
    """``types_sim`` validated with its events and types table."""
    return bc.validate(
        types_sim.frame,
        outcome="log_project_value",
        events=types_sim.events,
        credential_types=types_sim.credential_types,
        missing_outcome="exclude",
    )


@pytest.fixture(scope="session")
def types_fit(types_panel: bc.Panel) -> bc.CredentialFit:
    """One small real fit with ``[credential_types] match = true`` (2 chains x 150 draws),
    shared by the type-effect, report and etable tests."""
    spec = bc.ModelSpec().with_changes(credential_types={"match": True})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        return bc.CredentialModel(spec).fit(
            types_panel, draws=150, tune=150, chains=2, random_seed=3, progressbar=False
        )
