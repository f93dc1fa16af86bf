"""The interface of an additive term of the linear predictor (:class:`Term`).

A model part's predictor without worker intercepts is a sum of terms (``docs/design.md``,
section 3)::

    eta[i,t] - alpha[i] = sum_k term_k[i,t]

Each term owns what it is: its spec section, its parameters (prior-overridable names with their
meaning, default priors and the descriptions summaries show), the row data it reads, its PyTensor
build, its NumPy evaluation on posterior draws for any rows, and (where it has one) its *kernel
form*: small tables of values, each indexed per row, whose product is the term's value on a row
(:class:`KernelIndex`). The Gaussian kernel (:mod:`bayescred.model.gaussian_kernel`) sums the
tables of every term of a design; a term without a kernel form enters it by its per-row values,
so no term can be left out of the sampled density.

Term modules import PyTensor only inside the methods that build graphs: the spec imports the
terms' sections and declarations, and reading a spec must stay light.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

from bayescred.maths.credential_types import TypeSignatures

#: A default prior as plain data: ``{"dist": "normal", "mu": 0.0, "sigma": 1.0}``.
PriorData = dict[str, Any]


class StrictSection(BaseModel):
    """Base of a term's spec section: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


@dataclass(frozen=True)
class Rows:
    """The row data terms read, as NumPy arrays (one entry per row).

    Attributes
    ----------
    credentials
        Credentials held at the start of the period (float).
    z
        Standardised log track record.
    group, period
        Integer codes of each row's group and period.
    covariates
        Covariate values ``(rows, covariates)``.
    n_groups, n_periods
        Sizes of the group and period dims.
    event_counts
        With event-time dynamics: each row's worker's total credentials and the counts held at
        the window's offsets ``(rows, 1 + L + K - 1)``
        (:func:`bayescred.maths.event_time.row_counts`); None otherwise.
    cohort, cohort_labels
        With adoption cohorts: each row's worker's cohort code and the cohorts' labels.
    type_signature, type_signatures, type_labels, category_labels
        With credential types: each row's type signature (an index into the shared
        :class:`~bayescred.maths.credential_types.TypeSignatures`, which row subsets keep
        whole) and the labels of the types and categories.
    """

    credentials: np.ndarray
    z: np.ndarray
    group: np.ndarray
    period: np.ndarray
    covariates: np.ndarray
    n_groups: int
    n_periods: int
    event_counts: np.ndarray | None = None
    cohort: np.ndarray | None = None
    cohort_labels: tuple[str, ...] = ()
    type_signature: np.ndarray | None = None
    type_signatures: TypeSignatures | None = None
    type_labels: tuple[str, ...] = ()
    category_labels: tuple[str, ...] = ()

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(np.shape(self.credentials)[0])

    def take(self, index: np.ndarray | slice) -> Rows:
        """The rows at ``index`` (same dims)."""
        return Rows(
            credentials=self.credentials[index],
            z=self.z[index],
            group=self.group[index],
            period=self.period[index],
            covariates=self.covariates[index],
            n_groups=self.n_groups,
            n_periods=self.n_periods,
            event_counts=None if self.event_counts is None else self.event_counts[index],
            cohort=None if self.cohort is None else self.cohort[index],
            cohort_labels=self.cohort_labels,
            type_signature=None if self.type_signature is None else self.type_signature[index],
            type_signatures=self.type_signatures,
            type_labels=self.type_labels,
            category_labels=self.category_labels,
        )


