"""Two-part (hurdle) families: whether the outcome is positive, and how large it is if so.

For worker i in period t with outcome ``y[i,t] >= 0`` (earnings, projects)::

    P(y > 0)        = logistic(eta_ext[i,t])                  extensive part (every row)
    y | y > 0       ~ the positive family given eta_int[i,t]   intensive part (rows with y > 0)

Each ``eta`` has the full structure of the model (``docs/design.md``, section 3): its own
worker intercepts, period effects, covariates and credential term with its own curve, modifier
and pooling (``[extensive]`` and ``[effect]`` in the spec). The parts share no parameter, so
the likelihood factorises: the extensive part is a Bernoulli model of "any positive outcome"
on every row, the intensive part a single-part model of the positive outcomes. Each part is an
ordinary single-part design (:meth:`HurdleFamily.parts`), so building, starting values,
predictive checks and log-likelihoods treat each with the single-part code.

Expected outcomes are ``E[y] = p * v`` with ``p = P(y > 0)`` and ``v = E[y | y > 0]``, so the
log change from one more credential is the sum of the two parts' log changes (extensive and
intensive margins). A concrete hurdle family says what the positive part is
(:attr:`HurdleFamily.positive`), on which scale it models the positive outcomes, and how ``v``
follows from its predictor (:meth:`HurdleFamily.positive_log_mean`).

The intensive part's Mundlak worker means are taken over the rows it models (those with a
positive outcome), the extensive part's over every row. With ``worker_effects = "within"``
(lognormal amounts) the intensive part integrates out flat-prior worker intercepts: its
credential effect is identified from within-worker changes alone, like the normal model's, while
the extensive part keeps latent (by default correlated) intercepts.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from bayescred.columns import OutcomeKind
from bayescred.data.panel import select_rows
from bayescred.errors import SpecError
from bayescred.model.design import ModelDesign, with_mundlak
from bayescred.model.families.base import DrawParameters, Family, Part
from bayescred.model.families.bernoulli import Bernoulli
from bayescred.model.parts import EXTENSIVE, POSITIVE, Naming, PartName
from bayescred.spec import EffectSpec, ModelSpec, PriorSpec

if TYPE_CHECKING:
    from bayescred.data.panel import Panel

#: Why a row is not in the intensive part (it still counts in the extensive one).
NO_AMOUNT = "no positive amount (extensive part only)"
#: The extensive part's family.
ANY_POSITIVE = Bernoulli()


class HurdleFamily(Family):
    """A Bernoulli model of ``y > 0`` and a model of the positive outcomes, in one model."""

    link: ClassVar[str] = "log"
    margins: ClassVar[tuple[str, ...]] = ("total", "extensive", "intensive")
    #: The family of the intensive part (on :meth:`to_positive_scale` of the outcome).
    positive: ClassVar[Family]
    #: The intensive part's outcome kind (a data rule) and its spec likelihood.
    positive_kind: ClassVar[OutcomeKind]
    positive_likelihood: ClassVar[str]
    #: Whether :meth:`positive_log_change` depends on the predictor's level.
    change_depends_on_level: ClassVar[bool] = False

    # ------------------------------------------------------------------ the positive part
    @abstractmethod
    def to_positive_scale(self, y: np.ndarray) -> np.ndarray:
        """Positive outcomes on the scale the intensive part models them."""

    @abstractmethod
    def from_positive_scale(self, v: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`to_positive_scale`."""

    def positive_log_jacobian(self, y: np.ndarray) -> np.ndarray:
        """``log |d to_positive_scale(y) / dy|`` of positive outcomes: added to the intensive
        part's log density on its own scale, it gives the density of the outcome itself, so
        that log-likelihoods (LOO) compare with other models of the same outcome. Zero for
        families that model the outcome on its own scale."""
        return np.zeros(np.shape(y))

    @abstractmethod
    def positive_column(self, column: str) -> str:
        """The name of the intensive part's outcome."""

    @abstractmethod
    def positive_log_mean(
        self,
        eta: np.ndarray,
        params: dict[str, np.ndarray],
        sigma_alpha: np.ndarray | None,
    ) -> np.ndarray:
        """``log E[y | y > 0]`` at intensive predictor ``eta`` ``(draws, items)``.

        ``params`` holds the positive family's parameters per draw; with ``sigma_alpha`` the
        mean is averaged over the worker intercept's spread (``eta`` is then the intercepts'
        mean), without it ``eta`` includes the intercept.
        """

    def positive_log_change(
        self,
        eta: np.ndarray,
        change: np.ndarray,
        params: dict[str, np.ndarray],
        sigma_alpha: np.ndarray | None,
    ) -> np.ndarray:
        """Change of ``log E[y | y > 0]`` when the predictor moves from ``eta`` by ``change``."""
        return self.positive_log_mean(eta + change, params, sigma_alpha) - self.positive_log_mean(
            eta, params, sigma_alpha
        )

    # ------------------------------------------------------------------ data and priors
    def check_support(self, y: np.ndarray, column: str) -> None:
        self._refuse(y, y < 0, column, "amounts >= 0")
        if not ((y == 0).any() and (y > 0).any()):
            lacks = "no zeros" if (y > 0).all() else "no positive value"
            raise SpecError(
                f"outcome.likelihood = {self.name!r} models zeros and positive values, but "
                f"{column!r} has {lacks}; model the positive values alone, or use bernoulli for "
                "'any positive value'"
            )

    def outcome_scale(self, spec: ModelSpec, panel: Panel) -> tuple[float, float]:
        """Mean and sd of the positive outcomes on the intensive part's scale."""
        y = np.asarray(panel.y, dtype=float)
        v = self.to_positive_scale(y[y > 0])
        return float(np.mean(v)), float(np.std(v))

    def default_priors(
        self, spec: ModelSpec, *, y_mean: float, y_sd: float, covariate_sds: np.ndarray
    ) -> dict[str, PriorSpec]:
        return self.positive.default_priors(
            part_spec(spec, "intensive", self),
            y_mean=y_mean,
            y_sd=y_sd,
            covariate_sds=covariate_sds,
        )

    def resolve_priors(
        self, spec: ModelSpec, panel: Panel, covariate_sds: np.ndarray
    ) -> tuple[dict[str, PriorSpec], float, float]:
        """The intensive part's priors under the plain names (``[priors]`` overrides them), the
        extensive part's under its prefix (``[extensive.priors]`` overrides them; unit logit
        scale, ``mu_alpha`` at the logit of the share of positive rows)."""
        intensive, y_mean, y_sd = super().resolve_priors(spec, panel, covariate_sds)
        share = float(np.mean(np.asarray(panel.y, dtype=float) > 0))
        extensive = {
            **ANY_POSITIVE.default_priors(
                part_spec(spec, "extensive", self),
                y_mean=share,
                y_sd=1.0,
                covariate_sds=covariate_sds,
            ),
            **spec.extensive_effect.priors,
        }
        return {**intensive, **EXTENSIVE.prefixed(extensive)}, y_mean, y_sd

    # ------------------------------------------------------------------ parts
    def make_parts(self, design: ModelDesign) -> tuple[Part, ...]:
        """The extensive part (every row) and the intensive part (rows with ``y > 0``).

        Everything is derived from the hurdle design's rows, so a saved fit rebuilds the same
        parts.
        """
        p = design.panel
        y = np.asarray(p.y, dtype=float)
        positive = y > 0
        any_amount = replace(p, y=positive.astype(float), outcome_kind="binary")
        extensive = with_mundlak(
            ModelDesign(
                spec=part_spec(design.spec, "extensive", self),
                panel=any_amount,
                track_scale=design.track_scale,
                priors=EXTENSIVE.own(design.priors),
                y_mean=float(positive.mean()),
                y_sd=float(positive.std()),
            )
        )
        amounts = select_rows(p, positive, NO_AMOUNT)
        part_y = self.to_positive_scale(np.asarray(amounts.y, dtype=float))
        intensive = with_mundlak(
            ModelDesign(
                spec=part_spec(design.spec, "intensive", self),
                panel=replace(amounts, y=part_y, outcome_kind=self.positive_kind),
                track_scale=design.track_scale,
                priors=POSITIVE.own(design.priors, others=(EXTENSIVE,)),
                y_mean=design.y_mean,
                y_sd=design.y_sd,
            )
        )
        return (
            Part(extensive, ANY_POSITIVE, EXTENSIVE, "extensive"),
            Part(intensive, self.positive, POSITIVE, "intensive", rows=positive),
        )

    def part_families(self) -> tuple[tuple[PartName | None, Family], ...]:
        """The extensive part's Bernoulli family and the intensive part's :attr:`positive`."""
        return (("extensive", ANY_POSITIVE), ("intensive", self.positive))

    def draw_parts(
        self,
        eta: Mapping[PartName | None, np.ndarray],
        params: Mapping[PartName | None, DrawParameters],
        rng: Mapping[PartName | None, np.random.Generator],
    ) -> np.ndarray:
        """Zero where the extensive part draws 0, else the intensive part's draw moved from
        its scale to the outcome's (:meth:`from_positive_scale`); each part draws every row."""
        draws = {
            name: family.draw(eta[name], params[name], rng[name])
            for name, family in self.part_families()
        }
        positive = draws["extensive"] > 0
        amount = self.from_positive_scale(np.where(positive, draws["intensive"], 0.0))
        return np.where(positive, amount, 0.0)

    def summary_parts(self, spec: ModelSpec) -> tuple[tuple[Naming, EffectSpec], ...]:
        return ((POSITIVE, spec.effect), (EXTENSIVE, spec.extensive_effect))

    def margin_words(self, outcome: str) -> tuple[str, str]:
        """What the extensive and the intensive margin mean, in words (effect sentences)."""
        return (
            f"the chance of any {outcome} in a period",
            f"more {outcome} in the periods with any",
        )

    # ------------------------------------------------------------------ display
    def display(self, y: np.ndarray) -> tuple[np.ndarray, str]:
        """Zeros form a spike at 0 and positive values a density on ``log(1 + y)``."""
        return np.log1p(y), "log(1 + {})"


