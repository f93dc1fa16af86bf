"""Event time of credentials: the distributed-lag window and its closed forms (``docs/design.md``
section 3.8).

A worker's ``k``-th credential, first held in period ``t_k``, contributes at period ``t``
``dS(k) * f(bin(t - t_k))``, with ``dS(k) = S(k) - S(k - 1)`` the curve's step and ``f`` the
*event-time profile* in the outcome's units: ``f(-1) = 0`` (the reference period), estimated
leads ``f(-L) .. f(-2)`` and lags ``f(0) .. f(K - 1)``; the endpoints are binned (Schmidheiny &
Siegloch 2023): ``bin(e) = clip(e, -L, K - 1)``. A credential held before the worker's first
period at an unknown date counts as long held (``e = +inf``, the last lag).

Summing by parts over the worker's credentials in the order they were earned gives the closed
form the model evaluates (``C(s)`` the number held at the start of period ``s``, ``N`` the
worker's total)::

    sum_k dS(k) f(bin(t - t_k)) = f(-L) S(N) + sum_{m = -L+1}^{K-1} (f(m) - f(m-1)) S(C(t - m))

so a row needs only the counts ``C(t - m)`` at ``L + K - 1`` offsets and ``N``
(:meth:`EventWindow.count_offsets`). With ``f(e) = beta`` for ``e >= 0`` and 0 before, it is the
static ``beta * S(C(t))``.

Examples
--------
>>> w = EventWindow(leads=3, lags=3)
>>> w.event_times.tolist(), w.lead_times.tolist(), w.lag_times.tolist()
([-3, -2, -1, 0, 1, 2], [-3, -2], [0, 1, 2])
>>> w.count_offsets.tolist()
[-2, -1, 0, 1, 2]
>>> w.bin(np.array([-9, -1, 0, 7])).tolist()
[-3, -1, 0, 2]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Time (on the period axis) of an event earned before the panel at an unknown date.
UNKNOWN_TIME: int = int(np.iinfo(np.int64).min // 4)


@dataclass(frozen=True)
class EventWindow:
    """The event-time window of ``leads = L`` and ``lags = K`` (each at least 1 in effect).

    ``leads`` <= 1 estimates no lead (every period before the event is the reference);
    ``lags`` <= 1 one lag (the effect is constant from the event on: the static model).
    """

    leads: int
    lags: int

    @property
    def n_leads(self) -> int:
        """``L``: event times ``-L .. -1`` are in the window."""
        return max(int(self.leads), 1)

    @property
    def n_lags(self) -> int:
        """``K``: event times ``0 .. K - 1`` are in the window."""
        return max(int(self.lags), 1)

    @property
    def event_times(self) -> np.ndarray:
        """Every event time of the window, ``-L .. K - 1`` (the reference ``-1`` included)."""
        return np.arange(-self.n_leads, self.n_lags, dtype=np.int64)

    @property
    def lead_times(self) -> np.ndarray:
        """Event times with an estimated lead, ``-L .. -2`` (empty for ``L = 1``)."""
        return np.arange(-self.n_leads, -1, dtype=np.int64)

    @property
    def lag_times(self) -> np.ndarray:
        """Event times with an estimated lag, ``0 .. K - 1``."""
        return np.arange(0, self.n_lags, dtype=np.int64)

    @property
    def count_offsets(self) -> np.ndarray:
        """The offsets ``m = -L + 1 .. K - 1`` at which a row needs the count ``C(t - m)``."""
        return np.arange(-self.n_leads + 1, self.n_lags, dtype=np.int64)

    def bin(self, event_time: np.ndarray) -> np.ndarray:
        """``clip(e, -L, K - 1)``: event times outside the window share its endpoints."""
        return np.clip(np.asarray(event_time), -self.n_leads, self.n_lags - 1)

    def profile(self, leads: np.ndarray, lags: np.ndarray) -> np.ndarray:
        """``f`` over :attr:`event_times` from the leads ``(..., L - 1)`` and lags
        ``(..., K)``: the reference ``f(-1) = 0`` inserted between them."""
        leads = np.asarray(leads, dtype=float)
        lags = np.asarray(lags, dtype=float)
        zero = np.zeros((*lags.shape[:-1], 1))
        return np.concatenate(
            [np.broadcast_to(leads, (*lags.shape[:-1], leads.shape[-1])), zero, lags], axis=-1
        )


def row_counts(
    window: EventWindow,
    event_worker: np.ndarray,
    event_time: np.ndarray,
    row_worker: np.ndarray,
    row_time: np.ndarray,
) -> np.ndarray:
    """Each row's counts ``(rows, 1 + L + K - 1)``: the worker's total ``N`` then ``C(t - m)``
    for every :attr:`EventWindow.count_offsets` ``m``, ``C(s)`` = events with time ``<= s``.

    ``event_time`` may hold :data:`UNKNOWN_TIME` (held before the panel: counted everywhere).

    Examples
    --------
    >>> w = EventWindow(leads=2, lags=2)
    >>> row_counts(w, np.array([0, 0]), np.array([3, 5]), np.array([0, 0, 0]),
    ...            np.array([2, 4, 6])).tolist()
    [[2, 1, 0, 0], [2, 2, 1, 1], [2, 2, 2, 2]]
    """
    ew = np.asarray(event_worker, dtype=np.int64)
    et = np.asarray(event_time, dtype=np.int64)
    rw = np.asarray(row_worker, dtype=np.int64)
    rt = np.asarray(row_time, dtype=np.int64)
    n_workers = int(max(ew.max(initial=-1), rw.max(initial=-1))) + 1
    order = np.lexsort((et, ew))
    ew, et = ew[order], et[order]
    start = np.searchsorted(ew, np.arange(n_workers + 1))
    # a sortable key per (worker, time): worker-major blocks of event times
    span = np.int64(1) << np.int64(40)
    offset = np.int64(1) << np.int64(39)
    clipped = np.clip(et, -offset + 1, offset - 1)
    keys = ew * span + (clipped + offset)
    out = np.empty((rw.shape[0], 1 + window.count_offsets.shape[0]), dtype=np.int64)
    out[:, 0] = start[rw + 1] - start[rw]
    for j, m in enumerate(window.count_offsets):
        s = np.clip(rt - m, -offset + 1, offset - 1)
        out[:, 1 + j] = np.searchsorted(keys, rw * span + (s + offset), side="right") - start[rw]
    return out


def profile_sum(
    window: EventWindow, profile: np.ndarray, curve_at_counts: np.ndarray
) -> np.ndarray:
    """``f(-L) S(N) + sum_m (f(m) - f(m-1)) S(C(t - m))`` (module docstring).

    ``profile`` is ``f`` over :attr:`EventWindow.event_times` ``(..., L + K)``; ``curve_at_counts``
    is ``S`` at :func:`row_counts`'s columns ``(..., 1 + L + K - 1)``; leading axes broadcast.

    Examples
    --------
    >>> w = EventWindow(leads=1, lags=1)  # the static model: beta * S(C(t))
    >>> profile_sum(w, np.array([0.0, 0.5]), np.array([3.0, 2.0])).item()
    1.0
    """
    f = np.asarray(profile, dtype=float)
    s = np.asarray(curve_at_counts, dtype=float)
    steps = np.diff(f, axis=-1)
    return f[..., 0] * s[..., 0] + np.sum(steps * s[..., 1:], axis=-1)
