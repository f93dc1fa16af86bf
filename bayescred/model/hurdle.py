"""The two parts of a ``hurdle_lognormal`` model, each an ordinary single-part design.

For worker i in period t with amount ``y[i,t] >= 0`` (earnings)::

    P(y > 0)          = logistic(eta_ext[i,t])                       extensive part
    log y | y > 0     ~ Normal(eta_int[i,t], sigma)                  intensive part

Each ``eta`` has the full structure of DESIGN section 3: its own worker intercepts, period
effects, covariates and credential term ``beta_g S(n; lambda_g) M(z; gamma_g)`` with its own
curve, modifier and pooling (``[extensive]`` and ``[effect]`` in the spec). The two parts share
no parameter, so the likelihood factorises: the extensive part is a Bernoulli model of "any
amount" on every row, the intensive part a normal model of the log amount on the rows with a
positive amount. :func:`hurdle_parts` builds those two designs from the hurdle design; the PyMC
builder, predictive checks and log-likelihoods then treat each part with the single-part code.

The intensive part's worker intercepts are integrated out in closed form (``random`` and
``correlated``); its Mundlak worker means are taken over the rows it models (those with a
positive amount), the extensive part's over every row. Expected earnings are
``E[y] = P(y > 0) * exp(eta_int + sigma^2 / 2)``, so the log change in expected earnings from
one more credential is the sum of the two parts' changes: extensive (``log`` of the ratio of
probabilities) plus intensive (the change in ``eta_int``); see :mod:`bayescred.fit.hurdle_effects`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from bayescred.data.panel import select_rows
from bayescred.model.build import Naming
from bayescred.model.design import ModelDesign, with_mundlak
from bayescred.spec import EXTENSIVE_PREFIX, ModelSpec, PriorSpec

#: Names of the extensive part's variables and dims (every row, ``ext_`` prefix).
EXTENSIVE_NAMING = Naming(prefix=EXTENSIVE_PREFIX)
#: Names of the intensive part's variables and dims (rows with a positive amount).
INTENSIVE_NAMING = Naming(obs="obs_positive", worker="worker_positive")
#: Why a row is not in the intensive part (it still counts in the extensive one).
NO_AMOUNT = "no positive amount (extensive part only)"

Part = Literal["extensive", "intensive"]


@dataclass(frozen=True)
class HurdleParts:
    """The two single-part designs of a hurdle design.

    Attributes
    ----------
    extensive
        Bernoulli design of ``y > 0`` on every row (logit link; the ``[extensive]`` effect).
    intensive
        Normal design of ``log y`` on the rows with ``y > 0`` (the ``[effect]`` effect).
    positive
        Boolean mask over the hurdle design's rows: those in the intensive part.
    """

    extensive: ModelDesign
    intensive: ModelDesign
    positive: np.ndarray


def part_spec(spec: ModelSpec, part: Part) -> ModelSpec:
    """The single-part spec of one part of a hurdle spec.

    ``extensive``: a Bernoulli model of ``any_<outcome>`` with the ``[extensive]`` curve,
    modifier and pooling (and no spec priors: its overrides are in ``[extensive.priors]``).
    ``intensive``: a normal model of ``log_<outcome>`` with ``[effect]`` and ``[priors]``. Both
    keep the worker effects, period effects and covariates.
    """
    column = spec.outcome.column
    if part == "extensive":
        ext = spec.extensive_effect
        return spec.with_changes(
            outcome={"column": f"any_{column}", "likelihood": "bernoulli", "kind": "binary"},
            effect=ext.model_dump(by_alias=True, exclude={"priors"}),
            extensive=None,
            priors={},
            worker_effects=spec.worker_effects,
        )
    return spec.with_changes(
        outcome={"column": f"log_{column}", "likelihood": "normal", "kind": "real"},
        extensive=None,
        worker_effects=spec.worker_effects,
    )


def part_priors(design: ModelDesign, part: Part) -> dict[str, PriorSpec]:
    """The resolved priors of one part, under the plain names."""
    n = len(EXTENSIVE_PREFIX)
    if part == "extensive":
        return {k[n:]: v for k, v in design.priors.items() if k.startswith(EXTENSIVE_PREFIX)}
    return {k: v for k, v in design.priors.items() if not k.startswith(EXTENSIVE_PREFIX)}


def hurdle_parts(design: ModelDesign) -> HurdleParts:
    """Split a hurdle design into its extensive and intensive designs (see the module docstring).

    Everything is derived from the hurdle design's rows, so a saved fit rebuilds the same parts.
    """
    if not design.spec.is_hurdle:
        raise ValueError(f"not a hurdle design: {design.spec.outcome.likelihood!r}")
    p = design.panel
    y = np.asarray(p.y, dtype=float)
    positive = y > 0
    any_amount = replace(p, y=positive.astype(float), outcome_kind="binary")
    extensive = with_mundlak(
        ModelDesign(
            spec=part_spec(design.spec, "extensive"),
            panel=any_amount,
            track_scale=design.track_scale,
            priors=part_priors(design, "extensive"),
            y_mean=float(positive.mean()),
            y_sd=float(positive.std()),
        )
    )
    amounts = select_rows(p, positive, NO_AMOUNT)
    log_amount = np.log(np.asarray(amounts.y, dtype=float))
    intensive = with_mundlak(
        ModelDesign(
            spec=part_spec(design.spec, "intensive"),
            panel=replace(amounts, y=log_amount, outcome_kind="real"),
            track_scale=design.track_scale,
            priors=part_priors(design, "intensive"),
            y_mean=design.y_mean,
            y_sd=design.y_sd,
        )
    )
    return HurdleParts(extensive=extensive, intensive=intensive, positive=positive)
