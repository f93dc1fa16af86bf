"""Run a study's simulations on Dask (``distributed``), streaming each result to its file.

``client=None`` starts a :class:`distributed.LocalCluster` with one single-threaded worker
process per core (``workers`` to choose how many) and closes it afterwards; a
:class:`distributed.Client` given by the caller (a cluster anywhere) runs the same study
unchanged and is left open. The study's job (spec, skeleton or simulator settings, sampler
arguments) is scattered to every worker once; each task runs one simulation index.

Compile once per worker: every fit goes through :class:`~bayescred.facade.CredentialModel`'s
default cache, the process-wide :func:`~bayescred.inference.compiled.shared_cache`. Each worker
process has its own, so a worker compiles the model once and reuses it for every simulation of
the same shape (the records carry the worker's process id and compilation count).

Results are written as they arrive (``as_completed``) to a :class:`ResultStore`; simulations
already in the file are not submitted again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from bayescred.calibration.store import ResultStore


def default_workers() -> int:
    """One worker per core available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def run_simulations(
    run_one: Callable[[Any, int], dict[str, Any]],
    job: Any,
    n_sims: int,
    store: ResultStore,
    *,
    client: Any = None,
    workers: int | None = None,
    progressbar: bool = True,
    description: str = "simulations",
) -> int:
    """Run simulations ``0..n_sims-1`` not yet in ``store``; return how many were run.

    Parameters
    ----------
    run_one
        Module-level function ``run_one(job, index) -> record`` (pickled to the workers).
    job
        The study's job, scattered to every worker once.
    n_sims
        Number of simulations the study should hold.
    store
        The results file; each record is added as soon as it arrives.
    client
        A ``distributed.Client``; ``None`` starts (and closes) a local cluster.
    workers
        Worker processes of the local cluster (default: one per core).
    progressbar
        Show a tqdm bar of simulations done.
    """
    if n_sims < 1:
        raise ValueError(f"n_sims must be >= 1, not {n_sims}")
    todo = [i for i in range(n_sims) if i not in store.done()]
    if not todo:
        return 0
    from distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm

    own = client is None
    cluster = None
    if own:
        n = workers or default_workers()
        cluster = LocalCluster(
            n_workers=min(n, len(todo)),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    futures: list[Any] = []
    try:
        shared = client.scatter(job, broadcast=True)
        futures = [client.submit(run_one, shared, i, pure=False) for i in todo]
        with tqdm(
            total=n_sims,
            initial=n_sims - len(todo),
            desc=description,
            disable=not progressbar,
        ) as bar:
            for future in as_completed(futures):
                store.add(future.result())
                future.release()
                bar.update(1)
    finally:
        for future in futures:
            if not future.done():
                future.cancel()
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
    return len(todo)
