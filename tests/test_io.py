"""Saving a fit to one file and loading it back: round trip, usability, refusals, atomicity."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayescred.errors import FitFileError
from bayescred.facade import load_fit
from bayescred.facade.credential_fit import CredentialFit
from bayescred.inference.io import FORMAT_VERSION, save_fit
from bayescred.inference.reconstruct import design_from_tree


# ---------------------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def saved(tiny_fit: CredentialFit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny fit saved once to a NetCDF file (read-only for the tests)."""
    return save_fit(tiny_fit, tmp_path_factory.mktemp("saved") / "fit.nc")


@pytest.fixture(scope="module")
def loaded(saved: Path) -> CredentialFit:
    return load_fit(saved)


def _is_missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _as_stored(values: np.ndarray) -> np.ndarray:
    """What the saved file holds for ``values``: object arrays become str with "" for None/NaN."""
    if values.dtype != object:
        return values
    flat = ["" if _is_missing(x) else str(x) for x in values.ravel()]
    return np.array(flat, dtype=str).reshape(values.shape)


def _rebuild(
    tree: xr.DataTree,
    *,
    attrs: dict[str, Any] | None = None,
    groups: dict[str, xr.Dataset] | None = None,
) -> xr.DataTree:
    """A copy of ``tree`` with some root attributes or whole groups replaced."""
    parts = {node.path: node.to_dataset(inherit=False) for node in tree.subtree}
    parts.update(groups or {})
    out = xr.DataTree.from_dict(parts)
    out.attrs = {**tree.attrs, **(attrs or {})}
    return out


def _set_root_attr(path: Path, name: str, value: str) -> None:
    """Edit one root attribute of a saved file in place (as a user with a NetCDF tool would)."""
    netcdf4 = pytest.importorskip("netCDF4")
    with netcdf4.Dataset(path, "a") as ds:
        ds.setncattr(name, value)


def _group(tree: xr.DataTree, path: str) -> xr.Dataset:
    """The variables of one group of ``tree`` (without inherited coordinates)."""
    node = tree[path]
    assert isinstance(node, xr.DataTree), path
    return node.to_dataset(inherit=False)


