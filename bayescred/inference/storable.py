"""Convert a fit's DataTree to values NetCDF and Zarr can store, and loaded values back to plain
Python and NumPy ones.

NetCDF cannot store Python objects. :func:`storable_tree` converts every object-dtype variable
or coordinate (nutpie's ``divergence_message`` holds ``None``/NaN or a message; ArviZ stores
string labels such as ``group`` as objects):

* all elements strings or missing (``None``/NaN): a fixed-width ``str`` array, missing values
  written as ``""``;
* otherwise, if the elements form a plain numeric/bool array: that array;
* otherwise a data variable is dropped with a :class:`UserWarning`, and a coordinate raises
  :class:`~bayescred.errors.FitFileError` (labels are never silently lost).

Attributes are converted by :func:`storable_attrs`: ``bool`` to ``int``, dicts and mixed lists
to JSON text; ``None`` attributes are left out. :func:`char_encoding` stores string variables as
NetCDF character arrays, and :func:`plain_tree` undoes what reading a file does to values
(NumPy scalar attributes, object arrays of strings). :func:`dtype_label` names a dtype the way
it survives a round trip. See :mod:`bayescred.inference.io` for saving and loading.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from bayescred.errors import FitFileError

__all__ = [
    "char_encoding",
    "dtype_label",
    "is_missing",
    "plain_attrs",
    "plain_tree",
    "storable_attr",
    "storable_attrs",
    "storable_tree",
    "storable_variable",
]


def dtype_label(dtype: np.dtype[Any]) -> str:
    """A dtype name that survives storage: strings of any width (or object) are ``"str"``.

    Parameters
    ----------
    dtype
        The dtype of a variable, as written or as read back.

    Returns
    -------
    str
        ``"str"``, ``"datetime64"``, ``"timedelta64"`` or the dtype's NumPy name.
    """
    if dtype.kind in "USO":
        return "str"
    if dtype.kind == "M":
        return "datetime64"
    if dtype.kind == "m":
        return "timedelta64"
    return dtype.name


def is_missing(x: object) -> bool:
    """Whether ``x`` is a missing element of an object array (``None`` or a float NaN).

    Parameters
    ----------
    x
        One element.

    Returns
    -------
    bool
        True for ``None`` and NaN.
    """
    return x is None or (isinstance(x, float | np.floating) and math.isnan(x))


def storable_tree(tree: xr.DataTree, target: Path, *, stacklevel: int = 2) -> xr.DataTree:
    """A copy of ``tree`` with only NetCDF-storable dtypes and attributes.

    Parameters
    ----------
    tree
        The fit's tree.
    target
        The file the tree is being saved to (named in messages).
    stacklevel
        Where the warning about left-out variables points, as for :func:`warnings.warn`
        called by the caller of this function (2: the caller's caller).

    Returns
    -------
    xarray.DataTree
        The converted copy: same groups, variables without encodings, storable attributes.

    Raises
    ------
    FitFileError
        If a coordinate holds Python objects that cannot be stored.

    Warns
    -----
    UserWarning
        Naming every object-dtype data variable that cannot be stored and is left out.
    """
    groups: dict[str, xr.Dataset] = {}
    dropped: list[str] = []
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        variables: dict[str, xr.Variable] = {}
        for name, var in ds.variables.items():
            where = f"{node.path.rstrip('/')}/{name}"
            stored = storable_variable(var)
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
        groups[node.path] = xr.Dataset(data, coords=coords, attrs=storable_attrs(ds.attrs))
    if dropped:
        warnings.warn(
            f"left out of {str(target)!r} (object dtype NetCDF cannot store): "
            + ", ".join(dropped),
            UserWarning,
            stacklevel=stacklevel + 1,
        )
    out = xr.DataTree.from_dict(groups)
    out.attrs = storable_attrs(tree.attrs)
    return out


def storable_variable(var: xr.Variable) -> xr.Variable | None:
    """``var`` without encoding and with object dtype converted.

    Parameters
    ----------
    var
        A data variable or coordinate.

    Returns
    -------
    xarray.Variable or None
        The storable variable, or None if its values cannot be stored.
    """
    values = np.asarray(var.values)
    attrs = storable_attrs(var.attrs)
    if values.dtype != object:
        return xr.Variable(var.dims, values, attrs=attrs)
    flat = values.ravel()
    if all(isinstance(x, str) or is_missing(x) for x in flat):
        strings = np.array(["" if is_missing(x) else str(x) for x in flat], dtype=str)
        return xr.Variable(var.dims, strings.reshape(values.shape), attrs=attrs)
    try:
        plain = np.array(flat.tolist())
    except (ValueError, TypeError):
        return None
    if plain.dtype == object or plain.dtype.kind not in "biufcUMm" or plain.shape != flat.shape:
        return None
    return xr.Variable(var.dims, plain.reshape(values.shape), attrs=attrs)


def storable_attrs(attrs: Mapping[Any, Any]) -> dict[str, Any]:
    """Attributes converted to what NetCDF stores (str, numbers, homogeneous lists).

    Parameters
    ----------
    attrs
        Attributes of a tree, group or variable.

    Returns
    -------
    dict
        String keys; ``None`` values left out, the others converted by :func:`storable_attr`.
    """
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if value is None:
            continue
        out[str(key)] = storable_attr(value)
    return out


def storable_attr(value: Any) -> Any:
    """One attribute value as NetCDF stores it.

    Parameters
    ----------
    value
        The attribute's value (not None).

    Returns
    -------
    Any
        ``bool`` as ``int``; strings and numbers as they are; numeric 1-D arrays and lists as
        arrays, string lists as lists of ``str``; anything else as JSON text.
    """
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


def char_encoding(tree: xr.DataTree) -> dict[str, dict[str, dict[str, str]]]:
    """Store every string variable as a NetCDF character array (``dtype="S1"``, UTF-8).

    The default, HDF5 variable-length strings, keeps a pointer per string in the data; a
    damaged pointer claims a string of up to 4 GiB, which HDF5 allocates before it finds the
    pointer wrong (seconds to minutes per string). Character arrays hold the bytes themselves,
    so damage changes a string, which the checksums then catch.

    Parameters
    ----------
    tree
        The storable tree about to be written.

    Returns
    -------
    dict
        The ``encoding`` argument of :meth:`xarray.DataTree.to_netcdf`: group path to
        variable name to ``{"dtype": "S1"}``.
    """
    encoding: dict[str, dict[str, dict[str, str]]] = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        names = [str(k) for k, v in ds.variables.items() if v.dtype.kind in "US"]
        if names:
            encoding[node.path] = {name: {"dtype": "S1"} for name in names}
    return encoding


def plain_tree(tree: xr.DataTree) -> xr.DataTree:
    """A loaded tree with plain values.

    Plain Python attributes, no encodings, and strings (NetCDF character arrays and
    variable-length strings load as Python objects) as NumPy ``str`` arrays again.

    Parameters
    ----------
    tree
        The tree as read from a file, fully in memory.

    Returns
    -------
    xarray.DataTree
        The tidied copy.
    """
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
        groups[node.path] = xr.Dataset(data, coords=coords, attrs=plain_attrs(ds.attrs))
    out = xr.DataTree.from_dict(groups)
    out.attrs = plain_attrs(tree.attrs)
    return out


def plain_attrs(attrs: Mapping[Any, Any]) -> dict[str, Any]:
    """NumPy scalars in attributes as Python scalars (``float``, ``int``).

    Parameters
    ----------
    attrs
        Attributes as read from a file.

    Returns
    -------
    dict
        String keys, NumPy scalars replaced by their ``.item()``.
    """
    return {str(k): v.item() if isinstance(v, np.generic) else v for k, v in attrs.items()}
