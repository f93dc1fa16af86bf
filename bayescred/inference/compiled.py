"""Compile once, fit many: reuse a nutpie-compiled model for new data of the same shape.

Compiling a model for nutpie (PyTensor graph rewrites, then numba) takes 10-15 s, sampling a
small model a few seconds. A simulation study or a notebook fits the same spec to many data
sets of the same shape (new outcomes, or a new panel of the same size), and every quantity
that changes between them enters the PyMC model as a PyTensor shared variable: the rows
(``pm.Data``), the rows per worker, the prior parameters (which depend on the data's scale,
:func:`bayescred.model.priors.prior_parameter`) and the dims' lengths. A compiled model reads
the shared variables' values at run time (``CompiledPyMCModel.with_data``), so it serves any
model whose graph is the same up to those values.

:class:`CompiledModelCache` keys each compiled model by :func:`model_key`: the model's whole
graph, with every constant by value (a hash of its bytes), every operation by PyTensor's own
equality of operations, every shared variable by name, dtype and shape, plus the named
variables with their dims, the dims' lengths, the transforms, and what the compiler was asked
for (the stored variables and which variables start at given values rather than jittered).
Whatever is baked into the graph as a constant, now or after a future change of the model
code, is part of the key: two models share a compiled model only when their log densities are
the same function of the shared variables' values. Coordinate labels are not compiled; each
fit gets its own (``worker``, ``period``, ``group`` labels of the new panel).

The starting values depend on the data (:func:`bayescred.inference.sampling.effect_initial_values`):
the compiled initial-point function takes them from shared variables too, and each fit sets
them, with its data, just before the function runs (under a lock, so concurrent fits of one
compiled model do not mix their values).

A fit through the cache gives the same draws for the same seed as a fit compiled afresh: the
sampler sees the same log density, the same starting points and the same seed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.traversal import toposort

#: The backend nutpie compiles with (as ``pm.sample(nuts_sampler="nutpie")`` does on CPU).
BACKEND = "numba"
#: Number of compiled models a cache keeps by default (least recently used dropped first).
DEFAULT_MAXSIZE = 8


@dataclass
class CompiledEntry:
    """One compiled model and what is needed to run it on new values.

    Attributes
    ----------
    key
        The :func:`model_key` it was compiled for (``None``: not reusable).
    model
        The PyMC model that was compiled; its shared variables feed the initial-point function.
    compiled
        nutpie's compiled model (``CompiledPyMCModel``).
    shared
        The named shared variables of ``model``'s graph, by name.
    starts
        Shared variables holding the starting values of the variables that start at given
        values, by variable name.
    compile_time
        Seconds the compilation took.
    fits
        Number of fits run with this entry.
    """

    key: Hashable
    model: pm.Model
    compiled: Any
    shared: dict[str, SharedVariable]
    starts: dict[str, SharedVariable]
    compile_time: float
    fits: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def for_model(self, model: pm.Model, initial_values: Mapping[str, Any]) -> Any:
        """The compiled model with ``model``'s data, coordinates and starting values.

        ``model`` has this entry's :func:`model_key` (or is the model of an entry without a
        key).
        Returns a nutpie compiled model ready for ``nutpie.sample`` (nutpie's
        ``CompiledPyMCModel`` with ``model``'s shared values, coords and starting values);
        this entry is not changed (but for its fit count).
        """
        starts = {
            name: np.asarray(initial_values[name], dtype=var.get_value(borrow=True).dtype)
            for name, var in self.starts.items()
        }
        self.fits += 1
        if self.key is None:  # compiled for ``model`` alone (never cached)
            return dataclasses.replace(
                self.compiled, initial_point_func=self._initial_point_func({}, starts)
            )
        values = {name: var.get_value(borrow=True) for name, var in named_shared(model).items()}
        compiled = self.compiled.with_data(
            **{
                var.name: values[var.name]
                for var in self.compiled.shared_var_keys
                if var.name in values
            }
        )
        coords = dict(compiled._coords)
        coords.update({name: pd.Index(labels) for name, labels in model.coords.items()})
        return dataclasses.replace(
            compiled,
            _coords=coords,
            initial_point_func=self._initial_point_func(values, starts),
        )

    def _initial_point_func(
        self, values: dict[str, Any], starts: dict[str, np.ndarray]
    ) -> Callable[..., np.ndarray]:
        """The compiled initial-point function, run on one fit's values.

        It reads the shared variables of :attr:`model` (prior parameters for the support
        points, the starting values): they are set to this fit's values just before each
        call, under the entry's lock.
        """
        base = self.compiled.initial_point_func

        def initial_point(seed: Any = None) -> np.ndarray:
            with self.lock:
                for name, var in self.shared.items():
                    var.set_value(values[name], borrow=True)
                for name, var in self.starts.items():
                    var.set_value(starts[name], borrow=True)
                return np.asarray(base(seed))

        return initial_point


class CompiledModelCache:
    """Compiled models by :func:`model_key`, least recently used dropped beyond ``maxsize``.

    Parameters
    ----------
    maxsize
        How many compiled models to keep. Each holds its model's data twice (the PyMC model
        and nutpie's copy), so keep it small for large panels; ``0`` keeps none (every fit
        compiles).

    Attributes
    ----------
    compilations
        Models compiled through this cache.
    reuses
        Fits that reused a compiled model.

    Examples
    --------
    >>> cache = CompiledModelCache(maxsize=2)
    >>> len(cache), cache.compilations, cache.reuses
    (0, 0, 0)
    """

    def __init__(self, maxsize: int = DEFAULT_MAXSIZE) -> None:
        if maxsize < 0:
            raise ValueError("maxsize must be >= 0")
        self.maxsize = maxsize
        self.compilations = 0
        self.reuses = 0
        self._entries: OrderedDict[Hashable, CompiledEntry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return (
            f"CompiledModelCache({len(self)}/{self.maxsize} models, "
            f"{self.compilations} compiled, {self.reuses} reused)"
        )

    def clear(self) -> None:
        """Drop every compiled model (the counters are kept)."""
        with self._lock:
            self._entries.clear()

    def entry(
        self,
        model: pm.Model,
        *,
        var_names: Sequence[str],
        initial_values: Mapping[str, Any],
    ) -> tuple[CompiledEntry, bool]:
        """The compiled model for ``model``: a cached one if the key matches, else compiled.

        Parameters
        ----------
        model
            The PyMC model of this fit.
        var_names
            Variables to store in the trace.
        initial_values
            Starting values of the variables that start at given values (the others start at
            their support point, jittered).

        Returns
        -------
        entry, reused
            The entry to sample with (:meth:`CompiledEntry.for_model`) and whether it was
            compiled for an earlier model.
        """
        try:
            key: Hashable = model_key(
                model, var_names=var_names, starts=tuple(sorted(initial_values))
            )
        except ValueError:  # two shared variables of one name: compile, do not keep
            key = None
        with self._lock:
            found = None if key is None else self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.reuses += 1
                return found, True
        entry = compile_entry(model, key, var_names=var_names, initial_values=initial_values)
        with self._lock:
            self.compilations += 1
            if self.maxsize > 0 and key is not None:
                self._entries[key] = entry
                while len(self._entries) > self.maxsize:
                    self._entries.popitem(last=False)
        return entry, False


#: The cache shared by every :class:`~bayescred.CredentialModel` created with ``cache=True``.
SHARED_CACHE = CompiledModelCache()


def shared_cache() -> CompiledModelCache:
    """The process-wide cache (:data:`SHARED_CACHE`)."""
    return SHARED_CACHE


def compile_entry(
    model: pm.Model,
    key: Hashable,
    *,
    var_names: Sequence[str],
    initial_values: Mapping[str, Any],
) -> CompiledEntry:
    """Compile ``model`` for nutpie as ``pm.sample(nuts_sampler="nutpie")`` does.

    The variables in ``initial_values`` start at the values of shared variables (set by each
    fit); the other free variables start at their support point with a U(-1, 1) jitter on the
    unconstrained scale.
    """
    import nutpie

    starts = {
        name: _shared_start(name, np.asarray(value, dtype=model[name].dtype))
        for name, value in initial_values.items()
    }
    jitter = {rv for rv in model.free_RVs if rv.name not in starts}
    start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(
        model,
        var_names=list(var_names),
        initial_points=dict(starts),
        jitter_rvs=jitter,
        backend=BACKEND,
    )
    return CompiledEntry(
        key=key,
        model=model,
        compiled=compiled,
        shared={} if key is None else named_shared(model),
        starts=starts,
        compile_time=time.perf_counter() - start,
    )


def _shared_start(name: str, value: np.ndarray) -> SharedVariable:
    import pytensor

    var = pytensor.shared(value, name=f"{name}.start")
    assert isinstance(var, SharedVariable)
    return var


# ---------------------------------------------------------------------------- the key
def model_outputs(model: pm.Model) -> list[Variable]:
    """Every variable whose graph the compiled model depends on."""
    observed = [model.rvs_to_values[rv] for rv in model.observed_RVs]
    return [
        *model.free_RVs,
        *model.observed_RVs,
        *model.deterministics,
        *model.potentials,
        *observed,
    ]


def named_shared(model: pm.Model) -> dict[str, SharedVariable]:
    """The named shared variables (data, dims' lengths, prior parameters) of ``model``'s graph.

    Random generators (unnamed) are left out: the log density does not use them.
    """
    out: dict[str, SharedVariable] = {}
    for var in _graph_leaves(model_outputs(model)):
        if isinstance(var, SharedVariable) and var.name is not None:
            if out.get(var.name, var) is not var:
                raise ValueError(f"two shared variables are named {var.name!r}")
            out[var.name] = var
    return out


def _graph_leaves(outputs: Sequence[Variable]) -> list[Variable]:
    seen: set[Variable] = set()
    leaves: list[Variable] = []
    todo = list(outputs)
    while todo:
        var = todo.pop()
        if var in seen:
            continue
        seen.add(var)
        if var.owner is None:
            leaves.append(var)
        else:
            todo.extend(var.owner.inputs)
    return leaves


def model_key(
    model: pm.Model, *, var_names: Sequence[str], starts: Sequence[str] = ()
) -> tuple[Hashable, ...]:
    """What a compiled model depends on, as a hashable value (see the module docstring).

    Two models with equal keys have the same graph up to the values (not the shapes) of their
    named shared variables, and ask the compiler for the same thing. Raises ``ValueError``
    when two shared variables have one name (their values could not be told apart).

    Parameters
    ----------
    model
        The PyMC model.
    var_names
        Variables stored in the trace.
    starts
        Variables that start at given values (the others are jittered).
    """
    outputs = model_outputs(model)
    graph, refs = _graph_key(outputs)
    named = tuple(
        (kind, var.name, tuple(model.named_vars_to_dims.get(var.name, ())), refs[var])
        for kind, variables in (
            ("free", model.free_RVs),
            ("observed", model.observed_RVs),
            ("deterministic", model.deterministics),
            ("potential", model.potentials),
        )
        for var in variables
    )
    values = tuple((rv.name, refs[model.rvs_to_values[rv]]) for rv in model.observed_RVs)
    transforms = tuple(
        (rv.name, _object_key(model.rvs_to_transforms.get(rv))) for rv in model.free_RVs
    )
    initvals = tuple(
        (rv.name, _value_key(value))
        for rv, value in model.rvs_to_initial_values.items()
        if value is not None
    )
    dims = tuple((name, len(labels)) for name, labels in model.coords.items())
    return (
        BACKEND,
        graph,
        named,
        values,
        transforms,
        initvals,
        dims,
        bool(model.check_bounds),
        tuple(var_names),
        tuple(starts),
    )


def _graph_key(outputs: Sequence[Variable]) -> tuple[tuple[Hashable, ...], dict[Variable, Any]]:
    """A canonical description of the graph of ``outputs`` and each variable's reference in it.

    Apply nodes in topological order, each as its operation (compared by PyTensor's op
    equality, which is what PyTensor's own merging of equal computations relies on) and
    references to its inputs: an earlier node's output, or a leaf (constant by value, shared
    variable by name, dtype and shape).
    """
    refs: dict[Variable, Any] = {}
    nodes: list[Hashable] = []
    names: dict[str, Variable] = {}

    def ref(var: Variable) -> Any:
        found = refs.get(var)
        if found is None:
            name = var.name if isinstance(var, SharedVariable) else None
            if name is not None and names.setdefault(name, var) is not var:
                raise ValueError(f"two shared variables are named {name!r}")
            found = _leaf_key(var)
            refs[var] = found
        return found

    for i, node in enumerate(toposort(outputs)):
        nodes.append((_op_key(node.op), tuple(ref(v) for v in node.inputs), len(node.outputs)))
        for j, out in enumerate(node.outputs):
            refs[out] = ("node", i, j)
    for var in outputs:
        ref(var)
    return tuple(nodes), refs


def _op_key(op: Any) -> Hashable:
    try:
        hash(op)
    except TypeError:  # an op that cannot be compared: never reuse
        return ("unhashable", id(op))
    return op


def _leaf_key(var: Variable) -> Hashable:
    if isinstance(var, Constant):
        return ("constant", str(var.type), _value_key(var.data))
    if isinstance(var, SharedVariable):
        value = var.get_value(borrow=True)
        if isinstance(value, np.ndarray | np.generic):
            return ("shared", var.name, str(var.type), value.dtype.str, np.shape(value))
        return ("shared", var.name, str(var.type))
    return ("input", var.name, str(var.type), id(var))


def _value_key(value: Any) -> Hashable:
    if isinstance(value, np.ndarray | np.generic):
        data = np.ascontiguousarray(value)
        digest = hashlib.sha256(data.tobytes()).hexdigest()
        return ("array", data.dtype.str, data.shape, digest)
    if isinstance(value, str | int | float | bool | type(None)):
        return ("value", type(value).__name__, value)
    return ("object", type(value).__qualname__, repr(value))


def _object_key(obj: Any) -> Hashable:
    """A transform by its type and its plain attributes (``None`` for no transform)."""
    if obj is None:
        return None
    attrs = tuple(sorted((k, _value_key(v)) for k, v in vars(obj).items()))
    return (type(obj).__module__, type(obj).__qualname__, attrs)
