"""The interface every likelihood family implements, and the behaviour most of them share.

A family owns everything that depends on the outcome's likelihood (see
``docs/design.md``, section 5): the outcome's support and the error when it is broken, the
outcome's scale and the default priors on it, the family's contribution to the PyMC model,
data-derived starting values, the per-row density and outcome draws in NumPy (predictive
checks, log-likelihoods, outcomes from known parameters: :meth:`Family.draw_parts`), and how
its effects are reported. Every other module asks the family of a design
(:func:`bayescred.model.families.family_of`) instead of comparing likelihood names.

A two-part (hurdle) family combines two single-part families through its parts
(:meth:`Family.parts`); see :mod:`bayescred.model.families.hurdle`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import xarray as xr

from bayescred.data.panel import Panel
from bayescred.errors import SpecError
from bayescred.model.design import ModelDesign, outcome_sd
from bayescred.model.intercepts import latent_intercepts
from bayescred.model.parts import PLAIN, Naming, PartName
from bayescred.model.pilot import PilotEstimates
from bayescred.model.predictor import SAMPLER_FORM, BuildOptions, Predictor
from bayescred.model.priors import linear_predictor_priors
from bayescred.spec import EffectSpec, ModelSpec, PriorSpec

#: Parameters of one posterior draw, by plain name (``sigma``, ``nu``, ``phi``...).
DrawParameters = Mapping[str, float]
#: Kinds of posterior predictive plot: a density overlay (``kde``, ``hist``, ``ecdf``), a hanging
#: rootogram of count frequencies, or shares of ones by group (binary outcomes).
PredictivePlot = Literal["kde", "hist", "ecdf", "rootogram", "shares"]


@dataclass(frozen=True)
class Part:
    """One linear predictor of a model and what it needs.

    Attributes
    ----------
    design
        The part's single-part design: its spec (``[effect]`` or ``[extensive]`` as the
        effect, its own likelihood), its rows and its priors under plain names.
    family
        The family of the part's own likelihood (bernoulli for an extensive part).
    naming
        Variable names and dims of the part.
    name
        ``None`` for the only part of a single-part model, else ``extensive`` or
        ``intensive``.
    rows
        Boolean mask over the parent design's rows: those the part models (all for None).
    """

    design: ModelDesign
    family: Family
    naming: Naming = PLAIN
    name: PartName | None = None
    rows: np.ndarray | None = field(default=None, repr=False)

    def posterior(self, posterior: xr.Dataset, others: tuple[Naming, ...] = ()) -> xr.Dataset:
        """The part's posterior under plain names (``ext_mu_beta`` -> ``mu_beta``)."""
        return self.naming.view(posterior, others)


