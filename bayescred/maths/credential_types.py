"""Credential types: the closed form of the typed credential sum (``docs/design.md`` 3.9).

A worker's credentials, in the order they were earned, are ``k = 1 .. N``; credential ``k`` has
type ``j_k``. At a period where the worker holds ``n`` of them its credential term is, before the
track-record modifier::

    sum_{k <= n} w_k (beta[g] + v[j_k] + rho * match_k)
        = beta[g] S(n) + sum_{k <= n} w_k (v[j_k] + rho * match_k)

with ``v[j] = u_category[c(j)] + u_type[j]`` the type's deviation, ``match_k = 1`` when the
type's category is the worker's job category in that period, and ``w_k`` the credential curve's
step ``S(k) - S(k - 1)``. Credentials first held in the same period (a *tie block* at positions
``lo .. hi``; those held at entry, date unknown, are one block) have no order among them, so
each gets the block's mean step ``(S(hi) - S(lo - 1)) / (hi - lo + 1)``; the steps of every
credential held still sum to ``S(n)``, so with ``v = 0`` and ``rho = 0`` the sum is the static
``beta[g] S(n)``.

A row's value depends only on its group, its job category and the worker's first ``n``
credentials, so rows sharing these share a value: a **type signature**. :class:`TypeSignatures`
lists each signature's group and count and, as *elements*, the credentials it holds (position
block, type, match); the model computes one value per signature, from the elements, and each
row reads its signature's value. Signature 0 is always the empty one (no credential: value 0).

Examples
--------
>>> sig_index, sig = type_signatures(
...     event_worker=np.array([0, 0, 0]), event_time=np.array([2, 2, 4]),
...     event_type=np.array([1, 0, 1]), type_category=np.array([0, 1]),
...     row_worker=np.array([0, 0, 0]), row_time=np.array([1, 2, 4]),
...     row_group=np.array([0, 0, 0]), row_job=np.array([1, 1, 1]),
...     n_types=2, n_groups=1)
>>> sig_index.tolist(), sig.count[:3].tolist()
([0, 1, 2], [0, 2, 3])
>>> sig.element_lo[:5].tolist(), sig.element_hi[:5].tolist(), sig.element_match[:5].tolist()
([1, 1, 1, 1, 3], [2, 2, 2, 2, 3], [1, 0, 1, 0, 1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TypeSignatures", "signature_values", "type_signatures"]


def _capacity(n: int, minimum: int = 8) -> int:
    n = max(int(n), int(minimum), 1)
    return 1 << (n - 1).bit_length()


@dataclass(frozen=True)
class TypeSignatures:
    """The distinct (group, job category, credentials held) states of a panel's rows.

    Arrays are padded to powers of two (:attr:`size`, :attr:`n_elements`) so that panels of the
    same shape usually share a compiled model: padded signatures are empty (group 0, count 0)
    and padded elements belong to signature 0 with weight 0.

    Attributes
    ----------
    group, count
        int64 per signature: its group code and the number of credentials held.
    element_signature, element_group, element_lo, element_hi, element_type, element_match
        int64 per element (a credential held in a signature): the signature, its group, the
        tie block's first and last positions (1-based), the type code, and 1 when the type's
        category is the signature's job category.
    element_weight
        float64 ``1 / (hi - lo + 1)`` (0 for padding): the step is ``weight * (S(hi) -
        S(lo - 1))``.
    type_category
        int64 category code of every type.
    n_types, n_groups
        Sizes of the type and group dims.
    max_count
        The largest count held (the curve is needed up to it).
    """

    group: np.ndarray
    count: np.ndarray
    element_signature: np.ndarray
    element_group: np.ndarray
    element_lo: np.ndarray
    element_hi: np.ndarray
    element_type: np.ndarray
    element_match: np.ndarray
    element_weight: np.ndarray
    type_category: np.ndarray
    n_types: int
    n_groups: int
    max_count: int

    @property
    def size(self) -> int:
        """Number of signatures (padded)."""
        return int(self.group.shape[0])

    @property
    def n_elements(self) -> int:
        """Number of elements (padded)."""
        return int(self.element_signature.shape[0])


def _blocks(worker: np.ndarray, time: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per event (sorted by worker then time): its 1-based position within its worker and the
    first and last positions of its tie block (events of the worker with the same time)."""
    n = worker.shape[0]
    if not n:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    new_worker = np.r_[True, worker[1:] != worker[:-1]]
    start = np.flatnonzero(new_worker)
    first_of_event = np.repeat(start, np.diff(np.r_[start, n]))
    position = np.arange(n) - first_of_event + 1
    new_block = new_worker | np.r_[True, time[1:] != time[:-1]]
    bstart = np.flatnonzero(new_block)
    blen = np.diff(np.r_[bstart, n])
    lo = np.repeat(position[bstart], blen)
    hi = lo + np.repeat(blen, blen) - 1
    return position.astype(np.int64), lo.astype(np.int64), hi.astype(np.int64)


