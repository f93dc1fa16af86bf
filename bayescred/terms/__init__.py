"""The additive terms of the linear predictor, one module each (:mod:`bayescred.terms.base`).

:data:`TERMS` registers them in the order they add up (the order matters for the float sums of
the kernel and for bit-identical draws): the credential term, the period effects, the
covariates. :func:`design_terms` gives the terms a model part has. To add a term: write its
module (a :class:`~bayescred.terms.base.Term`), register it here with the rule that says when a
part has it, and give it a spec field (``docs/design.md``, "Adding a term").

Examples
--------
>>> from bayescred.terms.credential import EffectSpec
>>> [t.key for t in design_terms(EffectSpec(), period_effects=True, n_periods=5, covariates=())]
['credential', 'period']
>>> list(prior_names())[:2]
['mu_beta', 'sigma_beta']
"""

from __future__ import annotations

from collections.abc import Sequence

from bayescred.terms.base import BuiltTerm, KernelIndex, Rows, Term
from bayescred.terms.covariates import Covariates
from bayescred.terms.credential import CredentialTerm, EffectDraws, EffectSpec, PoolingSpec
from bayescred.terms.credential_types import CredentialTypesSpec, TypedCredentialTerm
from bayescred.terms.dynamics import DynamicsSpec, EventTimeCredentialTerm
from bayescred.terms.period import PeriodEffects

#: Every term class, in the order a predictor adds them up (the event-time credential term
#: replaces the credential term when the spec has ``[dynamics]``, the typed one with
#: ``[credential_types]``).
TERMS: tuple[type[Term], ...] = (
    CredentialTerm,
    EventTimeCredentialTerm,
    TypedCredentialTerm,
    PeriodEffects,
    Covariates,
)


def design_terms(
    effect: EffectSpec,
    *,
    period_effects: bool,
    n_periods: int,
    covariates: Sequence[str],
    dynamics: DynamicsSpec | None = None,
    credential_types: CredentialTypesSpec | None = None,
) -> tuple[Term, ...]:
    """The terms of a model part: the credential term always (with event-time dynamics when
    ``dynamics`` is given, with types when ``credential_types`` is), period effects when the
    spec asks for them and the panel has more than one period, covariates when there are any."""
    if dynamics is not None and credential_types is not None:
        raise ValueError("[credential_types] with [dynamics] is not supported (yet)")
    credential: Term
    if dynamics is not None:
        credential = EventTimeCredentialTerm(effect, dynamics)
    elif credential_types is not None:
        credential = TypedCredentialTerm(effect, credential_types)
    else:
        credential = CredentialTerm(effect)
    terms: list[Term] = [credential]
    if period_effects and n_periods > 1:
        terms.append(PeriodEffects())
    if len(covariates):
        terms.append(Covariates())
    return tuple(terms)


def prior_names() -> dict[str, str]:
    """Every term's prior-overridable parameters with their meaning, in :data:`TERMS` order."""
    return {name: meaning for cls in TERMS for name, meaning in cls.parameters.items()}


def summary_descriptions() -> dict[str, str]:
    """Every term's stored variables a summary reports, with descriptions, in order."""
    return {name: text for cls in TERMS for name, text in cls.summaries.items()}


__all__ = [
    "TERMS",
    "BuiltTerm",
    "Covariates",
    "CredentialTerm",
    "CredentialTypesSpec",
    "DynamicsSpec",
    "EffectDraws",
    "EffectSpec",
    "EventTimeCredentialTerm",
    "KernelIndex",
    "PeriodEffects",
    "PoolingSpec",
    "Rows",
    "Term",
    "TypedCredentialTerm",
    "design_terms",
    "prior_names",
    "summary_descriptions",
]
