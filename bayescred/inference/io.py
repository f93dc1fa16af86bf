"""Save a fit to one file and load its tree back: :func:`save_fit` and :func:`load_tree`
(:func:`bayescred.load` wraps the tree in a ``CredentialFit``).

A saved fit is one file holding the fit's whole :class:`xarray.DataTree`: every group
(``posterior``, ``sample_stats``, ``constant_data``, ``observed_data`` and any
``log_likelihood``, ``posterior_predictive``, ``prior`` or ``prior_predictive`` that
``CredentialFit.add_groups`` added) and the root attributes the fit needs
(``bayescred_spec``, ``bayescred_spec_hash``, ``bayescred_priors``, ``bayescred_design``,
``bayescred_versions``, ``sampler``, ``sampling_wall_time_s``), plus two written here:

``bayescred_format``
    The file layout version, :data:`FORMAT_VERSION` (``"2"``). A file with a higher version was
    written by a newer bayescred and is refused; see *Format versions* for older ones.
``bayescred_schema``
    JSON: the spec's column mapping, the outcome and its kind, the likelihood, the covariates,
    and the dims and dtypes of every variable of every group as stored. :func:`load_tree` checks
    the file against it.
``bayescred_checksums``
    JSON: SHA-256 checksums of everything the fit is made of (see *Integrity*). It describes
    the file, not the fit: :func:`load_tree` verifies it and leaves it out of the loaded tree,
    and :func:`save_fit` computes it afresh.

Formats
-------
``.nc`` (or ``.nc4``)
    NetCDF-4 (HDF5), written with ``engine="h5netcdf"`` when h5py is installed and with
    ``engine="netcdf4"`` otherwise; either engine reads the other's files. String variables
    are stored as NetCDF character arrays (UTF-8), not HDF5 variable-length strings (see
    *Integrity*).
``.zarr``
    A Zarr store (a folder), when the optional ``zarr`` package is installed
    (``pip install 'bayescred[zarr]'``).

Object dtypes
-------------
NetCDF cannot store Python objects. Before writing, every object-dtype variable or coordinate
(nutpie's ``divergence_message`` holds ``None``/NaN or a message; ArviZ stores string labels
such as ``group`` as objects) is converted:

* all elements strings or missing (``None``/NaN): a fixed-width ``str`` array, missing values
  written as ``""`` (so ``divergence_message`` loads as ``""`` where no divergence occurred);
* otherwise, if the elements form a plain numeric/bool array: that array;
* otherwise a data variable is dropped with a :class:`UserWarning`, and a coordinate makes
  :func:`save_fit` fail (labels are never silently lost).

Attributes that NetCDF cannot store are converted too: ``bool`` to ``int``, dicts and mixed
lists to JSON text; ``None`` attributes are left out.

Integrity
---------
A saved fit protects its contents with SHA-256 checksums, computed when it is saved and
verified when it is loaded, so a file whose bytes were damaged (a bad disk sector, a broken
copy, a truncated download) is refused with :class:`~bayescred.errors.FitFileError` within
seconds instead of giving wrong numbers or hanging:

* every variable (data variables and coordinates) of every group has a checksum over its name,
  dims, shape, dtype, attributes and values in a canonical byte form that does not depend on
  the format (NetCDF or Zarr) or the engine that read it: numbers little-endian with one NaN
  bit pattern, strings as UTF-32 of the longest string's width, datetimes as int64
  nanoseconds;
* every group's attributes have one checksum, the root attributes (all but
  ``bayescred_checksums`` itself, the provenance record ``bayescred_versions`` included) too,
  so an attribute edited with a NetCDF or Zarr tool after saving is refused like damage;
* the table carries the checksum of its own canonical JSON, so an edited or damaged table is
  refused as such, and it lists every group and variable with its shape, so a missing, added
  or resized variable is refused before any data are read.

:func:`load_tree` reads the whole file into memory, runs the checks that give the most specific
message first (format, spec hash, schema) and then verifies every checksum. Three measures
guard the reading itself against damage that the HDF5 library does not survive in reasonable
time, none of them a timeout:

* before HDF5 opens a NetCDF file, every global heap collection in it (where HDF5 keeps string
  attributes and NetCDF-4's dimension lists; it has no checksum of its own) is walked as HDF5
  walks it, and a collection that does not add up is refused: HDF5 2.0 loops forever on an
  object whose size was zeroed;
* string variables are written as character arrays: an HDF5 variable-length string keeps a
  pointer in the data, and a damaged pointer claims a string of up to 4 GiB that HDF5
  allocates before it finds the pointer wrong (seconds per string);
* the shape of every variable is compared with the table before any value is read, so a
  damaged shape (in a Zarr ``zarr.json``, say) never makes the reader allocate a huge array.

HDF5 checks the object headers, fractal heaps and version-2 B-trees that h5netcdf writes with
its own checksums and refuses damaged ones at once; damage to the superblock or to raw data
fails HDF5's own checks or the SHA-256 ones. ``tests/test_io_integrity.py`` damages saved
files at many positions and checks that every damaged copy is refused within seconds or, where
the damage hit bytes nothing reads (free space, padding), loads exactly the saved data.

HDF5's Fletcher-32 filter is not used: it needs chunked storage, whose chunk index in the
format h5netcdf writes by default is a version-1 B-tree without checksums (one more structure
to trust), and it would cover numeric variables only, while the SHA-256 table covers strings,
attributes and Zarr stores alike. :func:`save_fit` reads the written file back and verifies
it before moving it into place, so a fit that would not load is never saved.

Format versions
---------------
``"2"`` (current) adds ``bayescred_checksums``. A file in format ``"1"`` (no checksums,
written before checksums existed) still loads, with a :class:`UserWarning` saying that its data
cannot be checked for damage; every other check (spec hash, schema) still applies. Save the
loaded fit again to get a format-2 file: its checksums then vouch for the data as read at that
moment. A format-1 file that carries a ``bayescred_checksums`` attribute is refused as damaged
(its format attribute was changed). To refuse format-1 files outright, turn the warning into an
error (``warnings.filterwarnings("error", message=".*fit format 1")``).

Safety
------
Writing is atomic: the fit is written to a temporary file in the target's folder, flushed to
disk and renamed over ``path``, so a crash never leaves a half-written fit at ``path`` (an
existing file there stays intact until the rename). Loading reads the whole file into memory
and closes it, so the file may be moved, overwritten or deleted afterwards.

Nothing is ever pickled or unpickled: NetCDF and Zarr store plain arrays and text attributes,
and no code path here (nor the xarray backends it calls) uses :mod:`pickle`.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.metadata
import importlib.util
import json
import math
import os
import re
import shutil
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import xarray as xr

from bayescred.errors import FitFileError, SpecError
from bayescred.inference.integrity import (
    CHECKSUM_ATTR,
    check_global_heaps,
    check_shapes,
    checksum_table,
    dtype_label,
    hdf5_superblock,
    verify_checksums,
)
from bayescred.spec import ModelSpec


class HasTree(Protocol):
    """What :func:`save_fit` saves: an object holding a fit's DataTree (a ``CredentialFit``)."""

    tree: xr.DataTree


