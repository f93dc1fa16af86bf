"""Model specifications: one pydantic object, loaded from and written to TOML.

A :class:`ModelSpec` is the single source the model is built from and the one thing a saved fit
stores to rebuild it. Unknown or misspelt keys and values raise :class:`bayescred.SpecError`
naming the key and listing what is allowed.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bayescred.columns import ColumnMap, OutcomeKind
from bayescred.errors import SpecError
from bayescred.terms import prior_names
from bayescred.terms.credential import EffectSpec, PoolingSpec
from bayescred.terms.credential import Pooling as Pooling
from bayescred.terms.credential_types import CredentialTypesSpec
from bayescred.terms.dynamics import DynamicsSpec

#: The allowed values of ``outcome.likelihood``: the keys of the likelihood families' registry
#: (:mod:`bayescred.model.families`), which owns everything that depends on the likelihood.
Likelihood = Literal[
    "normal",
    "student_t",
    "hurdle_lognormal",
    "negative_binomial",
    "poisson",
    "bernoulli",
    "hurdle_negative_binomial",
]
# The spec's own validation needs two facts about likelihoods (it sits below the families):
#: Likelihoods whose worker intercepts can be integrated out in closed form (``within``).
GAUSSIAN_LIKELIHOODS: tuple[str, ...] = ("normal",)
#: Likelihoods with two linear predictors: "any positive outcome" (logit) and its size.
HURDLE_LIKELIHOODS: tuple[str, ...] = ("hurdle_lognormal", "hurdle_negative_binomial")
#: Hurdle likelihoods whose amount part is normal (on the log scale), so that its worker
#: intercepts can be integrated out in closed form (``within`` for that part).
GAUSSIAN_AMOUNT_HURDLES: tuple[str, ...] = ("hurdle_lognormal",)
#: NUTS implementations: nutpie (compiled with numba), PyMC's own, and the JAX route to a GPU
#: (NumPyro's NUTS, or nutpie's NUTS on the JAX log density).
Sampler = Literal["nutpie", "pymc", "numpyro", "nutpie-jax"]
SAMPLERS: tuple[str, ...] = get_args(Sampler)
WorkerEffects = Literal["within", "random", "correlated", "none"]
#: Worker effects a logit part can have (no closed-form ``within`` likelihood).
LatentWorkerEffects = Literal["random", "correlated", "none"]
DistName = Literal[
    "normal", "half_normal", "student_t", "half_student_t", "lognormal", "exponential", "gamma"
]

#: Parameters each prior distribution takes (all required).
DIST_PARAMETERS: dict[str, tuple[str, ...]] = {
    "normal": ("mu", "sigma"),
    "half_normal": ("sigma",),
    "student_t": ("nu", "mu", "sigma"),
    "half_student_t": ("nu", "sigma"),
    "lognormal": ("mu", "sigma"),
    "exponential": ("lam",),
    "gamma": ("alpha", "beta"),
}

#: Parameters of the likelihood families' noise models whose priors a spec may override (each
#: family declares which of them it has: :attr:`bayescred.model.families.base.Family.parameters`).
LIKELIHOOD_PRIOR_NAMES: dict[str, str] = {
    "sigma": "residual sd on the outcome's scale",
    "nu": "degrees of freedom of the Student-t likelihood",
    "phi": "dispersion of the negative-binomial likelihood (variance mu + mu^2 / phi)",
}
#: Parameters of the worker intercepts whose priors a spec may override.
INTERCEPT_PRIOR_NAMES: dict[str, str] = {
    "mu_alpha": "mean of the worker intercepts (random and correlated worker effects)",
    "sigma_alpha": "sd of the worker intercepts (random and correlated worker effects)",
    "psi": "coefficients of the worker means in the intercepts' mean (correlated)",
}
#: Every parameter whose prior a spec may override, with what it is: the terms' parameters
#: (:func:`bayescred.terms.prior_names`), then the likelihoods' and the worker intercepts'.
PRIOR_NAMES: dict[str, str] = {**prior_names(), **LIKELIHOOD_PRIOR_NAMES, **INTERCEPT_PRIOR_NAMES}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class PriorSpec(_Strict):
    """A prior: a distribution name and its parameters, e.g. ``{dist="normal", mu=0, sigma=1}``.

    Values are on the parameter's own scale (absolute, never rescaled by the data).
    """

    dist: DistName = Field(description="the distribution; it fixes which parameters are given")
    mu: float | None = Field(default=None, description="location (normal, student_t, lognormal)")
    sigma: Annotated[float, Field(gt=0)] | None = Field(
        default=None,
        description="scale (normal, half_normal, student_t, half_student_t, lognormal)",
    )
    nu: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="degrees of freedom (student_t, half_student_t)"
    )
    lam: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="rate (exponential)"
    )
    alpha: Annotated[float, Field(gt=0)] | None = Field(default=None, description="shape (gamma)")
    beta: Annotated[float, Field(gt=0)] | None = Field(default=None, description="rate (gamma)")

    @model_validator(mode="after")
    def _parameters_match_distribution(self) -> Self:
        wanted = DIST_PARAMETERS[self.dist]
        given = {
            k for k in ("mu", "sigma", "nu", "lam", "alpha", "beta") if getattr(self, k) is not None
        }
        missing = [k for k in wanted if k not in given]
        extra = sorted(given - set(wanted))
        if missing or extra:
            raise ValueError(
                f"a {self.dist} prior takes exactly {', '.join(wanted)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; not allowed: {', '.join(extra)}" if extra else "")
            )
        return self

    def parameters(self) -> dict[str, float]:
        """The distribution's parameters as a dict."""
        return {k: float(getattr(self, k)) for k in DIST_PARAMETERS[self.dist]}


