"""Average effects of one more credential over any subpopulation (``fit.average_effect``).

The average is taken per posterior draw over a set of rows, then summarised: over the rows
the model used (the observed worker-periods, each with its own worker and period where the
effect depends on them) or over a user's ``newdata`` of worker profiles (each a new worker
with the profile, as in :meth:`bayescred.CredentialFit.effect`). ``where`` selects rows,
``by`` splits them into scopes, and bands of numeric columns make derived columns to split
by (``track_record_band``, ``credentials_band``; :data:`DEFAULT_BANDS`).

Rows are processed in chunks so that memory stays O(draws x chunk) whatever the number of
rows (:data:`bayescred.analysis.effects.CHUNK_ELEMENTS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.analysis.effect_result import (
    add_columns,
    effect_columns,
    labelled_draws,
    percent_change,
    percent_draws,
)
from bayescred.analysis.effects import (
    EffectResult,
    NewGroup,
    is_log_scale,
    parameters_from,
    profile_group_parameters,
    profiles_frame,
    rows_per_chunk,
    scope_onehot,
)
from bayescred.analysis.event_profiles import (
    check_event_time_family,
    event_time_words,
    group_profile_at,
    refuse_unseen_groups,
)
from bayescred.analysis.hurdle_effects import MARGINS, hurdle_profile_means, hurdle_row_means
from bayescred.analysis.predictor import EffectDraws, chunks, credential_effect, effect_draws
from bayescred.model.design import ModelDesign
from bayescred.model.families import family_of
from bayescred.spec import ModelSpec

#: Default bands of numeric columns, as left-closed intervals ``[edge, next edge)``; each makes
#: a ``<column>_band`` column to split or select by. ``track_record_band``: newcomers (no
#: completed project, ``[0, 1)``), 1-4, 5-19, 20-99 and 100 or more; ``credentials_band``: none,
#: one, 2-4, 5-9 and 10 or more.
DEFAULT_BANDS: dict[str, tuple[float, ...]] = {
    "track_record": (0.0, 1.0, 5.0, 20.0, 100.0, np.inf),
    "credentials": (0.0, 1.0, 2.0, 5.0, 10.0, np.inf),
}
#: Where the average is taken, by source: (rows, words for the scope of all rows).
_OVER = {
    "rows": ("observed worker-periods", "all observed profiles"),
    "newdata": ("profiles of newdata", "all profiles of newdata"),
}

By = str | Sequence[str] | None
Where = str | np.ndarray | pd.Series | Sequence[bool] | None


@dataclass(frozen=True, repr=False)
class AverageEffect(EffectResult):
    """Average effects of one more credential, one table row per scope (and margin).

    ``table`` holds the ``by`` columns, ``scope`` (the scope's label), ``margin`` (hurdle
    models), ``rows`` (rows averaged over), mean, median, HDI and probability of a positive
    average effect on the model's scale and, for log-scale outcomes, the average percentage
    change (``pct_*``). ``draws`` and ``percent`` hold the per-draw averages, dims
    ``(chain, draw, row)``, aligned with the table's rows, so that :meth:`prob`,
    :meth:`compare` and :meth:`plot` work as for profiles.
    """

    #: What the rows averaged over are, in words (``"observed worker-periods"``).
    over: str = "observed worker-periods"
    #: What changes, in words (``"project value"``, ``"Δ log-odds of any project"``).
    subject: str = "the outcome"
    #: Models with ``[dynamics]``: the event time the effect is at (None: averaged over the lag
    #: window); the table's ``event_time`` column.
    event_time: int | None = None

    def labels(self) -> list[str]:
        t = self.table
        if "margin" in t:
            return [f"{s} ({m})" for s, m in zip(t["scope"], t["margin"], strict=True)]
        return [str(s) for s in t["scope"]]

    def rows(self) -> pd.DataFrame:
        return self.table

    def sentence(self, row: int = 0) -> str:
        """A plain-language sentence for one row of the table."""
        r = self.table.iloc[row]
        pct = round(self.hdi_prob * 100)
        margin = f" ({r['margin']} margin)" if "margin" in r and r["margin"] != "total" else ""
        head = f"Averaged over {int(r['rows']):,} {self.over} ({r['scope']})"
        if self.percent is not None:
            change = (
                f"changes {self.subject} by {r['pct_median']:+.1f}%{margin} (posterior median; "
                f"{pct}% HDI {r['pct_hdi_low']:+.1f}% to {r['pct_hdi_high']:+.1f}%)"
            )
        else:
            change = (
                f"changes {self.subject} by {r['median']:+.3g}{margin} (posterior median; "
                f"{pct}% HDI {r['hdi_low']:+.3g} to {r['hdi_high']:+.3g})"
            )
        return (
            f"{head}, one more credential{event_time_words(self.event_time)} {change}; the "
            "probability that the average effect "
            f"is positive is {r['prob_positive']:.2f}."
        )


# ---------------------------------------------------------------------- rows and selection
def rows_frame(design: ModelDesign) -> pd.DataFrame:
    """The rows the model used: the panel's columns under the spec's names, plus the roles
    under their plain names (``worker_id``, ``period``, ``group``, ``credentials``,
    ``track_record``) where the spec renames them.

    The columns are those a fit stores (worker, period and group as their labels, credentials,
    track record, outcome, covariates), made from the panel's arrays: the same frame whether
    the design is the one sampled from (whose panel also holds the input's other columns) or
    one rebuilt from a saved fit's tree.
    """
    p = design.panel
    cols = design.spec.columns
    frame = pd.DataFrame(
        {
            cols.worker: p.worker_labels[p.worker_codes],
            cols.period: p.period_labels[p.period_codes],
            cols.group: p.group_labels[p.group_codes],
            cols.credentials: p.credentials,
            cols.track_record: p.track_record,
        }
    )
    if p.outcome is not None and p.y is not None:
        frame[p.outcome] = np.asarray(p.y, dtype=float)
    for j, name in enumerate(p.covariates):
        frame[name] = p.covariate_matrix[:, j]
    plain = {
        "worker_id": cols.worker,
        "period": cols.period,
        "group": cols.group,
        "credentials": cols.credentials,
        "track_record": cols.track_record,
    }
    for name, column in plain.items():
        if name not in frame and column in frame:
            frame[name] = frame[column]
    frame["group"] = frame["group"].astype(str)
    return frame


def newdata_frame(newdata: pd.DataFrame, spec: ModelSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Profiles of ``newdata`` for the effect computation (group, credentials, to,
    track_record, covariates) and the frame to select and split by (those plus any other
    columns of ``newdata``)."""
    if not isinstance(newdata, pd.DataFrame):
        raise ValueError("newdata must be a pandas DataFrame of profiles")
    if newdata.empty:
        raise ValueError("newdata has no rows")
    roles = ["group", "credentials", "track_record", "to", *spec.covariates]
    profiles = profiles_frame(
        None, None, None, newdata[[c for c in roles if c in newdata]], None, None, spec
    )
    frame = newdata.reset_index(drop=True).copy()
    for column in profiles.columns:
        frame[column] = profiles[column].to_numpy()
    return profiles, frame


def band_labels(edges: Sequence[float]) -> list[str]:
    """Labels of the bands ``[a, b)`` between consecutive edges (``"[1, 5)"``, ``"100+"``)."""
    return [f"{a:g}+" if np.isinf(b) else f"[{a:g}, {b:g})" for a, b in pairwise(edges)]


def with_bands(
    frame: pd.DataFrame, bands: Mapping[str, Sequence[float]] | None = None
) -> pd.DataFrame:
    """``frame`` with a ``<column>_band`` column for each banded column it has.

    ``bands`` adds to or replaces :data:`DEFAULT_BANDS`: ``{"track_record": [0, 1, 5, 20,
    np.inf]}``. Bands are left-closed, ``[edge, next edge)``; values outside every band are
    refused.
    """
    out = frame.copy()
    for column, edges in {**DEFAULT_BANDS, **dict(bands or {})}.items():
        if column not in out:
            if bands and column in bands:
                raise ValueError(f"bands: no column {column!r} to band; columns: {list(frame)}")
            continue
        e = np.asarray(edges, dtype=float)
        if e.ndim != 1 or len(e) < 2 or np.isnan(e).any() or not np.all(np.diff(e) > 0):
            raise ValueError(
                f"bands[{column!r}] must be at least two increasing edges, got {edges}"
            )
        values = pd.to_numeric(out[column], errors="coerce")
        outside = values.isna() | (values < e[0]) | (values >= e[-1])
        if outside.any():
            raise ValueError(
                f"{int(outside.sum())} value(s) of {column!r} lie outside the bands "
                f"[{e[0]:g}, {e[-1]:g}) (e.g. {values[outside].head(3).tolist()}); widen the edges"
            )
        labels = band_labels(list(e))
        out[f"{column}_band"] = pd.cut(values, list(e), right=False, labels=labels, ordered=True)
    return out


def select_rows(frame: pd.DataFrame, where: Where) -> np.ndarray:
    """Boolean mask of the rows ``where`` selects: None (every row), a pandas expression over
    the frame's columns (``"track_record == 0"``) or a boolean mask of the frame's length."""
    n = len(frame)
    if where is None:
        mask = np.ones(n, dtype=bool)
    elif isinstance(where, str):
        try:
            result = frame.eval(where, engine="python")
        except (NameError, KeyError, SyntaxError, TypeError, ValueError) as err:
            raise ValueError(
                f"where={where!r} could not be evaluated ({err}); columns: {list(frame)}"
            ) from None
        if not isinstance(result, pd.Series) or result.dtype != bool:
            raise ValueError(f"where={where!r} must give True/False per row")
        mask = result.to_numpy()
    else:
        mask = np.asarray(where)
        if mask.dtype != bool or mask.shape != (n,):
            raise ValueError(
                f"where must be a query string or a boolean mask of length {n} (the rows "
                f"averaged over), got dtype {mask.dtype} and shape {mask.shape}"
            )
    if not mask.any():
        raise ValueError(f"where={where!r} selects no rows")
    return mask


def scope_codes(
    frame: pd.DataFrame, mask: np.ndarray, by: By, everything: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """Each row's scope code (``-1``: not selected) and the scopes' frame (the ``by`` columns
    and a ``scope`` label), scopes in sorted order of their ``by`` values."""
    scope = np.full(len(frame), -1, dtype=np.int64)
    if by is None:
        scope[mask] = 0
        return scope, pd.DataFrame({"scope": [everything]})
    names = [by] if isinstance(by, str) else list(by)
    if not names or not all(isinstance(n, str) for n in names):
        raise ValueError("by must be a column name or a list of column names")
    unknown = [n for n in names if n not in frame]
    if unknown:
        raise ValueError(f"by: unknown column(s) {unknown}; columns: {list(frame)}")
    selected = frame.loc[mask, names]
    if selected.isna().any().any():
        raise ValueError(f"by: the selected rows have missing values in {names}")
    grouped = selected.groupby(names, observed=True, sort=True)
    scope[mask] = grouped.ngroup().to_numpy()
    keys = grouped.size().index.to_frame(index=False)
    if len(names) == 1:
        label = keys[names[0]].astype(str)
    else:
        label = keys.astype(str).apply(lambda r: ", ".join(f"{c}={r[c]}" for c in names), axis=1)
    scopes = keys.assign(scope=label.to_numpy())
    if names == ["scope"]:
        scopes = scopes[["scope"]]
    elif "scope" in names:
        raise ValueError("by: a column named 'scope' can only be used alone")
    return scope, scopes.reset_index(drop=True)


# ---------------------------------------------------------------------- per-draw averages
def single_part_means(
    spec: ModelSpec,
    params: EffectDraws,
    codes: np.ndarray,
    n_from: np.ndarray,
    n_to: np.ndarray,
    z: np.ndarray,
    scope: np.ndarray,
    n_scopes: int,
    *,
    chunk_rows: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per draw, the mean over each scope's rows of the effect and of its percentage change
    (``100 (exp(effect) - 1)``, meaningful for log-scale outcomes), each ``(draws, n_scopes)``.
    """
    n_draws = params.n_draws
    total = np.zeros((n_draws, n_scopes))
    total_pct = np.zeros((n_draws, n_scopes))
    counts = np.bincount(scope[scope >= 0], minlength=n_scopes).astype(float)
    if chunk_rows is None:
        chunk_rows = rows_per_chunk(n_draws)
    for sl in chunks(len(codes), chunk_rows):
        if not (scope[sl] >= 0).any():
            continue
        eff = credential_effect(spec, params, codes[sl], n_from[sl], n_to[sl], z[sl])
        onehot = scope_onehot(scope[sl], n_scopes)
        total += eff @ onehot
        with np.errstate(over="ignore"):  # prior draws can imply gains beyond float range
            pct = percent_change(eff)
        # summed scope by scope, not by the one-hot product: an infinite gain times a 0 there
        # would put NaN into every other scope of that draw
        for k in range(n_scopes):
            rows = scope[sl] == k
            if rows.any():
                total_pct[:, k] += pct[:, rows].sum(axis=1)
    return total / counts, total_pct / counts


def average_effect(
    posterior: xr.Dataset,
    design: ModelDesign,
    *,
    by: By = None,
    where: Where = None,
    newdata: pd.DataFrame | None = None,
    bands: Mapping[str, Sequence[float]] | None = None,
    hdi_prob: float = 0.9,
    new_group: NewGroup = "raise",
    random_seed: int | None = None,
    chunk_rows: int | None = None,
    event_time: int | None = None,
) -> AverageEffect:
    """Average next-credential effect over rows (or ``newdata`` profiles), per scope.

    See :meth:`bayescred.CredentialFit.average_effect` for the parameters. Two-part families
    (``family.margins``) give one row per scope and margin. With ``event_time`` (models with
    ``[dynamics]``) each group's ``beta`` is replaced by its profile at that event time,
    ``f_g(bin(e))`` (:func:`bayescred.analysis.event_profiles.group_profile_at`).
    """
    spec = design.spec
    family = family_of(design)
    if event_time is not None:
        check_event_time_family(design)
        event_time = int(event_time)
    source = "rows" if newdata is None else "newdata"
    profiles: pd.DataFrame | None = None
    if newdata is None:
        frame = rows_frame(design)
    else:
        profiles, frame = newdata_frame(newdata, spec)
    frame = with_bands(frame, bands)
    mask = select_rows(frame, where)
    everything = _OVER[source][1] if where is None else f"{_OVER[source][1]} where {where}"
    if where is not None and not isinstance(where, str):
        everything = f"selected {_OVER[source][1].removeprefix('all ')}"
    scope, scopes = scope_codes(frame, mask, by, everything)
    n_scopes = len(scopes)
    if profiles is not None:  # only the selected profiles count (and are checked)
        profiles = profiles.loc[mask].reset_index(drop=True)
        scope = scope[mask]
    if family.margins:
        if profiles is None:
            means, pct = hurdle_row_means(posterior, design, scope, n_scopes, chunk_rows=chunk_rows)
        else:
            means, pct = hurdle_profile_means(
                posterior,
                design,
                profiles,
                scope,
                n_scopes,
                new_group=new_group,
                random_seed=random_seed,
                chunk_rows=chunk_rows,
            )
        margins: tuple[str, ...] = MARGINS
        log_scale = True
    else:
        if profiles is None:
            p = design.panel
            params, group = effect_draws(posterior, spec), p.group_codes
            n_from = p.credentials.astype(float)
            n_to, z = n_from + 1.0, design.z
        else:
            if event_time is not None:
                refuse_unseen_groups(posterior, profiles)
            params, group = profile_group_parameters(
                posterior, spec, profiles, new_group, random_seed
            )
            n_from = profiles["credentials"].to_numpy(float)
            n_to = profiles["to"].to_numpy(float)
            z = design.track_scale.z(profiles["track_record"].to_numpy(float))
        if event_time is not None:
            params = replace(params, beta=group_profile_at(posterior, design, event_time))
        mean, mean_pct = single_part_means(
            spec, params, group, n_from, n_to, z, scope, n_scopes, chunk_rows=chunk_rows
        )
        means, pct = {"total": mean}, {"total": mean_pct}
        margins = ("total",)
        log_scale = is_log_scale(spec)
    counts = np.bincount(scope[scope >= 0], minlength=n_scopes)
    if profiles is not None:
        labels = [str(g) for g in posterior["group"].values]
        known = profiles["group"].isin(labels).to_numpy()
        source_of = parameters_from(np.where(known, 0, len(labels)), len(labels), new_group)
        scopes = scopes.assign(
            parameters_from=["; ".join(sorted(set(source_of[scope == s]))) for s in range(n_scopes)]
        )
    result = _result(
        posterior,
        scopes,
        counts,
        means,
        pct if log_scale else None,
        margins,
        hdi_prob,
        over=_OVER[source][0],
        subject=spec.outcome.level_words
        if log_scale
        else family.effect_label(spec.outcome.words, spec.outcome.column),
    )
    if event_time is None:
        return result
    table = result.table.copy()
    table.insert(0, "event_time", event_time)
    return replace(result, table=table, event_time=event_time)


def _result(
    posterior: xr.Dataset,
    scopes: pd.DataFrame,
    counts: np.ndarray,
    means: dict[str, np.ndarray],
    pct: dict[str, np.ndarray] | None,
    margins: tuple[str, ...],
    hdi_prob: float,
    *,
    over: str,
    subject: str,
) -> AverageEffect:
    """The table (scope-major, margins in order) and the per-draw averages aligned with it."""
    order = [(s, m) for s in range(len(scopes)) for m in margins]
    stacked = np.stack([means[m][:, s] for s, m in order], axis=1)
    table = scopes.iloc[[s for s, _ in order]].reset_index(drop=True)
    at = list(table.columns).index("scope") + 1
    if len(margins) > 1:
        table.insert(at, "margin", [m for _, m in order])
        at += 1
    table.insert(at, "rows", counts[[s for s, _ in order]].astype(int))
    pct_stacked = None if pct is None else np.stack([pct[m][:, s] for s, m in order], axis=1)
    add_columns(table, effect_columns(stacked, hdi_prob, pct_stacked))
    table.attrs["hdi_prob"] = hdi_prob
    coords = {"scope": ("row", table["scope"].to_numpy())}
    if len(margins) > 1:
        coords["margin"] = ("row", table["margin"].to_numpy())
    da = labelled_draws(stacked, posterior, ("row",), "average_effect", coords)
    pct_da = percent_draws(da, pct_stacked, "average_percent_change")
    return AverageEffect(
        table=table,
        draws=da,
        percent=pct_da,
        hdi_prob=hdi_prob,
        over=over,
        subject=subject,
    )