__all__ = ["FORMAT_VERSION", "load_tree", "save_fit"]

#: Layout version written to ``bayescred_format``; files with a higher version are refused.
FORMAT_VERSION = "2"
#: The oldest layout version :func:`load_tree` reads (with a warning when it has no checksums).
OLDEST_FORMAT = "1"
#: The first layout version with ``bayescred_checksums``.
CHECKSUM_FORMAT = "2"

NETCDF_SUFFIXES = (".nc", ".nc4")
ZARR_SUFFIXES = (".zarr",)

#: Root attributes every saved fit has; all but the first three hold JSON text.
REQUIRED_ATTRS = (
    "bayescred_format",
    "bayescred_spec_hash",
    "bayescred_spec",
    "bayescred_priors",
    "bayescred_design",
    "bayescred_versions",
    "bayescred_schema",
)
#: Root attribute holding the checksum table (format 2 and later).
#: Root attributes outside the root-attribute checksum: the table itself (it has its own).
JSON_ATTRS = (
    "bayescred_spec",
    "bayescred_priors",
    "bayescred_design",
    "bayescred_versions",
    "bayescred_schema",
)
#: Groups a loaded fit cannot work without (effects, checks and plots rebuild the design).
REQUIRED_GROUPS = ("posterior", "constant_data", "observed_data")

