"""The user-facing model: configure in ``__init__``, build in ``build``, sample in ``fit``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pymc as pm

from bayescred.analysis.diagnostics import warn_if_not_converged
from bayescred.data.panel import Panel
from bayescred.facade.credential_fit import CredentialFit
from bayescred.inference.compiled import CompiledModelCache, shared_cache
from bayescred.inference.sampling import Sampler, build_for_sampler, run_sampler
from bayescred.model.build import build_model, build_prior_model
from bayescred.model.design import ModelDesign
from bayescred.model.make import make_design
from bayescred.spec import ModelSpec, load_spec


class CredentialModel:
    """A hierarchical model of the returns to credentials, configured by a :class:`ModelSpec`.

    Parameters
    ----------
    spec
        A spec object, a path to a TOML spec, or the name of a bundled spec (``"default"``,
        ``"paper_quadratic"``, ``"linear_fe"``). ``None`` means the default spec.
    cache
        Where compiled models are kept for reuse (nutpie sampler): ``True`` (default) the
        process-wide cache that every model shares
        (:func:`~bayescred.inference.compiled.shared_cache`), a
        :class:`~bayescred.inference.compiled.CompiledModelCache` of your own, or ``False``
        to compile for every fit. A fit on data of the same shape as an earlier one (new
        outcomes, or a new panel with as many workers, periods, groups and rows, and the same
        rows per worker and covariates) then skips the 10-15 s compilation; anything else
        compiles anew.

    Attributes
    ----------
    spec
        The model specification.
    cache
        The compiled-model cache, or ``None``.

    Examples
    --------
    >>> import bayescred as bc
    >>> model = bc.CredentialModel("linear_fe")
    >>> model.spec.effect.curve
    'linear'
    """

    def __init__(
        self,
        spec: ModelSpec | str | Path | None = None,
        *,
        cache: CompiledModelCache | bool = True,
    ) -> None:
        if spec is None:
            spec = ModelSpec()
        elif not isinstance(spec, ModelSpec):
            spec = load_spec(spec)
        self.spec = spec
        self.cache: CompiledModelCache | None
        if cache is True:
            self.cache = shared_cache()
        elif cache is False:
            self.cache = None
        else:
            self.cache = cache

    def __repr__(self) -> str:
        return f"CredentialModel(spec={self.spec.name!r})"

    def design(
        self,
        data: pd.DataFrame | Panel,
        events: pd.DataFrame | None = None,
        credential_types: pd.DataFrame | None = None,
    ) -> ModelDesign:
        """Validate ``data`` and compute the data-derived constants (rows used, scales, priors).

        ``events`` are credential events as data (one row per credential earned, with the
        worker and the first period it is held at the start of; see
        :func:`bayescred.validate`) and ``credential_types`` the types table (one row per type
        with its ``category``); neither is allowed with an already validated
        :class:`~bayescred.Panel` (validate it with them instead).
        """
        return make_design(self.spec, data, events, credential_types)

    def build(
        self,
        data: pd.DataFrame | Panel,
        *,
        plain: bool = False,
        events: pd.DataFrame | None = None,
        credential_types: pd.DataFrame | None = None,
    ) -> pm.Model:
        """The PyMC model for ``data``, for inspection (``model.to_graphviz()``, priors...).

        By default the model a fit samples: pooled group parameters and their population means
        appear in the sampler's coordinates (``*_whitened``: flat, with the population density
        as a potential; ``docs/design.md``, section 3.5). ``plain=True`` gives the same model
        (the same density) with every pooled parameter non-centred and the likelihood as a
        graph: the form ``pm.draw`` and ``pm.sample_prior_predictive`` draw prior samples from.
        """
        design = self.design(data, events, credential_types)
        return build_prior_model(design) if plain else build_model(design)

    def fit(
        self,
        data: pd.DataFrame | Panel,
        *,
        events: pd.DataFrame | None = None,
        credential_types: pd.DataFrame | None = None,
        draws: int | None = None,
        tune: int | None = None,
        chains: int | None = None,
        random_seed: int | None = None,
        sampler: Sampler | None = None,
        target_accept: float | None = None,
        progressbar: bool = True,
        groups: Iterable[str] | str = (),
    ) -> CredentialFit:
        """Validate ``data``, build the model and sample its posterior.

        ``events`` are credential events as data and ``credential_types`` the types table (see
        :meth:`design`). Arguments left as
        ``None`` take the spec's ``[sampling]`` values. Warns with
        :class:`bayescred.ConvergenceWarning` when a standard diagnostic threshold fails.
        With the nutpie sampler the compiled model is taken from :attr:`cache` when an
        earlier fit compiled the same model (same spec, data of the same shape); the draws
        for a given ``random_seed`` are the same either way.

        ``groups`` names ArviZ groups to add to the fit's tree right away (``"all"`` for
        every one the model has; default none); they are made with
        :meth:`CredentialFit.add_groups`'s defaults and ``random_seed``. Call that method
        later for other settings.

        Returns
        -------
        CredentialFit
        """
        s = self.spec.sampling
        design = self.design(data, events, credential_types)
        sampler = s.sampler if sampler is None else sampler
        model = build_for_sampler(design, sampler)
        tree = run_sampler(
            model,
            design,
            draws=s.draws if draws is None else draws,
            tune=s.tune if tune is None else tune,
            chains=s.chains if chains is None else chains,
            random_seed=random_seed,
            sampler=sampler,
            progressbar=progressbar,
            target_accept=s.target_accept if target_accept is None else target_accept,
            low_rank_mass_matrix=s.low_rank_mass_matrix,
            cache=self.cache,
        )
        fit = CredentialFit(tree, design=design)
        warn_if_not_converged(fit._diagnostics)
        if groups:
            fit.add_groups(groups, random_seed=random_seed)
        return fit