class OutcomeSpec(_Strict):
    """The outcome column and its likelihood."""

    column: str = Field(
        default="log_project_value",
        description="the outcome column; rows with a missing value are set aside and counted",
    )
    likelihood: Likelihood = Field(
        default="normal", description="the outcome's likelihood family (docs/design.md section 5)"
    )
    kind: OutcomeKind | None = Field(
        default=None,
        description="data rule for the outcome; inferred from the column name if unset",
    )

    @property
    def words(self) -> str:
        """The outcome's name in words: ``log_project_value`` -> ``log project value``."""
        return self.column.replace("_", " ")

    @property
    def level_words(self) -> str:
        """The name in words of what a log outcome is the log of (``project value``); the
        outcome's own name otherwise."""
        name = self.column
        for prefix in ("log_", "log"):
            if name.startswith(prefix):
                name = name[len(prefix) :]
                break
        return name.replace("_", " ").strip() or "outcome"


def default_worker_effects(likelihood: str) -> WorkerEffects:
    """``within`` for normal outcomes; ``correlated`` (Mundlak) for every other likelihood."""
    return "within" if likelihood in GAUSSIAN_LIKELIHOODS else "correlated"


#: Priors the extensive part of a hurdle model takes (it has no residual sd or dispersion).
EXTENSIVE_PRIOR_NAMES: tuple[str, ...] = tuple(
    n for n in PRIOR_NAMES if n not in (*LIKELIHOOD_PRIOR_NAMES, "tau")
)


class ExtensiveSpec(EffectSpec):
    """The extensive part of a hurdle model: whether a worker earns anything in a period.

    Its own credential curve, track-record modifier and pooling (on the logit scale), and its own
    priors (names as in ``[priors]``, without ``sigma``, ``nu``, ``phi`` and ``tau``). Its
    variables carry a prefix in the posterior (``ext_mu_beta``, ``ext_beta_group``; see
    :mod:`bayescred.model.parts`).
    """

    priors: dict[str, PriorSpec] = Field(
        default_factory=dict,
        description="priors of the extensive part by parameter name; unset ones take defaults",
    )
    worker_effects: LatentWorkerEffects | None = Field(
        default=None,
        description=(
            "the extensive part's worker intercepts; unset: the spec's worker_effects, or "
            "'correlated' where those are 'within' (which applies to the amount part only)"
        ),
    )

    @model_validator(mode="after")
    def _known_priors(self) -> Self:
        unknown = sorted(set(self.priors) - set(EXTENSIVE_PRIOR_NAMES))
        if unknown:
            raise ValueError(
                f"unknown extensive prior {', '.join(map(repr, unknown))}; allowed: "
                + ", ".join(EXTENSIVE_PRIOR_NAMES)
            )
        return self


