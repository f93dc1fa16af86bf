"""Replicated outcomes of a hurdle model: each part replicated by the single-part code.

A replicate of draw ``j`` is ``y_rep = d_rep * exp(log_amount_rep)``:

* ``d_rep ~ Bernoulli(logistic(eta_ext))`` on every row, the extensive intercepts rebuilt from
  the stored non-centred offsets (posterior) or drawn from their prior (prior check);
* ``log_amount_rep = alpha_int + m_int + Normal(0, sigma)`` on every row (only rows with
  ``d_rep = 1`` are kept). The intensive intercepts of workers with a positive amount in the
  data are drawn from their conditional posterior given those rows (closed form, as for the
  single-part Gaussian models); a worker without any positive amount has no data in the
  intensive part, so its intercept is drawn from the intercepts' distribution, with its Mundlak
  means taken over all of its rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import xarray as xr

from bayescred.fit.checks import OUTCOME_SCALE, Replicator, Source, cached_design
from bayescred.fit.hurdle_effects import part_posterior
from bayescred.fit.predictor import chunks, mean_without_intercepts, stack_draws
from bayescred.model.design import ModelDesign
from bayescred.model.hurdle import hurdle_parts


@dataclass
class HurdleReplicator:
    """Replicates a hurdle model's outcome one draw at a time (see the module docstring).

    Offers what the predictive-check table needs of a :class:`Replicator`: ``design``,
    ``deviations`` (always False), ``chunk_rows``, ``n_draws``, ``scale``, ``observed()`` and
    ``draw(j, rng)``; ``extensive`` and ``intensive`` are the parts' own replicators.
    """

    design: ModelDesign
    params: xr.Dataset
    source: Source
    chunk_rows: int = 100_000
    deviations: bool = field(default=False, init=False)
    extensive: Replicator = field(init=False, repr=False)
    intensive: Replicator = field(init=False, repr=False)
    kept_workers: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.design = cached_design(self.design)
        parts = hurdle_parts(self.design)
        ext_params = part_posterior(self.params, "extensive")
        int_params = part_posterior(self.params, "intensive")
        self.extensive = Replicator(
            parts.extensive, ext_params, self.source, chunk_rows=self.chunk_rows
        )
        self.intensive = Replicator(
            parts.intensive, int_params, self.source, chunk_rows=self.chunk_rows
        )
        self._positive = parts.positive
        # full-panel worker codes of the intensive part's workers (labels are sorted in both)
        self.kept_workers = np.unique(self.design.panel.worker_codes[parts.positive])
        # the intensive predictor on every row: the intensive design over the full panel,
        # whose Mundlak means (over all of a worker's rows) serve workers without amounts
        self._every_row = cached_design(replace(parts.intensive, panel=self.design.panel))
        has_psi = "psi" in self.intensive.flat
        self._all_row_means = self._every_row.mundlak_matrix() if has_psi else None

    @property
    def n_draws(self) -> int:
        return self.extensive.n_draws

    @property
    def scale(self) -> str:
        return OUTCOME_SCALE

    def observed(self) -> np.ndarray:
        return np.asarray(self.design.panel.y, dtype=float).copy()

    def _intensive_intercepts(
        self, j: int, m: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray | float:
        rep = self.intensive
        if self.design.spec.worker_effects == "none":
            return float(rep.flat["mu_alpha"][j])
        flat: dict[str, Any] = rep.flat
        mean = float(flat["mu_alpha"][j])
        if self._all_row_means is not None:
            mean = mean + self._all_row_means @ flat["psi"][j]
        sa = float(flat["sigma_alpha"][j])
        alpha = mean + sa * rng.standard_normal(self.design.panel.n_workers)
        alpha[self.kept_workers] = rep.intercepts(j, m[self._positive], rng)
        return np.asarray(alpha)

    def draw(self, j: int, rng: np.random.Generator) -> np.ndarray:
        """Replicated amounts of all rows for stacked draw ``j``."""
        p = self.design.panel
        any_amount = self.extensive.draw(j, rng)
        m = np.empty(p.n_rows)
        for rows in chunks(p.n_rows, self.chunk_rows):
            m[rows] = mean_without_intercepts(
                self.intensive.params, self._every_row, np.array([j]), rows
            )[0]
        alpha = self._intensive_intercepts(j, m, rng)
        sigma = float(stack_draws(self.intensive.params["sigma"])[j])
        for rows in chunks(p.n_rows, self.chunk_rows):
            a = alpha[p.worker_codes[rows]] if isinstance(alpha, np.ndarray) else alpha
            log_amount = m[rows] + a + sigma * rng.standard_normal(rows.stop - rows.start)
            with np.errstate(over="ignore"):  # prior draws can put amounts beyond float range
                m[rows] = np.where(any_amount[rows] > 0, np.exp(log_amount), 0.0)
        return m