class BuildContext(Protocol):
    """What a term's PyTensor build gets from the model part it is built into.

    Implemented by :class:`bayescred.model.predictor.PartContext`; every name goes through the
    part's naming (a hurdle's extensive part prefixes ``ext_``).
    """

    @property
    def data(self) -> Mapping[str, Any]:
        """The part's registered row data (``pm.Data``): ``credentials``, ``z``,
        ``group_idx``, ``period_idx``, ``X`` (covariates), ``worker_idx``, ``y``."""
        ...

    @property
    def rows(self) -> Rows:
        """The part's rows as terms read them (in the panel's order)."""
        ...

    @property
    def n_groups(self) -> int:
        """Size of the group dim."""
        ...

    @property
    def n_periods(self) -> int:
        """Size of the period dim."""
        ...

    @property
    def noncentred_period_effects(self) -> bool:
        """Whether the part's family asks for non-centred period effects (link scales)."""
        ...

    def name(self, plain: str) -> str:
        """The model's variable name of the plain name ``plain``."""
        ...

    def dim(self, plain: str) -> str:
        """The model's dim name of the plain dim ``plain`` (e.g. ``gamma_term``)."""
        ...

    def prior(self, plain: str, *, dims: Any = None) -> Any:
        """The random variable ``plain`` with its resolved prior."""
        ...

    def spec_prior_parameter(self, plain: str, parameter: str) -> Any | None:
        """A parameter of a prior written in the spec itself (not a default), or None."""
        ...

    def whitened_deviations(
        self, plain: str, *, pilot_key: str, sd: Any, shift: Any, dims: str, size: int
    ) -> Any | None:
        """Deviations ``u ~ Normal(0, sd)`` over ``dims`` (``size`` of them) written through
        their approximate conditional posterior given the pilot's estimate of ``u + shift``
        (its entry ``pilot_key``); None when the model has no pilot."""
        ...

    def pooled(
        self,
        *,
        name: str,
        pooling: str,
        population_prior: str,
        sd_prior: str,
        log_scale: bool,
        term_dims: tuple[str, ...] = (),
    ) -> Any:
        """Per-group values ``{name}_group`` of a parameter pooled over groups as ``pooling``
        says (see :func:`bayescred.model.pooling.grouped_parameter`)."""
        ...


class NamesContext(Protocol):
    """What a term needs to name the variables its build stores, without building
    (implemented by :class:`bayescred.model.predictor.PartNames`; plain names)."""

    @property
    def noncentred_period_effects(self) -> bool:
        """Whether the part's family asks for non-centred period effects (link scales)."""
        ...

    @property
    def whitened(self) -> bool:
        """Whether the model is written for the sampler with the family's pilot."""
        ...

    def has_spec_prior(self, plain: str) -> bool:
        """Whether the spec itself writes a prior for ``plain`` (not a default)."""
        ...

    def pooled_names(
        self,
        *,
        name: str,
        pooling: str,
        population_prior: str,
        sd_prior: str,
        log_scale: bool,
        term_dims: tuple[str, ...] = (),
    ) -> list[str]:
        """The stored variables of :meth:`BuildContext.pooled` with the same arguments."""
        ...


def stack_draws(values: Any) -> np.ndarray:
    """``(chain, draw, ...)`` to ``(chain * draw, ...)`` (an array or a DataArray)."""
    arr = np.asarray(getattr(values, "values", values))
    return arr.reshape(-1, *arr.shape[2:])


@dataclass(frozen=True)
class KernelIndex:
    """A term's kernel form on the rows sorted by worker.

    The term's value on sorted row ``r`` is ``prod_f table_f[index[f][r]]`` (``dense=False``), or
    ``X[r] @ table_0`` with ``X = index[0]`` of shape ``(rows, columns)`` (``dense=True``).
    ``constants`` are arrays the tables are computed from (track records of the modifier table,
    say): they reach the graph as shared variables, so that a compiled model serves any panel of
    the same shape. ``sizes`` are the tables' static sizes (fixed by the panel's shape).
    """

    index: tuple[np.ndarray, ...]
    dense: bool = False
    constants: Mapping[str, np.ndarray] = field(default_factory=dict)
    sizes: Mapping[str, int] = field(default_factory=dict)

    @property
    def layout(self) -> tuple[str, int]:
        """``("dense", columns)`` or ``("product", factors)``: the kernel's loop structure."""
        if self.dense:
            return ("dense", int(self.index[0].shape[1]))
        return ("product", len(self.index))


@dataclass(frozen=True)
class BuiltTerm:
    """A term built into a PyMC model: its per-row value and its parameters (by plain name)."""

    term: Term
    mean: Any
    params: Mapping[str, Any]


