"""What each ``bayescred`` shell command does, and the text it prints.

:mod:`bayescred.cli` parses the arguments and turns bad input into a one-line error; the
functions here do the work. Every ``cmd_*`` function takes the parsed
:class:`argparse.Namespace` and returns the exit status. The ``format_*`` functions return the
text blocks the commands print, so that they can be reused and tested on a fit in memory.

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
    from bayescred.fit.effects import EffectResult
    from bayescred.fit.result import CredentialFit
    from bayescred.spec import ModelSpec

#: Suffixes of the data files the commands read and write.
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet")
#: Suffixes :func:`bayescred.fit.io.save_fit` writes.
FIT_SUFFIXES = (".nc", ".nc4", ".zarr")

#: Sampler settings of ``bayescred demo`` (each can be overridden on the command line).
DEMO_DRAWS = 1000
DEMO_TUNE = 1000
DEMO_CHAINS = 4
DEMO_SEED = 1
DEMO_SPEC = "default"


class CLIError(Exception):
    """Bad command-line input: reported as one line on stderr, exit status 2."""


# ------------------------------------------------------------------------------ output
def out(text: str = "") -> None:
    """Print ``text`` to stdout and flush (so it interleaves with stderr in order)."""
    print(text, flush=True)


def note(text: str) -> None:
    """Print a progress line to stderr."""
    print(text, file=sys.stderr, flush=True)


def _fmt(value: Any, digits: int = 3, sign: bool = False) -> str:
    """A number for a table: ``-`` when missing, else ``digits`` decimals."""
    if value is None or not math.isfinite(float(value)):
        return "-"
    return f"{float(value):{'+' if sign else ''}.{digits}f}"


def _pct(value: Any) -> str:
    """A signed percentage: one decimal, or three significant digits when huge."""
    v = float(value)
    if not math.isfinite(v):
        return "-"
    return f"{v:+.1f}%" if abs(v) < 1e5 else f"{v:+.3g}%"


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line if line else line for line in text.splitlines())


def text_table(rows: list[dict[str, str]], left: tuple[str, ...] = ()) -> str:
    """Align string cells in columns: the ``left`` columns left-aligned, the others right."""
    if not rows:
        return ""
    columns = list(rows[0])
    width = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}

    def line(cells: dict[str, str]) -> str:
        parts = [
            f"{cells[c]:<{width[c]}}" if c in left else f"{cells[c]:>{width[c]}}" for c in columns
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line({c: c for c in columns}), *(line(r) for r in rows)])


# ------------------------------------------------------------------------------ files
def _suffix(path: Path) -> str:
    name = path.name.lower()
    return next((s for s in DATA_SUFFIXES if name.endswith(s)), path.suffix.lower())


def check_data_suffix(path: str | Path, what: str = "data file") -> Path:
    """``path`` as a :class:`Path`, or :class:`CLIError` if it is not .csv or .parquet."""
    p = Path(path)
    if _suffix(p) not in DATA_SUFFIXES:
        raise CLIError(
            f"{what} {str(p)!r}: unsupported file type {p.suffix or '(no suffix)'!r}; "
            f"use {', '.join(DATA_SUFFIXES)}"
        )
    return p


def read_table(path: str | Path, what: str = "data file") -> pd.DataFrame:
    """Read a CSV (optionally gzipped) or Parquet file into a DataFrame.

    Raises
    ------
    CLIError
        If the suffix is not supported or the file does not exist.
    """
    p = check_data_suffix(path, what)
    if not p.is_file():
        raise CLIError(f"{what} {str(p)!r} does not exist")
    if _suffix(p) == ".parquet":
        return pd.read_parquet(p)
    return pd.read_csv(p)


def write_table(frame: pd.DataFrame, path: str | Path, what: str = "output file") -> Path:
    """Write ``frame`` as CSV or Parquet (by suffix), creating the folder if needed."""
    p = check_data_suffix(path, what)
    p.parent.mkdir(parents=True, exist_ok=True)
    if _suffix(p) == ".parquet":
        frame.to_parquet(p, index=False)
    else:
        frame.to_csv(p, index=False)
    return p


def check_fit_target(path: str | Path) -> Path:
    """Check a fit's output path before sampling (suffix), creating its folder."""
    p = Path(path).expanduser()
    if p.suffix.lower() not in FIT_SUFFIXES:
        raise CLIError(
            f"fit file {str(p)!r}: the name must end in .nc (NetCDF) or .zarr, "
            f"not {p.suffix or '(no suffix)'!r}"
        )
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def load_fit_file(path: str | Path) -> CredentialFit:
    """Load a fit saved by ``bayescred fit`` (:func:`bayescred.fit.io.load_fit`)."""
    from bayescred.fit.io import load_fit

    p = Path(path).expanduser()
    if not p.exists():
        raise CLIError(f"fit file {str(p)!r} does not exist")
    return load_fit(p)


