"""A repeated-sampling study of the event-time coefficients (issue #21), larger than the slow
test's (tests/test_event_study_recovery.py::test_repeated_sampling_event_time_coefficients,
same settings).

Usage::

    .venv/bin/python scripts/event_time_repeated_sampling.py --n-panels 60 --seed 7 \
        --out /tmp/rs.nc [--lag-step-sd 2.0 | --wide-sd 2.0]

A study started again on the same ``--out`` file fits only the panels not yet there.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import bayescred as bc
from bayescred.calibration.study import StudyResult
from bayescred.data.presets import SimulationSettings, event_study_preset


def study_settings() -> SimulationSettings:
    """The slow test's simulator settings: one group (``beta = 0.3``), the step curve, no
    modifier, lags ``0.4, 0.8, 1.0`` times ``beta``, no lead."""
    settings = event_study_preset(
        n_workers=500, n_periods=10, curve="step", modifier="none", delta=(),
        event_lags=(0.4, 0.8, 1.0), event_leads=(0.0,),
    )  # fmt: skip
    return replace(settings, groups=(replace(settings.groups[0], share=1.0, beta=0.3),))


def main(argv: list[str] | None = None) -> StudyResult:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-panels", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=None)
    priors = parser.add_mutually_exclusive_group()
    priors.add_argument("--lag-step-sd", type=float, default=None, help="lag_step ~ N(0, sd)")
    priors.add_argument(
        "--wide-sd", type=float, default=None,
        help="mu_beta, lead and lag_step ~ N(0, sd): the profile's priors made weak",
    )  # fmt: skip
    args = parser.parse_args(argv)
    settings = study_settings()
    changes: dict[str, object] = {
        "dynamics": {"leads": 2, "lags": 3},
        "effect": {"curve": "step", "modifier": "none", "pooling": {"beta": "complete"}},
    }
    if args.lag_step_sd is not None:
        changes["priors"] = {"lag_step": {"dist": "normal", "mu": 0.0, "sigma": args.lag_step_sd}}
    if args.wide_sd is not None:
        wide = {"dist": "normal", "mu": 0.0, "sigma": args.wide_sd}
        changes["priors"] = {name: wide for name in ("mu_beta", "lead", "lag_step")}
    spec = bc.ModelSpec().with_changes(**changes)
    study = bc.repeated_sampling(
        spec, settings, n_panels=args.n_panels, draws=300, tune=400, chains=2, seed=args.seed,
        out=args.out, progressbar=False,
    )  # fmt: skip
    print(repr(study))
    r = study.records
    pooled = float(((r["low"] <= r["truth"]) & (r["truth"] <= r["high"])).mean())
    print(f"pooled coverage {pooled:.3f} over {len(r)} intervals")
    return study


if __name__ == "__main__":
    main()
