"""Likelihood families, found by the value of ``outcome.likelihood``.

Each family is one class in one module (see :mod:`bayescred.model.families.base` for the
interface). To add a likelihood: write its module, register it below, and add its name to the
spec's allowed values (:data:`bayescred.spec.Likelihood`).

Examples
--------
>>> get_family("negative_binomial").link
'log'
>>> get_family("hurdle_lognormal").margins
('total', 'extensive', 'intensive')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, get_args

from bayescred.errors import SpecError
from bayescred.model.families.base import Family, PredictivePlot
from bayescred.model.families.bernoulli import Bernoulli
from bayescred.model.families.hurdle import HurdleFamily
from bayescred.model.families.hurdle_lognormal import HurdleLognormal
from bayescred.model.families.hurdle_negative_binomial import HurdleNegativeBinomial
from bayescred.model.families.negative_binomial import NegativeBinomial
from bayescred.model.families.normal import Normal
from bayescred.model.families.poisson import Poisson
from bayescred.model.families.student_t import StudentT
from bayescred.spec import Likelihood

if TYPE_CHECKING:
    from bayescred.model.design import ModelDesign

#: The registry: one family per allowed value of ``outcome.likelihood``.
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Normal(),
        StudentT(),
        Poisson(),
        NegativeBinomial(),
        Bernoulli(),
        HurdleLognormal(),
        HurdleNegativeBinomial(),
    )
}


def get_family(likelihood: str) -> Family:
    """The family registered under ``likelihood``."""
    try:
        return FAMILIES[likelihood]
    except KeyError:
        raise SpecError(
            f"unknown likelihood {likelihood!r}; allowed: {', '.join(FAMILIES)}"
        ) from None


def family_of(design: ModelDesign) -> Family:
    """The family of a model's design (its spec's ``outcome.likelihood``)."""
    return get_family(design.spec.outcome.likelihood)


def _check_registry() -> None:
    missing = set(get_args(Likelihood)) - set(FAMILIES)
    if missing:  # pragma: no cover - a developer's mistake, caught at import
        raise AssertionError(f"likelihoods without a family: {sorted(missing)}")


_check_registry()


__all__ = ["FAMILIES", "Family", "HurdleFamily", "PredictivePlot", "family_of", "get_family"]
