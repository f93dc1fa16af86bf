"""Damaged fit files are refused: checksums of every variable and attribute, verified on load.

A saved fit is damaged at many positions: 4 KB blocks zeroed or inverted across a NetCDF file;
chunk files of a Zarr store zeroed, inverted, cut short or deleted, and single bits of its
metadata flipped. Every damaged copy must be refused with :class:`FitFileError` within seconds,
or, where the damage hit bytes that nothing reads (HDF5 free space and padding, JSON
whitespace), load exactly the data of the undamaged file; both outcomes are counted and
asserted, none passes silently. The loads run in one subprocess, so a reader that hangs fails
the test (naming the damage) instead of stopping the test run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import xarray as xr

from bayescred.errors import FitFileError
from bayescred.facade import CredentialFit, load_fit
from bayescred.inference import integrity
from bayescred.inference import io as fit_io
from bayescred.inference.io import CHECKSUM_ATTR, FORMAT_VERSION, save_fit

#: A damaged file must be refused (or found identical) within this many seconds.
SECONDS = 5.0
BLOCK = 4096
N_POSITIONS = 40

#: Loads each case given on stdin (one JSON object a line) and reports it on stdout.
LOADER = r"""
import json, sys, time, warnings
from bayescred.errors import FitFileError
from bayescred.facade import load_fit
reference = load_fit(sys.argv[1]).tree
for line in sys.stdin:
    case = json.loads(line)
    print(json.dumps({"event": "start", "label": case["label"]}), flush=True)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = load_fit(case["path"]).tree
    except FitFileError as err:
        outcome, message = "refused", str(err)
    except BaseException as err:
        outcome, message = "raised " + type(err).__name__, str(err)
    else:
        outcome, message = ("identical" if tree.identical(reference) else "different"), ""
    seconds = time.perf_counter() - start
    print(json.dumps({"event": "done", "label": case["label"], "outcome": outcome,
                      "seconds": seconds, "message": message}), flush=True)
"""


# ---------------------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def saved_nc(tiny_fit: CredentialFit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny fit saved once to NetCDF (read-only for the tests)."""
    return save_fit(tiny_fit, tmp_path_factory.mktemp("integrity") / "fit.nc")


