"""The files the commands read and write: data tables, credential events, specs, fit files,
figures, reports."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bayescred.facade.credential_fit import CredentialFit
    from bayescred.spec import ModelSpec
from bayescred.cli.output import CLIError

#: Suffixes of the data files the commands read and write.
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet")
#: Suffixes :func:`bayescred.inference.io.save_fit` writes.
FIT_SUFFIXES = (".nc", ".nc4", ".zarr")


def suffix(path: Path) -> str:
    name = path.name.lower()
    return next((s for s in DATA_SUFFIXES if name.endswith(s)), path.suffix.lower())


def check_data_suffix(path: str | Path, what: str = "data file") -> Path:
    """``path`` as a :class:`Path`, or :class:`CLIError` if it is not .csv or .parquet."""
    p = Path(path)
    if suffix(p) not in DATA_SUFFIXES:
        raise CLIError(
            f"{what} {str(p)!r}: unsupported file type {p.suffix or '(no suffix)'!r}; "
            f"use {', '.join(DATA_SUFFIXES)}"
        )
    if suffix(p) == ".parquet" and not any(
        importlib.util.find_spec(engine) for engine in ("pyarrow", "fastparquet")
    ):
        raise CLIError(
            f"{what} {str(p)!r}: .parquet files need pyarrow: pip install 'bayescred[parquet]'"
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
    if suffix(p) == ".parquet":
        return pd.read_parquet(p)
    return pd.read_csv(p)


def read_events(path: str | Path | None) -> pd.DataFrame | None:
    """The credential events file of ``--events`` (None without one): one row per credential
    earned, the worker and the first period it is held (:mod:`bayescred.data.events`)."""
    if path is None:
        return None
    return read_table(path, "--events file")


def write_table(frame: pd.DataFrame, path: str | Path, what: str = "output file") -> Path:
    """Write ``frame`` as CSV or Parquet (by suffix), creating the folder if needed."""
    p = check_data_suffix(path, what)
    p.parent.mkdir(parents=True, exist_ok=True)
    if suffix(p) == ".parquet":
        frame.to_parquet(p, index=False)
    else:
        frame.to_csv(p, index=False)
    return p


def figure_suffixes() -> list[str]:
    """The file suffixes matplotlib can write a figure as (``.png``, ``.pdf``, ``.svg``...)."""
    from matplotlib.backend_bases import FigureCanvasBase

    return sorted(f".{ext}" for ext in FigureCanvasBase.get_supported_filetypes())


def check_figure_target(path: str | Path, what: str = "figure file") -> Path:
    """``path`` as a :class:`Path`, or :class:`CLIError` if matplotlib cannot write its type."""
    p = Path(path).expanduser()
    known = figure_suffixes()
    if p.suffix.lower() not in known:
        raise CLIError(
            f"{what} {str(p)!r}: unsupported figure type {p.suffix or '(no suffix)'!r}; "
            f"use {', '.join(known)}"
        )
    return p


def save_figure(figure: Figure, path: str | Path, what: str = "figure file") -> Path:
    """Write ``figure`` (the type by the suffix), creating the folder, and close it."""
    import matplotlib.pyplot as plt

    from bayescred.plots import style

    p = check_figure_target(path, what)
    p.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(p, dpi=style.DPI, bbox_inches="tight")
    plt.close(figure)
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
    """Load a fit saved by ``bayescred fit`` (:func:`bayescred.load`)."""
    from bayescred.facade import load_fit

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


def save_fit_file(fit: CredentialFit, path: Path) -> Path:
    """Save ``fit`` with :func:`bayescred.inference.io.save_fit`."""
    from bayescred.inference.io import save_fit

    return Path(save_fit(fit, path))


def write_report(fit: CredentialFit, path: str | Path) -> Path:
    """Write the HTML report with :func:`bayescred.reporting.html.report`."""
    from bayescred.reporting.html import report

    p = Path(path).expanduser()
    p.parent.mkdir(parents=True, exist_ok=True)
    return Path(report(fit, p))
