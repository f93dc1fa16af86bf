"""Convergence diagnostics with a verdict, and the warning raised at fit time."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayescred.errors import ConvergenceWarning
from bayescred.inference.schema import TARGET_ACCEPT_ATTR

#: Standard thresholds (Vehtari et al. 2021; Betancourt 2016).
MAX_RHAT = 1.01
MIN_ESS_PER_CHAIN = 100
MIN_BFMI = 0.3


@dataclass(frozen=True)
class Diagnostics:
    """Convergence diagnostics of one fit.

    Attributes
    ----------
    divergences
        Number of divergent transitions after tuning.
    max_rhat, min_ess_bulk, min_ess_tail
        Worst rank-normalised split R-hat and effective sample sizes over the parameters.
    min_bfmi
        Lowest energy Bayesian fraction of missing information over chains.
    chains, draws
        Sampler dimensions.
    problems
        Human-readable description of each failed threshold, with what to try.
    """

    divergences: int
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    min_bfmi: float
    chains: int
    draws: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def verdict(self) -> str:
        """One sentence for a report."""
        if self.ok:
            return (
                f"Converged: no divergences, R-hat <= {MAX_RHAT}, bulk and tail ESS >= "
                f"{MIN_ESS_PER_CHAIN * self.chains}, BFMI >= {MIN_BFMI}."
            )
        return "Not converged: " + " ".join(self.problems)

    def to_frame(self) -> pd.DataFrame:
        """The diagnostics as a table with the threshold and a pass flag per check."""
        need_ess = MIN_ESS_PER_CHAIN * self.chains
        rows = [
            ("divergences", self.divergences, "== 0", self.divergences == 0),
            ("max R-hat", self.max_rhat, f"<= {MAX_RHAT}", self.max_rhat <= MAX_RHAT),
            ("min bulk ESS", self.min_ess_bulk, f">= {need_ess}", self.min_ess_bulk >= need_ess),
            ("min tail ESS", self.min_ess_tail, f">= {need_ess}", self.min_ess_tail >= need_ess),
            ("min BFMI", self.min_bfmi, f">= {MIN_BFMI}", self.min_bfmi >= MIN_BFMI),
        ]
        table = pd.DataFrame(rows, columns=["check", "value", "threshold", "pass"])
        table.attrs["verdict"] = self.verdict
        return table


def diagnose(tree: xr.DataTree, var_names: list[str] | None = None) -> Diagnostics:
    """Compute :class:`Diagnostics` from a sampled DataTree."""
    post = tree["posterior"].to_dataset()
    if var_names is not None:
        post = post[var_names]
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])

    def worst(ds: xr.Dataset, fn: str) -> float:
        vals = [getattr(np, fn)(ds[v].values) for v in ds.data_vars if ds[v].size]
        return float(getattr(np, fn)(vals)) if vals else float("nan")

    # a constant entry (the event-time profile's reference period) has no R-hat or ESS: NaN,
    # left out of the worst values without a warning
    with np.errstate(invalid="ignore", divide="ignore"):
        max_rhat = worst(az.rhat(post), "nanmax") if chains > 1 else float("nan")
        ess_bulk = worst(az.ess(post, method="bulk"), "nanmin")
        ess_tail = worst(az.ess(post, method="tail"), "nanmin")
    stats = tree["sample_stats"].to_dataset() if "sample_stats" in tree.children else xr.Dataset()
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else 0
    min_bfmi = float(np.min(az.bfmi(stats)["energy"].values)) if "energy" in stats else float("nan")
    need_ess = MIN_ESS_PER_CHAIN * chains
    problems = []
    if divergences:
        problems.append(f"{divergences} divergent transitions: {_divergence_advice(tree)}")
    if chains > 1 and max_rhat > MAX_RHAT:
        problems.append(f"max R-hat {max_rhat:.3f} > {MAX_RHAT}: run more tune and draws.")
    if min(ess_bulk, ess_tail) < need_ess:
        problems.append(
            f"min ESS {min(ess_bulk, ess_tail):.0f} < {need_ess} ({MIN_ESS_PER_CHAIN} per chain): "
            "run more draws."
        )
    if np.isfinite(min_bfmi) and min_bfmi < MIN_BFMI:
        problems.append(f"BFMI {min_bfmi:.2f} < {MIN_BFMI}: reparameterise or run longer tuning.")
    return Diagnostics(
        divergences=divergences,
        max_rhat=max_rhat,
        min_ess_bulk=ess_bulk,
        min_ess_tail=ess_tail,
        min_bfmi=min_bfmi,
        chains=chains,
        draws=draws,
        problems=tuple(problems),
    )


def _divergence_advice(tree: xr.DataTree) -> str:
    """What to try against divergences, never the target_accept the fit already used."""
    used = tree.attrs.get(TARGET_ACCEPT_ATTR)
    simplify = "simplify the pooling (pooling of lambda or gamma = 'complete')"
    if used is None:
        return f"raise target_accept (e.g. 0.95) or {simplify}."
    used = float(used)
    if used < 0.95:
        return f"raise target_accept from {used:g} to 0.95, or {simplify}."
    if used < 0.99:
        return f"raise target_accept from {used:g} to 0.99 (slower), or {simplify}."
    return f"target_accept is already {used:g}: {simplify}, or use fewer, larger groups."


def warn_if_not_converged(diagnostics: Diagnostics) -> None:
    """Raise a :class:`bayescred.ConvergenceWarning` saying what failed and what to try."""
    if not diagnostics.ok:
        warnings.warn(
            "MCMC diagnostics fail standard thresholds. " + " ".join(diagnostics.problems),
            ConvergenceWarning,
            stacklevel=3,
        )