def _copy_of(saved: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.nc"
    target.write_bytes(saved.read_bytes())
    return target


# ---------------------------------------------------------------------------------- round trip
def test_every_variable_of_every_group_round_trips(
    tiny_fit: CredentialFit, loaded: CredentialFit
) -> None:
    original, back = tiny_fit.tree, loaded.tree
    assert set(back.children) == set(original.children)
    assert {"posterior", "sample_stats", "constant_data", "observed_data"} <= set(back.children)
    for node in original.subtree:
        a = node.to_dataset(inherit=False)
        b = _group(back, node.path)
        assert set(b.variables) == set(a.variables), node.path
        assert set(b.coords) == set(a.coords), node.path
        assert set(b.xindexes) == set(a.xindexes), node.path
        assert dict(b.sizes) == dict(a.sizes), node.path
        for name, var in a.variables.items():
            got = b.variables[name]
            where = f"{node.path}/{name}"
            assert got.dims == var.dims, where
            if var.dtype.kind in "OU":
                assert got.dtype.kind == "U", where
            else:
                assert got.dtype == var.dtype, where
            np.testing.assert_array_equal(got.values, _as_stored(var.values), err_msg=where)


def test_every_attribute_round_trips(tiny_fit: CredentialFit, loaded: CredentialFit) -> None:
    original, back = tiny_fit.tree, loaded.tree
    for key, value in original.attrs.items():
        assert back.attrs[key] == value, key
        assert type(back.attrs[key]) is type(value), key
    assert set(back.attrs) == set(original.attrs) | {"bayescred_format", "bayescred_schema"}
    assert back.attrs["bayescred_format"] == FORMAT_VERSION
    for name, node in original.children.items():
        assert dict(back[name].attrs) == dict(node.attrs), name


def test_schema_records_columns_outcome_and_every_variable(
    tiny_fit: CredentialFit, loaded: CredentialFit
) -> None:
    schema = json.loads(loaded.tree.attrs["bayescred_schema"])
    info = tiny_fit.design_info
    assert schema["columns"] == tiny_fit.spec.columns.model_dump()
    assert schema["outcome"] == info["outcome"]
    assert schema["outcome_kind"] == info["outcome_kind"]
    assert schema["covariates"] == info["covariates"]
    assert schema["likelihood"] == tiny_fit.spec.outcome.likelihood
    const = schema["groups"]["/constant_data"]
    assert const["worker_idx"] == {"dims": ["obs"], "dtype": "int64", "coord": False}
    assert const["worker"] == {"dims": ["worker"], "dtype": "str", "coord": True}
    assert schema["groups"]["/sample_stats"]["divergence_message"]["dtype"] == "str"
    for node in tiny_fit.tree.subtree:
        ds = node.to_dataset(inherit=False)
        if ds.variables:
            assert set(schema["groups"][node.path]) == set(ds.variables), node.path


def test_label_dtypes_survive(loaded: CredentialFit) -> None:
    const = loaded.tree["constant_data"]
    assert const["worker"].dtype.kind == "U"
    assert const["group"].dtype.kind == "U"
    assert loaded.tree["posterior"]["group"].dtype.kind == "U"
    assert const["period"].dtype.kind == "i"
    assert const["worker_idx"].dtype == np.int64


def test_datetime_periods_survive(tiny_fit: CredentialFit, tmp_path: Path) -> None:
    tree = tiny_fit.tree
    n = tree["constant_data"].sizes["period"]
    dates = pd.date_range("2021-01-01", periods=n, freq="MS").to_numpy()
    groups = {
        f"/{g}": _group(tree, g).assign_coords(period=dates) for g in ("posterior", "constant_data")
    }
    back = load_fit(save_fit(CredentialFit(_rebuild(tree, groups=groups)), tmp_path / "dates.nc"))
    for g in ("posterior", "constant_data"):
        period = _group(back.tree, g)["period"].values
        assert period.dtype.kind == "M"
        np.testing.assert_array_equal(period, dates)
    assert design_from_tree(back.tree).panel.period_labels.dtype.kind == "M"


def test_divergence_messages_become_strings(tiny_fit: CredentialFit, loaded: CredentialFit) -> None:
    before = _group(tiny_fit.tree, "sample_stats")["divergence_message"].values.ravel()
    after = _group(loaded.tree, "sample_stats")["divergence_message"].values.ravel()
    assert after.dtype.kind == "U"
    for x, y in zip(before, after, strict=True):
        assert y == ("" if _is_missing(x) else x)


def test_unstorable_object_variable_is_dropped_with_a_warning(
    tiny_fit: CredentialFit, tmp_path: Path
) -> None:
    stats = _group(tiny_fit.tree, "sample_stats")
    odd = np.empty(stats["diverging"].shape, dtype=object)
    odd.fill({"a": 1})
    stats["odd"] = (stats["diverging"].dims, odd)
    fit = CredentialFit(_rebuild(tiny_fit.tree, groups={"/sample_stats": stats}))
    with pytest.warns(UserWarning, match="sample_stats/odd"):
        path = save_fit(fit, tmp_path / "odd.nc")
    back = load_fit(path)
    assert "odd" not in back.tree["sample_stats"].variables
    assert "diverging" in back.tree["sample_stats"].variables


def test_unstorable_object_coordinate_is_refused(tiny_fit: CredentialFit, tmp_path: Path) -> None:
    post = _group(tiny_fit.tree, "posterior")
    labels = np.empty(post.sizes["group"], dtype=object)
    for i in range(labels.size):
        labels[i] = {"g": i}
    post = post.assign_coords(group=labels)
    fit = CredentialFit(_rebuild(tiny_fit.tree, groups={"/posterior": post}))
    with pytest.raises(FitFileError, match="coordinate '/posterior/group'"):
        save_fit(fit, tmp_path / "bad.nc")
    assert list(tmp_path.iterdir()) == []


def test_resaving_a_loaded_fit_gives_the_same_tree(loaded: CredentialFit, tmp_path: Path) -> None:
    again = load_fit(save_fit(loaded, tmp_path / "again.nc"))
    assert again.tree.identical(loaded.tree)


# ---------------------------------------------------------------------------------- usability
def test_summary_and_diagnostics_equal_after_loading(
    tiny_fit: CredentialFit, loaded: CredentialFit
) -> None:
    pd.testing.assert_frame_equal(loaded.summary(), tiny_fit.summary(), check_exact=True)
    pd.testing.assert_frame_equal(loaded.diagnostics(), tiny_fit.diagnostics(), check_exact=True)
    assert loaded.diagnostics().attrs["verdict"] == tiny_fit.diagnostics().attrs["verdict"]
    assert loaded.rows_not_used().equals(tiny_fit.rows_not_used())
    assert repr(loaded) == repr(tiny_fit)


def test_design_rebuilds_from_the_loaded_tree(
    tiny_fit: CredentialFit, loaded: CredentialFit
) -> None:
    before = design_from_tree(tiny_fit.tree)
    after = design_from_tree(loaded.tree)
    for field in dataclasses.fields(before.panel):
        a, b = getattr(before.panel, field.name), getattr(after.panel, field.name)
        if isinstance(a, np.ndarray):
            assert b.dtype.kind == a.dtype.kind, field.name
            np.testing.assert_array_equal(b, a, err_msg=field.name)
        elif isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(b, a, check_exact=True)
        else:
            assert b == a, field.name
    assert after.panel.worker_labels.dtype.kind == "U"
    assert after.spec == before.spec
    assert after.priors == before.priors
    assert after.track_scale == before.track_scale
    assert (after.y_mean, after.y_sd) == (before.y_mean, before.y_sd)
    assert after.mundlak_names == before.mundlak_names


def test_a_loaded_fit_rebuilds_its_design_once(
    tiny_fit: CredentialFit, saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loaded fit rebuilds its design from the tree on first use and keeps it; the analysis
    it runs takes that design, and its tables equal the sampled fit's (which holds the design
    it was sampled from)."""
    from bayescred.analysis import replicate
    from bayescred.facade import credential_fit

    calls: list[int] = []

    def counted(tree: xr.DataTree) -> object:
        calls.append(1)
        return design_from_tree(tree)

    def refuse(tree: xr.DataTree) -> None:
        raise AssertionError("the analysis rebuilt the design")

    monkeypatch.setattr(credential_fit, "design_from_tree", counted)
    monkeypatch.setattr(replicate, "design_from_tree", refuse)
    fit = load_fit(saved)
    assert calls == []
    design = fit.design
    assert fit.design is design and len(calls) == 1
    pd.testing.assert_frame_equal(
        fit.check(max_draws=10, random_seed=1), tiny_fit.check(max_draws=10, random_seed=1)
    )
    for by in ("group", "worker_id"):
        pd.testing.assert_frame_equal(
            fit.average_effect(by=by).table, tiny_fit.average_effect(by=by).table
        )
    assert len(calls) == 1


def test_loaded_fit_is_in_memory_and_the_file_closed(
    tiny_fit: CredentialFit, saved: Path, tmp_path: Path
) -> None:
    path = _copy_of(saved, tmp_path)
    fit = load_fit(path)
    fd_dir = Path("/proc/self/fd")
    if fd_dir.is_dir():
        open_files = {os.path.realpath(fd_dir / fd) for fd in os.listdir(fd_dir)}
        assert str(path.resolve()) not in open_files
    # overwrite the same inode in place: any lazy read from the file would now see zeros
    with path.open("r+b") as fh:
        fh.write(b"\0" * path.stat().st_size)
    path.unlink()
    for node in tiny_fit.tree.subtree:
        for name, var in node.to_dataset(inherit=False).variables.items():
            got = _group(fit.tree, node.path)[name].values
            np.testing.assert_array_equal(got, _as_stored(var.values))
    pd.testing.assert_frame_equal(fit.summary(), tiny_fit.summary())


# ---------------------------------------------------------------------------------- refusals
def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.nc"
    with pytest.raises(FitFileError, match="does not exist") as err:
        load_fit(path)
    assert str(path) in str(err.value)


def test_folder_is_not_a_fit(tmp_path: Path) -> None:
    with pytest.raises(FitFileError, match="is a folder"):
        load_fit(tmp_path)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "random.nc"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(FitFileError, match="not a NetCDF-4/HDF5 file") as err:
        load_fit(path)
    assert str(path) in str(err.value)


def test_truncated_file(saved: Path, tmp_path: Path) -> None:
    data = saved.read_bytes()
    path = tmp_path / "truncated.nc"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FitFileError, match="could not be read") as err:
        load_fit(path)
    assert str(path) in str(err.value)


def test_foreign_netcdf4(tmp_path: Path) -> None:
    path = tmp_path / "foreign.nc"
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_netcdf(path, format="NETCDF4")
    with pytest.raises(FitFileError, match="not a bayescred fit") as err:
        load_fit(path)
    assert str(path) in str(err.value)


def test_foreign_classic_netcdf(tmp_path: Path) -> None:
    pytest.importorskip("scipy")
    path = tmp_path / "classic.nc"
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_netcdf(path, engine="scipy")
    with pytest.raises(FitFileError, match="classic"):
        load_fit(path)


@pytest.mark.parametrize("attr", ["bayescred_spec", "bayescred_spec_hash"])
def test_tampered_spec_or_hash_in_the_file(
    tiny_fit: CredentialFit, saved: Path, tmp_path: Path, attr: str
) -> None:
    path = _copy_of(saved, tmp_path)
    if attr == "bayescred_spec":
        changed = tiny_fit.spec.with_changes(period_effects=False)
        value = changed.to_json()
    else:
        value = "0" * 64
    _set_root_attr(path, attr, value)
    with pytest.raises(FitFileError, match="does not match the stored spec hash") as err:
        load_fit(path)
    assert str(path) in str(err.value)


def test_spec_that_is_not_json(saved: Path, tmp_path: Path) -> None:
    path = _copy_of(saved, tmp_path)
    _set_root_attr(path, "bayescred_spec", "{not json")
    with pytest.raises(FitFileError, match="bayescred_spec is not valid JSON"):
        load_fit(path)


def test_saving_an_inconsistent_fit_is_refused(tiny_fit: CredentialFit, tmp_path: Path) -> None:
    changed = tiny_fit.spec.with_changes(period_effects=False).to_json()
    fit = CredentialFit(_rebuild(tiny_fit.tree, attrs={"bayescred_spec": changed}))
    with pytest.raises(FitFileError, match="does not match the stored spec hash"):
        save_fit(fit, tmp_path / "tampered.nc")
    assert list(tmp_path.iterdir()) == []


def test_newer_format_is_refused(saved: Path, tmp_path: Path) -> None:
    path = _copy_of(saved, tmp_path)
    _set_root_attr(path, "bayescred_format", "99")
    with pytest.raises(FitFileError, match="newer") as err:
        load_fit(path)
    assert str(path) in str(err.value)


def test_contents_that_break_the_schema_are_refused(saved: Path, tmp_path: Path) -> None:
    path = _copy_of(saved, tmp_path)
    schema = json.loads(load_fit(saved).tree.attrs["bayescred_schema"])
    schema["groups"]["/constant_data"]["worker_idx"]["dtype"] = "float64"
    _set_root_attr(path, "bayescred_schema", json.dumps(schema))
    with pytest.raises(FitFileError, match="constant_data/worker_idx"):
        load_fit(path)


def test_other_bayescred_version_warns(saved: Path, loaded: CredentialFit, tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_fit(saved)
    assert not [w for w in caught if "written by bayescred" in str(w.message)]
    # a fit written by another version (its checksums cover the versions attribute, so the
    # file is written as that version would have written it, not edited afterwards)
    other = _rebuild(loaded.tree, attrs={"bayescred_versions": json.dumps({"bayescred": "9.9.0"})})
    path = save_fit(CredentialFit(other), tmp_path / "other.nc")
    with pytest.warns(UserWarning, match=r"written by bayescred 9\.9\.0"):
        load_fit(path)


def test_unsupported_suffix_or_missing_folder(tiny_fit: CredentialFit, tmp_path: Path) -> None:
    with pytest.raises(FitFileError, match=r"must end in \.nc"):
        save_fit(tiny_fit, tmp_path / "fit.csv")
    with pytest.raises(FitFileError, match="does not exist"):
        save_fit(tiny_fit, tmp_path / "no" / "fit.nc")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------- atomicity
def test_save_is_atomic_and_leaves_no_temporary_file(
    tiny_fit: CredentialFit, tmp_path: Path
) -> None:
    path = tmp_path / "fit.nc"
    assert save_fit(tiny_fit, path) == path
    assert [p.name for p in tmp_path.iterdir()] == ["fit.nc"]
    save_fit(tiny_fit, str(path))  # overwriting goes through a temporary file too
    assert [p.name for p in tmp_path.iterdir()] == ["fit.nc"]
    load_fit(path)


def test_failed_write_keeps_the_old_file(
    tiny_fit: CredentialFit, saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _copy_of(saved, tmp_path)
    before = path.read_bytes()

    def crash(self: xr.DataTree, filepath: Any, *args: Any, **kwargs: Any) -> None:
        Path(filepath).write_bytes(b"half a file")
        raise RuntimeError("disk full")

    monkeypatch.setattr(xr.DataTree, "to_netcdf", crash)
    with pytest.raises(FitFileError, match="disk full"):
        save_fit(tiny_fit, path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert path.read_bytes() == before


def test_zarr_round_trip(loaded: CredentialFit, tmp_path: Path) -> None:
    pytest.importorskip("zarr")
    path = tmp_path / "fit.zarr"
    save_fit(loaded, path)
    save_fit(loaded, path)  # replaces the store
    assert [p.name for p in tmp_path.iterdir()] == ["fit.zarr"]
    back = load_fit(path)
    assert back.tree.identical(loaded.tree)
    # a folder that is not a Zarr store is never replaced
    other = tmp_path / "mine.zarr"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(FitFileError, match="not a Zarr store"):
        save_fit(loaded, other)
    assert (other / "keep.txt").read_text() == "mine"