class TrackRecordSpec(_Strict):
    """Which track record the modifier uses and how it is standardised:
    ``z = (log1p(r) - log1p(reference)) / scale``."""

    reference: Literal["median"] | Annotated[float, Field(ge=0)] = Field(
        default="median",
        description="track record at which the modifier is 1: the median of the rows, or a number",
    )
    scale: Literal["sd"] | Annotated[float, Field(gt=0)] = Field(
        default="sd",
        description="divisor of the standardised track record: the sd of log1p(r), or a number",
    )
    measured: Literal["current", "entry"] = Field(
        default="current",
        description=(
            "the track record each row's modifier uses: its own period's (current), or the "
            "worker's at entry (first period), which the worker's later outcomes cannot move: "
            "use it for outcomes that include the number of projects (earnings, counts)"
        ),
    )


class SamplingSpec(_Strict):
    """Default sampler settings (each can be overridden in ``fit``)."""

    sampler: Sampler = Field(
        default="nutpie",
        description="the NUTS implementation (numpyro and nutpie-jax need the jax extra)",
    )
    draws: Annotated[int, Field(ge=1)] = Field(
        default=1000, description="posterior draws per chain"
    )
    tune: Annotated[int, Field(ge=0)] = Field(
        default=1000, description="warm-up (tuning) iterations per chain, discarded"
    )
    chains: Annotated[int, Field(ge=1)] = Field(default=4, description="independent chains")
    target_accept: Annotated[float, Field(gt=0, lt=1)] = Field(
        default=0.95, description="NUTS target acceptance rate (higher: smaller steps)"
    )
    low_rank_mass_matrix: bool = Field(
        default=True,
        description=(
            "nutpie and nutpie-jax only: adapt a low-rank mass matrix (faster for correlated "
            "posteriors)"
        ),
    )


