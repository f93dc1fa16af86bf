"""The worker intercepts' mean and, for latent-intercept families, the intercepts themselves.

``alpha[i] ~ Normal(mu_alpha (+ psi @ w[i] for correlated effects), sigma_alpha)``: the Gaussian
families integrate them out in closed form (:mod:`bayescred.model.families.normal`) and use
only :func:`intercept_mean`; the others add them to the predictor (:func:`latent_intercepts`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayescred.model.design import ModelDesign
from bayescred.model.parts import Naming
from bayescred.model.pooling import pilot_data, whitened_group_values
from bayescred.model.priors import prior_distribution

#: Summary descriptions of the intercepts' stored parameters, in display order.
INTERCEPT_SUMMARIES: dict[str, str] = {
    "mu_alpha": "mean worker intercept",
    "sigma_alpha": "sd of worker intercepts",
    "psi": "worker-mean (Mundlak) coefficient",
}


def intercept_mean(design: ModelDesign, naming: Naming) -> Any:
    """Mean of the worker intercepts: ``mu_alpha`` (+ Mundlak terms for correlated effects)."""
    n = naming
    mu_alpha = prior_distribution(n("mu_alpha"), design.priors["mu_alpha"])
    if design.spec.worker_effects != "correlated":
        return mu_alpha
    w = pm.Data(n("worker_means"), design.mundlak_matrix(), dims=(naming.worker, "mundlak_term"))
    psi = prior_distribution(n("psi"), design.priors["psi"], dims="mundlak_term")
    return mu_alpha + pt.dot(w, psi)


def latent_intercepts(
    design: ModelDesign,
    data: dict[str, Any],
    mean: Any,
    naming: Naming,
    pilot: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    whitened: bool = True,
) -> Any:
    """``mean`` plus the worker intercepts: latent, or one ``mu_alpha``.

    With ``pilot`` (each worker's level on the link scale from its own rows, and that
    estimate's precision: :meth:`~bayescred.model.families.base.LinkFamily.intercept_pilot`)
    the intercepts are written through their conditional posterior
    (:func:`whitened_group_values`, flat ``alpha_whitened``), centred on the worker's level less
    its mean of the rest of the predictor (``mean``, a graph of the other parameters, so the
    change of coordinates stays triangular and ``log v`` is its Jacobian). With a few
    thousand workers of 20 periods each the data pin every intercept down more tightly than
    their spread, where the non-centred form couples ``mu_alpha`` to every offset (R-hat 1.013
    to 1.017 for the hurdle's ``ext_mu_alpha`` at 2 x 1,000 draws). Otherwise, or with
    ``whitened=False`` (the form PyMC draws prior samples from), the intercepts are
    non-centred (``alpha_offset``). Both forms store
    ``alpha_offset = (alpha - mean) / sigma_alpha`` and have the same density.
    """
    n = naming
    if design.spec.worker_effects == "none":
        return mean + prior_distribution(n("mu_alpha"), design.priors["mu_alpha"])
    mu_alpha = intercept_mean(design, naming)
    sigma_alpha = prior_distribution(n("sigma_alpha"), design.priors["sigma_alpha"])
    dims = (naming.worker,)
    idx = data["worker_idx"]
    if pilot is not None and whitened:
        c, q = pilot_data(n("alpha"), *pilot, dims)
        rows = pm.Data(n("worker_rows"), design.panel.periods_per_worker().astype(float), dims=dims)
        rest = pt.zeros(rows.shape[0])[idx].inc(mean) / pt.maximum(rows, 1.0)
        value = whitened_group_values(n("alpha"), mu_alpha, sigma_alpha, c - rest, q, dims)
        alpha = pm.Deterministic(n("alpha"), value, dims=dims)
        pm.Deterministic(n("alpha_offset"), (alpha - mu_alpha) / sigma_alpha, dims=dims)
    else:
        offset = pm.Normal(n("alpha_offset"), 0.0, 1.0, dims=dims)
        alpha = pm.Deterministic(n("alpha"), mu_alpha + sigma_alpha * offset, dims=dims)
    return mean + alpha[idx]
