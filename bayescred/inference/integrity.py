"""Integrity of saved fits: checksums of everything a fit file holds, and a walk of the HDF5
structures that HDF5 itself reads without any check.

A fit file carries a table of SHA-256 digests (the root attribute :data:`CHECKSUM_ATTR`): one
per variable of every group (name, dims, shape, dtype, attributes and values in a canonical
byte form, so NetCDF and Zarr files and both NetCDF engines give the same table), one per
group's attributes, one for the root attributes, and one of the table itself.
:func:`verify_checksums` refuses a tree that does not match. :func:`check_global_heaps` walks
every HDF5 global heap collection of a NetCDF-4 file before HDF5 opens it: those hold
variable-length data without a checksum, and a damaged one can make HDF5 loop forever.
See :mod:`bayescred.inference.io` for how loading uses both.
"""

from __future__ import annotations

import hashlib
import json
import mmap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from bayescred.errors import FitFileError
from bayescred.inference.schema import CHECKSUM_ATTR
from bayescred.inference.storable import dtype_label

#: Root attributes the root-attribute digest leaves out.
UNCHECKED_ROOT_ATTRS = (CHECKSUM_ATTR,)
CHECKSUM_ALGORITHM = "sha256"
#: The 8 bytes that start an HDF5 superblock.
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_GCOL_START = b"GCOL\x01\x00\x00\x00"
_GCOL_MIN_SIZE = 4096  # HDF5 never makes a smaller collection (H5HG_MINSIZE)


def hdf5_superblock(source: Path, head: bytes) -> int | None:
    """Offset of the HDF5 signature: 0, or 512, 1024, 2048... after a user block; else None."""
    if head == HDF5_SIGNATURE:
        return 0
    size = source.stat().st_size
    offset = 512
    with source.open("rb") as fh:
        while offset + 8 <= size:
            fh.seek(offset)
            if fh.read(8) == HDF5_SIGNATURE:
                return offset
            offset *= 2
    return None


def check_global_heaps(source: Path, superblock: int) -> None:
    """Refuse a NetCDF-4/HDF5 file with a global heap collection that does not add up.

    A global heap collection (signature ``GCOL``) holds variable-length data: string
    attributes, the dimension lists of NetCDF-4 and (in format-1 files) string variables.
    Unlike the rest of the
    metadata HDF5 reads, it has no checksum, and HDF5 walks its objects trusting their sizes:
    a zeroed object (size 0) makes it loop forever. This walks every collection the same way
    (object header: index, reference count, reserved, size; data padded to 8 bytes; object 0
    is the free space and counts its own header) and refuses the file unless each walk ends
    exactly at the collection's end. A collection whose signature was damaged is not found
    here, and HDF5 itself refuses it.
    """
    where = str(source)
    try:
        with source.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            problem = _global_heaps_problem(buf, superblock)
    except (OSError, ValueError) as err:  # ValueError: an empty file cannot be mapped
        raise FitFileError(f"{where!r} could not be read (damaged or truncated?): {err}") from err
    if problem:
        raise FitFileError(f"{where!r} is damaged: {problem}")


def _global_heaps_problem(buf: mmap.mmap, superblock: int) -> str:
    """What is wrong with the first bad global heap collection in ``buf`` ("" if none)."""
    version = buf[superblock + 8] if len(buf) > superblock + 14 else -1
    if version in (0, 1):
        length_size = buf[superblock + 14]
    elif version in (2, 3):
        length_size = buf[superblock + 10]
    else:
        return ""  # an unknown superblock: HDF5 itself decides
    if length_size not in (2, 4, 8):
        return "its HDF5 superblock has an unreadable size of lengths"
    pos = buf.find(_GCOL_START)
    while pos >= 0:
        problem = _global_heap_problem(buf, pos, length_size)
        if problem:
            return f"the HDF5 global heap at byte {pos} {problem}"
        pos = buf.find(_GCOL_START, pos + 1)
    return ""