def resolve_spec(name_or_path: str, outcome: str | None = None) -> ModelSpec:
    """A bundled spec by name or a TOML spec by path, optionally with another outcome column."""
    from bayescred.spec import load_spec

    spec = load_spec(name_or_path)
    if outcome is not None and outcome != spec.outcome.column:
        # the outcome rule of another column is inferred from its name
        spec = spec.with_changes(outcome={"column": outcome, "kind": None})
    return spec


# ------------------------------------------------------------------------------ text blocks
def format_data_summary(fit: CredentialFit) -> str:
    """Rows in the data, rows the model used, and the rows it did not use, by reason."""
    info = fit.design_info
    not_used = fit.rows_not_used()
    used = int(info["rows_used"])
    total = used + int(not_used["rows"].sum()) if len(not_used) else used
    lines = [
        f"Data: {total:,} rows; {used:,} used by the model ({int(info['workers_used']):,} "
        f"workers), outcome {info['outcome']!r}."
    ]
    if len(not_used):
        lines.append("Rows not used:")
        width = max(len(str(r)) for r in not_used["reason"])
        for reason, rows in zip(not_used["reason"], not_used["rows"], strict=True):
            lines.append(f"  {reason!s:<{width}}  {int(rows):>8,}")
    else:
        lines.append("Rows not used: none.")
    return "\n".join(lines)


def format_parameter_summary(fit: CredentialFit, hdi_prob: float = 0.9) -> str:
    """The parameter summary as a compact table (one description per parameter)."""
    table = fit.summary(hdi_prob=hdi_prob)
    pct = f"{round(hdi_prob * 100):g}% HDI"
    rows = []
    last = None
    for r in table.to_dict("records"):
        name = str(r["parameter"]) + (f"[{r['label']}]" if r["label"] else "")
        rows.append(
            {
                "parameter": name,
                "mean": _fmt(r["mean"], sign=True),
                "sd": _fmt(r["sd"]),
                pct: f"[{_fmt(r['hdi_low'], sign=True)}, {_fmt(r['hdi_high'], sign=True)}]",
                "ess_bulk": _fmt(r["ess_bulk"], 0),
                "ess_tail": _fmt(r["ess_tail"], 0),
                "r_hat": _fmt(r["r_hat"], 3),
                "description": str(r["description"]) if r["parameter"] != last else "",
            }
        )
        last = r["parameter"]
    title = f"Parameters (posterior mean, sd, {pct}, effective sample sizes, R-hat):"
    return title + "\n" + text_table(rows, left=("parameter", "description"))


def format_diagnostics(fit: CredentialFit, table: bool = True) -> str:
    """The convergence checks (optionally as a table) and the one-sentence verdict."""
    lines = []
    if table:
        digits = {"divergences": 0, "max R-hat": 3, "min BFMI": 2}
        diag = fit.diagnostics()
        rows = [
            {
                "check": str(check),
                "value": _fmt(float(value), digits.get(str(check), 0)),
                "threshold": str(threshold),
                "pass": "yes" if ok else "NO",
            }
            for check, value, threshold, ok in zip(
                diag["check"], diag["value"], diag["threshold"], diag["pass"], strict=True
            )
        ]
        lines += ["Diagnostics:", _indent(text_table(rows, left=("check", "threshold")))]
    lines.append(f"Verdict: {fit.verdict}")
    return "\n".join(lines)