#: Start of an HDF5 global heap collection: signature "GCOL", version 1, three reserved bytes.


# ---------------------------------------------------------------------------------- save
def save_fit(fit: HasTree, path: str | Path) -> Path:
    """Write ``fit`` to one file at ``path``, atomically.

    Parameters
    ----------
    fit
        The fit to save.
    path
        Target file; the suffix picks the format: ``.nc``/``.nc4`` (NetCDF-4) or ``.zarr``
        (a Zarr store folder, needs the ``zarr`` package). An existing fit at ``path`` is
        replaced.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FitFileError
        If the suffix is not supported, the folder does not exist, ``path`` is a folder (for
        NetCDF) or a non-Zarr folder or file (for Zarr), the fit's spec does not match its
        stored hash, a coordinate cannot be stored, or writing fails.

    Warns
    -----
    UserWarning
        When an object-dtype data variable cannot be stored and is left out (see the module
        docstring).

    Examples
    --------
    >>> save_fit(fit, "fit.nc")  # doctest: +SKIP
    PosixPath('fit.nc')
    """
    target = Path(path).expanduser()
    suffix = target.suffix.lower()
    if suffix not in NETCDF_SUFFIXES + ZARR_SUFFIXES:
        raise FitFileError(
            f"cannot save a fit to {str(target)!r}: the file name must end in .nc (NetCDF-4) "
            f"or .zarr (Zarr), not {target.suffix or 'nothing'!r}"
        )
    folder = target.parent
    if not folder.is_dir():
        raise FitFileError(
            f"cannot save a fit to {str(target)!r}: folder {str(folder)!r} does not exist"
        )
    _check_spec_hash(fit.tree, f"cannot save a fit to {str(target)!r}")
    tree = _storable_tree(fit.tree, target)
    if suffix in ZARR_SUFFIXES:
        _write_zarr(tree, target)
    else:
        _write_netcdf(tree, target)
    return target


def _storable_tree(tree: xr.DataTree, target: Path) -> xr.DataTree:
    """A copy of ``tree`` with only NetCDF-storable dtypes and attributes, plus format/schema."""
    groups: dict[str, xr.Dataset] = {}
    dropped: list[str] = []
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        variables: dict[str, xr.Variable] = {}
        for name, var in ds.variables.items():
            where = f"{node.path.rstrip('/')}/{name}"
            stored = _storable_variable(var)
            if stored is None:
                if name in ds.coords:
                    raise FitFileError(
                        f"cannot save a fit to {str(target)!r}: coordinate {where!r} holds "
                        "Python objects that NetCDF cannot store"
                    )
                dropped.append(where)
                continue
            variables[str(name)] = stored
        coords = {k: v for k, v in variables.items() if k in ds.coords}
        data = {k: v for k, v in variables.items() if k not in ds.coords}
        groups[node.path] = xr.Dataset(data, coords=coords, attrs=_storable_attrs(ds.attrs))
    if dropped:
        warnings.warn(
            f"left out of {str(target)!r} (object dtype NetCDF cannot store): "
            + ", ".join(dropped),
            UserWarning,
            stacklevel=3,
        )
    out = xr.DataTree.from_dict(groups)
    out.attrs = _storable_attrs(tree.attrs)
    out.attrs["bayescred_format"] = FORMAT_VERSION
    out.attrs["bayescred_schema"] = json.dumps(_schema(out), sort_keys=True)
    out.attrs[CHECKSUM_ATTR] = json.dumps(checksum_table(out), sort_keys=True)
    return out


def _is_missing(x: object) -> bool:
    return x is None or (isinstance(x, float | np.floating) and math.isnan(x))


def _storable_variable(var: xr.Variable) -> xr.Variable | None:
    """``var`` without encoding and with object dtype converted; None if it cannot be stored."""
    values = np.asarray(var.values)
    attrs = _storable_attrs(var.attrs)
    if values.dtype != object:
        return xr.Variable(var.dims, values, attrs=attrs)
    flat = values.ravel()
    if all(isinstance(x, str) or _is_missing(x) for x in flat):
        strings = np.array(["" if _is_missing(x) else str(x) for x in flat], dtype=str)
        return xr.Variable(var.dims, strings.reshape(values.shape), attrs=attrs)
    try:
        plain = np.array(flat.tolist())
    except (ValueError, TypeError):
        return None
    if plain.dtype == object or plain.dtype.kind not in "biufcUMm" or plain.shape != flat.shape:
        return None
    return xr.Variable(var.dims, plain.reshape(values.shape), attrs=attrs)