def _global_heap_problem(buf: mmap.mmap, start: int, length_size: int) -> str:
    """What is wrong with the global heap collection at ``start`` ("" if nothing)."""
    header = 8 + length_size  # signature, version, reserved, collection size
    if start + header > len(buf):
        return "is cut off"
    size = int.from_bytes(buf[start + 8 : start + header], "little")
    end = start + size
    if size < _GCOL_MIN_SIZE or end > len(buf):
        return f"claims an impossible size ({size} bytes)"
    object_header = 8 + length_size  # index, reference count, reserved, object size
    pos = start + _align8(header)
    while pos < end:
        if pos + object_header > end:
            return ""  # a tail too small for an object header is free space
        index = int.from_bytes(buf[pos : pos + 2], "little")
        size = int.from_bytes(buf[pos + 8 : pos + object_header], "little")
        need = size if index == 0 else object_header + _align8(size)
        if index == 0 and need < object_header:
            return f"has a free-space object of {size} bytes at byte {pos}"
        if pos + need > end:
            return f"has an object at byte {pos} that runs past the collection's end"
        pos += need
    return ""


def _align8(n: int) -> int:
    return (n + 7) // 8 * 8


def checksum_table(tree: xr.DataTree) -> dict[str, Any]:
    """SHA-256 of every group's attributes and of every variable, and of the table itself."""
    groups: dict[str, Any] = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        attrs = dict(node.attrs)
        if node.is_root:
            attrs = {k: v for k, v in attrs.items() if k not in UNCHECKED_ROOT_ATTRS}
        groups[node.path] = {
            "attrs": _attrs_digest(attrs),
            "variables": {
                str(name): {"shape": list(var.shape), "sha256": _variable_digest(str(name), var)}
                for name, var in ds.variables.items()
            },
        }
    table: dict[str, Any] = {"algorithm": CHECKSUM_ALGORITHM, "groups": groups}
    table["table_sha256"] = table_digest(table)
    return table


def table_digest(table: Mapping[str, Any]) -> str:
    body = {k: v for k, v in table.items() if k != "table_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _parse_table(text: Any, where: str) -> dict[str, Any]:
    """The checksum table of a file, after checking that it is intact."""
    try:
        table = json.loads(text)
    except (TypeError, ValueError):
        raise FitFileError(
            f"{where!r} is damaged: attribute {CHECKSUM_ATTR} is not valid JSON"
        ) from None
    if (
        not isinstance(table, dict)
        or table.get("algorithm") != CHECKSUM_ALGORITHM
        or not isinstance(table.get("groups"), dict)
        or table.get("table_sha256") != table_digest(table)
        or not all(
            isinstance(g, dict) and isinstance(g.get("variables"), dict)
            for g in table["groups"].values()
        )
    ):
        raise FitFileError(
            f"{where!r} is damaged: its checksum table ({CHECKSUM_ATTR}) was edited or "
            "damaged, so its contents cannot be checked"
        )
    return table


def check_shapes(tree: xr.DataTree, where: str) -> None:
    """Before any value is read: the groups, variables and shapes the checksum table lists.

    Files without a table (format 1, or not a fit at all) pass; :func:`load_tree` deals with
    them.
    """
    if CHECKSUM_ATTR not in tree.attrs:
        return
    table = _parse_table(tree.attrs[CHECKSUM_ATTR], where)
    _check_layout(tree, table, where)


def _check_layout(tree: xr.DataTree, table: Mapping[str, Any], where: str) -> None:
    """The tree has exactly the groups and variables of the table (and their shapes)."""
    found = {node.path for node in tree.subtree}
    listed = set(table["groups"])
    if found != listed:
        extra, lost = sorted(found - listed), sorted(listed - found)
        raise FitFileError(
            f"{where!r} is damaged: its groups do not match its checksum table"
            + (f" (missing: {', '.join(lost)})" if lost else "")
            + (f" (not listed: {', '.join(extra)})" if extra else "")
        )
    for node in tree.subtree:
        variables = node.to_dataset(inherit=False).variables
        expected = table["groups"][node.path]["variables"]
        if set(variables) != set(expected):
            names = sorted(set(variables) ^ set(expected), key=str)
            raise FitFileError(
                f"{where!r} is damaged: the variables of group {node.path!r} do not match its "
                f"checksum table ({', '.join(map(str, names))})"
            )
        for name, var in variables.items():
            if list(var.shape) != expected[name].get("shape"):
                raise FitFileError(
                    f"{where!r} is damaged: variable {node.path.rstrip('/')}/{name} has shape "
                    f"{list(var.shape)}, but its checksum table says {expected[name].get('shape')}"
                )


def verify_checksums(tree: xr.DataTree, text: str, where: str) -> None:
    """Raise :class:`FitFileError` unless everything in ``tree`` matches the checksum table
    ``text`` (the JSON of a :data:`CHECKSUM_ATTR` attribute)."""
    table = _parse_table(text, where)
    _check_layout(tree, table, where)
    bad: list[str] = []
    for node in tree.subtree:
        entry = table["groups"][node.path]
        attrs = dict(node.attrs)
        if node.is_root:
            attrs = {k: v for k, v in attrs.items() if k not in UNCHECKED_ROOT_ATTRS}
        if _attrs_digest(attrs) != entry.get("attrs"):
            bad.append("root attributes" if node.is_root else f"{node.path} attributes")
        for name, var in node.to_dataset(inherit=False).variables.items():
            try:
                digest = _variable_digest(str(name), var)
            except ValueError:
                digest = ""
            if digest != entry["variables"][name].get("sha256"):
                bad.append(f"{node.path.rstrip('/')}/{name}")
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise FitFileError(
            f"{where!r} is damaged: {len(bad)} part(s) no longer match the checksums written "
            f"when it was saved ({shown}); restore the file from a copy or fit again"
        )


def _attrs_digest(attrs: Mapping[Any, Any]) -> str:
    canonical = {str(k): _canonical_attr(v) for k, v in attrs.items()}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical_attr(value: Any) -> Any:
    """An attribute as JSON-able data that NetCDF and Zarr round trips leave unchanged.

    NetCDF returns a one-element list as a scalar and numbers as NumPy scalars or arrays, so a
    one-element list and its element, and a NumPy number and the Python number, are the same.
    """
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", "surrogateescape")
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, np.ndarray | list | tuple):
        items = np.asarray(value).ravel().tolist() if isinstance(value, np.ndarray) else value
        canonical = [_canonical_attr(x) for x in items]
        return canonical[0] if len(canonical) == 1 else canonical
    if isinstance(value, Mapping):
        return {str(k): _canonical_attr(v) for k, v in value.items()}
    return str(value)


