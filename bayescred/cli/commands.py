"""What each ``bayescred`` shell command does, and the text it prints.

:mod:`bayescred.cli` parses the arguments and turns bad input into a one-line error; the
functions here do the work. Every ``cmd_*`` function takes the parsed
:class:`argparse.Namespace` and returns the exit status. The text blocks they print are in
:mod:`bayescred.cli.text`, the files they read and write in :mod:`bayescred.cli.files`, the
printing helpers in :mod:`bayescred.cli.output`.

Bad input raises :class:`CLIError` (or one of the library's own errors, which
:func:`bayescred.cli.main` reports the same way): one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.errors import ConvergenceWarning, DataError

if TYPE_CHECKING:
    from bayescred.facade.credential_fit import CredentialFit
    from bayescred.spec import ModelSpec
from bayescred.cli.files import (
    check_data_suffix,
    check_figure_target,
    check_fit_target,
    load_fit_file,
    read_events,
    read_table,
    resolve_spec,
    save_figure,
    save_fit_file,
    write_report,
    write_table,
)
from bayescred.cli.output import CLIError, note, out
from bayescred.cli.settings import DEMO_SPEC
from bayescred.cli.text import (
    format_average_effect,
    format_data_summary,
    format_diagnostics,
    format_effect_table,
    format_event_study,
    format_parameter_summary,
)


def fit_with_progress(
    spec: ModelSpec,
    frame: pd.DataFrame,
    *,
    draws: int | None,
    tune: int | None,
    chains: int | None,
    seed: int | None,
    sampler: str | None = None,
    target_accept: float | None = None,
    events: pd.DataFrame | None = None,
) -> CredentialFit:
    """Validate ``frame`` (with credential ``events`` as data, if given), sample, and report
    progress on stderr.

    A progress bar is shown when stderr is a terminal; the ``sampling ...`` and
    ``done in X s`` lines are printed either way. Unset sampler settings take the spec's.
    """
    from bayescred.facade.credential_model import CredentialModel
    from bayescred.model.design import as_panel

    s = spec.sampling
    draws = s.draws if draws is None else draws
    tune = s.tune if tune is None else tune
    chains = s.chains if chains is None else chains
    sampler = s.sampler if sampler is None else sampler
    panel = as_panel(frame, spec, events)  # a DataError surfaces here, before any sampling
    note(
        f"sampling: model {spec.name!r}, {chains} chain(s) x {draws} draws after {tune} tuning "
        f"steps, {sampler} sampler ..."
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        # the caller prints the verdict, which says the same
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = CredentialModel(spec).fit(
            panel,
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=seed,
            sampler=sampler,  # type: ignore[arg-type]
            target_accept=target_accept,
            progressbar=sys.stderr.isatty(),
        )
    note(f"done in {time.perf_counter() - start:.1f} s")
    return fit


def cmd_demo(args: argparse.Namespace) -> int:
    """``bayescred demo``: fit the default model on the embedded panel, save, report."""
    from bayescred.datasets import (
        PLATFORM_PANEL_N_PERIODS,
        PLATFORM_PANEL_N_WORKERS,
        platform_panel,
    )

    out_dir = Path(args.out).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise CLIError(f"--out {str(out_dir)!r} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = resolve_spec(DEMO_SPEC)
    out(
        f"bayescred demo: model {spec.name!r} on the embedded platform panel "
        f"({PLATFORM_PANEL_N_WORKERS:,} workers x {PLATFORM_PANEL_N_PERIODS} periods; "
        "SIMULATED data, not real platform data)."
    )
    out(f"Model: {spec.description}")
    fit = fit_with_progress(
        spec,
        platform_panel(),
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
    )
    hdi = args.hdi
    for block in (
        format_data_summary(fit),
        format_parameter_summary(fit, hdi),
        format_diagnostics(fit, table=False),
        format_average_effect(fit, hdi),
    ):
        out()
        out(block)
    out()
    fit_path = save_fit_file(fit, out_dir / "fit.nc")
    out(f"Fit saved to {fit_path}")
    report_path = write_report(fit, out_dir / "report.html")
    out("Report:")
    out(str(report_path))
    return 0


def _json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as None (strict JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def truth_dict(ds: xr.Dataset) -> dict[str, Any]:
    """The true parameters as plain JSON-ready values, labelled by their coordinates.

    Attributes (curve, modifier...) come first; a scalar stays a number, a parameter by
    group (or worker, period, covariate...) becomes ``{label: value}``, nested for two dims.
    """

    def labelled(values: Any, dims: tuple[Any, ...]) -> Any:
        if not dims:
            return np.asarray(values).item()
        labels = [str(v) for v in ds[dims[0]].values]
        return {k: labelled(values[i], dims[1:]) for i, k in enumerate(labels)}

    out: dict[str, Any] = {str(k): v for k, v in ds.attrs.items() if k != "description"}
    for name, da in ds.data_vars.items():
        out[str(name)] = labelled(np.asarray(da.values), da.dims)
    return out


def cmd_simulate(args: argparse.Namespace) -> int:
    """``bayescred simulate``: write a simulated panel (and optionally its truth as JSON)."""
    from bayescred.data.simulate import simulate

    target = check_data_suffix(args.out, "--out")
    if args.truth is not None and Path(args.truth).suffix.lower() != ".json":
        raise CLIError(f"--truth {args.truth!r}: the file name must end in .json")
    sim = simulate(args.preset, seed=args.seed, n_workers=args.workers, n_periods=args.periods)
    payload = None
    if args.truth is not None:
        payload = {
            "preset": args.preset,
            "seed": args.seed,
            "n_workers": args.workers,
            "n_periods": args.periods,
            **truth_dict(sim.truth.to_dataset()),
        }
    write_table(sim.frame, target, "--out")
    out(
        f"Simulated {len(sim.frame):,} rows ({sim.frame['worker_id'].nunique():,} workers, "
        f"preset {args.preset!r}, seed {args.seed}) written to {target}"
    )
    if payload is not None:
        truth = Path(args.truth)
        truth.parent.mkdir(parents=True, exist_ok=True)
        truth.write_text(json.dumps(_json_safe(payload), indent=1) + "\n", encoding="utf-8")
        out(f"True parameters written to {truth}")
    return 0


def cmd_check_data(args: argparse.Namespace) -> int:
    """``bayescred check-data``: validate a data file against a spec and describe it."""
    from bayescred.model.make import make_design

    frame = read_table(args.data)
    events = read_events(args.events)
    spec = resolve_spec(args.spec, args.outcome)
    try:
        design = make_design(spec, frame, events)
    except DataError as err:
        hint = "pass an existing column with --outcome, or set [outcome] column in the spec"
        raise DataError(str(err).replace("pass an existing column as outcome=", hint)) from None
    out(
        f"{args.data}: the data pass every rule of spec {spec.name!r} "
        f"(outcome {spec.outcome.column!r}"
        + (f", covariates {', '.join(spec.covariates)}" if spec.covariates else "")
        + ")"
        + (f", with the credential events of {args.events}." if events is not None else ".")
    )
    out()
    out(design.panel.describe().to_string(header=False))
    not_used = design.rows_not_used()
    if len(not_used):
        out()
        out("Rows the model will not use:")
        for reason, rows in zip(not_used["reason"], not_used["rows"], strict=True):
            out(f"  {reason}: {int(rows):,}")
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    """``bayescred fit``: fit a spec to a data file and save the fit."""
    target = check_fit_target(args.out)
    spec = resolve_spec(args.spec)
    frame = read_table(args.data)
    events = read_events(args.events)
    fit = fit_with_progress(
        spec,
        frame,
        events=events,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
        sampler=args.sampler,
        target_accept=args.target_accept,
    )
    if args.groups:
        groups = "all" if "all" in args.groups else args.groups
        try:
            fit.add_groups(groups, random_seed=args.seed)
        except ValueError as err:
            raise CLIError(str(err)) from None
    out(format_data_summary(fit))
    out(format_diagnostics(fit, table=False))
    path = save_fit_file(fit, target)
    out(f"Fit saved to {path}")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """``bayescred summary``: parameters, diagnostics and verdict, rows not used."""
    fit = load_fit_file(args.fit)
    out(repr(fit))
    for block in (
        format_data_summary(fit),
        format_parameter_summary(fit, args.hdi),
        format_diagnostics(fit),
    ):
        out()
        out(block)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """``bayescred predict``: the effect of more credentials for worker profiles."""
    one = {
        "--group": args.group,
        "--credentials": args.credentials,
        "--track-record": args.track_record,
    }
    given = [k for k, v in one.items() if v is not None]
    if args.profiles is not None:
        if args.to is not None:
            given.append("--to")
        if given:
            raise CLIError(
                "give either --profiles or --group/--credentials/--track-record, not both "
                f"(got --profiles and {', '.join(given)}); a profiles file may have a 'to' column"
            )
        profiles: pd.DataFrame | None = read_table(args.profiles, "--profiles file")
    else:
        if len(given) < 3:
            missing = [k for k in one if k not in given]
            raise CLIError(
                f"a profile needs --group, --credentials and --track-record (missing "
                f"{', '.join(missing)}), or pass --profiles FILE.csv"
            )
        profiles = None
    if args.out is not None:
        check_data_suffix(args.out, "--out")
    fit = load_fit_file(args.fit)
    try:
        result = fit.effect(
            args.group,
            args.credentials,
            args.track_record,
            profiles=profiles,
            to=args.to,
            hdi_prob=args.hdi,
            new_group=args.new_group,
            random_seed=args.seed,
        )
    except ValueError as err:
        # the library speaks Python; say it in command-line terms
        raise CLIError(
            str(err)
            .replace("new_group='population'", "--new-group population")
            .replace("`profiles`", "the --profiles file")
        ) from None
    out(format_effect_table(result))
    out()
    for i in range(len(result.table)):
        out(result.sentence(i))
    if args.out is not None:
        path = write_table(result.rows(), args.out, "--out")
        out()
        out(f"Effect table written to {path}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``bayescred compare``: LOO comparison of saved fits."""
    from bayescred.analysis.loo import compare

    paths = [Path(p) for p in args.fits]
    if len(paths) < 2:
        raise CLIError("compare needs at least two fit files")
    if args.names is not None:
        if len(args.names) != len(paths):
            raise CLIError(
                f"--names gives {len(args.names)} name(s) for {len(paths)} fit files; give one each"
            )
        names = [str(n) for n in args.names]
    else:
        names = [p.stem for p in paths]
        if len(set(names)) < len(names):
            names = [str(p) for p in paths]
    if len(set(names)) < len(names):
        raise CLIError(f"the names must differ, got {names}")
    fits = {name: load_fit_file(p) for name, p in zip(names, paths, strict=True)}
    table = compare(fits)
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        out(table.to_string())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``bayescred report``: write the HTML report of a saved fit and print its path."""
    fit = load_fit_file(args.fit)
    path = write_report(fit, args.out)
    out(str(path))
    return 0


def cmd_event_study(args: argparse.Namespace) -> int:
    """``bayescred event-study``: the event-time profile of a dynamic fit, with its pre-trend
    test, as a table and in words (optionally also as CSV and a figure)."""
    if args.output is not None:
        check_data_suffix(args.output, "--output")
    if args.plot is not None:
        check_figure_target(args.plot, "--plot")
    fit = load_fit_file(args.fit)
    dynamics = fit.spec.dynamics
    if dynamics is None:
        raise CLIError(
            f"fit file {str(args.fit)!r} is a static model (spec {fit.spec.name!r}) and has no "
            "event-time effects: add a [dynamics] section to the spec (for example leads = 3, "
            "lags = 6), fit again with 'bayescred fit', and run event-study on that fit"
        )
    if args.by == "cohort" and not dynamics.cohort_width:
        raise CLIError(
            f"--by cohort: the model of {str(args.fit)!r} has no adoption cohorts; set "
            "[dynamics] cohort_width (periods per cohort) in the spec and fit again, or use "
            "--by group"
        )
    result = fit.event_study(by=args.by, hdi_prob=args.hdi)
    out(format_event_study(result))
    out()
    out(result.sentence())
    out()
    if dynamics.leads >= 2:
        test = fit.pretrend_test(hdi_prob=args.hdi)
        scope = " (population profile)" if args.by is not None else ""
        out(f"Pre-trend test{scope}: {test.sentence()}")
    else:
        out(
            "Pre-trend test: not available, the model estimates no lead "
            f"([dynamics] leads = {dynamics.leads}; it needs leads >= 2)."
        )
    if args.output is not None:
        path = write_table(result.table, args.output, "--output")
        out()
        out(f"Event-study table written to {path}")
    if args.plot is not None:
        path = save_figure(result.plot().figure, args.plot)
        out()
        out(f"Event-study figure written to {path}")
    return 0
