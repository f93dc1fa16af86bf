"""Least squares of each credential type's effect on the within-worker rows
(``docs/design.md`` 3.9): the unpooled within estimate of every type, with the curve's shape and
the track-record modifier held fixed.

The pilot (:mod:`bayescred.model.pilot`) uses it to whiten the type deviations (their sampler
coordinates follow each type's conditional posterior: centred-like for a type with thousands of
holders, non-centred for one with few), and ``fit.type_effects()`` shows it beside the pooled
estimate as the raw within estimate (:func:`bayescred.analysis.type_effects.raw_type_estimates`).
"""

from __future__ import annotations

import numpy as np

from bayescred.maths.curves import credential_curve, track_record_modifier
from bayescred.model.design import ModelDesign
from bayescred.terms.credential_types import TypedCredentialTerm

__all__ = ["type_least_squares"]


def type_least_squares(
    design: ModelDesign, shape: np.ndarray | None, gamma: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Within least squares of the outcome on one column per type (and the match column).

    Each type's column on a row is ``M(z) * (sum of the curve steps of the row's credentials of
    that type)``, the match column the same over the credentials matching the row's job
    category; the period effects (dummies) and covariates are estimated with them, every column
    demeaned within worker (the worker fixed effects). One coefficient per type, over all groups.

    Parameters
    ----------
    design
        A design whose credential term is typed.
    shape
        The curve's shape per group (``lambda`` or ``kappa``), None for curves without one.
    gamma
        The modifier's coefficients per group ``(groups, terms)``.

    Returns
    -------
    (estimate, standard_error)
        Per type (then the match effect, with ``match``): the coefficient and its classical
        standard error; NaN for a type no row holds.
    """
    from scipy import sparse

    term = design.credential_term
    if not isinstance(term, TypedCredentialTerm):
        raise ValueError("type_least_squares needs a design with [credential_types]")
    rows = design.rows()
    sig = rows.type_signatures
    assert sig is not None and rows.type_signature is not None
    p = design.panel
    n_types = len(rows.type_labels)
    cols = n_types + (1 if term.types.match else 0)
    est = np.full(cols, np.nan)
    se = np.full(cols, np.nan)
    if p.y is None or rows.n_rows == 0:
        return est, se
    n_cap = sig.max_count + 1
    grid = np.arange(n_cap, dtype=float)[None, :]
    curve = credential_curve(np, term.curve, grid, None if shape is None else shape[:, None])
    curve = np.broadcast_to(np.asarray(curve, float), (rows.n_groups, n_cap))
    g = sig.element_group
    step = sig.element_weight * (curve[g, sig.element_hi] - curve[g, sig.element_lo - 1])
    e_col = np.where(sig.element_weight > 0, sig.element_type, 0)
    A = sparse.coo_matrix((step, (sig.element_signature, e_col)), shape=(sig.size, n_types))
    if term.types.match:
        m = sparse.coo_matrix(
            (step * sig.element_match, (sig.element_signature, np.zeros_like(e_col))),
            shape=(sig.size, 1),
        )
        A = sparse.hstack([A, m])
    if gamma.shape[-1]:
        g1 = gamma[rows.group, 0]
        g2 = gamma[rows.group, 1] if gamma.shape[-1] > 1 else 0.0
        modifier = np.asarray(track_record_modifier(np, term.modifier, rows.z, g1, g2))
    else:
        modifier = np.ones(rows.n_rows)
    X = sparse.diags(modifier) @ sparse.csr_matrix(A)[rows.type_signature]
    n = rows.n_rows
    W = sparse.csr_matrix((np.ones(n), (np.arange(n), p.worker_codes)), shape=(n, p.n_workers))
    inv = sparse.diags(1.0 / np.maximum(np.asarray(W.sum(axis=0)).ravel(), 1.0))
    X_dm = (X - W @ (inv @ (W.T @ X))).tocsc()
    dense = [rows.covariates] if rows.covariates.shape[1] else []
    if design.spec.period_effects and p.n_periods > 1:
        dense.append(np.eye(p.n_periods)[rows.period][:, 1:])
    D = np.column_stack(dense) if dense else np.zeros((n, 0))
    D_dm = D - (W @ (inv @ (W.T @ D))) if D.shape[1] else D
    y = np.asarray(p.y, float)
    y_dm = y - W @ (inv @ (W.T @ y))
    used = np.flatnonzero(np.asarray(abs(X_dm).sum(axis=0)).ravel() > 0)
    Xu = X_dm[:, used]
    XtX = np.block(
        [
            [(Xu.T @ Xu).toarray(), np.asarray(Xu.T @ D_dm)],
            [np.asarray(D_dm.T @ Xu), D_dm.T @ D_dm],
        ]
    )
    Xty = np.r_[np.asarray(Xu.T @ y_dm).ravel(), D_dm.T @ y_dm]
    coef, *_ = np.linalg.lstsq(XtX, Xty, rcond=None)
    fitted = np.asarray(Xu @ coef[: used.size]).ravel() + D_dm @ coef[used.size :]
    dof = max(n - p.n_workers - XtX.shape[0], 1)
    s2 = float(np.sum((y_dm - fitted) ** 2)) / dof
    cov = np.linalg.pinv(XtX) * s2
    est[used] = coef[: used.size]
    se[used] = np.sqrt(np.clip(np.diag(cov)[: used.size], 0.0, None))
    return est, se
