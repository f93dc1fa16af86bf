"""The negative-binomial hurdle: project counts with many zeros.

``P(y > 0) = logistic(eta_ext)`` (extensive part, every row) and, given ``y > 0``, a
zero-truncated negative binomial (intensive part, rows with ``y > 0``)::

    P(y | y > 0) = NegBin(y; mu, phi) / (1 - p0),   mu = exp(eta_int),
    p0 = NegBin(0; mu, phi) = (phi / (phi + mu))^phi

with variance ``mu + mu^2 / phi`` before truncation. The intensive part's worker intercepts
are latent and non-centred (no closed form exists). Its mean is
``v = E[y | y > 0] = mu / (1 - p0)``, so the intensive margin of a credential's effect is the
change in ``log v``, which depends on the level of ``eta_int`` (near ``d eta_int`` for large
``mu``, smaller where zeros would be common); for a profile ``v`` is averaged over the
intercepts' spread by Gauss-Hermite quadrature (:mod:`bayescred.maths.quadrature`).

Everything this likelihood needs is in this module: the zero-truncated negative binomial as
the intensive part's family and the hurdle family that combines it with the Bernoulli part.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy import stats

from bayescred.columns import OutcomeKind
from bayescred.maths.quadrature import normal_average
from bayescred.model.families.base import DrawParameters, Part, PredictivePlot
from bayescred.model.families.hurdle import HurdleFamily
from bayescred.model.families.negative_binomial import NegativeBinomial, nb_logpmf
from bayescred.model.families.poisson import check_counts
from bayescred.model.predictor import OUTCOME_VAR
from bayescred.model.priors import prior_distribution


def log_p0(xp: Any, eta: Any, phi: Any) -> Any:
    """``log P(y = 0)`` of a negative binomial with ``mu = exp(eta)``: ``phi log(phi/(phi+mu))``."""
    log_total = xp.logaddexp(xp.log(phi), eta)
    return phi * (xp.log(phi) - log_total)


def ztnb_logpmf(y: np.ndarray, eta: np.ndarray, phi: float) -> np.ndarray:
    """``log P(y | y > 0)`` of the zero-truncated negative binomial (``y >= 1``)."""
    return np.asarray(nb_logpmf(y, eta, phi) - np.log(-np.expm1(log_p0(np, eta, phi))))


def _ztnb_logp(value: Any, eta: Any, phi: Any) -> Any:
    """The same log probability as a PyTensor expression (``pm.CustomDist``'s ``logp``)."""
    log_total = pt.logaddexp(pt.log(phi), eta)
    log_nb = (
        pt.gammaln(value + phi)
        - pt.gammaln(phi)
        - pt.gammaln(value + 1.0)
        + phi * (pt.log(phi) - log_total)
        + value * (eta - log_total)
    )
    return log_nb - pt.log1mexp(phi * (pt.log(phi) - log_total))


class ZeroTruncatedNegativeBinomial(NegativeBinomial):
    """Counts of at least one: the intensive part of :class:`HurdleNegativeBinomial`.

    Not a value of ``outcome.likelihood`` on its own: it only models the positive rows of a
    hurdle.
    """

    name: ClassVar[str] = "zero_truncated_negative_binomial"

    def check_support(self, y: np.ndarray, column: str) -> None:
        self._refuse(y, (y < 1) | (y != np.round(y)), column, "integer counts >= 1")

    def observe(self, part: Part, eta: Any, y: Any) -> None:
        n = part.naming
        phi = prior_distribution(n("phi"), part.design.priors["phi"])
        pm.CustomDist(n(OUTCOME_VAR), eta, phi, logp=_ztnb_logp, observed=y, dims=n.obs)

    def draw(self, eta: np.ndarray, params: DrawParameters, rng: np.random.Generator) -> np.ndarray:
        """Exact draws by the inverse CDF of the negative binomial above its zero."""
        phi = float(params["phi"])
        p0 = np.exp(log_p0(np, eta, phi))
        u = p0 + rng.random(np.shape(eta)) * (1.0 - p0)
        y = stats.nbinom.ppf(u, phi, phi / (phi + np.exp(eta)))
        return np.maximum(np.asarray(y, dtype=float), 1.0)

    def row_logpdf(self, y: np.ndarray, eta: np.ndarray, params: DrawParameters) -> np.ndarray:
        return ztnb_logpmf(y, eta, float(params["phi"]))

    def log_mean(self, eta: np.ndarray, phi: np.ndarray) -> np.ndarray:
        """``log E[y | y > 0] = eta - log(1 - p0)``; ``phi`` broadcasts against ``eta``."""
        return np.asarray(eta - np.log(-np.expm1(log_p0(np, eta, phi))))

    def effect_label(self, outcome: str, column: str) -> str:
        return f"Δ log mean {outcome} before truncation"


class HurdleNegativeBinomial(HurdleFamily):
    """Zeros and zero-truncated negative-binomial counts."""

    name: ClassVar[str] = "hurdle_negative_binomial"
    positive = ZeroTruncatedNegativeBinomial()
    positive_kind: ClassVar[OutcomeKind] = "count"
    positive_likelihood: ClassVar[str] = "negative_binomial"
    change_depends_on_level: ClassVar[bool] = True
    integer_valued: ClassVar[bool] = True
    predictive_plot: ClassVar[PredictivePlot] = "rootogram"

    def check_support(self, y: np.ndarray, column: str) -> None:
        check_counts(self, y, column)
        super().check_support(y, column)

    def to_positive_scale(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=float)

    def from_positive_scale(self, v: np.ndarray) -> np.ndarray:
        return np.asarray(v, dtype=float)

    def positive_column(self, column: str) -> str:
        return column

    def margin_words(self, outcome: str) -> tuple[str, str]:
        return (
            f"the chance of a positive {outcome} in a period",
            f"a higher {outcome} in the periods with any",
        )

    def positive_log_mean(
        self,
        eta: np.ndarray,
        params: dict[str, np.ndarray],
        sigma_alpha: np.ndarray | None,
    ) -> np.ndarray:
        """``log E[v(eta + sigma_alpha u)]`` with ``v`` the zero-truncated mean."""
        phi = params["phi"]
        family = self.positive
        assert isinstance(family, ZeroTruncatedNegativeBinomial)

        def v(x: np.ndarray) -> np.ndarray:
            phi_b = phi.reshape(-1, *([1] * (x.ndim - 1)))
            return np.exp(family.log_mean(x, phi_b))

        return np.log(normal_average(v, eta, sigma_alpha))
