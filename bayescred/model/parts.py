"""Names of a model part's variables and dims (:class:`Naming`).

A model has one part per linear predictor (:class:`bayescred.model.families.base.Part`). A
single-likelihood model has one, under the plain names; a hurdle model has two, "any positive
outcome" (extensive) and its size given that it is positive (intensive), combined by its family
(``E[y] = p * v``). A part bundles its single-part design (its spec section, its rows, its
resolved priors), the family of its own likelihood and its :class:`Naming`. The naming is the
one place where the extensive part's prefix is added to a name or taken off again: PyMC
variables, resolved priors and the posterior view under plain names all go through it.

Examples
--------
>>> EXTENSIVE.variable("mu_beta"), EXTENSIVE.plain("ext_mu_beta"), PLAIN.variable("mu_beta")
('ext_mu_beta', 'mu_beta', 'mu_beta')
>>> EXTENSIVE.plain("mu_beta") is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

import xarray as xr

#: Which part of a two-part model: ``extensive`` (any positive outcome) or ``intensive``.
PartName = Literal["extensive", "intensive"]
V = TypeVar("V")


@dataclass(frozen=True)
class Naming:
    """Names of one linear predictor's variables and dims inside a PyMC model.

    Attributes
    ----------
    prefix
        Added to every variable name of the part (``""`` for the plain names).
    obs, worker
        The part's row and worker dims (a part on a subset of the rows has its own).
    description
        Prefix of the part's parameter descriptions in summaries (``""`` for plain names).
    """

    prefix: str = ""
    obs: str = "obs"
    worker: str = "worker"
    description: str = ""

    def __call__(self, name: str) -> str:
        """The variable name of ``name`` in this part (same as :meth:`variable`)."""
        return self.prefix + name

    def variable(self, name: str) -> str:
        """The variable name of the plain ``name`` in this part."""
        return self.prefix + name

    def plain(self, name: str) -> str | None:
        """The plain name of variable ``name`` if it belongs to this part's prefix, else None.

        With the empty prefix every name is plain; callers that hold several parts ask the
        prefixed parts first (:func:`owner`).
        """
        if not name.startswith(self.prefix):
            return None
        return name[len(self.prefix) :]

    @property
    def gamma_term(self) -> str:
        """Dim of the track-record modifier's terms (parts may have different modifiers)."""
        return self.dim("gamma_term")

    def dim(self, name: str) -> str:
        """The model's name of a dim a term owns (parts may size them differently)."""
        return self.prefix + name

    def prefixed(self, values: Mapping[str, V]) -> dict[str, V]:
        """``values`` keyed by this part's variable names (e.g. a part's resolved priors)."""
        return {self.variable(k): v for k, v in values.items()}

    def own(self, values: Mapping[str, V], others: tuple[Naming, ...] = ()) -> dict[str, V]:
        """The entries of ``values`` that belong to this part, under their plain names.

        ``others`` are the model's other parts: a name one of them claims (a longer prefix) is
        not this part's.
        """
        out: dict[str, V] = {}
        for key, value in values.items():
            if any(o.prefix and o.prefix != self.prefix and o.plain(key) for o in others):
                continue
            plain = self.plain(key)
            if plain is not None:
                out[plain] = value
        return out

    def view(self, posterior: xr.Dataset, others: tuple[Naming, ...] = ()) -> xr.Dataset:
        """This part's variables of ``posterior`` under their plain names and dims."""
        names = self.own({str(k): str(k) for k in posterior.data_vars}, others)
        ds = posterior[list(names.values())]
        if self.prefix:
            ds = ds.rename({v: k for k, v in names.items()})
            own = {d: d[len(self.prefix) :] for d in map(str, ds.dims) if d.startswith(self.prefix)}
            if own:
                ds = ds.rename(own)
        return ds


#: The plain names of a single-part model (and of a hurdle model's intensive part).
PLAIN = Naming()
#: The extensive ("any positive outcome") part of a hurdle model: every row, ``ext_`` names.
EXTENSIVE = Naming(prefix="ext_", description="any positive amount (extensive, logit scale): ")
#: The intensive part of a hurdle model: plain names on the rows with a positive outcome.
POSITIVE = Naming(obs="obs_positive", worker="worker_positive")
