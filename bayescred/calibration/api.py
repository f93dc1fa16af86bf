"""The public entry points: :func:`calibrate` (SBC) and :func:`repeated_sampling`."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from bayescred.calibration.engine import run_simulations
from bayescred.calibration.result import CalibrationResult, rank_table
from bayescred.calibration.sbc import prepare_sbc, run_sbc_simulation
from bayescred.calibration.store import ResultStore, frame_digest
from bayescred.calibration.study import StudyJob, StudyResult, check_spec, run_study_simulation
from bayescred.calibration.study import summarise as summarise_study
from bayescred.data.panel import Panel
from bayescred.data.presets import SimulationSettings, preset
from bayescred.spec import ModelSpec, PriorSpec, load_spec


def _spec(spec: ModelSpec | str | Path | None) -> ModelSpec:
    if spec is None:
        return ModelSpec()
    return spec if isinstance(spec, ModelSpec) else load_spec(spec)


def _fit_args(draws: int, tune: int, chains: int, sampler: str | None) -> dict[str, Any]:
    args: dict[str, Any] = {"draws": int(draws), "tune": int(tune), "chains": int(chains)}
    if sampler is not None:
        args["sampler"] = sampler
    return args


@contextlib.contextmanager
def _study_path(out: str | Path | None, kind: str) -> Iterator[Path]:
    """``out``, or (for ``None``) a file in a fresh temporary folder removed afterwards: a
    study without ``out`` always runs every simulation (no results kept between calls)."""
    if out is not None:
        yield Path(out)
        return
    with tempfile.TemporaryDirectory(prefix=f"bayescred-{kind}-") as folder:
        yield Path(folder) / f"{kind}.nc"


def _run_study(
    runner: Callable[[Any, int], dict[str, Any]],
    job: Any,
    n: int,
    settings: dict[str, Any],
    *,
    out: str | Path | None,
    kind: str,
    description: str,
    client: Any,
    workers: int | None,
    progressbar: bool,
) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    """Run simulations ``0..n-1`` of ``job`` into the results file (resuming what it holds)
    and return the simulations and element rows of those ``n`` (a file may hold more), and
    the file's path (None without ``out``: the temporary file is gone)."""
    with _study_path(out, kind) as path:
        store = ResultStore(path, settings)
        run_simulations(
            runner, job, n, store, client=client, workers=workers, progressbar=progressbar,
            description=description,
        )  # fmt: skip
        sims, rows = store.sims(), store.rows()
    sims = sims[sims["index"] < n].reset_index(drop=True)
    rows = rows[rows["index"].isin(sims["index"])] if len(rows) else rows
    return sims, rows, None if out is None else str(path)


def _events_setting(spec: ModelSpec, panel: Panel) -> dict[str, str]:
    """The skeleton's credential events (the workers and times the model reads) in a study's
    settings, by their digest: only for a spec with ``[dynamics]`` given events as data
    (events derived from the credentials column are in the skeleton's digest already; a
    static model does not read them)."""
    events = panel.events
    if spec.dynamics is None or events is None or events.derived:
        return {}
    return {"events": frame_digest(pd.DataFrame({"worker": events.worker, "time": events.time}))}


def calibrate(
    spec: ModelSpec | str | Path | None,
    panel: pd.DataFrame | Panel,
    *,
    n_sims: int = 200,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    sampler: str | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    client: Any = None,
    workers: int | None = None,
    progressbar: bool = True,
    simulation_priors: dict[str, PriorSpec] | None = None,
    events: pd.DataFrame | None = None,
) -> CalibrationResult:
    """Simulation-based calibration of ``spec`` on the skeleton of ``panel``.

    Each simulation draws the parameters from the model's prior (resolved once on ``panel``),
    an outcome from the model's likelihood on ``panel``'s rows (workers, periods, groups,
    credentials and track records as observed), fits the model and ranks each true
    parameter among its posterior draws thinned to about their effective sample size.

    Specs with ``[dynamics]`` (event-time effects) are supported. Their model depends on the
    skeleton's credential events: give them with ``events=`` (for a frame) or pass a
    :class:`~bayescred.Panel` validated with them; otherwise they are derived from the
    credentials column, which dates a credential at the first of the worker's used rows it
    shows in (late where periods are missing or set aside). The event-time parameters
    (``lag_step``, ``lead``, their sds, the cohorts') and profiles (``event_profile...``) are
    ranked like the others.

    Parameters
    ----------
    spec
        A spec, a bundled spec's name or a TOML path (``None``: the default spec).
    panel
        The panel whose skeleton is used (its outcome only sets the priors' scale).
    n_sims
        Number of simulations. A study started again on the same ``out`` file runs only the
        simulations not yet there, so raising ``n_sims`` extends a finished study.
    draws, tune, chains, sampler
        Sampler arguments of each fit.
    seed
        Base seed: simulation ``i`` draws its truth, outcome and sampler seed from
        ``(seed, i)``.
    out
        The results file (NetCDF): results stream to it as they arrive, and a study started
        again on it resumes. ``None``: a temporary file removed at the end (every simulation
        runs; nothing is kept).
    client
        A ``distributed.Client`` to run on; ``None`` starts a local cluster with ``workers``
        single-threaded worker processes (default one per core) and closes it afterwards.
    progressbar
        Show a progress bar of simulations done.
    simulation_priors
        Priors to draw the truths from instead of the model's (plain names, ``ext_`` for a
        hurdle's extensive part): a deliberately mis-specified study, which SBC should flag.
    events
        Credential events as data for a frame ``panel``: one row per credential earned, with
        the worker and the first period it is held (see :func:`bayescred.validate`). They
        matter to specs with ``[dynamics]``. ``None``: those a :class:`~bayescred.Panel`
        carries, or derived from the credentials column.

    Returns
    -------
    CalibrationResult
        ``.table`` (ranks), ``.tests`` (uniformity per parameter), ``.verdict``, ``.plot()``.

    Raises
    ------
    bayescred.calibration.store.StudyFileError
        ``out`` holds the results of a different study.
    bayescred.errors.DataError
        ``events`` given with an already validated :class:`~bayescred.Panel` (it carries its
        own).
    """
    model_spec = _spec(spec)
    fit = _fit_args(draws, tune, chains, sampler)
    job = prepare_sbc(
        model_spec, panel, fit=fit, seed=seed, simulation_priors=simulation_priors, events=events
    )
    settings = {
        "kind": "sbc",
        "spec_name": model_spec.name,
        "spec": job.spec.model_dump(mode="json", by_alias=True),
        "simulation_spec": job.simulation_spec.model_dump(mode="json", by_alias=True),
        "skeleton": frame_digest(job.panel.frame),
        "fit": fit,
        "seed": int(seed),
        **_events_setting(job.spec, job.panel),
    }
    sims, rows, path = _run_study(
        run_sbc_simulation, job, n_sims, settings, out=out, kind="sbc", client=client,
        workers=workers, progressbar=progressbar, description="SBC simulations",
    )  # fmt: skip
    return CalibrationResult(
        table=rank_table(rows, seed=int(seed)), simulations=sims, settings=settings, path=path
    )