class Term(ABC):
    """An additive piece of a model part's linear predictor (module docstring).

    Subclasses declare, as class attributes, their :attr:`key`, the spec :attr:`section` they
    read, their prior-overridable :attr:`parameters` and the :attr:`summaries` of what they
    store, and implement the methods below.
    """

    #: Short name of the term (``credential``, ``period``, ``covariates``).
    key: ClassVar[str]
    #: The spec field the term is configured by.
    section: ClassVar[str]
    #: Prior-overridable parameter names with their meaning (``spec.PRIOR_NAMES``).
    parameters: ClassVar[Mapping[str, str]]
    #: Stored variables a summary reports, with their descriptions, in display order.
    summaries: ClassVar[Mapping[str, str]]
    #: The panel roles the term reads.
    columns: ClassVar[tuple[str, ...]]

    @abstractmethod
    def default_priors(self, *, scale: float, covariate_sds: np.ndarray) -> dict[str, PriorData]:
        """Weakly informative default priors on a predictor scale ``scale`` (plain names)."""

    def coords(self, dim: Any) -> dict[str, list[Any]]:
        """Coordinates of the term's own dims (``dim`` maps a plain dim name to the model's)."""
        return {}

    def data_coords(self, dim: Any, rows: Rows) -> dict[str, list[Any]]:
        """Coordinates of the term's dims that depend on the data (adoption cohorts, say)."""
        return {}

    @abstractmethod
    def build(self, ctx: BuildContext) -> BuiltTerm:
        """Create the term's parameters in the current PyMC model; its value on every row."""

    @abstractmethod
    def variables(self) -> tuple[str, ...]:
        """Plain names of the stored variables :meth:`evaluate` reads."""

    def draw_parameters(self, posterior: Any) -> dict[str, np.ndarray]:
        """The draws :meth:`evaluate` reads from a posterior (plain names), each stacked over
        chains to ``(draws, ...)``."""
        return {name: stack_draws(posterior[name]) for name in self.variables()}

    def stored_variables(self, ctx: NamesContext) -> list[str] | None:
        """Plain names of every variable the term's build stores (the values it adds up and
        the parameters they are made from), or None where the term cannot say without being
        built (callers then build the model to learn them)."""
        return None

    @abstractmethod
    def evaluate(self, params: Mapping[str, np.ndarray], rows: Rows) -> np.ndarray:
        """The term's value ``(draws, rows)`` given parameter draws (stacked over chains, keyed
        by :meth:`variables`, each ``(draws, ...)``)."""

    def kernel_index(self, rows: Rows) -> KernelIndex | None:
        """The kernel form on ``rows`` (sorted by worker), or None: the kernel then takes the
        term's per-row values from its graph (exact, but row-length work)."""
        return None

    def kernel_tables(self, index: KernelIndex, built: BuiltTerm, constant: Any) -> tuple[Any, ...]:
        """The tables of :meth:`kernel_index`'s form from the built parameters (``constant``
        maps a name of ``index.constants`` to its shared variable)."""
        raise NotImplementedError(f"the {self.key!r} term has no kernel tables")

    def linear_columns(self, rows: Rows) -> np.ndarray | None:
        """Columns ``F`` with the term equal to ``F @ coef`` for some coefficients, if the term
        is linear in its parameters (the pilot estimates them with the credential effect), else
        None (the pilot leaves the term out; it shapes the sampler's geometry only)."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def capacity(n: int, minimum: int = 8) -> int:
    """The smallest power of two >= ``max(n, minimum)``: kernel table sizes rounded up, so that
    panels of the same shape usually get tables of the same size (and share a compiled model)."""
    n = max(int(n), int(minimum), 1)
    return 1 << (n - 1).bit_length()


def index_array(codes: np.ndarray, size: int) -> np.ndarray:
    """``codes`` (ints in ``[0, size)``) in the smallest unsigned dtype holding ``size - 1``: a
    row's indices then take few bytes (the kernel's loop reads less memory: about 25% faster).
    The dtype depends on the table's size only, not on the codes."""
    return np.asarray(codes).ravel().astype(np.min_scalar_type(max(int(size) - 1, 0)))


def per_row(group_values: Any, pooling: str, group: Any) -> Any:
    """Each row's value of a per-group parameter ``(groups, ...)``.

    A completely pooled parameter is one value: using it directly avoids a per-row gather (and
    the scatter-add in its gradient), which dominates the cost of a gradient otherwise.
    """
    return group_values[0] if pooling == "complete" else group_values[group]
