"""``benchmarks/bench_gpu_sweep.py`` on the CPU: the smoke run, the budget guard, the memory cap."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("jax", reason="the GPU sweep needs JAX: pip install 'bayescred[jax]'")
pytest.importorskip("numpyro", reason="the GPU sweep needs NumPyro: pip install 'bayescred[jax]'")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gpu_sweep.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gpu_sweep", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_gpu_sweep"] = module
    spec.loader.exec_module(module)
    return module


def test_smoke_run_prints_the_table(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    # one sampler (the table row does not depend on which; both are tested in
    # test_jax_samplers.py) keeps this short
    bench.main(["--smoke", "--sizes", "2k", "1000M", "--samplers", "nutpie-jax"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("device: cpu; jax ")
    assert lines[1].split()[:3] == ["rows", "in", "rows"]
    rows = [line.split() for line in lines[2:] if line.split()[0] == "2,000"]
    assert [r[5] for r in rows] == ["nutpie-jax"]
    for r in rows:
        compile_s, us, ns, wall, steps, min_ess, rate = map(float, r[2:5] + r[6:10])
        assert all(math.isfinite(v) and v > 0 for v in (compile_s, us, ns, wall, steps, min_ess))
        assert rate == pytest.approx(min_ess / wall, rel=0.1, abs=0.06)
        assert ns == pytest.approx(us * 1e3 / float(r[1].replace(",", "")), rel=0.01)
    assert any(line.startswith("1,000,000,000  skipped: needs about") for line in lines)
    assert lines[-1].startswith("total ")


def test_sizes_past_the_budget_are_skipped(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    bench.main(["--sizes", "2k", "--samplers", "--max-seconds", "0"])
    out = capsys.readouterr().out
    assert "     2,000  skipped: predicted 0 s to set up" in out


def test_budget_predictions(bench: ModuleType) -> None:
    times = bench.SizeTimes(rows=1_000, host=2.0, compile=5.0, eval=0.01, sampling={"numpyro": 30})
    assert times.predict_setup(10_000) == pytest.approx(2.0 * 10 + 5.0)
    assert times.predict_sampling("numpyro", 0.04) == pytest.approx(30 * 4)
    assert times.predict_sampling("numpyro", 0.001) == pytest.approx(30)  # never below