class ModelSpec(_Strict):
    """A complete model specification.

    Examples
    --------
    >>> spec = ModelSpec(effect={"curve": "linear", "modifier": "none"})
    >>> spec.effect.curve
    'linear'
    >>> ModelSpec.from_toml_string(spec.to_toml_string()) == spec
    True
    """

    name: str = Field(default="default", description="a short name, shown in tables and reports")
    description: str = Field(default="", description="what the model is, in a sentence")
    outcome: OutcomeSpec = Field(
        default=OutcomeSpec(), description="the outcome column and its likelihood"
    )
    columns: ColumnMap = Field(
        default=ColumnMap(), description="the panel's column name for each role"
    )
    effect: EffectSpec = Field(
        default=EffectSpec(),
        description="the credential effect: curve, track-record modifier and pooling",
    )
    dynamics: DynamicsSpec | None = Field(
        default=None,
        description=(
            "event-time effects: leads and lags of each credential, pooled over groups (and "
            "adoption cohorts); unset: the static model (docs/design.md section 3.8)"
        ),
    )
    credential_types: CredentialTypesSpec | None = Field(
        default=None,
        description=(
            "credential effects by type and skill category, partially pooled, with an optional "
            "match to the worker's job category; unset: every credential alike "
            "(docs/design.md section 3.9)"
        ),
    )
    extensive: ExtensiveSpec | None = Field(
        default=None,
        description=(
            "hurdle likelihoods only: the 'any positive outcome' part's curve, modifier, pooling "
            "and priors; [effect] then describes the amount. Unset: a copy of [effect]."
        ),
    )
    track_record: TrackRecordSpec = Field(
        default=TrackRecordSpec(), description="how track records are standardised"
    )
    worker_effects: WorkerEffects = Field(
        default="within",
        description="default: 'within' for normal outcomes, 'correlated' for the others",
    )
    period_effects: bool = Field(
        default=True, description="zero-sum period effects tau[t] (docs/design.md section 3.5)"
    )
    covariates: tuple[str, ...] = Field(
        default=(), description="numeric columns entering the outcome linearly (coefficients delta)"
    )
    priors: dict[str, PriorSpec] = Field(
        default_factory=dict,
        description="priors by parameter name; unset ones take weakly informative defaults",
    )
    sampling: SamplingSpec = Field(default=SamplingSpec(), description="default sampler settings")

    @model_validator(mode="before")
    @classmethod
    def _default_worker_effects(cls, data: Any) -> Any:
        """Leave ``worker_effects`` out and it follows the likelihood (see the field)."""
        if isinstance(data, dict) and "worker_effects" not in data:
            outcome = data.get("outcome")
            likelihood = (
                outcome.get("likelihood", "normal")
                if isinstance(outcome, dict)
                else getattr(outcome, "likelihood", "normal")
            )
            if isinstance(likelihood, str):
                data = {**data, "worker_effects": default_worker_effects(likelihood)}
        return data

    @property
    def extensive_effect(self) -> ExtensiveSpec:
        """The extensive part of a hurdle model (``[extensive]``, or a copy of ``[effect]``)."""
        if self.extensive is not None:
            return self.extensive
        return ExtensiveSpec.model_validate(self.effect.model_dump(by_alias=True))

    @property
    def extensive_worker_effects(self) -> LatentWorkerEffects:
        """The worker effects of a hurdle model's extensive (logit) part: ``[extensive]
        worker_effects`` if set, else the spec's, with ``within`` (the amount part's closed
        form, which a logit part does not have) read as ``correlated``."""
        own = self.extensive_effect.worker_effects
        if own is not None:
            return own
        return "correlated" if self.worker_effects == "within" else self.worker_effects

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        unknown = sorted(set(self.priors) - set(PRIOR_NAMES))
        if unknown:
            raise ValueError(
                f"unknown prior {', '.join(map(repr, unknown))}; allowed priors: "
                + ", ".join(PRIOR_NAMES)
            )
        within_ok = GAUSSIAN_LIKELIHOODS + GAUSSIAN_AMOUNT_HURDLES
        if self.worker_effects == "within" and self.outcome.likelihood not in within_ok:
            raise ValueError(
                f"worker_effects = 'within' needs a normal likelihood (or hurdle_lognormal, "
                f"whose amount part is normal on the log scale), not "
                f"{self.outcome.likelihood!r}: the worker intercepts are integrated out in closed "
                "form, which only the normal likelihood allows. Use worker_effects = 'correlated' "
                "(worker intercepts with a Mundlak mean; robust to selection on worker means) or "
                "'random'."
            )
        if self.extensive is not None and self.outcome.likelihood not in HURDLE_LIKELIHOODS:
            raise ValueError(
                "[extensive] describes the first part of a hurdle model: it needs "
                f"outcome.likelihood in {HURDLE_LIKELIHOODS}, not {self.outcome.likelihood!r}"
            )
        tau = self.priors.get("tau")
        if tau is not None and (tau.dist != "normal" or tau.mu != 0):
            raise ValueError(
                "priors.tau must be a normal prior with mu = 0 (the period effects sum to zero); "
                'for period fixed effects use {dist = "normal", mu = 0.0, sigma = 10.0}'
            )
        if len(set(self.covariates)) != len(self.covariates):
            raise ValueError("covariates must not repeat a column")
        if self.credential_types is not None and self.dynamics is not None:
            raise ValueError(
                "[credential_types] and [dynamics] cannot be combined yet: fit the event study "
                "and the credential types as two models"
            )
        return self

    # ------------------------------------------------------------------ display
    def describe(self) -> list[tuple[str, str]]:
        """(label, value) rows: what the spec sets, in words (``repr`` and Jupyter)."""
        eff, pool = self.effect, self.effect.pooling
        rows = [
            ("outcome", f"{self.outcome.column} ({self.outcome.likelihood} likelihood)"),
            ("credential effect", f"{eff.curve} curve, {eff.modifier} track-record modifier"),
            ("pooling", f"beta {pool.beta}, lambda {pool.lambda_}, gamma {pool.gamma}"),
        ]
        if self.extensive is not None:
            ext = self.extensive
            rows.append(("extensive part", f"{ext.curve} curve, {ext.modifier} modifier"))
        s = self.sampling
        rows += [
            ("worker effects", self.worker_effects),
            ("period effects", "yes" if self.period_effects else "no"),
            ("covariates", ", ".join(self.covariates) or "none"),
            ("priors set in the spec", ", ".join(sorted(self.priors)) or "none (defaults)"),
            (
                "sampling",
                f"{s.sampler}, {s.chains} chains x {s.draws} draws after {s.tune} tuning steps, "
                f"target_accept {s.target_accept:g}",
            ),
        ]
        return rows

    def __repr__(self) -> str:
        head = f"ModelSpec {self.name!r}" + (f": {self.description}" if self.description else "")
        return "\n".join([head, *(f"  {label}: {value}" for label, value in self.describe())])

    def _repr_html_(self) -> str:
        import html

        e = html.escape
        rows = "".join(
            f"<tr><th style='text-align:left'>{e(k)}</th><td>{e(v)}</td></tr>"
            for k, v in self.describe()
        )
        description = f"<p>{e(self.description)}</p>" if self.description else ""
        title = f"<h3>ModelSpec <code>{e(self.name)}</code></h3>"
        return f"<div>{title}{description}<table>{rows}</table></div>"

    # ------------------------------------------------------------------ TOML
    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        """Validate a plain dict (as read from TOML), raising :class:`SpecError` on problems."""
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise SpecError(_format_validation_error(err, data)) from None

    @classmethod
    def from_toml_string(cls, text: str) -> ModelSpec:
        """Parse a spec from TOML text."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise SpecError(f"the spec is not valid TOML: {err}") from None
        return cls.from_dict(data)

    @classmethod
    def from_toml(cls, path: str | Path) -> ModelSpec:
        """Read a spec from a TOML file (``models/default.toml`` and friends)."""
        p = Path(path)
        if not p.is_file():
            raise SpecError(f"spec file {str(p)!r} does not exist")
        try:
            return cls.from_toml_string(p.read_text(encoding="utf-8"))
        except SpecError as err:
            raise SpecError(f"{p}: {err}") from None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with the TOML key names (``lambda``), without unset optional fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_toml_string(self) -> str:
        """The spec as TOML text (comments are not preserved)."""
        return tomli_w.dumps(self.to_dict())

    def to_toml(self, path: str | Path) -> None:
        """Write the spec as TOML."""
        Path(path).write_text(self.to_toml_string(), encoding="utf-8")

    def to_json(self) -> str:
        """Canonical JSON (sorted keys), the form stored in a saved fit."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelSpec:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    def spec_hash(self) -> str:
        """SHA-256 of :meth:`to_json`, stored with a saved fit to detect tampering."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    def with_changes(self, **changes: Any) -> ModelSpec:
        """A copy with top-level fields replaced, validated again (nested dicts merge)."""
        data = self.to_dict()
        if "worker_effects" not in changes and data["worker_effects"] == default_worker_effects(
            self.outcome.likelihood
        ):
            del data["worker_effects"]  # a default follows a changed likelihood
        for key, value in changes.items():
            if isinstance(value, BaseModel):
                value = value.model_dump(mode="json", by_alias=True, exclude_none=True)
            if isinstance(value, dict) and isinstance(data.get(key), dict) and key != "priors":
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return ModelSpec.from_dict(data)


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


_SECTION_MODELS: dict[str, type[BaseModel]] = {
    "": ModelSpec,
    "outcome": OutcomeSpec,
    "columns": ColumnMap,
    "effect": EffectSpec,
    "effect.pooling": PoolingSpec,
    "extensive": ExtensiveSpec,
    "extensive.pooling": PoolingSpec,
    "track_record": TrackRecordSpec,
    "sampling": SamplingSpec,
}


def _format_validation_error(err: ValidationError, data: dict[str, Any]) -> str:
    lines = []
    for e in err.errors():
        loc = [str(p) for p in e["loc"]]
        key = ".".join(loc) or "(spec)"
        if e["type"] == "extra_forbidden":
            parent = ".".join(loc[:-1])
            if (loc[:1] == ["priors"] and len(loc) == 3) or loc[:2] == ["extensive", "priors"]:
                allowed = ["dist", "mu", "sigma", "nu", "lam", "alpha", "beta"]
            else:
                model = _SECTION_MODELS.get(parent)
                allowed = _allowed_keys(model) if model else []
            where = f"[{parent}]" if parent else "the top level"
            lines.append(
                f"unknown key {loc[-1]!r} in {where}"
                + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
            )
        elif e["type"] in ("literal_error", "enum"):
            expected = e.get("ctx", {}).get("expected", "")
            lines.append(f"{key} = {e.get('input')!r} is not allowed; allowed values: {expected}")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            lines.append(f"{key}: {msg}" if loc else msg)
    return "invalid model spec: " + "; ".join(dict.fromkeys(lines))


def models_dir() -> Path:
    """Folder of the bundled TOML specs (``models/`` in a checkout, packaged in a wheel)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "models", here / "_models"):
        if candidate.is_dir():
            return candidate
    raise SpecError("the bundled model specifications were not found; reinstall bayescred")


def load_spec(name_or_path: str | Path) -> ModelSpec:
    """Load a bundled spec by name (``"default"``) or a spec file by path."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        return ModelSpec.from_toml(p)
    bundled = models_dir() / f"{name_or_path}.toml"
    if not bundled.is_file():
        names = sorted(f.stem for f in models_dir().glob("*.toml"))
        raise SpecError(f"no bundled spec named {str(name_or_path)!r}; bundled: {', '.join(names)}")
    return ModelSpec.from_toml(bundled)
