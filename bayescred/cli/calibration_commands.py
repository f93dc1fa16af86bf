"""``bayescred calibrate`` and ``bayescred study``: calibration studies from the shell.

Both print the study's result (its text ``repr``) and the results file; a study started again
with the same ``--out`` file runs only the simulations not yet in it. ``--scheduler`` runs
on a running Dask scheduler instead of a local cluster.
"""

from __future__ import annotations

import argparse
from typing import Any

from bayescred.cli.files import read_table, resolve_spec


def _client(address: str | None) -> Any:
    if address is None:
        return None
    from distributed import Client

    return Client(address)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Simulation-based calibration of a spec on the skeleton of a data file."""
    from bayescred.calibration import calibrate

    spec = resolve_spec(args.spec)
    frame = read_table(args.panel)
    client = _client(args.scheduler)
    try:
        result = calibrate(
            spec, frame, n_sims=args.sims, draws=args.draws, tune=args.tune,
            chains=args.chains, seed=args.seed, out=args.out, client=client,
            workers=args.processes, progressbar=not args.no_progress,
        )  # fmt: skip
    finally:
        if client is not None:
            client.close()
    print(repr(result))
    if args.plot:
        result.plot().savefig(args.plot, dpi=120)
        print(f"plot: {args.plot}")
    print(f"results: {result.path}")
    return 0 if result.calibrated else 1


def cmd_study(args: argparse.Namespace) -> int:
    """Repeated sampling of a spec from a simulator preset's fixed truth."""
    from bayescred.calibration import repeated_sampling

    spec = resolve_spec(args.spec)
    client = _client(args.scheduler)
    try:
        result = repeated_sampling(
            spec, args.preset, n_panels=args.panels, n_workers=args.workers_per_panel,
            n_periods=args.periods, draws=args.draws, tune=args.tune, chains=args.chains,
            seed=args.seed, out=args.out, client=client, workers=args.processes,
            progressbar=not args.no_progress,
        )  # fmt: skip
    finally:
        if client is not None:
            client.close()
    print(repr(result))
    if args.table:
        result.table.to_csv(args.table, index=False)
        print(f"table: {args.table}")
    print(f"results: {result.path}")
    return 0
