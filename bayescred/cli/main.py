"""The ``bayescred`` shell command.

Commands
--------
``demo``        fit the default model to the embedded (simulated) panel, save it, write a report
``simulate``    write a simulated panel (and optionally its true parameters)
``check-data``  validate a data file against a spec and describe the panel
``fit``         fit a spec to a data file and save the fit
``summary``     parameters, diagnostics and verdict of a saved fit
``predict``     effect of one more credential for worker profiles
``compare``     LOO comparison of saved fits
``report``      HTML report of a saved fit
``event-study`` event-time profile and pre-trend test of a saved fit with ``[dynamics]``
``calibrate``   simulation-based calibration of a spec on a panel's skeleton
``study``       repeated-sampling study (bias, RMSE, coverage) from a simulator preset

Run ``bayescred <command> --help`` for each command's options. Bad input (a missing file, an
invalid spec, data that break a rule, a damaged fit file, an unknown group...) is reported as
``bayescred: error: ...`` on stderr with exit status 2 and no traceback; a data error lists
every broken rule, one block per rule. Set ``BAYESCRED_TRACEBACK=1`` to see the traceback.

The work is done in :mod:`bayescred.cli.commands`.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from bayescred.cli import settings
from bayescred.cli.output import CLIError
from bayescred.errors import BayescredError, DataError
from bayescred.spec import SAMPLERS

PROG = "bayescred"
#: Exit status for bad input and usage errors (as argparse uses).
EXIT_BAD_INPUT = 2
#: Exit status after Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130
#: Environment variable that makes errors show their traceback.
TRACEBACK_ENV = "BAYESCRED_TRACEBACK"


# ------------------------------------------------------------------------------ argument types
def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def _nonnegative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text!r}")
    return value


def _nonnegative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


# ------------------------------------------------------------------------------ parser
def _add_sampling_options(
    p: argparse.ArgumentParser, *, demo: bool = False
) -> argparse._ArgumentGroup:
    g = p.add_argument_group("sampling")
    default = " (default: %(default)s)" if demo else " (default: the spec's [sampling] value)"
    g.add_argument(
        "--draws",
        type=_positive_int,
        default=settings.DEMO_DRAWS if demo else None,
        metavar="N",
        help="posterior draws per chain" + default,
    )
    g.add_argument(
        "--tune",
        type=_nonnegative_int,
        default=settings.DEMO_TUNE if demo else None,
        metavar="N",
        help="tuning steps per chain" + default,
    )
    g.add_argument(
        "--chains",
        type=_positive_int,
        default=settings.DEMO_CHAINS if demo else None,
        metavar="N",
        help="number of chains" + default,
    )
    g.add_argument(
        "--seed",
        type=_int,
        default=settings.DEMO_SEED if demo else None,
        metavar="S",
        help="random seed of the sampler" + (default if demo else " (default: none)"),
    )
    return g


def _add_spec_options(p: argparse.ArgumentParser, bundled: str, *, outcome: bool = False) -> None:
    """``--spec`` (a bundled spec's name or a TOML file), and ``--outcome`` with ``outcome``.

    ``bundled`` lists the bundled specs' names for the help text.
    """
    p.add_argument(
        "--spec",
        default="default",
        help=f"bundled spec name ({bundled}) or path to a TOML spec (default: %(default)s)",
    )
    if outcome:
        p.add_argument(
            "--outcome", metavar="COL", default=None, help="outcome column (default: the spec's)"
        )


def _hdi_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--hdi",
        type=_probability,
        default=0.9,
        metavar="PROB",
        help="mass of the highest-density intervals (default: %(default)s)",
    )


def _events_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--events",
        default=None,
        metavar="EVENTS.csv",
        help="credential events as data (.csv, .csv.gz or .parquet): one row per credential "
        "earned, columns worker_id and period (the first period it is held at the start of; "
        "empty: held before the panel) and optionally credential_type; the panel's credentials "
        "column, if any, must agree with them (default: none, the events are derived from the "
        "credentials column)",
    )


def _lazy(name: str) -> Callable[[argparse.Namespace], int]:
    """The command ``name`` of :mod:`bayescred.cli.commands`, imported when it runs: the parser
    (and ``--help``) needs none of the numerical stack."""

    def run(args: argparse.Namespace) -> int:
        from bayescred.cli import commands

        func: Callable[[argparse.Namespace], int] = getattr(commands, name)
        return func(args)

    run.__name__ = name
    return run


def _bundled_specs() -> list[str]:
    from bayescred.spec import models_dir

    try:
        return sorted(f.stem for f in models_dir().glob("*.toml"))
    except BayescredError:
        return []


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``bayescred`` command (one subparser per command)."""
    from bayescred._version import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Bayesian hierarchical models of the returns to skill credentials on online "
        "labour platforms.",
        epilog="Run 'bayescred <command> --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    bundled = ", ".join(_bundled_specs()) or "none found"

    def add(
        name: str, func: Callable[[argparse.Namespace], int], summary: str, description: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=summary, description=description)
        p.set_defaults(func=func)
        return p

    # demo
    p = add(
        "demo",
        _lazy("cmd_demo"),
        "fit the default model to the embedded panel, save it and write a report",
        "Fit the default model (models/default.toml) to the embedded platform panel "
        "(simulated data), print the data summary, the parameters, the convergence verdict and "
        "the average effect of one more credential, and write DIR/fit.nc and DIR/report.html. "
        "The report's path is the last line printed.",
    )
    p.add_argument(
        "--out",
        default="out",
        metavar="DIR",
        help="folder for fit.nc and report.html (default: %(default)s)",
    )
    _add_sampling_options(p, demo=True)
    _hdi_option(p)

    # simulate
    from bayescred.data.presets import PRESETS

    p = add(
        "simulate",
        _lazy("cmd_simulate"),
        "write a simulated panel",
        "Simulate a worker-period panel from the model's data-generating process and write it "
        "as CSV or Parquet (by the file name's suffix).",
    )
    p.add_argument(
        "--preset",
        default="paper",
        choices=sorted(PRESETS),
        help="simulation preset (default: %(default)s)",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=3000,
        metavar="N",
        help="number of workers (default: %(default)s)",
    )
    p.add_argument(
        "--periods",
        type=_positive_int,
        default=26,
        metavar="T",
        help="number of periods (default: %(default)s)",
    )
    p.add_argument("--seed", type=_int, default=0, metavar="S", help="random seed (default: 0)")
    p.add_argument(
        "--out", required=True, metavar="FILE", help="output file (.csv, .csv.gz or .parquet)"
    )
    p.add_argument(
        "--truth", metavar="FILE.json", default=None, help="also write the true parameters as JSON"
    )

    # check-data
    p = add(
        "check-data",
        _lazy("cmd_check_data"),
        "validate a data file against a spec",
        "Check a CSV or Parquet panel against a spec's columns, outcome and covariates. Prints a "
        "description of the panel and exits 0; if the data break rules, prints every broken "
        "rule and exits 2.",
    )
    p.add_argument("data", metavar="FILE", help="data file (.csv, .csv.gz or .parquet)")
    _add_spec_options(p, bundled, outcome=True)
    _events_option(p)

    # fit
    p = add(
        "fit",
        _lazy("cmd_fit"),
        "fit a spec to a data file and save the fit",
        "Fit a model to a CSV or Parquet panel and save the fit to one file. Sampling progress "
        "is shown when stderr is a terminal.",
    )
    p.add_argument("data", metavar="DATA", help="data file (.csv, .csv.gz or .parquet)")
    _add_spec_options(p, bundled)
    _events_option(p)
    p.add_argument(
        "--out", default="fit.nc", metavar="FIT.nc", help="fit file to write (default: %(default)s)"
    )
    g = _add_sampling_options(p)
    g.add_argument(
        "--sampler",
        choices=list(SAMPLERS),
        default=None,
        help="NUTS implementation (default: the spec's)",
    )
    g.add_argument(
        "--target-accept",
        type=_probability,
        default=None,
        metavar="PROB",
        help="NUTS target acceptance rate (default: the spec's)",
    )
    p.add_argument(
        "--groups",
        nargs="+",
        choices=["all", "log_likelihood", "posterior_predictive", "prior", "prior_predictive"],
        default=None,
        metavar="GROUP",
        help="ArviZ groups to add to the saved fit: all, or any of log_likelihood, "
        "posterior_predictive, prior, prior_predictive (default: none)",
    )

    # summary
    p = add(
        "summary",
        _lazy("cmd_summary"),
        "parameters, diagnostics and verdict of a saved fit",
        "Print a saved fit's parameter summary, convergence diagnostics with the verdict, and "
        "the rows of the data the model did not use.",
    )
    p.add_argument("fit", metavar="FIT.nc", help="fit file written by 'bayescred fit'")
    _hdi_option(p)

    # predict
    p = add(
        "predict",
        _lazy("cmd_predict"),
        "effect of more credentials for worker profiles",
        "Posterior of the effect of one more credential (or of going to --to credentials) for "
        "one worker profile (--group, --credentials, --track-record) or for every row of a "
        "--profiles file (columns group, credentials, track_record and optionally to).",
    )
    p.add_argument("fit", metavar="FIT.nc", help="fit file written by 'bayescred fit'")
    g = p.add_argument_group("one profile")
    g.add_argument("--group", metavar="G", help="group label")
    g.add_argument("--credentials", type=_nonnegative_int, metavar="N", help="credentials held")
    g.add_argument(
        "--track-record",
        type=_nonnegative_float,
        metavar="R",
        help="track record (e.g. projects completed)",
    )
    g.add_argument(
        "--to", type=_nonnegative_int, metavar="M", help="compare with M credentials (default N+1)"
    )
    g = p.add_argument_group("many profiles")
    g.add_argument("--profiles", metavar="FILE.csv", help="profiles file (.csv or .parquet)")
    p.add_argument(
        "--new-group",
        choices=["raise", "population"],
        default="raise",
        help="for a group the model has not seen: refuse (raise), or draw its parameters from "
        "the population distribution (default: %(default)s)",
    )
    _hdi_option(p)
    p.add_argument(
        "--seed", type=_int, default=None, help="seed of the population draws for unseen groups"
    )
    p.add_argument("--out", metavar="FILE.csv", default=None, help="also write the effect table")

    # compare
    p = add(
        "compare",
        _lazy("cmd_compare"),
        "LOO comparison of saved fits",
        "Compare saved fits by approximate leave-one-out cross-validation (PSIS-LOO).",
    )
    p.add_argument("fits", nargs="+", metavar="FIT.nc", help="two or more fit files")
    p.add_argument(
        "--names", nargs="+", default=None, help="a name per fit (default: the file names)"
    )

    # report
    p = add(
        "report",
        _lazy("cmd_report"),
        "write the HTML report of a saved fit",
        "Write the HTML report of a saved fit and print its path.",
    )
    p.add_argument("fit", metavar="FIT.nc", help="fit file written by 'bayescred fit'")
    p.add_argument(
        "--out",
        default="report.html",
        metavar="FILE.html",
        help="report to write (default: %(default)s)",
    )

    # event-study
    p = add(
        "event-study",
        _lazy("cmd_event_study"),
        "event-time profile and pre-trend test of a saved fit with [dynamics]",
        "Print the event study of a saved fit whose spec has a [dynamics] section: the effect "
        "of a worker's first credential at each event time (posterior mean, sd and HDI; the "
        "period before it is first held, event time -1, is the reference; the endpoints are "
        "binned), the profile in words and, with [dynamics] leads >= 2, the pre-trend test of "
        "the population profile (are the leads compatible with zero, and how large a linear "
        "pre-trend would explain the effect away). A fit without [dynamics] is refused.",
    )
    p.add_argument("fit", metavar="FIT.nc", help="fit file written by 'bayescred fit'")
    p.add_argument(
        "--by",
        choices=["group", "cohort"],
        default=None,
        help="one profile per group, or per adoption cohort (a spec with [dynamics] "
        "cohort_width) (default: the population's profile)",
    )
    p.add_argument(
        "--hdi-prob",
        "--hdi",
        dest="hdi",
        type=_probability,
        default=0.9,
        metavar="PROB",
        help="mass of the highest-density intervals (default: %(default)s)",
    )
    p.add_argument(
        "--output",
        default=None,
        metavar="FILE.csv",
        help="also write the event-study table (.csv, .csv.gz or .parquet)",
    )
    p.add_argument(
        "--plot",
        default=None,
        metavar="FILE.png",
        help="also write the event-study figure (.png, .pdf, .svg...)",
    )
    _add_calibration_commands(add, bundled)
    return parser


def _lazy_calibration(name: str) -> Callable[[argparse.Namespace], int]:
    """The command ``name`` of :mod:`bayescred.cli.calibration_commands`, imported when run."""

    def run(args: argparse.Namespace) -> int:
        from bayescred.cli import calibration_commands

        func: Callable[[argparse.Namespace], int] = getattr(calibration_commands, name)
        return func(args)

    run.__name__ = name
    return run


def _study_options(p: argparse.ArgumentParser, bundled: str) -> None:
    _add_spec_options(p, bundled)
    p.add_argument("--draws", type=_positive_int, default=500, help="draws per chain (500)")
    p.add_argument("--tune", type=_nonnegative_int, default=500, help="tuning steps (500)")
    p.add_argument("--chains", type=_positive_int, default=2, help="chains per fit (2)")
    p.add_argument("--seed", type=_int, default=0, help="base seed (default: 0)")
    p.add_argument(
        "--out",
        default=None,
        metavar="FILE.nc",
        help="results file; an interrupted study resumes from it (default: a file in the "
        "temporary folder named by the study's settings)",
    )
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler to run on")
    p.add_argument(
        "--processes",
        type=_positive_int,
        default=None,
        metavar="N",
        help="worker processes of the local Dask cluster (default: one per core)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_calibration_commands(add: Callable[..., argparse.ArgumentParser], bundled: str) -> None:
    """``calibrate`` (SBC on a data file's skeleton) and ``study`` (repeated sampling)."""
    from bayescred.data.presets import PRESETS

    p = add(
        "calibrate",
        _lazy_calibration("cmd_calibrate"),
        "simulation-based calibration of a spec on a panel's skeleton",
        "Draw parameters from the spec's prior and outcomes from its likelihood on the rows of "
        "PANEL (workers, periods, groups, credentials and track records as observed), fit each "
        "and test the ranks of the true parameters for uniformity. Exits 1 when a parameter "
        "is not calibrated.",
    )
    p.add_argument("--panel", required=True, metavar="FILE", help="data file (.csv or .parquet)")
    p.add_argument("--sims", type=_positive_int, default=200, metavar="N", help="simulations")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="also write the ECDF plot")
    _study_options(p, bundled)

    p = add(
        "study",
        _lazy_calibration("cmd_study"),
        "repeated-sampling study from a simulator preset's fixed truth",
        "Fit the spec to simulated panels from one fixed truth and report the bias (with its "
        "Monte Carlo standard error), RMSE and 90%% HDI coverage of the average effect, group "
        "effects, saturation points and peak track record.",
    )
    p.add_argument("--preset", default="paper", choices=sorted(PRESETS), help="simulator preset")
    p.add_argument(
        "--workers",
        dest="workers_per_panel",
        type=_positive_int,
        default=2000,
        metavar="N",
        help="workers in each simulated panel (default: %(default)s)",
    )
    p.add_argument("--periods", type=_positive_int, default=20, metavar="T", help="periods (20)")
    p.add_argument("--panels", type=_positive_int, default=20, metavar="K", help="panels (20)")
    p.add_argument("--table", default=None, metavar="FILE.csv", help="also write the table")
    _study_options(p, bundled)


# ------------------------------------------------------------------------------ errors
def _one_line(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return "; ".join(lines) if lines else "(no message)"


def _error(message: str, stream: TextIO) -> int:
    print(f"{PROG}: error: {message}", file=stream, flush=True)
    return EXIT_BAD_INPUT


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Warnings as ``bayescred: warning: ...`` lines, without source lines."""
    stream = sys.stderr if file is None else file
    print(f"{PROG}: warning: {_one_line(str(message))}", file=stream, flush=True)


# ------------------------------------------------------------------------------ main
def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bayescred`` command.

    Parameters
    ----------
    argv
        The arguments after the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 on success, 2 for usage errors and bad input (a one-line
        ``bayescred: error: ...`` message on stderr; a data error lists every broken rule).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    func: Callable[[argparse.Namespace], int] = args.func
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return _run(func, args)


def _run(func: Callable[[argparse.Namespace], int], args: Any) -> int:
    """Run one command; bad input becomes a ``bayescred: error:`` message and exit status 2."""
    if os.environ.get(TRACEBACK_ENV, "") not in ("", "0"):
        return func(args)
    try:
        return func(args)
    except DataError as err:
        # several broken rules, one block each: print the whole message
        return _error(str(err), sys.stderr)
    except (CLIError, BayescredError, ValueError, OSError) as err:
        if isinstance(err, OSError) and err.filename is not None and err.strerror:
            message = f"{err.filename}: {err.strerror}"
        else:
            message = str(err)
        return _error(_one_line(message), sys.stderr)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