class Family(ABC):
    """A likelihood family: one class per value of ``outcome.likelihood``.

    Class attributes describe the family; methods do the work. Single-part families implement
    :meth:`add_likelihood`, :meth:`draw` and :meth:`row_logpdf`; a two-part family instead
    returns two parts from :meth:`parts`, each with its own single-part family.
    """

    #: The registry key, the value of ``outcome.likelihood``.
    name: ClassVar[str]
    #: Link of the linear predictor: ``identity``, ``log`` or ``logit``.
    link: ClassVar[str] = "identity"
    #: Whether outcomes are ``eta + noise``: worker intercepts then cancel from within-worker
    #: deviations, and those are a valid scale for predictive checks.
    additive: ClassVar[bool] = False
    #: The family's own parameters besides the linear predictor's (``sigma``, ``nu``, ``phi``),
    #: each overridable in ``[priors]`` (:data:`bayescred.spec.LIKELIHOOD_PRIOR_NAMES` says what
    #: a prior on it means).
    parameters: ClassVar[tuple[str, ...]] = ()
    #: What each of :attr:`parameters` is, as summaries describe it.
    descriptions: ClassVar[Mapping[str, str]] = {}
    #: Non-centred period effects (link scales, where each period carries little information).
    noncentred_period_effects: ClassVar[bool] = False
    #: Bernoulli: report effects also as changes in probability (percentage points).
    probability_change: ClassVar[bool] = False
    #: Two-part families: the margins an effect splits into (``total`` first); else empty.
    margins: ClassVar[tuple[str, ...]] = ()
    #: Whether every outcome is a whole number (counts, 0/1); :meth:`draw` still returns floats.
    integer_valued: ClassVar[bool] = False
    #: The posterior predictive plot suited to the outcome (``fit.plot.ppc()``'s default): a
    #: density overlay for continuous outcomes, ``rootogram`` for counts, ``shares`` for 0/1.
    predictive_plot: ClassVar[PredictivePlot] = "kde"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # ------------------------------------------------------------------ data
    def check_support(self, y: np.ndarray, column: str) -> None:  # noqa: B027 - most accept all
        """Raise :class:`SpecError` when the outcome values cannot come from this likelihood."""

    def _refuse(self, y: np.ndarray, bad: np.ndarray, column: str, rule: str) -> None:
        if bad.any():
            raise SpecError(
                f"outcome.likelihood = {self.name!r} needs {rule}, but {int(bad.sum())} rows of "
                f"{column!r} are not (e.g. {y[bad][:3].tolist()}); choose the likelihood "
                "that matches the outcome (normal or student_t for real values)"
            )

    # ------------------------------------------------------------------ priors
    def outcome_scale(self, spec: ModelSpec, panel: Panel) -> tuple[float, float]:
        """Mean and sd of the outcome as the priors see it (``y_mean``, ``y_sd``)."""
        y = np.asarray(panel.y, dtype=float)
        return float(np.mean(y)), outcome_sd(spec, panel)

    @abstractmethod
    def default_priors(
        self, spec: ModelSpec, *, y_mean: float, y_sd: float, covariate_sds: np.ndarray
    ) -> dict[str, PriorSpec]:
        """Weakly informative default priors on this family's scale (plain names)."""

    def resolve_priors(
        self, spec: ModelSpec, panel: Panel, covariate_sds: np.ndarray
    ) -> tuple[dict[str, PriorSpec], float, float]:
        """The model's resolved priors (defaults overridden by the spec), ``y_mean``, ``y_sd``."""
        y_mean, y_sd = self.outcome_scale(spec, panel)
        defaults = self.default_priors(spec, y_mean=y_mean, y_sd=y_sd, covariate_sds=covariate_sds)
        return {**defaults, **spec.priors}, y_mean, y_sd

    # ------------------------------------------------------------------ parts and PyMC
    def parts(self, design: ModelDesign) -> tuple[Part, ...]:
        """The model's linear predictors, computed once per design and kept on it."""
        return design.memo("parts", lambda: self.make_parts(design))

    def make_parts(self, design: ModelDesign) -> tuple[Part, ...]:
        """The model's linear predictors: one part under the plain names."""
        return (Part(design=design, family=self),)

    def summary_parts(self, spec: ModelSpec) -> tuple[tuple[Naming, EffectSpec], ...]:
        """Each part's naming and credential-effect section, plain names first (summaries)."""
        return ((PLAIN, spec.effect),)

    def closed_form(self, worker_effects: str) -> bool:
        """Whether the worker intercepts are integrated out in closed form."""
        return False

    def pilot(self, design: ModelDesign) -> PilotEstimates | None:
        """Data estimates of each group's effect parameters that shape the sampler's geometry
        (:mod:`bayescred.model.pilot`), or None to keep the pooled parameters non-centred.
        The model's density does not depend on them."""
        return None

    @property
    def whitens_pooled(self) -> bool:
        """Whether the sampler's model writes the pilot's pooled parameters through their
        conditional posterior: the families that define :meth:`pilot` (Gaussian, Bernoulli);
        the others keep them non-centred."""
        return type(self).pilot is not Family.pilot

    def add_likelihood(
        self, part: Part, predictor: Predictor, options: BuildOptions = SAMPLER_FORM
    ) -> None:
        """Add the worker intercepts and the likelihood of ``part`` to the current PyMC model.

        ``predictor`` is the part's predictor without intercepts (its data, summed mean and
        built terms); ``options`` say how the model is written.
        """
        raise NotImplementedError(f"the {self.name!r} family is built from its parts")

    def link_slope(self, slope: float, y: np.ndarray, y_sd: float) -> tuple[float, float]:
        """A within-worker OLS slope on the outcome's scale moved to the predictor's scale,
        and the scale of the predictor (for a floor on the starting value)."""
        return slope, y_sd

    # ------------------------------------------------------------------ NumPy
    def noise(self, params: DrawParameters, size: int, rng: np.random.Generator) -> np.ndarray:
        """Additive families: the residuals of one draw (``y = eta + noise``)."""
        raise NotImplementedError(f"outcomes of the {self.name!r} family are not eta + noise")

    def draw(self, eta: np.ndarray, params: DrawParameters, rng: np.random.Generator) -> np.ndarray:
        """Outcomes drawn given the predictor ``eta`` (worker intercepts included)."""
        raise NotImplementedError(f"the {self.name!r} family draws outcomes by its parts")

    def row_logpdf(self, y: np.ndarray, eta: np.ndarray, params: DrawParameters) -> np.ndarray:
        """Log density of each outcome given the predictor ``eta`` (intercepts included)."""
        raise NotImplementedError(f"the {self.name!r} family has a density by its parts")

    def part_families(self) -> tuple[tuple[PartName | None, Family], ...]:
        """Each linear predictor's part name and single-part family, in the order of
        :meth:`make_parts`, without a design: ``((None, self),)`` for a single-part family."""
        return ((None, self),)

    def draw_parts(
        self,
        eta: Mapping[PartName | None, np.ndarray],
        params: Mapping[PartName | None, DrawParameters],
        rng: Mapping[PartName | None, np.random.Generator],
    ) -> np.ndarray:
        """Outcomes drawn given each part's predictor (worker intercepts included), its
        family's parameters and its own generator, keyed by the names of
        :meth:`part_families` (a part's draws do not move when another part changes).

        A single-part family draws with :meth:`draw` (``None`` keys every mapping); a two-part
        family combines one draw of each part's family.
        """
        return self.draw(eta[None], params[None], rng[None])

    # ------------------------------------------------------------------ effects
    def log_scale(self, column: str) -> bool:
        """Whether effects on the predictor's scale are log changes (so percentages apply)."""
        return self.link == "log"

    def effect_label(self, outcome: str, column: str) -> str:
        """Label of an effect axis on the predictor's scale, with its unit (``outcome``: the
        outcome in words)."""
        if self.log_scale(column):
            return f"Δ log expected {outcome}"
        return f"Δ {outcome} (outcome units)"

    def display(self, y: np.ndarray) -> tuple[np.ndarray, str]:
        """Outcomes as a predictive-check plot shows them, and the axis label's template."""
        return y, "{}"