def _variable_digest(name: str, var: xr.Variable) -> str:
    """SHA-256 of a variable's name, dims, shape, dtype, attributes and canonical values."""
    header = {
        "name": name,
        "dims": [str(d) for d in var.dims],
        "shape": list(var.shape),
        "dtype": dtype_label(var.dtype),
        "attrs": {str(k): _canonical_attr(v) for k, v in var.attrs.items()},
    }
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode("utf-8") + b"\n")
    for block in _canonical_blocks(np.asarray(var.values)):
        digest.update(block)
    return digest.hexdigest()


def _canonical_blocks(values: np.ndarray, block: int = 1 << 24) -> Iterator[memoryview]:
    """The values as bytes that do not depend on the format or engine that stored them.

    Numbers little-endian with every NaN as the same NaN; booleans as one byte; datetimes and
    timedeltas as int64 nanoseconds; strings (fixed-width, objects or bytes) as UTF-32 at the
    width of the longest one. Raises ``ValueError`` for anything else (Python objects).
    """
    kind = values.dtype.kind
    if kind in "OS":
        flat = values.ravel().tolist()
        if all(isinstance(x, bytes) for x in flat):
            flat = [x.decode("utf-8", "surrogateescape") for x in flat]
        if not all(isinstance(x, str) for x in flat):
            raise ValueError(f"values of dtype {values.dtype} cannot be checked")
        values = np.array(flat, dtype=str).reshape(values.shape)
        kind = "U"
    if kind == "U":
        width = int(np.strings.str_len(values).max()) if values.size else 0
        canonical = values.astype(f"<U{max(width, 1)}")
    elif kind == "M":
        canonical = values.astype("datetime64[ns]").view("<i8")
    elif kind == "m":
        canonical = values.astype("timedelta64[ns]").view("<i8")
    elif kind == "b":
        canonical = values.astype(np.uint8)
    elif kind in "iufc":
        if kind in "fc":
            nan = np.isnan(values)
            if nan.any():
                values = np.where(nan, np.nan, values).astype(values.dtype)
        canonical = values.astype(values.dtype.newbyteorder("<"), copy=False)
    else:
        raise ValueError(f"values of dtype {values.dtype} cannot be checked")
    raw = np.ascontiguousarray(canonical).reshape(-1).view(np.uint8)
    for start in range(0, raw.size, block):
        yield memoryview(raw[start : start + block])