def type_signatures(
    *,
    event_worker: np.ndarray,
    event_time: np.ndarray,
    event_type: np.ndarray,
    type_category: np.ndarray,
    row_worker: np.ndarray,
    row_time: np.ndarray,
    row_group: np.ndarray,
    row_job: np.ndarray,
    n_types: int,
    n_groups: int,
) -> tuple[np.ndarray, TypeSignatures]:
    """Each row's type signature and the signatures (module docstring).

    Parameters
    ----------
    event_worker, event_time, event_type
        The credential events (worker code, time on the period axis with ``UNKNOWN_TIME`` for
        held at entry, type code), in any order.
    type_category
        Category code of each type.
    row_worker, row_time, row_group, row_job
        Per row: worker code, time, group code and job-category code (negative: none, never a
        match).
    n_types, n_groups
        Sizes of the type and group dims.

    Returns
    -------
    (index, signatures)
        ``index[r]`` is row ``r``'s signature.
    """
    order = np.lexsort((event_time, event_worker))
    ew = np.asarray(event_worker, np.int64)[order]
    et = np.asarray(event_time, np.int64)[order]
    ety = np.asarray(event_type, np.int64)[order]
    _, lo, hi = _blocks(ew, et)
    n_workers = int(max(ew.max(initial=-1), np.max(row_worker, initial=-1)) + 1)
    first = np.searchsorted(ew, np.arange(n_workers), side="left")
    row_worker = np.asarray(row_worker, np.int64)
    row_time = np.asarray(row_time, np.int64)
    # credentials held at a row: the worker's events with time <= the row's
    held = _held_counts(ew, et, row_worker, row_time)
    job = np.where(np.asarray(row_job) >= 0, np.asarray(row_job, np.int64), -1)
    group = np.asarray(row_group, np.int64)
    some = held > 0
    key = np.column_stack([row_worker, held, job, group])[some]
    index = np.zeros(row_worker.shape[0], np.int64)
    if key.shape[0]:
        states, inverse = np.unique(key, axis=0, return_inverse=True)
        index[some] = np.asarray(inverse).ravel() + 1
    else:
        states = key.reshape(0, 4)
    n_states = states.shape[0] + 1
    s_worker, s_count, s_job, s_group = (states[:, i] for i in range(4))
    # elements: the first `count` events of each state's worker
    lengths = s_count
    e_state = np.repeat(np.arange(1, n_states), lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    e_event = np.repeat(first[s_worker] if s_worker.size else s_worker, lengths) + offsets
    e_type = ety[e_event]
    tc = np.asarray(type_category, np.int64)
    e_job = np.repeat(s_job, lengths)
    e_match = ((e_job >= 0) & (tc[e_type] == e_job)).astype(np.int64)
    size = _capacity(n_states)
    n_el = _capacity(e_state.shape[0])
    pad_s, pad_e = size - n_states, n_el - e_state.shape[0]

    def padded(values: np.ndarray, pad: int, fill: float = 0) -> np.ndarray:
        return np.concatenate([np.asarray(values), np.full(pad, fill, np.asarray(values).dtype)])

    sig = TypeSignatures(
        group=padded(np.r_[0, s_group].astype(np.int64), pad_s),
        count=padded(np.r_[0, s_count].astype(np.int64), pad_s),
        element_signature=padded(e_state.astype(np.int64), pad_e),
        element_group=padded(np.repeat(s_group, lengths).astype(np.int64), pad_e),
        element_lo=padded(lo[e_event].astype(np.int64), pad_e, 1),
        element_hi=padded(hi[e_event].astype(np.int64), pad_e, 1),
        element_type=padded(e_type.astype(np.int64), pad_e),
        element_match=padded(e_match, pad_e),
        element_weight=padded(1.0 / (hi[e_event] - lo[e_event] + 1.0), pad_e),
        type_category=tc,
        n_types=int(n_types),
        n_groups=int(n_groups),
        max_count=int(s_count.max(initial=0)),
    )
    return index, sig


def _held_counts(
    event_worker: np.ndarray, event_time: np.ndarray, row_worker: np.ndarray, row_time: np.ndarray
) -> np.ndarray:
    """Per row, the worker's events with a time ``<= `` the row's (events sorted by worker,
    then time)."""
    # lexicographic search on (worker, time) through a combined int64 rank of the times
    times = np.unique(np.concatenate([event_time, row_time]))
    et = np.searchsorted(times, event_time)
    rt = np.searchsorted(times, row_time)
    width = np.int64(times.shape[0] + 1)
    ekey = event_worker * width + et
    rkey = row_worker * width + rt
    below_worker = np.searchsorted(ekey, row_worker * width, side="left")
    up_to = np.searchsorted(ekey, rkey, side="right")
    return (up_to - below_worker).astype(np.int64)


def signature_values(
    sig: TypeSignatures,
    beta: np.ndarray,
    curve: np.ndarray,
    deviation: np.ndarray,
    match: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Each signature's value ``(draws, signatures)`` before the modifier, in NumPy.

    Parameters
    ----------
    sig
        The signatures.
    beta
        ``(draws, groups)`` first-credential effect of each group.
    curve
        ``(draws, groups, counts)`` the curve ``S(n)`` for ``n = 0 .. max_count`` at least.
    deviation
        ``(draws, types)`` each type's deviation ``v``.
    match
        ``(draws,)`` the match effect ``rho`` (0 without the match term).
    """
    beta = np.asarray(beta, float)
    curve = np.asarray(curve, float)
    d = beta.shape[0]
    draws = np.arange(d)[:, None]
    base = beta[:, sig.group] * curve[draws, sig.group[None, :], sig.count[None, :]]
    g = sig.element_group[None, :]
    step = sig.element_weight * (
        curve[draws, g, sig.element_hi[None, :]] - curve[draws, g, sig.element_lo[None, :] - 1]
    )
    rho = np.broadcast_to(np.asarray(match, float).reshape(-1, 1), (d, 1))
    value = np.asarray(deviation, float)[:, sig.element_type] + rho * sig.element_match
    out = base.copy()
    np.add.at(out, (draws, sig.element_signature[None, :]), step * value)
    return out
