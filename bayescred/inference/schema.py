"""The schema of a fit's DataTree: the names it stores things under, the design written into it
and read back from it, and the data schema a saved file is checked against.

Every module that reads or writes a fit's root attributes uses the key constants here
(:data:`SPEC_ATTR`, :data:`DESIGN_ATTR`, ...) instead of the strings themselves.

Writing
    :func:`attach_design` puts a design into a sampler's tree: ``constant_data`` and
    ``observed_data`` (:func:`design_datasets`), the spec, priors, data-derived constants and
    package versions as JSON attributes (:func:`design_attrs`), the sampler and its wall time.
Reading
    :func:`design_from_tree` rebuilds the :class:`~bayescred.model.design.ModelDesign` (and so
    the PyMC model) from the tree alone: a saved fit stores the rows the model used, the spec
    and the data-derived constants, so a loaded fit never needs the original frame.
Data schema
    :func:`data_schema` describes a tree as saved (the ``bayescred_schema`` attribute) and
    :func:`check_data_schema` checks a loaded tree against it.

See :mod:`bayescred.inference.io` for the file layout and its versions.
"""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.data.events import (
    CREDENTIAL_TYPE,
    CredentialEvents,
    event_positions,
    time_labels,
)
from bayescred.data.panel import Panel
from bayescred.errors import FitFileError
from bayescred.inference.storable import dtype_label
from bayescred.maths.curves import TrackRecordScale
from bayescred.model.design import ModelDesign
from bayescred.spec import ModelSpec, PriorSpec

__all__ = [
    "CHECKSUM_ATTR",
    "CHECKSUM_FORMAT",
    "CONSTANT_DATA_GROUP",
    "DESIGN_ATTR",
    "EVENT_DIM",
    "FORMAT_ATTR",
    "FORMAT_VERSION",
    "JSON_ATTRS",
    "OBSERVED_DATA_GROUP",
    "OLDEST_FORMAT",
    "OUTSIDE_EVENT_DIM",
    "POSTERIOR_GROUP",
    "PRIORS_ATTR",
    "REQUIRED_ATTRS",
    "REQUIRED_GROUPS",
    "SAMPLER_ATTR",
    "SAMPLER_DEVICE_ATTR",
    "SCHEMA_ATTR",
    "SPEC_ATTR",
    "SPEC_HASH_ATTR",
    "TARGET_ACCEPT_ATTR",
    "VERSIONED_PACKAGES",
    "VERSIONS_ATTR",
    "WALL_TIME_ATTR",
    "attach_design",
    "check_data_schema",
    "data_schema",
    "design_attrs",
    "design_datasets",
    "design_from_tree",
    "event_datasets",
    "events_from_tree",
    "package_versions",
]

# ------------------------------------------------------------------------ root attributes
#: The model spec, as :meth:`ModelSpec.to_json` writes it.
SPEC_ATTR = "bayescred_spec"
#: :meth:`ModelSpec.spec_hash` of the spec at fit time.
SPEC_HASH_ATTR = "bayescred_spec_hash"
#: JSON: the resolved priors, by parameter.
PRIORS_ATTR = "bayescred_priors"
#: JSON: the data-derived constants of the design (track-record scale, outcome, rows used...).
DESIGN_ATTR = "bayescred_design"
#: JSON: versions of bayescred and its main dependencies at fit time.
VERSIONS_ATTR = "bayescred_versions"
#: The file layout version (:data:`FORMAT_VERSION`), written when a fit is saved.
FORMAT_ATTR = "bayescred_format"
#: JSON: the data schema of a saved fit (:func:`data_schema`), written when it is saved.
SCHEMA_ATTR = "bayescred_schema"
#: JSON: the checksum table of a saved fit (it describes the file, not the fit).
CHECKSUM_ATTR = "bayescred_checksums"
#: The sampler that drew the posterior.
SAMPLER_ATTR = "sampler"
#: Seconds the sampler ran.
WALL_TIME_ATTR = "sampling_wall_time_s"
#: NUTS's target acceptance rate.
TARGET_ACCEPT_ATTR = "target_accept"
#: The JAX device a JAX sampler ran on (JAX samplers only).
SAMPLER_DEVICE_ATTR = "sampler_device"

# ------------------------------------------------------------------------ groups
#: The posterior draws.
POSTERIOR_GROUP = "posterior"
#: The rows the model used, as codes and labels (:func:`design_datasets`).
CONSTANT_DATA_GROUP = "constant_data"
#: The outcome of the rows the model used.
OBSERVED_DATA_GROUP = "observed_data"

