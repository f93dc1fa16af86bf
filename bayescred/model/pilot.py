"""Pilot estimates of each group's credential effect, to parameterise the sampler's geometry.

A partially pooled group parameter ``b[g] ~ Normal(mu, sd)`` is sampled well *non-centred*
(``b = mu + sd * offset``) when the data say little about each group, and *centred* (``b``
itself) when they say much more than the population distribution. The default model sits in
between: on the paper preset at 2,000 workers x 20 periods each group's first-credential effect
has a posterior sd of about 0.03 against a between-group sd of about 0.05, and both forms are
slow (min bulk ESS per draw 0.14 non-centred; 0.19 with divergences centred).

The model therefore writes each group's value through its Gaussian conditional posterior given
``mu`` and ``sd`` (:func:`bayescred.model.pooling.whitened_group_values`), for which it needs the
data's own estimate of each group's value (``centre``) and its precision. This module computes
them before sampling, by nonlinear least squares on the within-worker transformed rows::

    W(y) = W(tau[t] + x @ delta + b[g] S(n; shape[g]) M(z; gamma))        W: minus the worker mean

(:func:`scipy.optimize.least_squares`; the worker intercepts drop out exactly, whatever the
model's worker effects). The precision of each estimate is the inverse of its variance in
``sigma^2 (J'J)^-1``. These numbers shape the sampler's coordinates only: the model's
density is the same whatever they are (a wrong centre or precision costs efficiency, not
correctness), and a group the data do not inform gets precision 0, which is the non-centred
form exactly.

The Gaussian families use it as it is (their likelihood is the least-squares one); the
Bernoulli family (any project, and a hurdle's extensive part) moves its linear-probability
estimates to the logit scale (:meth:`bayescred.model.families.bernoulli.Bernoulli.pilot`); the
count families keep the non-centred form (:attr:`bayescred.model.families.base.Family.pilot`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from bayescred.data.panel import demean_by_worker
from bayescred.model.design import ModelDesign
from bayescred.model.type_pilot import type_least_squares
from bayescred.terms.credential_types import TYPE_PILOT, TypedCredentialTerm

#: Workers used by the pilot at most (a random subset beyond; precisions are scaled up to the
#: whole panel): the pilot then costs a few seconds at any panel size.
MAX_PILOT_WORKERS = 20_000
#: The pooled parameters the pilot estimates (population prior names).
PILOT_PARAMETERS: tuple[str, ...] = ("mu_beta", "log_lambda")
#: Bounds of log lambda in the pilot (lambda from 0.007 to 20).
LOG_LAMBDA_BOUNDS = (-5.0, 3.0)


@dataclass(frozen=True)
class PilotEstimates:
    """Each pooled parameter's per-group estimate and its precision (``1 / variance``).

    Keys are the population prior's names as the model pools them: ``mu_beta`` (the first
    credential's effect) and ``log_lambda`` (the geometric curve's decay, pooled on the log).
    A precision of 0 means the data do not inform that group's value.
    """

    centre: dict[str, np.ndarray] = field(default_factory=dict)
    precision: dict[str, np.ndarray] = field(default_factory=dict)

    def get(self, name: str, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
        """``(centre, precision)`` of ``name``; zeros (no information) when not estimated."""
        if name in self.centre:
            return self.centre[name], self.precision[name]
        return np.zeros(n_groups), np.zeros(n_groups)


def no_information(design: ModelDesign) -> PilotEstimates:
    """Estimates that carry no information (every group non-centred)."""
    return PilotEstimates()


def pilot_estimates(design: ModelDesign, *, seed: int = 0) -> PilotEstimates:
    """Least-squares estimates of each group's effect parameters on the within-worker rows.

    Parameters
    ----------
    design
        The model's design (a Gaussian outcome: the least-squares fit is its likelihood's).
    seed
        Seed of the worker subset when the panel has more than :data:`MAX_PILOT_WORKERS`.

    Returns
    -------
    PilotEstimates
        ``mu_beta`` always (when the fit succeeds), ``log_lambda`` for the geometric curve,
        and with credential types under ``within`` each type's first-credential effect
        (``type_effect``: :func:`~bayescred.model.type_pilot.type_least_squares` at the fitted
        curve and modifier; per type, not per group). Groups without within-worker variation
        in credentials get precision 0.
    """
    p = design.panel
    if p.y is None:  # pragma: no cover - a model design always has an outcome
        return no_information(design)
    rows = np.arange(p.n_rows)
    scale_up = 1.0
    if p.n_workers > MAX_PILOT_WORKERS:
        rng = np.random.default_rng(seed)
        keep = np.zeros(p.n_workers, dtype=bool)
        keep[rng.choice(p.n_workers, MAX_PILOT_WORKERS, replace=False)] = True
        rows = rows[keep[p.worker_codes]]
        scale_up = p.n_workers / MAX_PILOT_WORKERS
    _, workers = np.unique(p.worker_codes[rows], return_inverse=True)
    n_workers = int(workers.max()) + 1 if rows.size else 0
    groups = p.group_codes[rows]
    n = p.credentials[rows].astype(float)
    z = np.asarray(design.z, dtype=float)[rows]
    y = demean_by_worker(np.asarray(p.y, dtype=float)[rows], workers, n_workers)
    G = p.n_groups
    term = design.credential_term
    shape_name = term.shape_name
    n_terms = len(term.modifier_terms)
    # the other terms, where linear in their parameters, as within-transformed columns (period
    # effects as dummies with the first period the reference, covariates as they are)
    fixed = []
    row_data = design.rows().take(rows)
    for other in design.terms:
        if other is term:
            continue
        columns = other.linear_columns(row_data)
        if columns is None:
            continue  # not linear in its parameters: left out (the pilot shapes geometry only)
        for c in range(columns.shape[1]):
            fixed.append(
                demean_by_worker(np.asarray(columns[:, c], dtype=float), workers, n_workers)
            )
    F = np.column_stack(fixed) if fixed else np.zeros((rows.size, 0))
    n_shape = G if shape_name is not None else 0
    informed = np.array(
        [np.ptp(n[groups == g]) > 0 if np.any(groups == g) else False for g in range(G)]
    )

    def unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
        beta = theta[:G]
        shape = None
        if shape_name == "lambda":
            shape = np.exp(theta[G : G + n_shape])
        elif shape_name is not None:
            shape = theta[G : G + n_shape]
        gamma = theta[G + n_shape : G + n_shape + n_terms]
        coef = theta[G + n_shape + n_terms :]
        return beta, shape, gamma, coef

    def credential_term(theta: np.ndarray) -> np.ndarray:
        beta, shape, gamma, _ = unpack(theta)
        return term.value(beta[groups], None if shape is None else shape[groups], gamma, n, z)

    def residuals(theta: np.ndarray) -> np.ndarray:
        *_, coef = unpack(theta)
        term = demean_by_worker(credential_term(theta), workers, n_workers)
        return y - term - (F @ coef if F.shape[1] else 0.0)

    n_nonlinear = n_shape + n_terms

    def jacobian(theta: np.ndarray) -> np.ndarray:
        """Exact columns for the effects (the term is linear in each group's), period effects
        and covariates (``-F``); central differences for the curve's shape and the modifier."""
        J = np.empty((rows.size, theta.size))
        unit = theta.copy()
        unit[:G] = 1.0
        x = credential_term(unit)  # S(n; shape[g]) M(z) per row, at beta = 1
        for g in range(G):
            J[:, g] = -demean_by_worker(np.where(groups == g, x, 0.0), workers, n_workers)
        for k in range(G, G + n_nonlinear):
            h = 1e-6 * max(1.0, abs(float(theta[k])))
            up, down = theta.copy(), theta.copy()
            up[k] += h
            down[k] -= h
            diff = credential_term(up) - credential_term(down)
            J[:, k] = -demean_by_worker(diff, workers, n_workers) / (2.0 * h)
        J[:, G + n_nonlinear :] = -F
        return J

    shape0 = {"lambda": [np.log(0.3)] * G, "kappa": [0.0] * G}.get(shape_name or "", [])
    theta0 = np.concatenate([np.full(G, 0.1), shape0, np.zeros(n_terms), np.zeros(F.shape[1])])
    lower = np.full(theta0.size, -np.inf)
    upper = np.full(theta0.size, np.inf)
    if shape_name == "lambda":
        lower[G : G + G] = LOG_LAMBDA_BOUNDS[0]
        upper[G : G + G] = LOG_LAMBDA_BOUNDS[1]
    try:
        fit = least_squares(
            residuals, theta0, jac=jacobian, bounds=(lower, upper), x_scale="jac", max_nfev=60
        )
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        return no_information(design)
    if not np.all(np.isfinite(fit.x)) or fit.jac is None:
        return no_information(design)
    J = np.asarray(fit.jac)
    dof = max(rows.size - n_workers - theta0.size, 1)
    sigma2 = float(fit.fun @ fit.fun) / dof
    try:
        cov = sigma2 * np.linalg.pinv(J.T @ J)
    except np.linalg.LinAlgError:
        return no_information(design)
    var = np.diag(cov)
    precision = np.where((var > 0) & np.isfinite(var), 1.0 / np.where(var > 0, var, 1.0), 0.0)
    precision = precision * scale_up
    at_bound = (fit.x <= lower + 1e-6) | (fit.x >= upper - 1e-6)
    precision = np.where(at_bound, 0.0, precision)
    centre: dict[str, np.ndarray] = {"mu_beta": fit.x[:G].copy()}
    prec: dict[str, np.ndarray] = {"mu_beta": np.where(informed, precision[:G], 0.0)}
    if shape_name == "lambda":
        centre["log_lambda"] = fit.x[G : 2 * G].copy()
        prec["log_lambda"] = np.where(informed, precision[G : 2 * G], 0.0)
    if isinstance(term, TypedCredentialTerm) and design.spec.worker_effects == "within":
        _, shape_hat, gamma_hat, _ = unpack(fit.x)
        gamma_groups = np.broadcast_to(np.asarray(gamma_hat), (G, n_terms))
        estimate, se = type_least_squares(design, shape_hat, gamma_groups)
        n_types = len(design.rows().type_labels)
        ok = np.isfinite(estimate[:n_types]) & (se[:n_types] > 0)
        centre[TYPE_PILOT] = np.where(ok, estimate[:n_types], 0.0)
        prec[TYPE_PILOT] = np.where(ok, 1.0 / np.where(ok, se[:n_types], 1.0) ** 2, 0.0)
    return PilotEstimates(centre=centre, precision=prec)
