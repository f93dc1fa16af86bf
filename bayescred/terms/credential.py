"""The credential term ``beta[g] * S(n; shape[g]) * M(z; gamma[g])`` (``docs/design.md`` 3.1-3.3).

``S`` is the credential curve over the count held (:func:`bayescred.maths.curves.credential_curve`),
``M`` the track-record modifier (:func:`~bayescred.maths.curves.track_record_modifier`), and
each of ``beta``, the curve's shape (``lambda`` for the geometric curve, pooled on the log, or
``kappa`` for the quadratic one) and the modifier's coefficients ``gamma`` is pooled over groups as
``[effect.pooling]`` says. This module owns the spec section (:class:`EffectSpec`), the
parameters' names, defaults and descriptions, the PyTensor build, the NumPy evaluation on
posterior draws (values, contrasts between counts, population and new-group draws) and the
kernel's tables: one value per (group, count) and one per distinct (group, track record).

Examples
--------
>>> term = CredentialTerm(EffectSpec(curve="linear", modifier="none"))
>>> term.shape_name is None, term.modifier_terms
(True, ())
>>> CredentialTerm(EffectSpec()).variables()
('beta_group', 'lambda_group', 'gamma_group')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from bayescred.maths.curves import (
    CURVE_SHAPE_PARAMETER,
    MODIFIER_TERMS,
    credential_curve,
    next_credential_gain,
    track_record_modifier,
)
from bayescred.terms.base import (
    BuildContext,
    BuiltTerm,
    KernelIndex,
    NamesContext,
    PriorData,
    Rows,
    StrictSection,
    Term,
    capacity,
    index_array,
    per_row,
    stack_draws,
)

Pooling = Literal["partial", "none", "complete"]


class PoolingSpec(StrictSection):
    """How each credential-effect parameter varies by group.

    ``partial``: hierarchical (non-centred); ``none``: each group on its own prior;
    ``complete``: one value shared by every group.
    """

    beta: Pooling = Field(default="partial", description="the first credential's effect by group")
    lambda_: Pooling = Field(
        default="partial",
        alias="lambda",
        description="the curve's shape by group (geometric decay rate, quadratic curvature)",
    )
    gamma: Pooling = Field(default="complete", description="the track-record modifier by group")


class EffectSpec(StrictSection):
    """The credential effect: its curve over the count, its track-record modifier, its pooling."""

    curve: Literal["geometric", "linear", "quadratic", "step"] = Field(
        default="geometric",
        description="the effect's curve over the credential count (docs/design.md section 3.1)",
    )
    modifier: Literal["log_quadratic", "log_linear", "none"] = Field(
        default="log_quadratic",
        description="how the effect varies with track record (docs/design.md section 3.2)",
    )
    pooling: PoolingSpec = Field(
        default=PoolingSpec(), description="how each effect parameter varies by group"
    )


@dataclass(frozen=True)
class EffectDraws:
    """Group-level effect parameters as arrays ``(draws, groups[, terms])``, stacked over chains.

    ``shape`` is None for curves without a shape parameter, ``gamma`` has zero columns without a
    track-record modifier.
    """

    beta: np.ndarray
    shape: np.ndarray | None
    gamma: np.ndarray

    @property
    def n_draws(self) -> int:
        return int(self.beta.shape[0])

    def take(self, draws: slice | np.ndarray) -> EffectDraws:
        """A subset of the draws."""
        return EffectDraws(
            beta=self.beta[draws],
            shape=None if self.shape is None else self.shape[draws],
            gamma=self.gamma[draws],
        )


#: Population-level variables of the credential term (a posterior's, by plain name).
POPULATION_VARIABLES: tuple[str, ...] = (
    "mu_beta",
    "sigma_beta",
    "log_lambda",
    "sigma_log_lambda",
    "kappa",
    "sigma_kappa",
    "gamma",
    "sigma_gamma",
)


class CredentialTerm(Term):
    """``beta[g] * S(n; shape[g]) * M(z; gamma[g])`` per row (module docstring)."""

    key: ClassVar[str] = "credential"
    section: ClassVar[str] = "effect"
    parameters: ClassVar[Mapping[str, str]] = {
        "mu_beta": "population mean of the first credential's effect",
        "sigma_beta": "between-group sd of the first credential's effect (partial pooling)",
        "log_lambda": "log of the geometric curve's decay rate (population)",
        "sigma_log_lambda": "between-group sd of log lambda (partial pooling)",
        "kappa": "the quadratic curve's curvature (population)",
        "sigma_kappa": "between-group sd of kappa (partial pooling)",
        "gamma": "track-record modifier coefficients (population)",
        "sigma_gamma": "between-group sd of the modifier coefficients (partial pooling)",
    }
    summaries: ClassVar[Mapping[str, str]] = {
        "mu_beta": "effect of the first credential, population mean",
        "sigma_beta": "between-group sd of the first credential's effect",
        "beta_group": "effect of the first credential, by group",
        "lambda": "decay rate of the returns per extra credential, population",
        "sigma_log_lambda": "between-group sd of log decay rate",
        "lambda_group": "decay rate of the returns per extra credential, by group",
        "kappa": "curvature of the quadratic credential curve, population",
        "sigma_kappa": "between-group sd of the curvature",
        "kappa_group": "curvature of the quadratic credential curve, by group",
        "gamma": "track-record modifier coefficient, population",
        "sigma_gamma": "between-group sd of the modifier coefficients",
        "gamma_group": "track-record modifier coefficient, by group",
    }
    columns: ClassVar[tuple[str, ...]] = ("group", "credentials", "track_record")

    def __init__(self, effect: EffectSpec) -> None:
        self.effect = effect

    @classmethod
    def of(cls, curve: str, modifier: str) -> CredentialTerm:
        """The term of a curve and a modifier given by name (pooling at its defaults)."""
        return cls(EffectSpec.model_validate({"curve": curve, "modifier": modifier}))

    def __repr__(self) -> str:
        e = self.effect
        return f"CredentialTerm(curve={e.curve!r}, modifier={e.modifier!r})"

    # ------------------------------------------------------------------ what it is
    @property
    def curve(self) -> str:
        """The credential curve's kind."""
        return self.effect.curve

    @property
    def modifier(self) -> str:
        """The track-record modifier's kind."""
        return self.effect.modifier

    @property
    def shape_name(self) -> str | None:
        """Name of the curve's shape parameter (``lambda``, ``kappa``), None without one."""
        return CURVE_SHAPE_PARAMETER[self.curve]

    @property
    def modifier_terms(self) -> tuple[str, ...]:
        """Names of the modifier's coefficients (the ``gamma_term`` coordinate)."""
        return MODIFIER_TERMS[self.modifier]

    def pooled_parameters(self) -> tuple[str, ...]:
        """The poolings of the parameters the term has: beta's, the shape's, gamma's."""
        pool = self.effect.pooling
        used = [pool.beta]
        if self.shape_name is not None:
            used.append(pool.lambda_)
        if self.modifier_terms:
            used.append(pool.gamma)
        return tuple(used)

    def default_priors(self, *, scale: float, covariate_sds: np.ndarray) -> dict[str, PriorData]:
        """``mu_beta ~ N(0, 0.5 s)``, ``sigma_beta ~ HalfNormal(0.25 s)``; the curve and modifier
        parameters on their own (unit-free) scales."""
        s = float(scale)
        return {
            "mu_beta": {"dist": "normal", "mu": 0.0, "sigma": 0.5 * s},
            "sigma_beta": {"dist": "half_normal", "sigma": 0.25 * s},
            "log_lambda": {"dist": "normal", "mu": float(np.log(0.2)), "sigma": 0.75},
            "sigma_log_lambda": {"dist": "half_normal", "sigma": 0.3},
            "kappa": {"dist": "normal", "mu": 0.0, "sigma": 0.5},
            "sigma_kappa": {"dist": "half_normal", "sigma": 0.2},
            "gamma": {"dist": "normal", "mu": 0.0, "sigma": 0.5},
            "sigma_gamma": {"dist": "half_normal", "sigma": 0.3},
        }

    def coords(self, dim: Any) -> dict[str, list[Any]]:
        terms = self.modifier_terms
        return {dim("gamma_term"): list(terms)} if terms else {}

    def variables(self) -> tuple[str, ...]:
        names = ["beta_group"]
        if self.shape_name is not None:
            names.append(f"{self.shape_name}_group")
        if self.modifier_terms:
            names.append("gamma_group")
        return tuple(names)

    def _pooled(self, dim: Any) -> list[dict[str, Any]]:
        """The pooled parameters the term is built from, as arguments of
        :meth:`~bayescred.terms.base.BuildContext.pooled`: beta, the curve's shape (if any),
        the modifier's coefficients (if any)."""
        pool = self.effect.pooling
        out: list[dict[str, Any]] = [
            {
                "name": "beta",
                "pooling": pool.beta,
                "population_prior": "mu_beta",
                "sd_prior": "sigma_beta",
                "log_scale": False,
            }
        ]
        shape_name = self.shape_name
        if shape_name is not None:
            log_scale = shape_name == "lambda"
            out.append(
                {
                    "name": shape_name,
                    "pooling": pool.lambda_,
                    "population_prior": "log_lambda" if log_scale else "kappa",
                    "sd_prior": "sigma_log_lambda" if log_scale else "sigma_kappa",
                    "log_scale": log_scale,
                }
            )
        if self.modifier_terms:
            out.append(
                {
                    "name": "gamma",
                    "pooling": pool.gamma,
                    "population_prior": "gamma",
                    "sd_prior": "sigma_gamma",
                    "log_scale": False,
                    "term_dims": (dim("gamma_term"),),
                }
            )
        return out

    def stored_variables(self, ctx: NamesContext) -> list[str]:
        return [n for kw in self._pooled(lambda d: d) for n in ctx.pooled_names(**kw)]

    # ------------------------------------------------------------------ PyTensor
    def build(self, ctx: BuildContext) -> BuiltTerm:
        params, curve_of, modifier = self.build_parameters(ctx)
        beta = params["beta_group"]
        curve = curve_of(ctx.data["credentials"])
        mean = per_row(beta, self.effect.pooling.beta, ctx.data["group_idx"]) * curve * modifier
        return BuiltTerm(term=self, mean=mean, params=params)

    def build_parameters(self, ctx: BuildContext) -> tuple[dict[str, Any], Any, Any]:
        """The term's pooled parameters in the current model (by plain name), a function giving
        the curve ``S(n; shape[g])`` of each row at counts ``n`` (rows, or rows x columns), and
        each row's modifier ``M(z; gamma[g])`` (1.0 without one)."""
        import pytensor.tensor as pt

        pool = self.effect.pooling
        g = ctx.data["group_idx"]
        pooled = self._pooled(ctx.dim)
        beta = ctx.pooled(**pooled[0])
        params: dict[str, Any] = {"beta_group": beta}
        shape_name = self.shape_name
        shape = None
        if shape_name is not None:
            group_shape = ctx.pooled(**pooled[1])
            params[f"{shape_name}_group"] = group_shape
            shape = per_row(group_shape, pool.lambda_, g)

        def curve_of(n: Any) -> Any:
            row_shape = shape if shape is None or n.ndim == 1 else shape[:, None]
            return credential_curve(pt, self.curve, n, row_shape)

        terms = self.modifier_terms
        if terms:
            gamma = ctx.pooled(**pooled[-1])
            params["gamma_group"] = gamma
            g1 = per_row(gamma[:, 0], pool.gamma, g)
            g2 = per_row(gamma[:, 1], pool.gamma, g) if len(terms) > 1 else 0.0
            modifier = track_record_modifier(pt, self.modifier, ctx.data["z"], g1, g2)
        else:
            modifier = 1.0
        return params, curve_of, modifier

    # ------------------------------------------------------------------ NumPy
    def value(
        self,
        beta: np.ndarray,
        shape: np.ndarray | None,
        gamma: np.ndarray,
        credentials: np.ndarray,
        z: np.ndarray,
    ) -> np.ndarray:
        """``beta * S(credentials; shape) * M(z; gamma)`` with per-row (broadcast) parameters;
        ``gamma`` has the modifier's coefficients on its last axis."""
        s = credential_curve(np, self.curve, credentials, shape)
        k = len(self.modifier_terms)
        g1 = gamma[..., 0] if k > 0 else 0.0
        g2 = gamma[..., 1] if k > 1 else 0.0
        m = track_record_modifier(np, self.modifier, z, g1, g2)
        return np.asarray(beta * s * m)

    def curve_value(self, credentials: np.ndarray, shape: np.ndarray | None) -> np.ndarray:
        """``S(credentials; shape)``: the cumulative effect in units of the first credential's."""
        return np.asarray(credential_curve(np, self.curve, credentials, shape))

    def modifier_value(self, z: np.ndarray, gamma1: Any = 0.0, gamma2: Any = 0.0) -> np.ndarray:
        """``M(z; gamma1, gamma2)`` (coefficients the modifier does not have are ignored)."""
        return np.asarray(track_record_modifier(np, self.modifier, z, gamma1, gamma2))

    def group_draws(self, posterior: Any) -> EffectDraws:
        """The group-level effect parameters of a posterior (plain names)."""
        beta = stack_draws(posterior["beta_group"])
        name = self.shape_name
        shape = stack_draws(posterior[f"{name}_group"]) if name else None
        if self.modifier_terms:
            gamma = stack_draws(
                posterior["gamma_group"].transpose("chain", "draw", "group", "gamma_term")
            )
        else:
            gamma = np.zeros((*beta.shape, 0))
        return EffectDraws(beta=beta, shape=shape, gamma=gamma)

    def population_draws(self, posterior: Any) -> EffectDraws:
        """The population-level effect parameters as one pseudo-group ``(draws, 1[, terms])``."""
        beta = stack_draws(posterior["mu_beta"])[:, None]
        name = self.shape_name
        shape = stack_draws(posterior[name])[:, None] if name else None
        if self.modifier_terms:
            gamma = stack_draws(posterior["gamma"])[:, None, :]
        else:
            gamma = np.zeros((beta.shape[0], 1, 0))
        return EffectDraws(beta=beta, shape=shape, gamma=gamma)

    def new_group_draws(self, posterior: Any, rng: np.random.Generator) -> EffectDraws:
        """Parameters of one new group per draw, drawn from the population distribution.

        Raises ``ValueError`` when a parameter has ``pooling = 'none'`` (no population
        distribution to draw from).
        """
        pooling = self.effect.pooling
        flat = {
            name: stack_draws(posterior[name])
            for name in posterior.data_vars
            if name in POPULATION_VARIABLES
        }
        n = next(iter(flat.values())).shape[0]
        if "none" in self.pooled_parameters():
            raise ValueError(
                "new_group='population' needs a population distribution, but this model has "
                "pooling = 'none' for some effect parameter; refit with 'partial' pooling"
            )

        def draw(mean: str, sd: str, how: str, extra: tuple[int, ...] = ()) -> np.ndarray:
            mu = flat[mean].reshape(n, *extra)
            if how == "complete":
                return mu
            return mu + flat[sd].reshape(n, *extra) * rng.standard_normal((n, *extra))

        beta = draw("mu_beta", "sigma_beta", pooling.beta)
        shape = None
        if self.shape_name == "lambda":
            shape = np.exp(draw("log_lambda", "sigma_log_lambda", pooling.lambda_))
        elif self.shape_name == "kappa":
            shape = draw("kappa", "sigma_kappa", pooling.lambda_)
        k = len(self.modifier_terms)
        gamma = draw("gamma", "sigma_gamma", pooling.gamma, (k,)) if k else np.zeros((n, 0))
        return EffectDraws(
            beta=beta[:, None],
            shape=None if shape is None else shape[:, None],
            gamma=gamma[:, None],
        )

    def contrast(
        self,
        params: EffectDraws,
        group: np.ndarray,
        n_from: np.ndarray,
        n_to: np.ndarray,
        z: np.ndarray,
    ) -> np.ndarray:
        """Effect of going from ``n_from`` to ``n_to`` credentials, ``(draws, profiles)``:
        ``beta_g (S(n_to) - S(n_from)) M(z)`` with each profile's group ``g``."""
        beta = params.beta[:, group]
        shape = None if params.shape is None else params.shape[:, group]
        ds = credential_curve(np, self.curve, n_to, shape) - credential_curve(
            np, self.curve, n_from, shape
        )
        gamma = params.gamma[:, group]
        if gamma.shape[-1]:
            g2 = gamma[..., 1] if gamma.shape[-1] > 1 else 0.0
            m = track_record_modifier(np, self.modifier, z, gamma[..., 0], g2)
        else:
            m = 1.0
        return np.asarray(beta * ds * m)

    def next_gain(self, credentials: np.ndarray, shape: np.ndarray | None) -> np.ndarray:
        """``S(n + 1) - S(n)`` in closed form (the next credential's effect in first units)."""
        return np.asarray(next_credential_gain(np, self.curve, credentials, shape))

    def draw_parameters(self, posterior: Any) -> dict[str, np.ndarray]:
        draws = self.group_draws(posterior)
        out = {"beta_group": draws.beta, "gamma_group": draws.gamma}
        if draws.shape is not None:
            out[f"{self.shape_name}_group"] = draws.shape
        return out

    def evaluate(self, params: Mapping[str, np.ndarray], rows: Rows) -> np.ndarray:
        draws = EffectDraws(
            beta=params["beta_group"],
            shape=params[f"{self.shape_name}_group"] if self.shape_name else None,
            gamma=params.get("gamma_group", np.zeros((*np.shape(params["beta_group"]), 0))),
        )
        n = np.asarray(rows.credentials, dtype=float)
        return self.contrast(draws, rows.group, np.zeros_like(n), n, rows.z)

    # ------------------------------------------------------------------ the kernel
    def kernel_index(self, rows: Rows) -> KernelIndex:
        """Two tables: ``E[g * cap + n] = beta[g] S(n; shape[g])`` over a dense grid of groups
        x counts ``0 .. cap - 1``, and ``M[j] = M(z_j; gamma[h_j])`` over the distinct track
        records (and groups, unless gamma is completely pooled), padded to a power of two."""
        groups = np.asarray(rows.group, dtype=np.int64)
        n = np.asarray(rows.credentials, dtype=np.int64)
        n_capacity = capacity(int(n.max()) + 1 if n.size else 1)
        curve_idx = groups * n_capacity + n
        modifier_idx, m_capacity, constants = self.modifier_index(rows)
        return KernelIndex(
            index=(
                index_array(curve_idx, rows.n_groups * n_capacity),
                index_array(modifier_idx, m_capacity),
            ),
            constants=constants,
            sizes={"n_capacity": n_capacity, "n_groups": rows.n_groups},
        )

    def modifier_index(self, rows: Rows) -> tuple[np.ndarray, int, dict[str, np.ndarray]]:
        """Each row's index into the modifier table ``M``, the table's size and the constants
        it is computed from (``modifier_group``, ``modifier_z``)."""
        groups = np.asarray(rows.group, dtype=np.int64)
        z = np.asarray(rows.z, dtype=float)
        if not self.modifier_terms:
            mgroup = np.zeros(1, dtype=np.int64)
            mz = np.zeros(1)
            modifier_idx = np.zeros(rows.n_rows, dtype=np.int64)
        elif self.effect.pooling.gamma == "complete":
            mz, modifier_idx = np.unique(z, return_inverse=True)
            mgroup = np.zeros(mz.shape[0], dtype=np.int64)
        else:
            zu, zi = np.unique(z, return_inverse=True)
            mkeys, modifier_idx = np.unique(
                np.column_stack([groups, zi]), axis=0, return_inverse=True
            )
            mgroup, mz = mkeys[:, 0], zu[mkeys[:, 1]]
        m_capacity = capacity(mz.shape[0], minimum=1)
        pad = m_capacity - mz.shape[0]
        constants = {
            "modifier_group": np.concatenate(
                [np.asarray(mgroup, dtype=np.int64), np.zeros(pad, int)]
            ),
            "modifier_z": np.concatenate([np.asarray(mz, dtype=float), np.zeros(pad)]),
        }
        return modifier_idx, m_capacity, constants

    def kernel_tables(self, index: KernelIndex, built: BuiltTerm, constant: Any) -> tuple[Any, ...]:
        import pytensor.tensor as pt

        # curve table: broadcast (groups, 1) against (1, counts): no gather, no scatter in the
        # gradient; flattened row-major
        n_groups, n_capacity = index.sizes["n_groups"], index.sizes["n_capacity"]
        n = pt.as_tensor(np.arange(n_capacity, dtype=float)[None, :])
        shape_group = built.params.get(f"{self.shape_name}_group") if self.shape_name else None
        shape = None if shape_group is None else pt.as_tensor(shape_group)[:, None]
        curve = credential_curve(pt, self.curve, n, shape)
        beta = pt.as_tensor(built.params["beta_group"])[:, None]
        E = pt.broadcast_to(beta * curve, (n_groups, n_capacity)).ravel()
        return E, self.modifier_table(built, constant)

    def modifier_table(self, built: BuiltTerm, constant: Any) -> Any:
        """The modifier table ``M`` of :meth:`modifier_index` from the built parameters."""
        import pytensor.tensor as pt

        terms = self.modifier_terms
        if not terms:
            return pt.ones(1)
        gamma = pt.as_tensor(built.params["gamma_group"])
        z = constant("modifier_z")
        if self.effect.pooling.gamma == "complete":
            g1 = gamma[0, 0]
            g2 = gamma[0, 1] if len(terms) > 1 else None
        else:
            h = constant("modifier_group")
            g1 = gamma[h, 0]
            g2 = gamma[h, 1] if len(terms) > 1 else None
        lin = g1 * z if g2 is None else g1 * z + g2 * z**2
        return pt.exp(lin)