def _storable_attrs(attrs: Mapping[Any, Any]) -> dict[str, Any]:
    """Attributes converted to what NetCDF stores (str, numbers, homogeneous lists)."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if value is None:
            continue
        out[str(key)] = _storable_attr(value)
    return out


def _storable_attr(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, str | int | float | np.integer | np.floating):
        return value
    if (
        isinstance(value, np.ndarray)
        and value.ndim == 1
        and value.size
        and value.dtype.kind in "iuf"
    ):
        return value
    if isinstance(value, list | tuple | np.ndarray):
        items = list(value)
        if items and all(isinstance(x, str) for x in items):
            return [str(x) for x in items]
        if items and all(
            isinstance(x, int | float | np.integer | np.floating)
            and not isinstance(x, bool | np.bool_)
            for x in items
        ):
            return np.asarray(items)
    return json.dumps(value, sort_keys=True, default=str)


def _schema(tree: xr.DataTree) -> dict[str, Any]:
    """Column mapping, outcome, covariates and the dims and dtypes of every stored variable."""
    spec = ModelSpec.from_json(tree.attrs["bayescred_spec"])
    info = json.loads(tree.attrs["bayescred_design"])
    groups: dict[str, dict[str, Any]] = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        if not ds.variables:
            continue
        groups[node.path] = {
            str(name): {
                "dims": [str(d) for d in var.dims],
                "dtype": dtype_label(var.dtype),
                "coord": name in ds.coords,
            }
            for name, var in ds.variables.items()
        }
    return {
        "columns": spec.columns.model_dump(),
        "outcome": info.get("outcome"),
        "outcome_kind": info.get("outcome_kind"),
        "likelihood": spec.outcome.likelihood,
        "covariates": list(info.get("covariates", [])),
        "groups": groups,
    }


def _netcdf_engine() -> Literal["h5netcdf", "netcdf4"]:
    """``h5netcdf`` when it and h5py are installed, else ``netcdf4``."""
    if importlib.util.find_spec("h5netcdf") and importlib.util.find_spec("h5py"):
        return "h5netcdf"
    if importlib.util.find_spec("netCDF4"):
        return "netcdf4"
    raise ImportError(
        "reading or writing a fit needs h5netcdf with h5py, or netCDF4: pip install h5py"
    )


def _temporary_sibling(target: Path, tag: str) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.{tag}")


def _fsync(path: Path, *, directory: bool = False) -> None:
    """Flush ``path`` to disk (best effort for folders, which some systems cannot open)."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def _write_netcdf(tree: xr.DataTree, target: Path) -> None:
    if target.is_dir():
        raise FitFileError(f"cannot save a fit to {str(target)!r}: it is a folder")
    engine = _netcdf_engine()
    tmp = _temporary_sibling(target, "tmp")
    _atomic(
        target,
        tmp,
        lambda: tree.to_netcdf(tmp, mode="w", engine=engine, encoding=_char_encoding(tree)),
        verify=lambda: _verify_written(tmp, target, tree),
        reserve_file=True,
    )


def _char_encoding(tree: xr.DataTree) -> dict[str, dict[str, dict[str, str]]]:
    """Store every string variable as a NetCDF character array (``dtype="S1"``, UTF-8).

    The default, HDF5 variable-length strings, keeps a pointer per string in the data; a
    damaged pointer claims a string of up to 4 GiB, which HDF5 allocates before it finds the
    pointer wrong (seconds to minutes per string). Character arrays hold the bytes themselves,
    so damage changes a string, which the checksums then catch.
    """
    encoding: dict[str, dict[str, dict[str, str]]] = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        names = [str(k) for k, v in ds.variables.items() if v.dtype.kind in "US"]
        if names:
            encoding[node.path] = {name: {"dtype": "S1"} for name in names}
    return encoding