def repeated_sampling(
    spec: ModelSpec | str | Path | None = None,
    settings: SimulationSettings | str = "paper",
    *,
    n_panels: int = 20,
    n_workers: int | None = None,
    n_periods: int | None = None,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    sampler: str | None = None,
    seed: int = 0,
    threshold: float = 0.01,
    out: str | Path | None = None,
    client: Any = None,
    workers: int | None = None,
    progressbar: bool = True,
) -> StudyResult:
    """Fit ``spec`` to ``n_panels`` panels simulated from one fixed truth and measure the
    bias (with its Monte Carlo standard error), RMSE and 90% HDI coverage of the reported
    quantities: the average next-credential effect (overall and by group; for a hurdle spec
    also its extensive and intensive margins), the saturation points and the peak track
    record (see :mod:`bayescred.calibration.study` for the truths). For a spec with
    ``[dynamics]`` the panels are fitted with their credential events and the quantities are
    the event-time effects, the population's and each group's (``event_effect[e=...]``).

    Parameters
    ----------
    spec
        The fitted spec: an identity-link likelihood (normal, Student t) on
        ``log_project_value`` or ``log_earnings``, or a hurdle likelihood on ``earnings``
        (``"hurdle_earnings"``); with ``[dynamics]``, an identity-link likelihood on
        ``log_project_value``.
    settings
        The simulator's settings, or a preset's name (``"paper"``); ``n_workers`` and
        ``n_periods`` set the panel size (for a preset, or replacing the settings' sizes).
    n_panels
        Number of simulated panels; a study started again on the same ``out`` file fits only
        the panels not yet there.
    draws, tune, chains, sampler, seed, out, client, workers, progressbar
        As for :func:`calibrate`; panel ``i`` is simulated and fitted with seeds from
        ``(seed, i)``.
    threshold
        Saturation threshold (effect of the next credential below which returns have
        saturated).

    Returns
    -------
    StudyResult
        ``.table`` (one row per quantity), ``.records`` (per panel and quantity).

    Raises
    ------
    bayescred.errors.SpecError
        For a spec whose outcome has no truth in the simulator's terms (e.g. ``n_projects``).
    """
    model_spec = _spec(spec)
    check_spec(model_spec)
    sizes = {k: v for k, v in (("n_workers", n_workers), ("n_periods", n_periods)) if v is not None}
    if isinstance(settings, str):
        sim_settings = preset(settings, **sizes)
    else:
        from dataclasses import replace

        sim_settings = replace(settings, **sizes)  # type: ignore[arg-type]
    fit = _fit_args(draws, tune, chains, sampler)
    job = StudyJob(model_spec, sim_settings, fit=fit, seed=int(seed), threshold=float(threshold))
    study = {
        "kind": "repeated_sampling",
        "spec_name": model_spec.name,
        "spec": model_spec.model_dump(mode="json", by_alias=True),
        "simulator": repr(sim_settings),
        "fit": fit,
        "seed": int(seed),
        "threshold": float(threshold),
    }
    sims, rows, path = _run_study(
        run_study_simulation, job, n_panels, study, out=out, kind="study", client=client,
        workers=workers, progressbar=progressbar, description="simulated panels",
    )  # fmt: skip
    return StudyResult(
        table=summarise_study(rows),
        records=rows.reset_index(drop=True),
        simulations=sims,
        settings=study,
        path=path,
    )
