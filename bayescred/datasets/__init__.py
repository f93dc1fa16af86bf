"""Embedded example data.

:func:`platform_panel` is a worker-period panel SIMULATED from the ``paper`` preset of
:mod:`bayescred.data.simulate`; it is not real platform data. :func:`platform_panel_truth` returns
the parameters it was generated with, so that a fit on it can be checked against the truth.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from importlib import resources
from typing import Literal, overload

import numpy as np
import pandas as pd

from bayescred.data.presets import SimulationSettings, TypeSettings, paper_preset
from bayescred.data.simulate import SimulatedPanel, TrueParameters, simulate

__all__ = [
    "PLATFORM_PANEL_FILE",
    "PLATFORM_PANEL_N_PERIODS",
    "PLATFORM_PANEL_N_WORKERS",
    "PLATFORM_PANEL_SEED",
    "PLATFORM_PANEL_TYPES",
    "PlatformPanelTypes",
    "platform_panel",
    "platform_panel_settings",
    "platform_panel_simulation",
    "platform_panel_truth",
    "platform_panel_types",
]

#: Seed of :func:`bayescred.data.simulate.simulate` that generated the shipped panel.
PLATFORM_PANEL_SEED = 20240401
#: Workers and periods of the shipped panel.
PLATFORM_PANEL_N_WORKERS = 3000
PLATFORM_PANEL_N_PERIODS = 26
#: File name of the shipped panel inside this package (written by
#: ``scripts/make_platform_panel.py``).
PLATFORM_PANEL_FILE = "platform_panel.csv.gz"

#: Column dtypes of the panel, in column order.
PLATFORM_PANEL_DTYPES: dict[str, str] = {
    "worker_id": "str",
    "period": "int64",
    "group": "str",
    "credentials": "int64",
    "track_record": "int64",
    "any_project": "int64",
    "n_projects": "int64",
    "log_project_value": "float64",
    "earnings": "float64",
    "log_earnings": "float64",
    "x1": "float64",
    "x2": "float64",
}


def platform_panel_settings() -> SimulationSettings:
    """The settings of the shipped panel: ``paper_preset(n_workers=3000, n_periods=26)``."""
    return paper_preset(n_workers=PLATFORM_PANEL_N_WORKERS, n_periods=PLATFORM_PANEL_N_PERIODS)


def platform_panel_simulation() -> SimulatedPanel:
    """Regenerate the shipped panel with :func:`~bayescred.data.simulate.simulate`.

    The frame equals :func:`platform_panel` up to the 10 significant digits the file stores;
    the result also carries the true parameters and each row's true next-credential effect.
    """
    return simulate(platform_panel_settings(), seed=PLATFORM_PANEL_SEED)


#: The credential types of the shipped panel (:func:`platform_panel_types`): 200 types in 8
#: categories with a long tail of holders, and NO type, category or match effect, so that the
#: shipped outcomes are exactly those of the panel without types.
PLATFORM_PANEL_TYPES = TypeSettings(sigma_type=0.0, sigma_category=0.0, match_effect=0.0)


def _typed_simulation() -> SimulatedPanel:
    return simulate(
        replace(platform_panel_settings(), types=PLATFORM_PANEL_TYPES), seed=PLATFORM_PANEL_SEED
    )


def platform_panel_truth() -> TrueParameters:
    """The true parameters behind :func:`platform_panel` (regenerated, takes well under 1 s),
    with the truth of its credential types (:func:`platform_panel_types`: every type pays the
    same, ``truth.type_effects()``)."""
    return _typed_simulation().truth


@dataclass(frozen=True)
class PlatformPanelTypes:
    """The shipped panel with credential types (:func:`platform_panel_types`).

    Attributes
    ----------
    frame
        :func:`platform_panel` with a ``job_category`` column (each worker's category of work).
    events
        The credential events, one row per credential: ``worker_id``, ``period`` (first held;
        NaN: held at entry) and ``credential_type``.
    credential_types
        The types table: ``credential_type`` and ``category``.
    """

    frame: pd.DataFrame
    events: pd.DataFrame
    credential_types: pd.DataFrame


def platform_panel_types() -> PlatformPanelTypes:
    """The shipped panel's credential types, regenerated from its seed (about 1 s).

    The shipped outcomes were simulated without type effects, so its types carry none: a
    model with ``[credential_types]`` should find every type's effect close to the average
    (``sigma_type`` and ``sigma_category`` near 0, no match effect) and name no type as
    credibly better. A null benchmark, with the truth in :func:`platform_panel_truth`; for
    panels where types differ, simulate them (``simulate("types")``).

    Examples
    --------
    >>> typed = platform_panel_types()
    >>> typed.credential_types.shape, "job_category" in typed.frame.columns
    ((200, 2), True)
    """
    sim = _typed_simulation()
    frame = platform_panel()
    frame["job_category"] = sim.frame["job_category"].to_numpy()
    assert sim.credential_types is not None
    return PlatformPanelTypes(
        frame=frame, events=sim.events.copy(), credential_types=sim.credential_types.copy()
    )


@functools.cache
def _load_platform_panel() -> pd.DataFrame:
    source = resources.files(__name__).joinpath(PLATFORM_PANEL_FILE)
    with source.open("rb") as handle:
        frame = pd.read_csv(handle, compression="gzip", dtype=PLATFORM_PANEL_DTYPES)
    if "log_earnings" not in frame:  # a file written before the column existed: derive it
        positive = frame["earnings"] > 0
        frame["log_earnings"] = np.log(frame["earnings"].where(positive))
    return frame[list(PLATFORM_PANEL_DTYPES)]


@overload
def platform_panel(events: Literal[False] = False) -> pd.DataFrame: ...


@overload
def platform_panel(events: Literal[True]) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def platform_panel(events: bool = False) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """A simulated freelancing-platform panel: 3000 workers over 26 two-week periods.

    The data are SIMULATED, not real platform data: they are drawn with
    ``simulate(paper_preset(n_workers=3000, n_periods=26), seed=20240401)``
    (:data:`PLATFORM_PANEL_SEED`), the preset calibrated to Kässi & Lehdonvirta (2024): an
    average effect of one more credential of about +0.09 on log project value, diminishing
    returns that fade out around the eleventh credential, the largest effects for short but
    non-empty track records, a 1.8 times larger effect in group ``D`` (the group that employers
    statistically discriminate against), almost no effect on the number of projects, and
    negative selection into credentials. The true parameters are returned by
    :func:`platform_panel_truth`. The panel is loaded from the file shipped with the package,
    so it is the same on every call and machine; each call returns a fresh copy.

    Parameters
    ----------
    events
        Also return the panel's credential events (``validate(frame, events=...)``): one row
        per credential, derived from the ``credentials`` column, with ``worker_id`` and
        ``period`` (nullable ``Int64``), the first period the credential is held at the start
        of; credentials held at the worker's first period have a missing period (held before
        the panel, date unknown).

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, pandas.DataFrame)
        The panel, and with ``events=True`` the events frame. The panel has one row per
        worker and period where the worker is observed (an unbalanced panel,
        sorted by worker then period), with columns:

        ``worker_id`` : str
            Worker identifier, ``"w00001"`` to ``"w03000"``.
        ``period`` : int64
            Two-week period, 1 to 26. Workers enter at different periods and some leave early;
            about 5% are observed in a single period only.
        ``group`` : str
            Worker group ``A``, ``B``, ``C`` or ``D`` (shares 0.40, 0.25, 0.20, 0.15).
        ``credentials`` : int64
            Credentials (passed skill tests) held at the start of the period; cumulative, never
            decreasing within a worker.
        ``track_record`` : int64
            Projects completed before the period (0 for complete newcomers).
        ``any_project`` : int64
            1 if the worker completed at least one project in the period, else 0.
        ``n_projects`` : int64
            Projects completed in the period (negative binomial).
        ``log_project_value`` : float64
            Log of the average value of the period's projects; NaN where ``n_projects == 0``.
        ``earnings`` : float64
            ``n_projects * exp(log_project_value)``; 0 where there was no project.
        ``log_earnings`` : float64
            ``log(earnings)``; NaN where there was no project.
        ``x1``, ``x2`` : float64
            Standard-normal covariates with true effects 0.15 and -0.10 on log project value.

    Examples
    --------
    >>> from bayescred.datasets import platform_panel
    >>> panel = platform_panel()
    >>> panel["worker_id"].nunique()
    3000
    >>> frame, events = platform_panel(events=True)
    >>> int(frame.groupby("worker_id")["credentials"].max().sum()) == len(events)
    True
    """
    frame = _load_platform_panel().copy(deep=True)
    if not events:
        return frame
    return frame, _credential_events(frame)


def _credential_events(frame: pd.DataFrame) -> pd.DataFrame:
    """The credential events implied by a panel's ``credentials`` column (``worker_id``,
    ``period``): an increase of ``d`` between a worker's consecutive rows is ``d`` events at the
    later row's period; the credentials held at its first row are events with a missing period.
    """
    rows = frame.sort_values(["worker_id", "period"], kind="stable")
    worker = rows["worker_id"].to_numpy()
    credentials = rows["credentials"].to_numpy(dtype=np.int64)
    first = np.ones(len(rows), dtype=bool)
    first[1:] = worker[1:] != worker[:-1]
    step = np.where(first, credentials, np.diff(credentials, prepend=0))
    step = np.maximum(step, 0)
    period = pd.array(rows["period"].to_numpy(dtype=np.int64), dtype="Int64")
    period[first] = pd.NA
    return pd.DataFrame(
        {"worker_id": np.repeat(worker, step), "period": np.repeat(period, step)}
    ).reset_index(drop=True)
