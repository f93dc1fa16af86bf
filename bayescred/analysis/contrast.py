"""The posterior of a difference and the probability of a hypothesis about it.

:func:`bayescred.analysis.hypothesis.hypothesis` (``fit.hypothesis``) and
:meth:`bayescred.analysis.effects.EffectResult.compare` both end in a
:class:`HypothesisResult`: the draws of ``left - right``, the posterior probability of the
hypothesis (computed over the joint draws, never from intervals), a summary of the difference
and a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

#: How a hypothesis compares its two sides: ``>``/``<`` (a sign of the difference) or ``==``
#: within a region of practical equivalence (``|left - right| < rope``).
Direction = Literal[">", "<", "=="]


@dataclass(frozen=True)
class HypothesisResult:
    """The posterior of ``left - right`` and the probability of a hypothesis about it.

    Attributes
    ----------
    hypothesis
        The hypothesis as written (``"beta_group[D] > beta_group[A]"``).
    draws
        The difference ``left - right`` per draw, dims ``(chain, draw)``.
    direction
        ``">"``: probability that the difference is positive; ``"<"``: negative; ``"=="``:
        that it lies within ``(-rope, rope)``.
    hdi_prob
        Mass of the reported interval of the difference.
    rope
        Half-width of the region of practical equivalence (``"=="`` only).
    what
        The difference in words, for the sentence (``"beta_group[D] - beta_group[A]"``).
    """

    hypothesis: str
    draws: xr.DataArray
    direction: Direction
    hdi_prob: float = 0.9
    rope: float | None = None
    what: str = ""

    @property
    def probability(self) -> float:
        """Posterior probability of the hypothesis: the share of draws in which it holds."""
        d = np.asarray(self.draws.values).reshape(-1)
        if self.direction == ">":
            return float(np.mean(d > 0))
        if self.direction == "<":
            return float(np.mean(d < 0))
        assert self.rope is not None
        return float(np.mean(np.abs(d) < self.rope))

    @property
    def summary(self) -> pd.DataFrame:
        """One row: the difference's mean, sd, median and HDI, and the probability."""
        d = np.asarray(self.draws.values).reshape(-1)
        hdi = az.hdi(xr.DataArray(d, dims=("sample",)), prob=self.hdi_prob, dim="sample")
        low, high = (float(v) for v in np.asarray(hdi.values).reshape(-1))
        table = pd.DataFrame(
            {
                "hypothesis": [self.hypothesis],
                "difference": [self.what or "left - right"],
                "mean": [float(d.mean())],
                "sd": [float(d.std(ddof=1))],
                "median": [float(np.median(d))],
                "hdi_low": [low],
                "hdi_high": [high],
                "probability": [self.probability],
            }
        )
        table.attrs["hdi_prob"] = self.hdi_prob
        return table

    def sentence(self) -> str:
        """The result in one plain-language sentence."""
        r = self.summary.iloc[0]
        pct = round(self.hdi_prob * 100)
        diff = (
            f"the difference {self.what} has posterior median {r['median']:+.3g} "
            f"({pct}% HDI {r['hdi_low']:+.3g} to {r['hdi_high']:+.3g})"
        )
        if self.direction == "==":
            claim = f"{self.hypothesis} (within ±{self.rope:g})"
        else:
            claim = self.hypothesis
        return (
            f"The posterior probability that {claim} is "
            f"{probability_words(self.probability, self.draws.size)}; {diff}, over "
            f"{self.draws.size} posterior draws."
        )

    def __repr__(self) -> str:
        table = self.summary.drop(columns="hypothesis").to_string(index=False)
        return f"HypothesisResult({self.hypothesis!r})\n{table}\n{self.sentence()}"

    def _repr_html_(self) -> str:
        table = self.summary.to_html(index=False, float_format=lambda v: f"{v:.4g}")
        return f"{table}<p>{_escape(self.sentence())}</p>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def probability_words(p: float, draws: int) -> str:
    """A posterior probability as a sentence shows it: two decimals, more where two would round a
    probability strictly between 0 and 1 to ``0.00`` or ``1.00``, and a count of draws at 0 or 1.

    Examples
    --------
    >>> probability_words(0.734, 4000), probability_words(0.9965, 4000)
    ('0.73', '0.997')
    >>> probability_words(1.0, 4000), probability_words(0.0, 400)
    ('1 (every one of the 4000 draws)', '0 (none of the 400 draws)')
    """
    if p >= 1.0:
        return f"1 (every one of the {draws} draws)"
    if p <= 0.0:
        return f"0 (none of the {draws} draws)"
    for digits in range(2, 7):
        shown = f"{p:.{digits}f}"
        if 0.0 < float(shown) < 1.0:
            return shown
    return f"{p:.6g}"
