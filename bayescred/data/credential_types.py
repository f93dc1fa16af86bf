"""Credential types: which skill test each credential is, and the skill category it belongs to.

A platform offers many tests (programming languages, office software, languages, design tools),
grouped into skill categories. Credential events (:mod:`bayescred.data.events`) name each
credential's type in their optional ``credential_type`` column; a **types table** maps every type
to its ``category`` and may carry any other attributes a user has (``difficulty``, say), which
are kept and shown with the type effects. A panel column ``job_category`` (worker-level or
row-level) gives the category of the worker's own work, for the match term of
``[credential_types]`` (``docs/design.md`` section 3.9).

:func:`credential_types_table` checks a types table against the events and the panel; the
result, a :class:`CredentialTypes`, travels with the validated panel
(:attr:`bayescred.data.panel.Panel.credential_types`).

Examples
--------
>>> types = pd.DataFrame({"credential_type": ["python", "excel", "sql"],
...                       "category": ["programming", "office", "programming"]})
>>> ct = credential_types_table(types, np.array(["sql", "python", "sql"], dtype=object))
>>> ct.labels.tolist(), ct.category_labels.tolist(), ct.category_codes.tolist()
(['excel', 'python', 'sql'], ['office', 'programming'], [0, 1, 1])
>>> ct.codes(np.array(["sql", "excel"], dtype=object)).tolist()
[2, 0]
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayescred.errors import DataError

__all__ = [
    "CATEGORY",
    "JOB_CATEGORY",
    "NO_JOB_CATEGORY",
    "TYPE",
    "CredentialTypes",
    "credential_types_table",
]

#: Column of the types table (and of the events) naming the credential's type.
TYPE = "credential_type"
#: Column of the types table naming the type's skill category.
CATEGORY = "category"
#: Default name of the panel's column with the category of the worker's own work.
JOB_CATEGORY = "job_category"
#: Job-category code of a row whose job category is missing (never a match).
NO_JOB_CATEGORY = -1

#: Most labels named in one message.
_MAX_SHOWN = 8


@dataclass(frozen=True)
class CredentialTypes:
    """A checked types table.

    Attributes
    ----------
    labels
        The types, sorted (as text); codes index into them.
    category_codes
        int64 code of each type's category, into :attr:`category_labels`.
    category_labels
        The categories, sorted.
    table
        The table as given (one row per type, sorted by type, index reset), with any
        attribute columns.
    job_category
        Name of the panel's job-category column, or None when the panel has none.
    """

    labels: np.ndarray
    category_codes: np.ndarray
    category_labels: np.ndarray
    table: pd.DataFrame
    job_category: str | None = None

    @property
    def n_types(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_categories(self) -> int:
        return int(self.category_labels.shape[0])

    def codes(self, types: np.ndarray) -> np.ndarray:
        """int64 codes of type labels (every label must be a known type)."""
        text = np.asarray([str(t) for t in np.asarray(types, dtype=object)], dtype=object)
        index = np.searchsorted(self.labels, text)
        index = np.clip(index, 0, max(self.n_types - 1, 0))
        if text.size and (not self.n_types or not np.array_equal(self.labels[index], text)):
            unknown = sorted(set(text.tolist()) - set(self.labels.tolist()))
            raise DataError(
                f"unknown credential types: {_shown(unknown)}{_close(unknown, self.labels)}; "
                f"the types table has {self.n_types} type(s)"
            )
        return index.astype(np.int64)

    def category_of(self, label: str) -> str:
        """The category of one type (``KeyError`` naming the known types otherwise)."""
        where = np.flatnonzero(self.labels == str(label))
        if not where.size:
            close = difflib.get_close_matches(str(label), self.labels.tolist(), n=3)
            hint = f"; did you mean {close}?" if close else ""
            raise KeyError(f"{label!r} is not a credential type of this model{hint}")
        return str(self.category_labels[self.category_codes[where[0]]])

    def job_codes(self, values: pd.Series | np.ndarray | None, n_rows: int) -> np.ndarray:
        """int64 category code of each row's job category (:data:`NO_JOB_CATEGORY` where it is
        missing, or for every row when ``values`` is None)."""
        if values is None:
            return np.full(int(n_rows), NO_JOB_CATEGORY, dtype=np.int64)
        s = pd.Series(np.asarray(values, dtype=object))
        missing = s.isna().to_numpy()
        text = np.asarray([str(v) for v in s.to_numpy(dtype=object)], dtype=object)
        index = np.clip(
            np.searchsorted(self.category_labels, text), 0, max(self.n_categories - 1, 0)
        )
        if self.n_categories:
            known = ~missing & (self.category_labels[index] == text)
        else:
            known = np.zeros(text.shape, dtype=bool)
        if not np.all(known | missing):
            bad = sorted(set(text[~known & ~missing].tolist()))
            raise DataError(
                f"job categories that no credential type has: {_shown(bad)} "
                f"({_categories_are(self.category_labels.tolist())})"
                f"{_close(bad, self.category_labels)}{_float_hint(bad, self.category_labels)}"
            )
        return np.where(missing, NO_JOB_CATEGORY, index).astype(np.int64)

    def to_frame(self) -> pd.DataFrame:
        """The types with their categories (and attributes), sorted by type."""
        return self.table.copy()


def _shown(values: list[str]) -> str:
    more = f" and {len(values) - _MAX_SHOWN} more" if len(values) > _MAX_SHOWN else ""
    return ", ".join(repr(v) for v in values[:_MAX_SHOWN]) + more


def _close(values: list[str], labels: np.ndarray | list[str]) -> str:
    """`` (close matches: 'a' -> 'b')`` for the values with a close label, else ``""``."""
    pool = [str(v) for v in labels]
    near = []
    for v in values[:_MAX_SHOWN]:
        match = difflib.get_close_matches(v, pool, n=1)
        if match:
            near.append(f"{v!r} -> {match[0]!r}")
    return f" (close matches: {', '.join(near)})" if near else ""


def _float_hint(values: list[str], labels: np.ndarray | list[str]) -> str:
    """A hint when whole numbers were read as floats (``'1.0'`` for the label ``'1'``)."""
    pool = {str(v) for v in labels}
    if any(v.endswith(".0") and v[:-2] in pool for v in values):
        return (
            "; labels are compared as text and 1.0 is not 1: the column holds whole numbers as "
            "floats (a missing value turns an int column into floats), convert it with "
            ".astype('Int64') or to text"
        )
    return ""


def _categories_are(categories: list[str]) -> str:
    if not categories:
        return "the types table has no category"
    return f"the categories are {_shown(categories)}"


def _text(s: pd.Series) -> np.ndarray:
    return np.asarray([str(v) for v in s.to_numpy(dtype=object)], dtype=object)


def credential_types_table(
    types: pd.DataFrame,
    event_types: np.ndarray | None,
    *,
    job_category: pd.Series | None = None,
    job_category_column: str | None = None,
) -> CredentialTypes:
    """Check a types table against the events' types (and the panel's job categories).

    Parameters
    ----------
    types
        One row per credential type: columns ``credential_type`` and ``category``, any others
        kept as attributes. Labels are compared as text.
    event_types
        The ``credential_type`` of every event (None when the events have no such column,
        which is an error: types need typed events).
    job_category
        The panel's job-category column on the used rows (None: the panel has none). Missing
        values are allowed (that row's credentials never match).
    job_category_column
        The column's name (for messages and :attr:`CredentialTypes.job_category`).

    Returns
    -------
    CredentialTypes

    Raises
    ------
    TypeError
        ``types`` is not a DataFrame.
    DataError
        A required column is absent; a type is missing, listed twice or has no category; an
        event names a type the table does not have; a job category is not the category of any
        type. Every broken rule is listed in one error.
    """
    if not isinstance(types, pd.DataFrame):
        got = type(types)
        raise TypeError(
            f"credential_types= expects a pandas DataFrame with one row per credential type "
            f"(columns {TYPE!r} and {CATEGORY!r}), got {got.__module__}.{got.__qualname__}"
        )
    have = [str(c) for c in types.columns]
    absent = [c for c in (TYPE, CATEGORY) if c not in have]
    if absent:
        hints = []
        for col in absent:
            close = difflib.get_close_matches(col, have, n=1)
            hints.append(f"{col!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise DataError(
            f"The credential types table (credential_types=) lacks column(s) {', '.join(hints)}; "
            f"it needs one row per type with columns {TYPE!r} and {CATEGORY!r}; it has {have}"
        )
    twice_cols = [c for c in (TYPE, CATEGORY) if have.count(c) > 1]
    if twice_cols:
        counts = ", ".join(f"{c!r} appears {have.count(c)} times" for c in twice_cols)
        raise DataError(
            f"The credential types table (credential_types=) has a repeated column: {counts}; "
            "keep one of each (rename or drop the duplicates)"
        )
    problems: list[str] = []
    missing_type = types[TYPE].isna().to_numpy()
    if missing_type.any():
        problems.append(
            f"  {int(missing_type.sum())} row(s) of the types table have no {TYPE!r} "
            f"(table rows {np.flatnonzero(missing_type)[:_MAX_SHOWN].tolist()}): name every type"
        )
    table = types.loc[~missing_type].copy()
    label = _text(table[TYPE])
    table[TYPE] = label
    twice = sorted({str(v) for v in label[pd.Series(label).duplicated().to_numpy()]})
    if twice:
        problems.append(
            f"  types listed more than once: {_shown(twice)}; give each type one row (one category)"
        )
    no_category = table[CATEGORY].isna().to_numpy()
    if no_category.any():
        problems.append(
            f"  types without a category: {_shown(sorted(label[no_category].tolist()))}; give "
            "every type its skill category (one level such as 'other' for the rest)"
        )
    labels = np.asarray(sorted(set(label.tolist())), dtype=object)
    if event_types is None:
        problems.append(
            f"  the credential events have no {TYPE!r} column: give each event its type "
            f"(events=frame with a {TYPE!r} column)"
        )
    else:
        used = sorted({str(t) for t in np.asarray(event_types, dtype=object).tolist()})
        unknown = [t for t in used if t not in set(labels.tolist())]
        if unknown:
            matches = {
                t: difflib.get_close_matches(t, labels.tolist(), n=1) for t in unknown[:_MAX_SHOWN]
            }
            near = [f"{t!r} -> {c[0]!r}" for t, c in matches.items() if c]
            hint = f" (close matches: {', '.join(near)})" if near else ""
            problems.append(
                f"  the events name {len(unknown)} type(s) the types table does not have: "
                f"{_shown(unknown)}{hint}; add them to the table with their category"
            )
    table = table.loc[~no_category]
    categories = np.asarray(sorted({str(c) for c in table[CATEGORY]}), dtype=object)
    if job_category is not None:
        values = job_category.dropna()
        jobs = sorted({str(v) for v in values.to_numpy(dtype=object)})
        orphan = [j for j in jobs if j not in set(categories.tolist())]
        if orphan:
            problems.append(
                f"  column {job_category_column!r}: job categories that no credential type has: "
                f"{_shown(orphan)} ({_categories_are(categories.tolist())})"
                f"{_close(orphan, categories)}; map them to a category of the types table, or "
                f"set them missing (no match){_float_hint(orphan, categories)}"
            )
    if problems:
        k = len(problems)
        raise DataError(
            f"The credential types (credential_types=) break {k} rule{'s' if k > 1 else ''}; "
            "fix and validate again:\n" + "\n".join(problems)
        )
    table = table.sort_values(TYPE, kind="stable").reset_index(drop=True)
    table[CATEGORY] = _text(table[CATEGORY])
    return CredentialTypes(
        labels=labels,
        category_codes=np.searchsorted(categories, _text(table[CATEGORY])).astype(np.int64),
        category_labels=categories,
        table=table,
        job_category=job_category_column if job_category is not None else None,
    )
