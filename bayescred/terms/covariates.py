"""The covariates ``x[i,t] @ delta``: numeric columns entering linearly (``spec.covariates``).

``delta ~ Normal(0, c)`` by default with ``c`` such that one sd of a covariate moves the
predictor by at most a few of its scale units. In the kernel: a dense block (each row's
covariates times ``delta``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from bayescred.terms.base import (
    BuildContext,
    BuiltTerm,
    KernelIndex,
    NamesContext,
    PriorData,
    Rows,
    Term,
)


class Covariates(Term):
    """``x @ delta`` per row (module docstring)."""

    key: ClassVar[str] = "covariates"
    section: ClassVar[str] = "covariates"
    parameters: ClassVar[Mapping[str, str]] = {"delta": "covariate coefficients"}
    summaries: ClassVar[Mapping[str, str]] = {"delta": "covariate coefficient"}
    columns: ClassVar[tuple[str, ...]] = ("covariates",)

    def default_priors(self, *, scale: float, covariate_sds: np.ndarray) -> dict[str, PriorData]:
        """``delta ~ N(0, s / median sd of the covariates)``."""
        sds = np.asarray(covariate_sds, dtype=float)
        if not sds.size:
            return {}
        cov_scale = float(float(scale) / np.median(np.where(sds > 0, sds, 1.0)))
        return {"delta": {"dist": "normal", "mu": 0.0, "sigma": cov_scale}}

    def build(self, ctx: BuildContext) -> BuiltTerm:
        import pytensor.tensor as pt

        delta = ctx.prior("delta", dims="covariate")
        return BuiltTerm(term=self, mean=pt.dot(ctx.data["X"], delta), params={"delta": delta})

    def variables(self) -> tuple[str, ...]:
        return ("delta",)

    def stored_variables(self, ctx: NamesContext) -> list[str]:
        return ["delta"]

    def evaluate(self, params: Mapping[str, np.ndarray], rows: Rows) -> np.ndarray:
        return np.asarray(params["delta"] @ rows.covariates.T)

    def kernel_index(self, rows: Rows) -> KernelIndex:
        X = np.ascontiguousarray(rows.covariates, dtype=float).reshape(rows.n_rows, -1)
        return KernelIndex(index=(X,), dense=True)

    def kernel_tables(self, index: KernelIndex, built: BuiltTerm, constant: Any) -> tuple[Any, ...]:
        import pytensor.tensor as pt

        return (pt.as_tensor(built.params["delta"]),)

    def linear_columns(self, rows: Rows) -> np.ndarray:
        return np.asarray(rows.covariates, dtype=float).reshape(rows.n_rows, -1)
