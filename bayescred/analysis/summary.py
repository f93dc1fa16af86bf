"""Tidy posterior summaries of the population and group parameters."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayescred.model.families import FAMILIES
from bayescred.model.intercepts import INTERCEPT_SUMMARIES
from bayescred.model.parts import PLAIN, Naming
from bayescred.terms import summary_descriptions


def _descriptions() -> dict[str, str]:
    out = dict(summary_descriptions())
    for family in FAMILIES.values():
        out.update(family.descriptions)
    out.update(INTERCEPT_SUMMARIES)
    return out


#: Readable description of each parameter a summary reports, in display order: declared by the
#: terms (:func:`bayescred.terms.summary_descriptions`), the likelihood families
#: (:attr:`~bayescred.model.families.base.Family.descriptions`) and the worker intercepts.
PARAMETER_DESCRIPTIONS: dict[str, str] = _descriptions()

SAMPLE_DIMS = ("chain", "draw")
#: Suffix of the per-group parameters (``beta_group``); the others are population-level.
GROUP_LEVEL_SUFFIX = "_group"


def group_level(table: pd.DataFrame) -> pd.Series:
    """Whether each row of a :func:`summary_table` is a per-group element."""
    return table["parameter"].str.endswith(GROUP_LEVEL_SUFFIX)


def element_names(table: pd.DataFrame) -> pd.Series:
    """Each row's element as one name: ``mu_beta``, ``gamma[z]``, ``beta_group[A]``."""
    labels = table["label"].astype(str)
    names = table["parameter"].astype(str)
    return names.where(labels == "", names + "[" + labels + "]")


def parameter_descriptions(
    posterior: xr.Dataset, namings: tuple[Naming, ...] = (PLAIN,)
) -> dict[str, str]:
    """The parameters of ``posterior`` a summary reports, with their descriptions, in order.

    ``namings`` are the model's parts (``Family.summary_parts``): a hurdle model's
    extensive-part parameters follow the plain ones.
    """
    out: dict[str, str] = {}
    for naming in namings:
        for name, description in PARAMETER_DESCRIPTIONS.items():
            if naming(name) in posterior.data_vars:
                out[naming(name)] = naming.description + description
    return out


def summary_table(
    posterior: xr.Dataset, *, hdi_prob: float = 0.9, namings: tuple[Naming, ...] = (PLAIN,)
) -> pd.DataFrame:
    """One row per parameter element: mean, sd, HDI, bulk/tail ESS and R-hat.

    Parameters
    ----------
    posterior
        The posterior group (``chain``, ``draw`` and named dims).
    hdi_prob
        Probability mass of the highest-density interval.
    namings
        The namings of the model's parts, plain names first.
    """
    descriptions = parameter_descriptions(posterior, namings)
    names = list(descriptions)
    ds = posterior[names]
    hdi = az.hdi(ds, prob=hdi_prob)
    stats = {
        "mean": ds.mean(SAMPLE_DIMS),
        "sd": ds.std(SAMPLE_DIMS, ddof=1),
        "hdi_low": hdi.sel(ci_bound="lower", drop=True),
        "hdi_high": hdi.sel(ci_bound="upper", drop=True),
    }
    with np.errstate(invalid="ignore", divide="ignore"):  # constant entries: NaN, no warning
        stats["ess_bulk"] = az.ess(ds, method="bulk")
        stats["ess_tail"] = az.ess(ds, method="tail")
        stats["r_hat"] = az.rhat(ds)
    rows = []
    for name in names:
        da = stats["mean"][name]
        dims = list(da.dims)
        labels = _labels(da)
        columns = {
            k: np.asarray(v[name].transpose(*dims).values).reshape(-1) for k, v in stats.items()
        }
        for i, label in enumerate(labels):
            rows.append(
                {
                    "parameter": name,
                    "label": label,
                    "description": descriptions[name],
                    **{k: float(col[i]) for k, col in columns.items()},
                }
            )
    table = pd.DataFrame(rows)
    table.attrs["hdi_prob"] = hdi_prob
    return table


def _labels(da: xr.DataArray) -> list[str]:
    if not da.dims:
        return [""]
    grids = np.meshgrid(*[da[d].values for d in da.dims], indexing="ij")
    flat = [g.reshape(-1) for g in grids]
    return [", ".join(str(f[i]) for f in flat) for i in range(flat[0].size)]