# ------------------------------------------------------------------------ saved files
#: Layout version written to :data:`FORMAT_ATTR`; files with a higher version are refused.
FORMAT_VERSION = "2"
#: The oldest layout version a fit loads from (with a warning when it has no checksums).
OLDEST_FORMAT = "1"
#: The first layout version with :data:`CHECKSUM_ATTR`.
CHECKSUM_FORMAT = "2"
#: Root attributes every saved fit has; all but the first three hold JSON text.
REQUIRED_ATTRS = (
    FORMAT_ATTR,
    SPEC_HASH_ATTR,
    SPEC_ATTR,
    PRIORS_ATTR,
    DESIGN_ATTR,
    VERSIONS_ATTR,
    SCHEMA_ATTR,
)
#: Root attributes that hold JSON text (:data:`CHECKSUM_ATTR` too, from format 2 on).
JSON_ATTRS = (SPEC_ATTR, PRIORS_ATTR, DESIGN_ATTR, VERSIONS_ATTR, SCHEMA_ATTR)
#: Groups a loaded fit cannot work without (effects, checks and plots rebuild the design).
REQUIRED_GROUPS = (POSTERIOR_GROUP, CONSTANT_DATA_GROUP, OBSERVED_DATA_GROUP)

#: Packages whose versions :data:`VERSIONS_ATTR` records.
VERSIONED_PACKAGES = (
    "bayescred",
    "pymc",
    "pytensor",
    "arviz",
    "nutpie",
    "numpy",
    "pandas",
    "xarray",
    "jax",
    "numpyro",
)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a fit depends on.

    Returns
    -------
    dict
        Package name to version (``"not installed"`` for a missing one), for every name in
        :data:`VERSIONED_PACKAGES`.
    """
    out = {}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


# ------------------------------------------------------------------------ writing
def design_datasets(design: ModelDesign) -> tuple[xr.Dataset, xr.Dataset]:
    """``constant_data`` and ``observed_data`` of a design, with labelled coords.

    Parameters
    ----------
    design
        The design a fit is made from.

    Returns
    -------
    tuple of xarray.Dataset
        ``constant_data`` (codes, credentials, track record, covariates, with Mundlak
        terms the worker means, and credential events given as data:
        :func:`event_datasets`) and ``observed_data`` (the outcome ``y``).
    """
    p = design.panel
    coords = {
        "obs": np.arange(p.n_rows),
        "worker": p.worker_labels,
        "period": p.period_labels,
        "group": p.group_labels,
        "covariate": np.asarray(p.covariates, dtype=str),
    }
    const = xr.Dataset(
        {
            "worker_idx": ("obs", p.worker_codes),
            "period_idx": ("obs", p.period_codes),
            "group_idx": ("obs", p.group_codes),
            "credentials": ("obs", p.credentials),
            "track_record": ("obs", p.track_record),
            "covariates": (("obs", "covariate"), p.covariate_matrix),
        },
        coords=coords,
    )
    if design.mundlak_names:
        const["worker_means"] = (("worker", "mundlak_term"), design.mundlak_matrix())
        const = const.assign_coords(mundlak_term=list(design.mundlak_names))
    if p.events is not None and not p.events.derived:
        const = const.assign(event_datasets(p))
    observed = xr.Dataset({"y": ("obs", np.asarray(p.y))}, coords={"obs": coords["obs"]})
    return const, observed


#: Dims of the credential events stored in ``constant_data`` (:func:`event_datasets`).
EVENT_DIM = "credential_event"
OUTSIDE_EVENT_DIM = "outside_credential_event"


def event_datasets(panel: Panel) -> dict[str, xr.DataArray]:
    """Credential events given as data, as ``constant_data`` variables.

    ``event_worker`` (codes into the ``worker`` coordinate) and ``event_time`` (positions on
    the period axis, :data:`~bayescred.maths.event_time.UNKNOWN_TIME` for held before the panel)
    along :data:`EVENT_DIM`, ``event_credential_type`` when the events have types; the events
    outside their worker's observed periods as ``outside_event_worker`` (labels),
    ``outside_event_time`` (and ``outside_event_credential_type``) along
    :data:`OUTSIDE_EVENT_DIM`, when there are any.

    Parameters
    ----------
    panel
        A panel whose :attr:`~bayescred.data.panel.Panel.events` were given as data.

    Returns
    -------
    dict
        Variable name to data array (empty when the panel has no such events).
    """
    events, columns = panel.events, panel.columns
    if events is None or events.derived:
        return {}
    out = {
        "event_worker": xr.DataArray(events.worker, dims=EVENT_DIM),
        "event_time": xr.DataArray(events.time, dims=EVENT_DIM),
    }
    if events.credential_type is not None:
        types = np.asarray(events.credential_type, dtype=str)
        out["event_credential_type"] = xr.DataArray(types, dims=EVENT_DIM)
    outside = events.outside
    if len(outside):
        out["outside_event_worker"] = xr.DataArray(
            outside[columns.worker].to_numpy().astype(str), dims=OUTSIDE_EVENT_DIM
        )
        out["outside_event_time"] = xr.DataArray(
            event_positions(outside[columns.period], panel.period_labels)[0],
            dims=OUTSIDE_EVENT_DIM,
        )
        if CREDENTIAL_TYPE in outside.columns:
            out["outside_event_credential_type"] = xr.DataArray(
                outside[CREDENTIAL_TYPE].to_numpy().astype(str), dims=OUTSIDE_EVENT_DIM
            )
    return out


def design_attrs(design: ModelDesign) -> dict[str, Any]:
    """Everything besides arrays needed to rebuild the design: JSON-safe attributes.

    Parameters
    ----------
    design
        The design a fit is made from.

    Returns
    -------
    dict
        :data:`SPEC_ATTR`, :data:`SPEC_HASH_ATTR`, :data:`PRIORS_ATTR`, :data:`DESIGN_ATTR`
        and :data:`VERSIONS_ATTR`, all text.
    """
    p = design.panel
    return {
        SPEC_ATTR: design.spec.to_json(),
        SPEC_HASH_ATTR: design.spec.spec_hash(),
        PRIORS_ATTR: json.dumps(
            {k: v.model_dump(exclude_none=True) for k, v in design.priors.items()}, sort_keys=True
        ),
        DESIGN_ATTR: json.dumps(
            {
                "track_record_reference": design.track_scale.reference,
                "track_record_scale": design.track_scale.scale,
                "y_mean": design.y_mean,
                "y_sd": design.y_sd,
                "mundlak_names": list(design.mundlak_names),
                "mundlak_center": list(design.mundlak_center),
                "mundlak_scale": list(design.mundlak_scale),
                "outcome": p.outcome,
                "outcome_kind": p.outcome_kind,
                "covariates": list(p.covariates),
                "rows_not_used": design.rows_not_used().to_dict(orient="list"),
                "rows_used": p.n_rows,
                "workers_used": p.n_workers,
            }
        ),
        VERSIONS_ATTR: json.dumps(package_versions(), sort_keys=True),
    }


def attach_design(
    tree: xr.DataTree, design: ModelDesign, *, sampler: str, wall_time: float
) -> xr.DataTree:
    """Replace the sampler's data groups by the design's and store spec, priors and versions.

    Parameters
    ----------
    tree
        The sampler's tree (``posterior``, ``sample_stats`` and whatever data groups it made).
    design
        The design the model was built from.
    sampler
        The sampler's name (:data:`SAMPLER_ATTR`).
    wall_time
        Seconds the sampler ran (:data:`WALL_TIME_ATTR`).

    Returns
    -------
    xarray.DataTree
        The tree with the design's ``constant_data`` and ``observed_data`` and the attributes
        of :func:`design_attrs`, the sampler and its wall time.
    """
    const, observed = design_datasets(design)
    groups = {
        name: node.to_dataset()
        for name, node in tree.children.items()
        if name not in (CONSTANT_DATA_GROUP, OBSERVED_DATA_GROUP)
    }
    groups[CONSTANT_DATA_GROUP] = const
    groups[OBSERVED_DATA_GROUP] = observed
    out = xr.DataTree.from_dict(groups)
    out.attrs.update(design_attrs(design))
    out.attrs[SAMPLER_ATTR] = sampler
    out.attrs[WALL_TIME_ATTR] = float(wall_time)
    return out


# ------------------------------------------------------------------------ reading
def design_from_tree(tree: xr.DataTree) -> ModelDesign:
    """The design a fit was built from, reconstructed from its DataTree.

    The panel's ``frame`` holds the used rows with the spec's column names (worker, period and
    group as labels), and ``excluded`` is empty: the counts of rows not used are in the fit's
    attributes (:meth:`CredentialFit.rows_not_used`).

    Parameters
    ----------
    tree
        A fit's tree, as sampled or loaded.

    Returns
    -------
    ModelDesign
        The design: spec, panel, priors and data-derived constants.
    """
    spec = ModelSpec.from_json(tree.attrs[SPEC_ATTR])
    info = json.loads(tree.attrs[DESIGN_ATTR])
    priors = {
        k: PriorSpec.model_validate(v) for k, v in json.loads(tree.attrs[PRIORS_ATTR]).items()
    }
    const = tree[CONSTANT_DATA_GROUP].to_dataset()
    y = tree[OBSERVED_DATA_GROUP].to_dataset()["y"].values.astype(float)
    worker_labels = np.asarray(const["worker"].values).astype(str)
    period_labels = np.asarray(const["period"].values)
    group_labels = np.asarray(const["group"].values).astype(str)
    covariates = tuple(str(c) for c in const["covariate"].values)
    cols = spec.columns
    w = const["worker_idx"].values.astype(np.int64)
    t = const["period_idx"].values.astype(np.int64)
    g = const["group_idx"].values.astype(np.int64)
    x = const["covariates"].values.astype(float).reshape(len(y), len(covariates))
    frame = pd.DataFrame(
        {
            cols.worker: worker_labels[w],
            cols.period: period_labels[t],
            cols.group: group_labels[g],
            cols.credentials: const["credentials"].values,
            cols.track_record: const["track_record"].values,
            info["outcome"]: y,
        }
    )
    for j, name in enumerate(covariates):
        frame[name] = x[:, j]
    panel = Panel(
        frame=frame,
        columns=cols,
        outcome=info["outcome"],
        outcome_kind=info["outcome_kind"],
        covariates=covariates,
        worker_labels=worker_labels,
        period_labels=period_labels,
        group_labels=group_labels,
        worker_codes=w,
        period_codes=t,
        group_codes=g,
        credentials=const["credentials"].values.astype(np.int64),
        track_record=const["track_record"].values.astype(float),
        covariate_matrix=x,
        y=y,
    )
    panel = replace(panel, events=events_from_tree(const, panel))
    return ModelDesign(
        spec=spec,
        panel=panel,
        track_scale=TrackRecordScale(
            reference=float(info["track_record_reference"]), scale=float(info["track_record_scale"])
        ),
        priors=priors,
        y_mean=float(info["y_mean"]),
        y_sd=float(info["y_sd"]),
        mundlak_names=tuple(info["mundlak_names"]),
        mundlak_center=tuple(info["mundlak_center"]),
        mundlak_scale=tuple(info["mundlak_scale"]),
    )


def events_from_tree(const: xr.Dataset, panel: Panel) -> CredentialEvents | None:
    """The credential events stored by :func:`event_datasets`, or None (fits without events
    given as data, and files written before events were stored).

    Parameters
    ----------
    const
        The fit's ``constant_data``.
    panel
        The panel rebuilt from it (labels and column names).

    Returns
    -------
    CredentialEvents or None
        The events, with their outside events as a frame.
    """
    if "event_worker" not in const.variables:
        return None
    types = None
    if "event_credential_type" in const.variables:
        types = np.asarray(const["event_credential_type"].values).astype(str).astype(object)
    outside = pd.DataFrame()
    if "outside_event_worker" in const.variables:
        c = panel.columns
        outside = pd.DataFrame(
            {
                c.worker: np.asarray(const["outside_event_worker"].values).astype(str),
                c.period: time_labels(
                    np.asarray(const["outside_event_time"].values), panel.period_labels
                ),
            }
        )
        if "outside_event_credential_type" in const.variables:
            outside[CREDENTIAL_TYPE] = (
                np.asarray(const["outside_event_credential_type"].values).astype(str).astype(object)
            )
    return CredentialEvents(
        worker=np.asarray(const["event_worker"].values, dtype=np.int64),
        time=np.asarray(const["event_time"].values, dtype=np.int64),
        credential_type=types,
        derived=False,
        outside=outside,
    )


# ------------------------------------------------------------------------ data schema
def data_schema(tree: xr.DataTree) -> dict[str, Any]:
    """Column mapping, outcome, covariates and the dims and dtypes of every stored variable.

    Parameters
    ----------
    tree
        A fit's tree as it is about to be saved (storable values).

    Returns
    -------
    dict
        JSON-able: ``columns``, ``outcome``, ``outcome_kind``, ``likelihood``, ``covariates``
        and ``groups`` (group path to variable name to ``dims``, ``dtype`` and ``coord``).
    """
    spec = ModelSpec.from_json(tree.attrs[SPEC_ATTR])
    info = json.loads(tree.attrs[DESIGN_ATTR])
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


def check_data_schema(tree: xr.DataTree, schema: Mapping[str, Any], where: str) -> None:
    """Every variable the schema lists is present with the same dims and dtype.

    Parameters
    ----------
    tree
        A loaded fit's tree.
    schema
        Its parsed :data:`SCHEMA_ATTR` (:func:`data_schema` at save time).
    where
        The file's path, for messages.

    Raises
    ------
    FitFileError
        If the schema has no groups, or a group or variable it lists is missing or has other
        dims or another dtype.
    """
    groups = schema.get("groups")
    if not isinstance(groups, dict):
        raise FitFileError(f"{where!r} is damaged: its {SCHEMA_ATTR} has no 'groups' entry")
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
