"""Fingerprints of the posterior draws of the bundled specs, for bit-identity checks.

Fits ``default``, ``hurdle_earnings``, ``project_counts`` and ``hurdle_projects`` on a small
simulated panel with a fixed seed and prints one SHA-256 per spec over every stored posterior
array (names, shapes and bytes). Run it before and after a refactor that must not change the
numbers, with one BLAS thread::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/posterior_fingerprint.py > before.txt
    ... change the code ...
    OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/posterior_fingerprint.py | diff before.txt -

Seeds do not make draws identical across machines: compare fingerprints from one machine.
"""

from __future__ import annotations

import argparse
import hashlib
import warnings

import numpy as np

import bayescred as bc
from bayescred.data.simulate import simulate

SPECS = ("default", "hurdle_earnings", "project_counts", "hurdle_projects")


def fingerprint(fit: bc.CredentialFit) -> str:
    """SHA-256 over every posterior variable's name, shape and float64 bytes (sorted by name)."""
    post = fit.posterior
    h = hashlib.sha256()
    for name in sorted(str(v) for v in post.data_vars):
        values = np.ascontiguousarray(np.asarray(post[name].values, dtype=float))
        h.update(name.encode())
        h.update(repr(values.shape).encode())
        h.update(values.tobytes())
    return h.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", nargs="+", default=list(SPECS))
    parser.add_argument("--workers", type=int, default=150)
    parser.add_argument("--periods", type=int, default=8)
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    frame = simulate("paper", seed=3, n_workers=args.workers, n_periods=args.periods).frame
    for name in args.specs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = bc.CredentialModel(bc.load_spec(name)).fit(
                frame,
                draws=args.draws,
                tune=args.draws,
                chains=2,
                random_seed=args.seed,
                progressbar=False,
            )
        print(f"{name} {fingerprint(fit)}", flush=True)


if __name__ == "__main__":
    main()
