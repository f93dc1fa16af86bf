"""The credential term with credential types (``[credential_types]``, ``docs/design.md`` 3.9).

Each credential has a type (a skill test), each type a skill category. The ``k``-th credential
a worker of group ``g`` earns, of type ``j`` in category ``c(j)``, adds from the period it is
first held::

    w_k * M(z; gamma[g]) * (beta[g] + u_category[c(j)] + u_type[j] + rho * match)

``w_k`` the credential curve's step (the count still decays as in the static term, whatever the
types), ``M`` the track-record modifier, and ``match = 1`` when the type's category is the
worker's job category (``match = true``; ``rho`` the match effect). The type deviations are in
the outcome's units and partially pooled, types within categories within the population,
non-centred::

    u_category[c] = sigma_category * a[c],   u_type[j] = sigma_type * b[j],   a, b ~ Normal(0, 1)

so ``beta[g]`` is the effect of a first credential of a typical type (``u = 0``) and a type with
few holders borrows strength from its category and from every type. With ``pooling = "none"``
each type has its own ``u_type ~ Normal(0, 0.5 s)`` and there is no category level: the
unpooled (within) estimate. The additive form (rather than ``beta[g] exp(u)``) is linear in the
effect parameters, so a type may pay nothing or less than nothing and nothing degenerates where
``beta`` is near 0 (design 3.9).

Rows sharing their group, job category and the types held share one value (a *type signature*,
:mod:`bayescred.maths.credential_types`); the kernel form is a table over the signatures times
the static term's modifier table, as for the event-time term, so the within likelihood stays
exact.

Examples
--------
>>> term = TypedCredentialTerm(EffectSpec(), CredentialTypesSpec(match=True))
>>> term.variables()
('beta_group', 'lambda_group', 'gamma_group', 'u_type', 'u_category', 'match_effect')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from bayescred.maths.credential_types import TypeSignatures, signature_values
from bayescred.maths.curves import credential_curve
from bayescred.terms.base import (
    BuildContext,
    BuiltTerm,
    KernelIndex,
    NamesContext,
    PriorData,
    Rows,
    StrictSection,
    capacity,
    index_array,
    stack_draws,
)
from bayescred.terms.credential import CredentialTerm, EffectDraws, EffectSpec

#: The pilot's entry (:class:`bayescred.model.pilot.PilotEstimates`) of each type's within
#: estimate of its first-credential effect.
TYPE_PILOT = "type_effect"


class CredentialTypesSpec(StrictSection):
    """Credential effects by type and skill category (``docs/design.md`` section 3.9)."""

    match: bool = Field(
        default=False,
        description=(
            "a match effect rho added to a credential's effect when its type's category is the "
            "worker's job category (needs the panel's job-category column)"
        ),
    )
    job_category: str = Field(
        default="job_category",
        description="the panel's column with the category of the worker's own work",
    )
    pooling: Literal["partial", "none"] = Field(
        default="partial",
        description=(
            "'partial': type deviations pooled within categories and over categories; 'none': "
            "each type on its own prior, no category level (the unpooled estimate)"
        ),
    )


def _signatures(rows: Rows) -> tuple[np.ndarray, TypeSignatures]:
    if rows.type_signature is None or rows.type_signatures is None:
        raise ValueError("the rows carry no type signatures (the design has no [credential_types])")
    return np.asarray(rows.type_signature, np.int64), rows.type_signatures


class TypedCredentialTerm(CredentialTerm):
    """The credential term with type and category deviations (module docstring)."""

    key: ClassVar[str] = "credential_typed"
    parameters: ClassVar[Mapping[str, str]] = {
        "sigma_type": "between-type sd of the first credential's effect, within a category",
        "sigma_category": "between-category sd of the first credential's effect",
        "u_type": "type deviations of the first credential's effect (pooling = 'none')",
        "match_effect": "added to a credential's effect when its category is the worker's job's",
    }
    summaries: ClassVar[Mapping[str, str]] = {
        "sigma_type": "between-type sd of the first credential's effect (within category)",
        "sigma_category": "between-category sd of the first credential's effect",
        "match_effect": "extra effect of a credential matching the worker's job category",
        "category_effect": "effect of a first credential of the category, population",
        "type_effect": "effect of a first credential of the type, population",
    }
    columns: ClassVar[tuple[str, ...]] = ("group", "credentials", "track_record")

    def __init__(self, effect: EffectSpec, types: CredentialTypesSpec) -> None:
        super().__init__(effect)
        self.types = types

    def __repr__(self) -> str:
        e, t = self.effect, self.types
        return (
            f"TypedCredentialTerm(curve={e.curve!r}, modifier={e.modifier!r}, "
            f"match={t.match}, pooling={t.pooling!r})"
        )

    @property
    def partial(self) -> bool:
        return self.types.pooling == "partial"

    def default_priors(self, *, scale: float, covariate_sds: np.ndarray) -> dict[str, PriorData]:
        """The static term's, plus, on the predictor scale ``s``: ``sigma_type`` and
        ``sigma_category ~ HalfNormal(0.25 s)`` (as ``sigma_beta``), ``match_effect ~ N(0,
        0.5 s)`` and, without pooling, ``u_type ~ N(0, 0.5 s)`` (as ``mu_beta``)."""
        s = float(scale)
        return {
            **super().default_priors(scale=scale, covariate_sds=covariate_sds),
            "sigma_type": {"dist": "half_normal", "sigma": 0.25 * s},
            "sigma_category": {"dist": "half_normal", "sigma": 0.25 * s},
            "u_type": {"dist": "normal", "mu": 0.0, "sigma": 0.5 * s},
            "match_effect": {"dist": "normal", "mu": 0.0, "sigma": 0.5 * s},
        }

    # ------------------------------------------------------------------ dims and names
    def data_coords(self, dim: Any, rows: Rows) -> dict[str, list[Any]]:
        return {
            dim("credential_type"): list(rows.type_labels),
            dim("category"): list(rows.category_labels),
        }

    def variables(self) -> tuple[str, ...]:
        extra = ["u_type", "u_category"]
        if self.types.match:
            extra.append("match_effect")
        return (*super().variables(), *extra)

    def _type_names(self, whitened: bool = False) -> list[str]:
        offset = "u_type_whitened" if whitened else "type_offset"
        names = (
            ["sigma_type", offset, "u_type", "sigma_category", "category_offset"]
            if self.partial
            else ["u_type"]
        )
        names += ["u_category", "category_effect", "type_effect"]
        if self.types.match:
            names.append("match_effect")
        return names

    def stored_variables(self, ctx: NamesContext) -> list[str]:
        return [*super().stored_variables(ctx), *self._type_names(ctx.whitened)]

    # ------------------------------------------------------------------ PyTensor
    def build_types(self, ctx: BuildContext) -> tuple[Any, Any]:
        """The type deviations ``v[j] = u_category[c(j)] + u_type[j]`` and the match effect
        (0.0 without the match term) in the current model; stores ``u_type``, ``u_category``,
        ``type_effect`` and ``category_effect``."""
        import pymc as pm
        import pytensor.tensor as pt

        t_dim, c_dim = ctx.dim("credential_type"), ctx.dim("category")
        sig = ctx.rows.type_signatures
        assert sig is not None
        category = pm.Data(ctx.name("type_category"), sig.type_category, dims=t_dim)
        n_categories = len(ctx.rows.category_labels)
        mu_beta = pm.modelcontext(None)[ctx.name("mu_beta")]
        if self.partial:
            sd_type = ctx.prior("sigma_type")
            sd_cat = ctx.prior("sigma_category")
            c_offset = pm.Normal(ctx.name("category_offset"), 0.0, 1.0, dims=c_dim)
            u_cat = pm.Deterministic(ctx.name("u_category"), sd_cat * c_offset, dims=c_dim)
            # whitened with the pilot: each type's within estimate is of mu_beta + u_cat + u_type
            values = ctx.whitened_deviations(
                "u_type",
                pilot_key=TYPE_PILOT,
                sd=sd_type,
                shift=mu_beta + u_cat[category],
                dims=t_dim,
                size=sig.n_types,
            )
            if values is None:
                offset = pm.Normal(ctx.name("type_offset"), 0.0, 1.0, dims=t_dim)
                values = sd_type * offset
            u_type = pm.Deterministic(ctx.name("u_type"), values, dims=t_dim)
        else:
            u_type = ctx.prior("u_type", dims=t_dim)
            u_cat = pm.Deterministic(ctx.name("u_category"), pt.zeros(n_categories), dims=c_dim)
        pm.Deterministic(ctx.name("category_effect"), mu_beta + u_cat, dims=c_dim)
        deviation = u_cat[category] + u_type
        pm.Deterministic(ctx.name("type_effect"), mu_beta + deviation, dims=t_dim)
        match = ctx.prior("match_effect") if self.types.match else pt.as_tensor(0.0)
        return deviation, match

    def _table(self, params: Mapping[str, Any], arrays: Mapping[str, Any], sizes: Any) -> Any:
        """The value before the modifier per signature (graph), from the built parameters and
        the signatures' flat indices into the groups x counts curve grid."""
        import pytensor.tensor as pt

        n_groups, n_capacity = sizes["n_groups"], sizes["n_capacity"]
        n = pt.as_tensor(np.arange(n_capacity, dtype=float)[None, :])
        shape_group = params.get(f"{self.shape_name}_group") if self.shape_name else None
        shape = None if shape_group is None else pt.as_tensor(shape_group)[:, None]
        curve = pt.broadcast_to(credential_curve(pt, self.curve, n, shape), (n_groups, n_capacity))
        beta = pt.as_tensor(params["beta_group"])[:, None]
        E = pt.broadcast_to(beta * curve, (n_groups, n_capacity)).ravel()
        S = curve.ravel()
        step = arrays["element_weight"] * (S[arrays["element_hi"]] - S[arrays["element_lo"]])
        value = params["type_deviation"][arrays["element_type"]] + (
            params["match_effect_value"] * arrays["element_match"]
        )
        base = E[arrays["signature_flat"]]
        return pt.inc_subtensor(base[arrays["element_signature"]], step * value)

    @staticmethod
    def flat_arrays(sig: TypeSignatures, n_capacity: int) -> dict[str, np.ndarray]:
        """The signatures' arrays as flat indices into a groups x counts grid of width
        ``n_capacity`` (``element_lo`` is the index of ``S(lo - 1)``)."""
        return {
            "signature_flat": sig.group * n_capacity + sig.count,
            "element_signature": sig.element_signature,
            "element_hi": sig.element_group * n_capacity + sig.element_hi,
            "element_lo": sig.element_group * n_capacity + sig.element_lo - 1,
            "element_type": sig.element_type,
            "element_match": sig.element_match.astype(float),
            "element_weight": sig.element_weight,
        }

    def build(self, ctx: BuildContext) -> BuiltTerm:
        import pymc as pm

        params, _, modifier = self.build_parameters(ctx)
        deviation, match = self.build_types(ctx)
        index, sig = _signatures(ctx.rows)
        n_capacity = capacity(sig.max_count + 1)
        arrays = {
            name: pm.Data(ctx.name(f"type_{name}"), values)
            for name, values in self.flat_arrays(sig, n_capacity).items()
        }
        params = {**params, "type_deviation": deviation, "match_effect_value": match}
        sizes = {"n_groups": ctx.n_groups, "n_capacity": n_capacity}
        table = self._table(params, arrays, sizes)
        row_index = pm.Data(ctx.name("type_signature"), index)
        return BuiltTerm(term=self, mean=table[row_index] * modifier, params=params)

    # ------------------------------------------------------------------ NumPy
    def draw_parameters(self, posterior: Any) -> dict[str, np.ndarray]:
        out = super().draw_parameters(posterior)
        out["u_type"] = stack_draws(posterior["u_type"])
        out["u_category"] = stack_draws(posterior["u_category"])
        if self.types.match:
            out["match_effect"] = stack_draws(posterior["match_effect"])
        return out

    def deviation_draws(self, params: Mapping[str, np.ndarray], sig: TypeSignatures) -> np.ndarray:
        """``v[j] = u_category[c(j)] + u_type[j]`` per draw ``(draws, types)``."""
        u_cat = np.asarray(params["u_category"], float)
        return u_cat[:, sig.type_category] + np.asarray(params["u_type"], float)

    def evaluate(self, params: Mapping[str, np.ndarray], rows: Rows) -> np.ndarray:
        index, sig = _signatures(rows)
        beta = np.asarray(params["beta_group"], float)
        d = beta.shape[0]
        beta = np.broadcast_to(beta, (d, rows.n_groups))
        shape = params[f"{self.shape_name}_group"] if self.shape_name else None
        n = np.arange(sig.max_count + 1, dtype=float)[None, None, :]
        s_shape = None if shape is None else np.asarray(shape, float)[:, :, None]
        curve = np.broadcast_to(
            credential_curve(np, self.curve, n, s_shape), (d, rows.n_groups, n.shape[-1])
        )
        match = params["match_effect"] if self.types.match else np.zeros(d)
        table = signature_values(sig, beta, curve, self.deviation_draws(params, sig), match)
        draws = EffectDraws(
            beta=beta,
            shape=shape,
            gamma=params.get("gamma_group", np.zeros((d, rows.n_groups, 0))),
        )
        gamma = draws.gamma[:, rows.group]
        if gamma.shape[-1]:
            g2 = gamma[..., 1] if gamma.shape[-1] > 1 else 0.0
            m = self.modifier_value(rows.z, gamma[..., 0], g2)
        else:
            m = np.ones((d, rows.n_rows))
        return np.asarray(table[:, index] * m)

    # ------------------------------------------------------------------ the kernel
    def kernel_index(self, rows: Rows) -> KernelIndex:
        """Two tables: the value before the modifier per type signature, and the static term's
        modifier table."""
        index, sig = _signatures(rows)
        modifier_idx, m_capacity, constants = self.modifier_index(rows)
        n_capacity = capacity(sig.max_count + 1)
        flat = {f"type_{k}": v for k, v in self.flat_arrays(sig, n_capacity).items()}
        return KernelIndex(
            index=(index_array(index, sig.size), index_array(modifier_idx, m_capacity)),
            constants={**constants, **flat},
            sizes={"signatures": sig.size, "n_capacity": n_capacity, "n_groups": rows.n_groups},
        )

    def kernel_tables(self, index: KernelIndex, built: BuiltTerm, constant: Any) -> tuple[Any, ...]:
        names = (
            "signature_flat",
            "element_signature",
            "element_hi",
            "element_lo",
            "element_type",
            "element_match",
            "element_weight",
        )
        arrays = {name: constant(f"type_{name}") for name in names}
        table = self._table(built.params, arrays, index.sizes)
        return table, self.modifier_table(built, constant)