def _write_zarr(tree: xr.DataTree, target: Path) -> None:
    if importlib.util.find_spec("zarr") is None:
        raise FitFileError(
            f"cannot save a fit to {str(target)!r}: Zarr output needs the zarr package "
            "(pip install 'bayescred[zarr]'), or save to a .nc file"
        )
    if target.exists() and not _is_zarr_store(target):
        raise FitFileError(
            f"cannot save a fit to {str(target)!r}: something that is not a Zarr store is "
            "already there (it is left untouched)"
        )
    tmp = _temporary_sibling(target, "tmp")
    _atomic(
        target,
        tmp,
        lambda: tree.to_zarr(tmp, mode="w-", consolidated=False),
        verify=lambda: _verify_written(tmp, target, tree),
    )


def _verify_written(tmp: Path, target: Path, tree: xr.DataTree) -> None:
    """Read the freshly written ``tmp`` back and check it against the checksums of ``tree``."""
    try:
        verify_checksums(_read_tree(tmp), tree.attrs[CHECKSUM_ATTR], str(tmp))
    except FitFileError as err:
        raise FitFileError(
            f"could not write a fit to {str(target)!r}: the written file did not read back "
            f"as saved ({err})"
        ) from err


def _atomic(
    target: Path,
    tmp: Path,
    write: Callable[[], object],
    *,
    verify: Callable[[], None] | None = None,
    reserve_file: bool = False,
) -> None:
    """Run ``write`` (it writes ``tmp``) and ``verify``, move ``tmp`` over ``target``; clean up
    on failure."""
    old: Path | None = None
    try:
        if reserve_file:
            # reserve a unique name; the mode honours the umask like any new file
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        try:
            write()
        except Exception as err:
            raise FitFileError(f"could not write a fit to {str(target)!r}: {err}") from err
        if verify is not None:
            verify()
        if tmp.is_dir():
            for f in tmp.rglob("*"):
                if f.is_file():
                    _fsync(f)
            if target.exists():  # a folder cannot be renamed over a non-empty one
                old = _temporary_sibling(target, "old")
                os.replace(target, old)
        else:
            _fsync(tmp)
        os.replace(tmp, target)
        _fsync(target.parent, directory=True)
    except BaseException:
        if old is not None and not target.exists():
            os.replace(old, target)
            old = None
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _is_zarr_store(path: Path) -> bool:
    return path.is_dir() and ((path / "zarr.json").is_file() or (path / ".zgroup").is_file())


