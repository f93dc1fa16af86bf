"""Write ``bayescred/datasets/platform_panel.csv.gz``, the embedded default panel.

The panel is simulated from the ``paper`` preset (3000 workers, 26 periods) with the fixed seed
``bayescred.datasets.PLATFORM_PANEL_SEED``. Floats are written with 10 significant digits and the
gzip header carries no timestamp, so rerunning the script reproduces the file.

Usage::

    .venv/bin/python scripts/make_platform_panel.py          # (re)write the file
    .venv/bin/python scripts/make_platform_panel.py --check  # compare the shipped file
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bayescred import datasets

TARGET = Path(datasets.__file__).resolve().parent / datasets.PLATFORM_PANEL_FILE


def _frame() -> pd.DataFrame:
    frame = datasets.platform_panel_simulation().frame
    expected = list(datasets.PLATFORM_PANEL_DTYPES)
    if list(frame.columns) != expected:
        raise SystemExit(f"simulated columns {list(frame.columns)} differ from {expected}")
    return frame


def write(path: Path = TARGET) -> None:
    """Simulate the panel and write it to ``path``."""
    frame = _frame()
    frame.to_csv(
        path,
        index=False,
        float_format="%.10g",
        compression={"method": "gzip", "compresslevel": 9, "mtime": 0},
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, {len(frame)} rows)")


def check(path: Path = TARGET) -> bool:
    """Whether the shipped file matches a fresh simulation to 1e-8."""
    shipped = datasets.platform_panel()
    fresh = _frame()
    try:
        pd.testing.assert_frame_equal(shipped, fresh, check_exact=False, rtol=1e-8, atol=1e-8)
    except AssertionError as err:
        print(f"{path} differs from a fresh simulation:\n{err}")
        return False
    nan_same = np.array_equal(
        shipped["log_project_value"].isna(), fresh["log_project_value"].isna()
    )
    print(f"{path} matches a fresh simulation ({len(shipped)} rows)")
    return nan_same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        return 0 if check() else 1
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
