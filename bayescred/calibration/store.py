"""One NetCDF file per study: results written as they arrive, and what a restart may skip.

A study's records (one per simulation: its index, status and scalars, and per element its
fields, e.g. ``truth``, ``rank``, ``L``) are kept as two tables in one NetCDF file: ``sim``
(one row per simulation) and ``row`` (one row per simulation and element). The file carries a
hash of the study's settings (:func:`settings_hash`: spec, skeleton or simulator settings,
sampler arguments, seed; not the number of simulations). Started again on the same file, a
study skips the simulations already there; a different study on the same file is refused.

Each arrival rewrites the file atomically (a temporary sibling, then ``os.replace``): an
interrupted study leaves the last complete file behind, never a torn one. Variables are named
``sim_<field>`` and ``row_<field>``. The records are
small (a few numbers per parameter), so rewriting costs milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.errors import FitFileError

#: Attribute holding the settings hash.
HASH_ATTR = "study_hash"
#: Attribute holding the settings as JSON.
SETTINGS_ATTR = "study_settings"


class StudyFileError(FitFileError):
    """A results file belongs to another study, or is not a study's results file."""


def settings_hash(settings: dict[str, Any]) -> str:
    """SHA-256 of the settings as canonical JSON (keys sorted; arrays by their values)."""
    text = json.dumps(settings, sort_keys=True, default=_jsonable)
    return hashlib.sha256(text.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def frame_digest(frame: pd.DataFrame) -> str:
    """A hash of a frame's values (a panel skeleton enters the settings by its digest)."""
    values = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(values.tobytes() + ",".join(map(str, frame.columns)).encode()).hexdigest()


class ResultStore:
    """The results file of one study (see the module docstring).

    Parameters
    ----------
    path
        The NetCDF file (created on the first record).
    settings
        The study's settings; their hash keys the file.

    Raises
    ------
    StudyFileError
        ``path`` holds the results of a study with other settings, or is not a results file.
    """

    def __init__(self, path: str | Path, settings: dict[str, Any]) -> None:
        self.path = Path(path)
        self.settings = settings
        self.key = settings_hash(settings)
        self._sims: list[dict[str, Any]] = []
        self._rows: list[dict[str, Any]] = []
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        try:
            with xr.open_dataset(self.path, engine="h5netcdf") as ds:
                ds = ds.load()
        except Exception as err:
            raise StudyFileError(
                f"{self.path} exists but is not a study results file ({err}); choose another file"
            ) from None
        key = ds.attrs.get(HASH_ATTR)
        if key != self.key:
            raise StudyFileError(
                f"{self.path} holds the results of a different study (settings hash "
                f"{str(key)[:12]}, this study's {self.key[:12]}): a study resumes only with the "
                "same spec, data, sampler settings and seed. Use another file, or delete this one."
            )
        sims = ds[[v for v in ds.data_vars if "sim" in ds[v].dims]].to_dataframe()
        rows = ds[[v for v in ds.data_vars if "row" in ds[v].dims]].to_dataframe()
        self._sims = [
            _clean({str(k): v for k, v in r.items()}, "sim_") for r in sims.to_dict("records")
        ]
        self._rows = [
            _clean({str(k): v for k, v in r.items()}, "row_") for r in rows.to_dict("records")
        ]

    def done(self) -> set[int]:
        """Indices of the simulations already recorded (succeeded or failed)."""
        return {int(s["index"]) for s in self._sims}

    def add(self, record: dict[str, Any]) -> None:
        """Add one simulation's record and rewrite the file."""
        record = dict(record)
        elements = record.pop("elements", {}) or {}
        index = int(record["index"])
        self._sims.append(record)
        for name, fields in elements.items():
            self._rows.append({"index": index, "name": name, **fields})
        self.write()

    def sims(self) -> pd.DataFrame:
        """One row per recorded simulation, sorted by index."""
        if not self._sims:
            return pd.DataFrame({"index": pd.Series(dtype=int), "status": pd.Series(dtype=str)})
        return pd.DataFrame(self._sims).sort_values("index").reset_index(drop=True)

    def rows(self) -> pd.DataFrame:
        """One row per simulation and element, sorted by index then element."""
        if not self._rows:
            return pd.DataFrame({"index": pd.Series(dtype=int), "name": pd.Series(dtype=str)})
        frame = pd.DataFrame(self._rows)
        return frame.sort_values(["index", "name"], kind="stable").reset_index(drop=True)

    def write(self) -> None:
        """Write every record to :attr:`path` atomically."""
        sims = _strings_as_str(self.sims()).add_prefix("sim_").rename_axis("sim")
        rows = _strings_as_str(self.rows()).add_prefix("row_").rename_axis("row")
        ds = xr.merge(
            [xr.Dataset.from_dataframe(sims), xr.Dataset.from_dataframe(rows)], compat="override"
        )
        ds = ds.drop_vars([c for c in ("sim", "row") if c in ds.coords])
        ds.attrs[HASH_ATTR] = self.key
        ds.attrs[SETTINGS_ATTR] = json.dumps(self.settings, sort_keys=True, default=_jsonable)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            ds.to_netcdf(tmp, engine="h5netcdf")
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


def _strings_as_str(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].astype(object).where(out[c].notna(), "").astype(str)
    return out


def _clean(record: dict[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, np.generic):
            v = v.item()
        out[str(k).removeprefix(prefix)] = v
    return out