def part_spec(spec: ModelSpec, part: PartName, family: HurdleFamily) -> ModelSpec:
    """The single-part spec of one part of a hurdle spec.

    ``extensive``: a Bernoulli model of ``any_<outcome>`` with the ``[extensive]`` curve,
    modifier and pooling (and no spec priors: its overrides are in ``[extensive.priors]``).
    ``intensive``: a model of the positive outcomes (``family.positive_column``) with
    ``[effect]`` and ``[priors]``. The intensive part has the spec's worker effects, the
    extensive part :attr:`~bayescred.spec.ModelSpec.extensive_worker_effects` (``within``
    applies to the intensive part only); both keep the period effects and covariates.
    The parts' families are those of :meth:`HurdleFamily.parts`, not looked up from these specs.
    """
    column = spec.outcome.column
    if part == "extensive":
        ext = spec.extensive_effect
        return spec.with_changes(
            outcome={"column": f"any_{column}", "likelihood": "bernoulli", "kind": "binary"},
            effect=ext.model_dump(by_alias=True, exclude={"priors", "worker_effects"}),
            extensive=None,
            priors={},
            worker_effects=spec.extensive_worker_effects,
        )
    return spec.with_changes(
        outcome={
            "column": family.positive_column(column),
            "likelihood": family.positive_likelihood,
            "kind": family.positive_kind,
        },
        extensive=None,
        worker_effects=spec.worker_effects,
    )