# ---------------------------------------------------------------------------------- load
def load_tree(path: str | Path) -> xr.DataTree:
    """Read a fit written by :func:`save_fit`, fully into memory, and check it.

    Parameters
    ----------
    path
        A ``.nc`` file or a ``.zarr`` store written by :func:`save_fit`.

    Returns
    -------
    xarray.DataTree
        The fit's tree, fully in memory; it needs neither the file (which is closed) nor the
        original data frame.

    Raises
    ------
    FitFileError
        If ``path`` does not exist, is not NetCDF-4/HDF5 (or Zarr), is damaged or truncated
        (any variable, attribute or the checksum table no longer matches its checksum), is not
        a bayescred fit, was written in a newer format, or its spec does not match the stored
        hash or its contents do not match the stored schema.

    Warns
    -----
    UserWarning
        When the fit was written by a bayescred of another major or minor version, or in fit
        format 1, which has no checksums (see the module docstring).

    Examples
    --------
    >>> tree = load_tree("fit.nc")  # doctest: +SKIP
    """
    source = Path(path).expanduser()
    where = str(source)
    tree = _read_tree(source)
    attrs = tree.attrs
    if "bayescred_format" not in attrs or "bayescred_spec" not in attrs:
        raise FitFileError(
            f"{where!r} is not a bayescred fit: it has no 'bayescred_format' or "
            "'bayescred_spec' attribute (was it written by something else?)"
        )
    fmt = str(attrs["bayescred_format"])
    if not fmt.isdigit():
        raise FitFileError(f"{where!r} has an unreadable bayescred_format attribute {fmt!r}")
    if int(fmt) > int(FORMAT_VERSION):
        raise FitFileError(
            f"{where!r} was written in bayescred fit format {fmt}, newer than the format "
            f"{FORMAT_VERSION} this bayescred reads: upgrade bayescred to load it"
        )
    checked = int(fmt) >= int(CHECKSUM_FORMAT)
    if not checked and int(fmt) < int(OLDEST_FORMAT):
        raise FitFileError(f"{where!r} has an unreadable bayescred_format attribute {fmt!r}")
    if not checked and CHECKSUM_ATTR in attrs:
        raise FitFileError(
            f"{where!r} is damaged: it says fit format {fmt}, which has no checksums, but it "
            f"carries a {CHECKSUM_ATTR} attribute (its format attribute was changed)"
        )
    required = (*REQUIRED_ATTRS, CHECKSUM_ATTR) if checked else REQUIRED_ATTRS
    missing = [a for a in required if a not in attrs]
    if missing:
        raise FitFileError(
            f"{where!r} is an incomplete bayescred fit: it lacks {', '.join(missing)}"
        )
    for name in (*JSON_ATTRS, CHECKSUM_ATTR) if checked else JSON_ATTRS:
        try:
            json.loads(attrs[name])
        except (TypeError, ValueError):
            raise FitFileError(
                f"{where!r} is damaged: attribute {name} is not valid JSON"
            ) from None
    _check_spec_hash(tree, f"{where!r} is refused")
    missing = [g for g in REQUIRED_GROUPS if g not in tree.children]
    if missing:
        raise FitFileError(
            f"{where!r} is an incomplete bayescred fit: it lacks group(s) {', '.join(missing)}"
        )
    _check_schema(tree, json.loads(attrs["bayescred_schema"]), where)
    if checked:
        verify_checksums(tree, attrs[CHECKSUM_ATTR], where)
        del tree.attrs[CHECKSUM_ATTR]
    else:
        warnings.warn(
            f"{where!r} was saved in bayescred fit format {fmt}, which has no checksums, so "
            "damage to its data cannot be detected; save the loaded fit again "
            "(fit.save(path)) to add them",
            UserWarning,
            stacklevel=2,
        )
    _warn_version(json.loads(attrs["bayescred_versions"]), where)
    return tree


def _read_tree(source: Path) -> xr.DataTree:
    """Open ``source``, read everything into memory, close it; tidy attributes and encodings."""
    where = str(source)
    if not source.exists():
        raise FitFileError(f"{where!r} does not exist")
    if source.is_dir():
        if not _is_zarr_store(source):
            raise FitFileError(f"{where!r} is a folder, not a bayescred fit file or Zarr store")
        if importlib.util.find_spec("zarr") is None:
            raise FitFileError(
                f"{where!r} is a Zarr store, and reading it needs the zarr package: "
                "pip install 'bayescred[zarr]'"
            )
        engine: str = "zarr"
        kwargs: dict[str, Any] = {"consolidated": False}
    else:
        head = _read_head(source)
        superblock = hdf5_superblock(source, head)
        if superblock is None:
            kind = (
                "a classic (version 3) NetCDF file"
                if head.startswith(b"CDF")
                else "not a NetCDF-4/HDF5 file"
            )
            raise FitFileError(f"{where!r} is {kind}, so it cannot be a bayescred fit")
        check_global_heaps(source, superblock)
        engine, kwargs = _netcdf_engine(), {}
    failure = ""
    with _h5netcdf_teardown_silenced():
        try:
            with xr.open_datatree(source, engine=engine, **kwargs) as lazy:
                check_shapes(lazy, where)
                tree = lazy.load()
        except FitFileError:
            raise
        except Exception as err:
            failure = " ".join(str(err).split()) or type(err).__name__
        if failure:
            gc.collect()  # what the failed open left behind goes now, silenced
    if failure:
        raise FitFileError(f"{where!r} could not be read (damaged or truncated?): {failure}")
    return _tidy(tree)