def _outcome_words(fit: CredentialFit) -> str:
    """``log_project_value`` -> ``project value``."""
    name = str(fit.spec.outcome.column)
    for prefix in ("log_", "log"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name.replace("_", " ")


def format_average_effect(fit: CredentialFit, hdi_prob: float = 0.9) -> str:
    """The average next-credential effect over the observed profiles, in log points and %."""
    row = fit.average_effect(hdi_prob=hdi_prob).iloc[0]
    pct = f"{round(hdi_prob * 100):g}% HDI"
    head = f"Average effect of one more credential over the {int(row['rows']):,} observed profiles"
    if "pct_mean" in row.index:
        return (
            f"{head}:\n"
            f"  {100 * row['mean']:+.1f} log points on {fit.spec.outcome.column} "
            f"(posterior mean; {pct} {100 * row['hdi_low']:+.1f} to {100 * row['hdi_high']:+.1f})\n"
            f"  = {_pct(row['pct_mean'])} on {_outcome_words(fit)} "
            f"({pct} {_pct(row['pct_hdi_low'])} to {_pct(row['pct_hdi_high'])})\n"
            f"  probability that the average effect is positive: {row['prob_positive']:.2f}"
        )
    return (
        f"{head}:\n"
        f"  {row['mean']:+.4g} on {fit.spec.outcome.column} "
        f"(posterior mean; {pct} {row['hdi_low']:+.4g} to {row['hdi_high']:+.4g})\n"
        f"  probability that the average effect is positive: {row['prob_positive']:.2f}"
    )


def format_effect_table(result: EffectResult) -> str:
    """An effect table for the terminal: the profile, then median, HDI, P(> 0) and %.

    Hurdle models get one line per profile and margin (total, extensive, intensive) and the
    median change in expected amount.
    """
    t = result.rows()
    pct = f"{round(result.hdi_prob * 100):g}% HDI"
    percent = "pct_median" in t
    unseen = bool((t["parameters_from"] != "group posterior").any())
    rows = []
    for _, r in t.iterrows():
        row = {
            "group": str(r["group"]),
            "credentials": str(r["credentials"]),
            "to": str(r["to"]),
            "track_record": f"{r['track_record']:g}",
        }
        if "margin" in t:
            row["margin"] = str(r["margin"])
        row |= {
            "median": _fmt(r["median"], 4, sign=True),
            pct: f"[{_fmt(r['hdi_low'], 4, sign=True)}, {_fmt(r['hdi_high'], 4, sign=True)}]",
            "P(>0)": f"{r['prob_positive']:.2f}",
        }
        if percent:
            row["% median"] = _pct(r["pct_median"])
            row[f"% {pct}"] = f"[{_pct(r['pct_hdi_low'])}, {_pct(r['pct_hdi_high'])}]"
        if "pp_median" in t:  # Bernoulli: change in probability, percentage points
            row["pp median"] = f"{r['pp_median']:+.1f}"
            row[f"pp {pct}"] = f"[{r['pp_hdi_low']:+.1f}, {r['pp_hdi_high']:+.1f}]"
        if "gain_median" in t:
            row["amount median"] = _fmt(r["gain_median"], 4, sign=True)
        if unseen:
            row["parameters from"] = str(r["parameters_from"])
        rows.append(row)
    return text_table(rows, left=("group", "margin", "parameters from"))


# ------------------------------------------------------------------------------ sampling
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
) -> CredentialFit:
    """Validate ``frame``, sample, and report progress on stderr.

    A progress bar is shown when stderr is a terminal; the ``sampling ...`` and
    ``done in X s`` lines are printed either way. Unset sampler settings take the spec's.
    """
    from bayescred.model.credential_model import CredentialModel
    from bayescred.model.design import as_panel

    s = spec.sampling
    draws = s.draws if draws is None else draws
    tune = s.tune if tune is None else tune
    chains = s.chains if chains is None else chains
    sampler = s.sampler if sampler is None else sampler
    panel = as_panel(frame, spec)  # a DataError surfaces here, before any sampling
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


def save_fit_file(fit: CredentialFit, path: Path) -> Path:
    """Save ``fit`` with :func:`bayescred.fit.io.save_fit`."""
    from bayescred.fit.io import save_fit

    return Path(save_fit(fit, path))


def write_report(fit: CredentialFit, path: str | Path) -> Path:
    """Write the HTML report with :func:`bayescred.report.report`."""
    from bayescred.report import report

    p = Path(path).expanduser()
    p.parent.mkdir(parents=True, exist_ok=True)
    return Path(report(fit, p))


# ------------------------------------------------------------------------------ commands
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
    from bayescred.model.design import make_design

    frame = read_table(args.data)
    spec = resolve_spec(args.spec, args.outcome)
    try:
        design = make_design(spec, frame)
    except DataError as err:
        hint = "pass an existing column with --outcome, or set [outcome] column in the spec"
        raise DataError(str(err).replace("pass an existing column as outcome=", hint)) from None
    out(
        f"{args.data}: the data pass every rule of spec {spec.name!r} "
        f"(outcome {spec.outcome.column!r}"
        + (f", covariates {', '.join(spec.covariates)}" if spec.covariates else "")
        + ")."
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
    fit = fit_with_progress(
        spec,
        frame,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        seed=args.seed,
        sampler=args.sampler,
        target_accept=args.target_accept,
    )
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
    from bayescred.fit.loo import compare

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