@pytest.fixture(scope="module")
def saved_zarr(tiny_fit: CredentialFit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny fit saved once to a Zarr store (read-only for the tests)."""
    pytest.importorskip("zarr")
    return save_fit(tiny_fit, tmp_path_factory.mktemp("integrity") / "fit.zarr")


def _copy(saved: Path, tmp_path: Path, name: str = "copy.nc") -> Path:
    target = tmp_path / name
    target.write_bytes(saved.read_bytes())
    return target


def _damage(data: bytes, start: int, mode: str, size: int = BLOCK) -> bytes:
    """``data`` with ``size`` bytes from ``start`` zeroed (``zero``) or inverted (``flip``)."""
    out = bytearray(data)
    block = out[start : start + size]
    out[start : start + size] = (
        bytes(len(block)) if mode == "zero" else bytes(255 - b for b in block)
    )
    return bytes(out)


def _load_all(reference: Path, cases: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Load every case in one subprocess; fail naming the case if one does not finish."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    stdin = "".join(json.dumps(case) + "\n" for case in cases)
    budget = 60 + SECONDS * len(cases)
    try:
        result = subprocess.run(
            [sys.executable, "-c", LOADER, str(reference)],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=budget,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        out = err.stdout.decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
        started = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        last = started[-1]["label"] if started else "(none started)"
        pytest.fail(f"loading the damaged copies did not finish in {budget:.0f} s; last: {last}")
    assert result.returncode == 0, result.stderr[-3000:]
    done = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    done = [d for d in done if d["event"] == "done"]
    assert [d["label"] for d in done] == [c["label"] for c in cases], result.stderr[-3000:]
    return done


def _assert_refused_or_identical(results: list[dict[str, Any]], *, min_refused: int) -> None:
    """Every case refused in seconds, or loaded identical to the undamaged file."""
    wrong = [r for r in results if r["outcome"] not in ("refused", "identical")]
    assert not wrong, "damage neither refused nor harmless:\n" + "\n".join(
        f"{r['label']}: {r['outcome']} {r['message'][:200]}" for r in wrong
    )
    slow = [r for r in results if r["seconds"] > SECONDS]
    assert not slow, "slow: " + ", ".join(f"{r['label']} {r['seconds']:.1f} s" for r in slow)
    refused = [r for r in results if r["outcome"] == "refused"]
    assert len(refused) >= min_refused, (
        f"only {len(refused)} of {len(results)} damaged copies were refused; identical: "
        + ", ".join(r["label"] for r in results if r["outcome"] == "identical")
    )
    for r in refused:
        assert "\n" not in r["message"], r


def _raw_table(path: Path) -> str:
    """The checksum table attribute of a saved NetCDF file, as stored."""
    with h5py.File(path, "r") as f:
        value = f.attrs[CHECKSUM_ATTR]
    return value.decode() if isinstance(value, bytes) else str(value)


def _gcol_collections(data: bytes) -> list[int]:
    """Offsets of the HDF5 global heap collections in ``data``."""
    out, pos = [], data.find(b"GCOL\x01\x00\x00\x00")
    while pos >= 0:
        out.append(pos)
        pos = data.find(b"GCOL\x01\x00\x00\x00", pos + 1)
    return out


# ---------------------------------------------------------------------------------- the table
def test_checksums_cover_every_group_and_variable_and_stay_in_the_file(
    saved_nc: Path, tiny_fit: CredentialFit
) -> None:
    with xr.open_datatree(saved_nc, engine="h5netcdf") as raw:
        table = json.loads(raw.attrs[CHECKSUM_ATTR])
        assert raw.attrs["bayescred_format"] == FORMAT_VERSION == "2"
    assert table["algorithm"] == "sha256"
    assert len(table["table_sha256"]) == 64
    for node in tiny_fit.tree.subtree:
        entry = table["groups"][node.path]
        assert len(entry["attrs"]) == 64
        ds = node.to_dataset(inherit=False)
        assert set(entry["variables"]) == {str(k) for k in ds.variables}, node.path
        for name, var in ds.variables.items():
            assert entry["variables"][name]["shape"] == list(var.shape)
            assert len(entry["variables"][name]["sha256"]) == 64
    loaded = load_fit(saved_nc)
    assert CHECKSUM_ATTR not in loaded.tree.attrs  # it describes the file, not the fit


def test_checksums_do_not_depend_on_format_or_engine(
    saved_nc: Path, saved_zarr: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with xr.open_datatree(saved_nc, engine="h5netcdf") as raw:
        from_nc = json.loads(raw.attrs[CHECKSUM_ATTR])
    with xr.open_datatree(saved_zarr, engine="zarr", consolidated=False) as raw:
        from_zarr = json.loads(raw.attrs[CHECKSUM_ATTR])
    assert from_nc["groups"] == from_zarr["groups"]
    a, b = load_fit(saved_nc), load_fit(saved_zarr)
    assert a.tree.identical(b.tree)
    pytest.importorskip("netCDF4")
    monkeypatch.setattr(fit_io, "_netcdf_engine", lambda: "netcdf4")
    assert load_fit(saved_nc).tree.identical(a.tree)


# ---------------------------------------------------------------------------------- NetCDF
@pytest.mark.parametrize("mode", ["zero", "flip"])
def test_netcdf_damaged_at_many_positions_is_refused(
    saved_nc: Path, tmp_path: Path, mode: str
) -> None:
    data = saved_nc.read_bytes()
    starts = np.linspace(0, len(data) - BLOCK, N_POSITIONS).round().astype(int)
    cases, unchanged = [], 0
    for start in starts:
        damaged = _damage(data, int(start), mode)
        unchanged += damaged == data
        path = tmp_path / f"{mode}-{start}.nc"
        path.write_bytes(damaged)
        cases.append({"label": f"{mode} 4 KB at byte {start}", "path": str(path)})
    # zeroing a block that is all zeros already changes nothing; inverting always does
    assert unchanged <= (N_POSITIONS // 4 if mode == "zero" else 0)
    results = _load_all(saved_nc, cases)
    _assert_refused_or_identical(results, min_refused=3 * N_POSITIONS // 4)


def test_netcdf_damaged_heaps_and_strings_are_refused(saved_nc: Path, tmp_path: Path) -> None:
    """Damage HDF5 itself would not survive: a zeroed object in a global heap collection
    (HDF5 loops forever on it) and bytes of a string variable, each refused by name."""
    data = saved_nc.read_bytes()
    cases, expect = [], {}
    for start in _gcol_collections(data):
        if data[start + 16 : start + 18] == b"\x00\x00":
            continue  # only free space in it
        size = int.from_bytes(data[start + 16 + 8 : start + 16 + 16], "little")
        second = start + 16 + 16 + (size + 7) // 8 * 8  # the second object's header
        path = tmp_path / f"gcol-{start}.nc"
        path.write_bytes(_damage(data, second, "zero", size=16))
        label = f"global heap at byte {start}: second object zeroed"
        cases.append({"label": label, "path": str(path)})
        expect[label] = "global heap"
    assert cases, "the file has no global heap collection to damage"
    with h5py.File(saved_nc, "r") as f:
        offset = f["constant_data/worker"].id.get_offset()
    path = tmp_path / "worker.nc"
    label = bytearray(data)
    label[offset + 2] ^= 0x01  # "w00001" becomes "w01001": still a valid label
    path.write_bytes(bytes(label))
    cases.append({"label": "one byte of the worker labels", "path": str(path)})
    expect["one byte of the worker labels"] = "/constant_data/worker"
    results = _load_all(saved_nc, cases)
    _assert_refused_or_identical(results, min_refused=len(cases))
    for r in results:
        assert expect[r["label"]] in r["message"], r


def test_cli_summary_of_a_damaged_fit_exits_2_with_one_line(saved_nc: Path, tmp_path: Path) -> None:
    """The issue's case: 4 KB zeroed in the middle of a fit file."""
    data = saved_nc.read_bytes()
    middle = len(data) // 2 - BLOCK // 2
    damaged = _damage(data, middle, "zero")
    assert damaged != data
    path = tmp_path / "damaged.nc"
    path.write_bytes(damaged)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("BAYESCRED_TRACEBACK", None)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "bayescred.cli", "summary", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - start
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bayescred: error: ")
    assert str(path) in lines[0]
    assert "damaged" in lines[0]
    assert seconds < 60, seconds  # most of it is importing PyMC


# ---------------------------------------------------------------------------------- Zarr
def test_zarr_damaged_chunks_and_metadata_are_refused(saved_zarr: Path, tmp_path: Path) -> None:
    files = sorted(p.relative_to(saved_zarr) for p in saved_zarr.rglob("*") if p.is_file())
    chunks = [f for f in files if f.name != "zarr.json"]
    metadata = [f for f in files if f.name == "zarr.json"]
    assert len(chunks) >= 20 and len(metadata) >= 20
    modes = ["zero", "flip", "half", "delete"]
    cases: list[dict[str, str]] = []

    def damaged_store(label: str, rel: Path, change: Any) -> None:
        store = tmp_path / f"case{len(cases)}.zarr"
        shutil.copytree(saved_zarr, store)
        change(store / rel)
        cases.append({"label": label, "path": str(store)})

    for i, rel in enumerate(chunks):
        mode = modes[i % len(modes)]
        if mode == "delete":
            damaged_store(f"{rel} deleted", rel, Path.unlink)
        elif mode == "half":
            damaged_store(
                f"{rel} cut in half",
                rel,
                lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
            )
        else:
            damaged_store(
                f"{rel}: {mode} 4 KB from its middle",
                rel,
                lambda p, m=mode: p.write_bytes(
                    _damage(p.read_bytes(), max(0, p.stat().st_size // 2 - BLOCK // 2), m)
                ),
            )
    # single bits of the metadata: 40 positions spread over all zarr.json files
    sizes = [(saved_zarr / rel).stat().st_size for rel in metadata]
    total = np.cumsum(sizes)
    for pos in np.linspace(0, total[-1] - 1, N_POSITIONS).round().astype(int):
        k = int(np.searchsorted(total, pos, side="right"))
        offset = int(pos - (total[k - 1] if k else 0))

        def flip_bit(p: Path, offset: int = offset) -> None:
            data = bytearray(p.read_bytes())
            data[offset] ^= 0x10
            p.write_bytes(bytes(data))

        damaged_store(f"{metadata[k]}: bit 4 of byte {offset} flipped", metadata[k], flip_bit)
    results = _load_all(saved_zarr, cases)
    chunk_results = results[: len(chunks)]
    assert all(r["outcome"] == "refused" for r in chunk_results), [
        r for r in chunk_results if r["outcome"] != "refused"
    ]
    _assert_refused_or_identical(results, min_refused=len(chunks) + 3 * N_POSITIONS // 4)


# ---------------------------------------------------------------------------------- edits
def test_edited_values_attributes_and_table_are_refused(saved_nc: Path, tmp_path: Path) -> None:
    copies = iter(range(100))

    def edited(change: Any) -> Path:
        path = _copy(saved_nc, tmp_path, f"edit{next(copies)}.nc")
        with h5py.File(path, "r+") as f:
            change(f)
        return path

    def bump(f: h5py.File) -> None:
        f["posterior/mu_beta"][0, 0] = f["posterior/mu_beta"][0, 0] + 1e-12

    with pytest.raises(FitFileError, match=r"no longer match .*\(/posterior/mu_beta\)"):
        load_fit(edited(bump))
    with pytest.raises(FitFileError, match=r"/posterior attributes"):
        load_fit(edited(lambda f: f["posterior"].attrs.__setitem__("created_at", "yesterday")))
    with pytest.raises(FitFileError, match=r"root attributes"):
        load_fit(
            edited(lambda f: f.attrs.__setitem__("bayescred_versions", '{"bayescred": "0.1.0"}'))
        )

    table = json.loads(_raw_table(saved_nc))
    entry = table["groups"]["/posterior"]["variables"]["mu_beta"]
    entry["sha256"] = "0" * 64
    with pytest.raises(FitFileError, match="checksum table .* was edited or damaged"):
        load_fit(edited(lambda f: f.attrs.__setitem__(CHECKSUM_ATTR, json.dumps(table))))
    table["table_sha256"] = integrity.table_digest(table)  # a consistent but false table
    with pytest.raises(FitFileError, match=r"no longer match .*\(/posterior/mu_beta\)"):
        load_fit(edited(lambda f: f.attrs.__setitem__(CHECKSUM_ATTR, json.dumps(table))))
    with pytest.raises(FitFileError, match=f"lacks {CHECKSUM_ATTR}"):
        load_fit(edited(lambda f: f.attrs.__delitem__(CHECKSUM_ATTR)))
    with pytest.raises(FitFileError, match=f"{CHECKSUM_ATTR} is not valid JSON"):
        load_fit(edited(lambda f: f.attrs.__setitem__(CHECKSUM_ATTR, "{not json")))


def test_format_1_file_loads_with_a_warning(saved_nc: Path, tmp_path: Path) -> None:
    """A file saved before checksums existed loads, saying that it cannot be checked."""
    path = _copy(saved_nc, tmp_path)
    with h5py.File(path, "r+") as f:
        del f.attrs[CHECKSUM_ATTR]
        f.attrs["bayescred_format"] = "1"
    with pytest.warns(UserWarning, match="fit format 1, which has no checksums"):
        old = load_fit(path)
    new = load_fit(saved_nc)
    assert old.tree.attrs.pop("bayescred_format") == "1"
    assert new.tree.attrs.pop("bayescred_format") == FORMAT_VERSION
    assert old.tree.identical(new.tree)
    # saving it again gives a checked file
    again = save_fit(old, tmp_path / "again.nc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_fit(again).tree.attrs["bayescred_format"] == FORMAT_VERSION
    # a format-1 file cannot carry a checksum table: its format attribute was damaged
    path = _copy(saved_nc, tmp_path, "downgraded.nc")
    with h5py.File(path, "r+") as f:
        f.attrs["bayescred_format"] = "1"
    with pytest.raises(FitFileError, match="format attribute was changed"):
        load_fit(path)


# ---------------------------------------------------------------------------------- saving
def test_save_reads_back_what_it_wrote(
    tiny_fit: CredentialFit, saved_nc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that would not load is never moved into place; the old file is kept."""
    path = _copy(saved_nc, tmp_path, "fit.nc")
    before = path.read_bytes()
    write = xr.DataTree.to_netcdf

    def write_then_damage(self: xr.DataTree, filepath: Any, *args: Any, **kwargs: Any) -> Any:
        out = write(self, filepath, *args, **kwargs)
        with h5py.File(filepath, "r+") as f:
            f["posterior/sigma"][0, 0] = -1.0
        return out

    monkeypatch.setattr(xr.DataTree, "to_netcdf", write_then_damage)
    with pytest.raises(FitFileError, match=r"did not read back as saved.*/posterior/sigma"):
        save_fit(tiny_fit, path)
    assert [p.name for p in tmp_path.iterdir()] == ["fit.nc"]
    assert path.read_bytes() == before