@contextlib.contextmanager
def _h5netcdf_teardown_silenced() -> Iterator[None]:
    """Silence the error h5netcdf's ``File.__del__`` raises on a file it failed to open.

    Python prints such errors as "Exception ignored in ..." with a traceback on stderr,
    whenever the object is collected: for the command line, around its one-line error.
    """
    original = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if not str(getattr(unraisable.object, "__module__", "")).startswith("h5netcdf"):
            original(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = original


def _tidy(tree: xr.DataTree) -> xr.DataTree:
    """Plain Python attributes, no encodings, and strings (NetCDF character arrays and
    variable-length strings load as Python objects) as NumPy ``str`` arrays again."""
    groups: dict[str, xr.Dataset] = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        variables: dict[str, xr.Variable] = {}
        for name, var in ds.variables.items():
            values = var.values
            if values.dtype == object and all(isinstance(x, str) for x in values.ravel()):
                values = np.array(values.ravel().tolist(), dtype=str).reshape(values.shape)
            variables[str(name)] = xr.Variable(var.dims, values, attrs=dict(var.attrs))
        coords = {k: v for k, v in variables.items() if k in ds.coords}
        data = {k: v for k, v in variables.items() if k not in ds.coords}
        groups[node.path] = xr.Dataset(data, coords=coords, attrs=_plain_attrs(ds.attrs))
    out = xr.DataTree.from_dict(groups)
    out.attrs = _plain_attrs(tree.attrs)
    return out


def _read_head(source: Path) -> bytes:
    try:
        with source.open("rb") as fh:
            return fh.read(8)
    except OSError as err:
        raise FitFileError(f"{str(source)!r} could not be opened: {err.strerror or err}") from err


def _plain_attrs(attrs: Mapping[Any, Any]) -> dict[str, Any]:
    """numpy scalars in attributes as Python scalars (``float``, ``int``)."""
    return {str(k): v.item() if isinstance(v, np.generic) else v for k, v in attrs.items()}


def _check_spec_hash(tree: xr.DataTree, context: str) -> None:
    """Raise :class:`FitFileError` unless the stored spec is valid and matches its hash."""
    try:
        spec = ModelSpec.from_json(tree.attrs["bayescred_spec"])
    except (SpecError, ValueError, TypeError, KeyError) as err:
        raise FitFileError(
            f"{context}: its stored spec is not a valid model spec ({err})"
        ) from None
    if spec.spec_hash() != tree.attrs.get("bayescred_spec_hash"):
        raise FitFileError(
            f"{context}: its spec does not match the stored spec hash, so the spec or the hash "
            "was edited after fitting"
        )


def _check_schema(tree: xr.DataTree, schema: Mapping[str, Any], where: str) -> None:
    """Every variable the schema lists is present with the same dims and dtype."""
    groups = schema.get("groups")
    if not isinstance(groups, dict):
        raise FitFileError(f"{where!r} is damaged: its bayescred_schema has no 'groups' entry")
    for path, variables in groups.items():
        try:
            node = tree[path]
        except KeyError:
            raise FitFileError(f"{where!r} is damaged: group {path!r} is missing") from None
        if not isinstance(node, xr.DataTree):
            raise FitFileError(f"{where!r} is damaged: {path!r} is not a group")
        ds = node.to_dataset(inherit=False)
        for name, expected in variables.items():
            if name not in ds.variables:
                raise FitFileError(f"{where!r} is damaged: variable {path}/{name} is missing")
            var = ds.variables[name]
            found = {"dims": [str(d) for d in var.dims], "dtype": dtype_label(var.dtype)}
            wanted = {"dims": expected.get("dims"), "dtype": expected.get("dtype")}
            if found != wanted:
                raise FitFileError(
                    f"{where!r} is damaged: variable {path}/{name} has dims {found['dims']} and "
                    f"dtype {found['dtype']}, but the file's schema says {wanted['dims']} and "
                    f"{wanted['dtype']}"
                )


def _major_minor(version: str) -> tuple[int, int] | None:
    match = re.match(r"\s*v?(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _installed_version() -> str:
    try:
        return importlib.metadata.version("bayescred")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "unknown"


def _warn_version(versions: Mapping[str, Any], where: str) -> None:
    """Warn when the file's bayescred major.minor differs from the installed one."""
    written = (
        str(versions.get("bayescred", "unknown")) if isinstance(versions, Mapping) else "unknown"
    )
    installed = _installed_version()
    if _major_minor(written) is None or _major_minor(written) != _major_minor(installed):
        warnings.warn(
            f"{where!r} was written by bayescred {written} and is read by bayescred {installed}; "
            "defaults and computations may differ between these versions",
            UserWarning,
            stacklevel=3,
        )