class LinkFamily(Family):
    """Count and binary families: a link-scale predictor with latent worker intercepts.

    No residual sd: the priors use a unit scale, ``mu_alpha ~ N(link(mean), 1)`` (a sd of 2
    on a link scale would allow mean counts e^4 times the observed one).
    """

    noncentred_period_effects = True

    def outcome_scale(self, spec: ModelSpec, panel: Panel) -> tuple[float, float]:
        y = np.asarray(panel.y, dtype=float)
        return float(np.mean(y)), float(np.std(y))

    @abstractmethod
    def link_of_mean(self, y_mean: float) -> float:
        """The outcome's mean on the link scale."""

    def default_priors(
        self, spec: ModelSpec, *, y_mean: float, y_sd: float, covariate_sds: np.ndarray
    ) -> dict[str, PriorSpec]:
        return linear_predictor_priors(
            scale=1.0,
            intercept_mean=self.link_of_mean(y_mean),
            intercept_sd=1.0,
            covariate_sds=covariate_sds,
            dynamics=spec.dynamics,
            credential_types=spec.credential_types,
        )

    def add_likelihood(
        self, part: Part, predictor: Predictor, options: BuildOptions = SAMPLER_FORM
    ) -> None:
        pilot = self.intercept_pilot(part.design) if options.whitened else None
        data = predictor.data
        eta = latent_intercepts(
            part.design, data, predictor.mean, part.naming, pilot, whitened=options.whitened
        )
        self.observe(part, eta, data["y"])

    def intercept_pilot(self, design: ModelDesign) -> tuple[np.ndarray, np.ndarray] | None:
        """Each worker's level on the link scale estimated from its own rows, and that
        estimate's precision, to shape the sampler's coordinates of the latent intercepts
        (:func:`~bayescred.model.intercepts.latent_intercepts`); ``None``: non-centred intercepts.
        The model's density does not depend on them."""
        return None

    @abstractmethod
    def observe(self, part: Part, eta: Any, y: Any) -> None:
        """The observed PyMC variable of ``y`` given the link-scale predictor ``eta``."""
