"""How often the pre-trend test flags panels with and without an Ashenfelter dip.

Simulates ``n_panels`` small panels of the ``event_study`` preset with a dip (workers earn a
credential after a bad period: ``dip_sd > 0``, ``dip_selection``) and as many with the same
settings but ``dip_sd = 0``, fits each with ``[dynamics] leads = 3`` and prints the share of
fits whose ``fit.pretrend_test().flagged`` is True in each arm. The issue asks for at least 90%
with the dip and at most 10% without.

Usage::

    .venv/bin/python scripts/pretrend_rates.py --n-panels 20
"""

from __future__ import annotations

import argparse
import time
import warnings

import bayescred as bc
from bayescred.data.presets import event_study_preset
from bayescred.data.simulate import simulate


def flag_rate(
    dip_sd: float,
    *,
    n_panels: int = 20,
    n_workers: int = 600,
    n_periods: int = 10,
    dip_selection: float = 2.0,
    draws: int = 300,
    seed: int = 0,
) -> tuple[float, list[float]]:
    """Fit ``n_panels`` panels and return the share flagged by the pre-trend test.

    Parameters
    ----------
    dip_sd
        Sd of the Ashenfelter-dip shock (0: no dip).
    n_panels, n_workers, n_periods
        Number and size of the simulated panels.
    dip_selection
        Log-odds of earning a credential per sd of the (negative) dip shock.
    draws
        Posterior draws per chain (2 chains, as many tuning steps).
    seed
        Panel ``i`` is simulated with seed ``seed + i`` and fitted with the same seed.

    Returns
    -------
    tuple of float and list of float
        The share of panels flagged and each fit's Mahalanobis statistic.
    """
    settings = event_study_preset(
        n_workers=n_workers, n_periods=n_periods, dip_sd=dip_sd, dip_selection=dip_selection
    )
    spec = bc.ModelSpec().with_changes(dynamics={"leads": 3, "lags": 6})
    flagged, stats = 0, []
    for i in range(n_panels):
        sim = simulate(settings, seed=seed + i)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = bc.CredentialModel(spec).fit(
                sim.frame, events=sim.events, draws=draws, tune=draws, chains=2,
                random_seed=seed + i, progressbar=False,
            )  # fmt: skip
        test = fit.pretrend_test()
        flagged += bool(test.flagged)
        stats.append(float(test.statistic))
    return flagged / n_panels, stats


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run both arms and print their flag rates.

    Parameters
    ----------
    argv
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    dict of str to float
        ``{"dip": rate, "no_dip": rate}``.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-panels", type=int, default=20)
    parser.add_argument("--n-workers", type=int, default=600)
    parser.add_argument("--n-periods", type=int, default=10)
    parser.add_argument("--dip-sd", type=float, default=0.3)
    parser.add_argument("--dip-selection", type=float, default=2.0)
    parser.add_argument("--draws", type=int, default=300)
    args = parser.parse_args(argv)
    rates = {}
    for arm, dip in (("dip", args.dip_sd), ("no_dip", 0.0)):
        start = time.perf_counter()
        rate, stats = flag_rate(
            dip, n_panels=args.n_panels, n_workers=args.n_workers, n_periods=args.n_periods,
            dip_selection=args.dip_selection, draws=args.draws,
        )  # fmt: skip
        rates[arm] = rate
        print(
            f"{arm}: flagged {rate:.2f} of {args.n_panels} panels "
            f"(statistics {', '.join(f'{s:.1f}' for s in stats)}; "
            f"{time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    return rates


if __name__ == "__main__":
    main()
