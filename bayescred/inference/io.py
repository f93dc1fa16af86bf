"""Save a fit to one file and load its tree back: :func:`save_fit` and :func:`load_tree`
(:func:`bayescred.load` wraps the tree in a ``CredentialFit``).

A saved fit is one file holding the fit's whole :class:`xarray.DataTree`: every group
(``posterior``, ``sample_stats``, ``constant_data``, ``observed_data`` and any
``log_likelihood``, ``posterior_predictive``, ``prior`` or ``prior_predictive`` that
``CredentialFit.add_groups`` added) and the root attributes the fit needs
(``bayescred_spec``, ``bayescred_spec_hash``, ``bayescred_priors``, ``bayescred_design``,
``bayescred_versions``, ``sampler``, ``sampling_wall_time_s``), plus three written here:

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

This module picks the format and engine, writes and reads the file and checks what it read;
the other jobs are done by :mod:`bayescred.inference.schema` (the names of attributes and
groups, the format versions, the design written into and read from a tree, the data schema),
:mod:`bayescred.inference.storable` (conversion to storable values and back),
:mod:`bayescred.inference.integrity` (checksums and the HDF5 checks) and
:mod:`bayescred.inference.atomic` (atomic writes).

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
import re
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

import xarray as xr

from bayescred.errors import FitFileError, SpecError
from bayescred.inference.atomic import atomic_replace, temporary_sibling
from bayescred.inference.integrity import (
    check_global_heaps,
    check_shapes,
    checksum_table,
    hdf5_superblock,
    verify_checksums,
)
from bayescred.inference.schema import (
    CHECKSUM_ATTR,
    CHECKSUM_FORMAT,
    FORMAT_ATTR,
    FORMAT_VERSION,
    JSON_ATTRS,
    OLDEST_FORMAT,
    REQUIRED_ATTRS,
    REQUIRED_GROUPS,
    SCHEMA_ATTR,
    SPEC_ATTR,
    SPEC_HASH_ATTR,
    VERSIONS_ATTR,
    check_data_schema,
    data_schema,
)
from bayescred.inference.storable import char_encoding, plain_tree, storable_tree
from bayescred.spec import ModelSpec


class HasTree(Protocol):
    """What :func:`save_fit` saves: an object holding a fit's DataTree (a ``CredentialFit``)."""

    tree: xr.DataTree


__all__ = ["FORMAT_VERSION", "load_tree", "save_fit"]

NETCDF_SUFFIXES = (".nc", ".nc4")
ZARR_SUFFIXES = (".zarr",)


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
    tree = storable_tree(fit.tree, target, stacklevel=2)
    _add_file_attrs(tree)
    if suffix in ZARR_SUFFIXES:
        _write_zarr(tree, target)
    else:
        _write_netcdf(tree, target)
    return target


def _add_file_attrs(tree: xr.DataTree) -> None:
    """Add the attributes that describe the file: format, data schema and checksums."""
    tree.attrs[FORMAT_ATTR] = FORMAT_VERSION
    tree.attrs[SCHEMA_ATTR] = json.dumps(data_schema(tree), sort_keys=True)
    tree.attrs[CHECKSUM_ATTR] = json.dumps(checksum_table(tree), sort_keys=True)


def _netcdf_engine() -> Literal["h5netcdf", "netcdf4"]:
    """``h5netcdf`` when it and h5py are installed, else ``netcdf4``."""
    if importlib.util.find_spec("h5netcdf") and importlib.util.find_spec("h5py"):
        return "h5netcdf"
    if importlib.util.find_spec("netCDF4"):
        return "netcdf4"
    raise ImportError(
        "reading or writing a fit needs h5netcdf with h5py, or netCDF4: pip install h5py"
    )


def _write_netcdf(tree: xr.DataTree, target: Path) -> None:
    if target.is_dir():
        raise FitFileError(f"cannot save a fit to {str(target)!r}: it is a folder")
    engine = _netcdf_engine()
    tmp = temporary_sibling(target, "tmp")
    atomic_replace(
        target,
        tmp,
        lambda: tree.to_netcdf(tmp, mode="w", engine=engine, encoding=char_encoding(tree)),
        verify=lambda: _verify_written(tmp, target, tree),
        reserve_file=True,
    )


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
    tmp = temporary_sibling(target, "tmp")
    atomic_replace(
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
    if FORMAT_ATTR not in attrs or SPEC_ATTR not in attrs:
        raise FitFileError(
            f"{where!r} is not a bayescred fit: it has no {FORMAT_ATTR!r} or "
            f"{SPEC_ATTR!r} attribute (was it written by something else?)"
        )
    fmt = str(attrs[FORMAT_ATTR])
    if not fmt.isdigit():
        raise FitFileError(f"{where!r} has an unreadable {FORMAT_ATTR} attribute {fmt!r}")
    if int(fmt) > int(FORMAT_VERSION):
        raise FitFileError(
            f"{where!r} was written in bayescred fit format {fmt}, newer than the format "
            f"{FORMAT_VERSION} this bayescred reads: upgrade bayescred to load it"
        )
    checked = int(fmt) >= int(CHECKSUM_FORMAT)
    if not checked and int(fmt) < int(OLDEST_FORMAT):
        raise FitFileError(f"{where!r} has an unreadable {FORMAT_ATTR} attribute {fmt!r}")
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
    check_data_schema(tree, json.loads(attrs[SCHEMA_ATTR]), where)
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
    _warn_version(json.loads(attrs[VERSIONS_ATTR]), where)
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
    return plain_tree(tree)


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


def _read_head(source: Path) -> bytes:
    try:
        with source.open("rb") as fh:
            return fh.read(8)
    except OSError as err:
        raise FitFileError(f"{str(source)!r} could not be opened: {err.strerror or err}") from err


def _check_spec_hash(tree: xr.DataTree, context: str) -> None:
    """Raise :class:`FitFileError` unless the stored spec is valid and matches its hash."""
    try:
        spec = ModelSpec.from_json(tree.attrs[SPEC_ATTR])
    except (SpecError, ValueError, TypeError, KeyError) as err:
        raise FitFileError(
            f"{context}: its stored spec is not a valid model spec ({err})"
        ) from None
    if spec.spec_hash() != tree.attrs.get(SPEC_HASH_ATTR):
        raise FitFileError(
            f"{context}: its spec does not match the stored spec hash, so the spec or the hash "
            "was edited after fitting"
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
