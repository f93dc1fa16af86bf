"""The ``bayescred`` command line: help, simulate, check-data, fit, summary, predict, compare,
report, demo, and the exit status and one-line message of every kind of bad input.

The end-to-end path runs in subprocesses (``simulate`` writes the data, ``fit`` samples a tiny
panel, a bad data file is checked with the installed ``bayescred`` script); the rest calls
:func:`bayescred.cli.main` in this process, which parses and reports errors exactly as the
script does, at a fraction of the cost (each subprocess imports PyMC, about 5 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bayescred import CredentialFit, ModelSpec
from bayescred.cli import commands as cli_commands
from bayescred.cli import main
from bayescred.cli import settings as cli_settings
from bayescred.cli import text as cli_text

#: Each command and options its --help must list.
COMMAND_OPTIONS: dict[str, list[str]] = {
    "demo": ["--out", "--draws", "--tune", "--chains", "--seed"],
    "simulate": ["--preset", "--workers", "--periods", "--seed", "--out", "--truth"],
    "check-data": ["--spec", "--outcome", "--events"],
    "fit": ["--spec", "--out", "--draws", "--tune", "--chains", "--seed", "--sampler", "--events"],
    "summary": ["--hdi"],
    "predict": [
        "--group",
        "--credentials",
        "--track-record",
        "--to",
        "--profiles",
        "--new-group",
        "--hdi",
        "--out",
    ],
    "compare": ["--names"],
    "report": ["--out"],
    "event-study": ["--by", "--hdi-prob", "--output", "--plot"],
}
SIM_COLUMNS = [
    "worker_id",
    "period",
    "group",
    "credentials",
    "track_record",
    "any_project",
    "n_projects",
    "log_project_value",
    "earnings",
    "log_earnings",
    "x1",
    "x2",
]
N_WORKERS, N_PERIODS = 80, 6


def _script() -> list[str]:
    """The installed console script if there is one, else ``python -m bayescred.cli``."""
    script = Path(sys.executable).with_name("bayescred")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bayescred.cli"]


def run_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the command in a subprocess, capturing text output."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("BAYESCRED_TRACEBACK", None)
    return subprocess.run(
        [sys.executable, "-m", "bayescred.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def call(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run :func:`main` in this process: exit status, stdout, stderr."""
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_bad_input(code: int, err: str, *needles: str) -> None:
    """Exit status 2, a ``bayescred ... error:`` message containing ``needles``, no traceback."""
    assert code == 2, err
    assert "Traceback" not in err
    assert "error:" in err
    for needle in needles:
        assert needle in err


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def sim_csv(workdir: Path) -> Path:
    """A small panel written by ``bayescred simulate`` in a subprocess, with its truth."""
    result = run_cli(
        "simulate",
        "--workers",
        str(N_WORKERS),
        "--periods",
        str(N_PERIODS),
        "--seed",
        "4",
        "--out",
        "sim.csv",
        "--truth",
        "truth.json",
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr
    return workdir / "sim.csv"


@pytest.fixture(scope="module")
def fit_file(workdir: Path, sim_csv: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """``bayescred fit`` on the small panel in a subprocess (2 chains x 50 draws)."""
    result = run_cli(
        "fit",
        sim_csv.name,
        "--spec",
        "default",
        "--out",
        "fits/tiny.nc",
        "--draws",
        "50",
        "--tune",
        "50",
        "--chains",
        "2",
        "--seed",
        "1",
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr
    return workdir / "fits" / "tiny.nc", result


@pytest.fixture(scope="module")
def tiny_cli_fit(fit_file: tuple[Path, subprocess.CompletedProcess[str]]) -> CredentialFit:
    from bayescred.facade import load_fit

    return load_fit(fit_file[0])


# ------------------------------------------------------------------------------ help
@pytest.mark.parametrize("command", list(COMMAND_OPTIONS))
def test_help_of_every_command(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = call(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: bayescred {command}")
    for option in COMMAND_OPTIONS[command]:
        assert option in out


def test_top_level_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "--help")
    assert code == 0
    for command in COMMAND_OPTIONS:
        assert command in out
    code, _, err = call(capsys)
    assert code == 2 and "usage:" in err


def test_demo_defaults_are_the_documented_budget(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "demo", "--help")
    assert code == 0
    assert f"(default: {cli_settings.DEMO_DRAWS})" in out
    assert "(default: out)" in out


# ------------------------------------------------------------------------------ simulate
def test_simulate_writes_panel_and_truth(sim_csv: Path) -> None:
    frame = pd.read_csv(sim_csv)
    assert list(frame.columns) == SIM_COLUMNS
    assert frame["worker_id"].nunique() == N_WORKERS
    assert frame["period"].max() <= N_PERIODS
    truth = json.loads(sim_csv.with_name("truth.json").read_text(encoding="utf-8"))
    assert truth["seed"] == 4 and truth["curve"] == "geometric"
    assert set(truth["beta"]) == {"A", "B", "C", "D"}


def test_simulate_parquet_and_bad_suffix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "sub" / "sim.parquet"
    code, out, err = call(
        capsys, "simulate", "--workers", "12", "--periods", "3", "--out", str(target)
    )
    assert code == 0, err
    assert str(target) in out
    assert list(pd.read_parquet(target).columns) == SIM_COLUMNS
    code, _, err = call(capsys, "simulate", "--workers", "12", "--out", str(tmp_path / "x.xlsx"))
    assert_bad_input(code, err, "unsupported file type '.xlsx'")
    assert len(err.strip().splitlines()) == 1
    code, _, err = call(capsys, "simulate", "--preset", "nope", "--out", "x.csv")
    assert_bad_input(code, err, "--preset")


# ------------------------------------------------------------------------------ check-data
def test_check_data_good(capsys: pytest.CaptureFixture[str], sim_csv: Path) -> None:
    code, out, err = call(capsys, "check-data", str(sim_csv))
    assert code == 0, err
    assert "pass every rule" in out
    assert "rows used" in out and "workers with one period" in out
    assert "outcome missing" in out  # rows the model will set aside, by reason
    code, out, err = call(capsys, "check-data", str(sim_csv), "--outcome", "n_projects")
    assert code == 0, err
    assert "'n_projects'" in out


def test_check_data_bad_data_lists_each_rule_without_traceback(
    workdir: Path, sim_csv: Path
) -> None:
    frame = pd.read_csv(sim_csv)
    frame.loc[[0, 3], "track_record"] = -1
    frame.loc[5, "credentials"] = -2
    frame.to_csv(workdir / "bad.csv", index=False)
    result = subprocess.run(
        [*_script(), "check-data", "bad.csv"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    err = result.stderr
    assert "Traceback" not in err
    assert result.stdout == ""
    lines = err.strip().splitlines()
    assert lines[0].startswith("bayescred: error: The panel breaks 2 data rules")
    rule_lines = [line for line in lines if line.startswith("[")]
    assert rule_lines == [
        "[1] column 'credentials': must be >= 0",
        "[2] column 'track_record': must be >= 0",
    ]


def test_check_data_bad_input(
    capsys: pytest.CaptureFixture[str], sim_csv: Path, tmp_path: Path
) -> None:
    code, _, err = call(capsys, "check-data", str(tmp_path / "missing.csv"))
    assert_bad_input(code, err, "does not exist")
    code, _, err = call(capsys, "check-data", str(sim_csv.with_suffix(".txt")))
    assert_bad_input(code, err, "unsupported file type '.txt'")
    code, _, err = call(capsys, "check-data", str(sim_csv), "--spec", str(tmp_path / "no.toml"))
    assert_bad_input(code, err, "does not exist")
    assert len(err.strip().splitlines()) == 1
    code, _, err = call(capsys, "check-data", str(sim_csv), "--spec", "no_such_spec")
    assert_bad_input(code, err, "bundled: default")
    bad_spec = tmp_path / "bad.toml"
    bad_spec.write_text('name = "x"\ncurve = "geometric"\n', encoding="utf-8")
    code, _, err = call(capsys, "check-data", str(sim_csv), "--spec", str(bad_spec))
    assert_bad_input(code, err, "unknown key 'curve'")
    assert len(err.strip().splitlines()) == 1
    code, _, err = call(capsys, "check-data", str(sim_csv), "--outcome", "nope")
    assert_bad_input(code, err, "column 'nope'", "--outcome")


# ------------------------------------------------------------------------------ usage errors
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], sim_csv: Path) -> None:
    for args in (
        ["fit", str(sim_csv), "--bogus"],
        ["fit", str(sim_csv), "--draws", "0"],
        ["no-such-command"],
        ["summary", "fit.nc", "--hdi", "1.5"],
        ["predict", "fit.nc", "--new-group", "nowhere"],
    ):
        code, _, err = call(capsys, *args)
        assert code == 2, args
        assert "usage: bayescred" in err and "Traceback" not in err


def test_fit_refuses_bad_output_before_sampling(
    capsys: pytest.CaptureFixture[str], sim_csv: Path
) -> None:
    code, _, err = call(capsys, "fit", str(sim_csv), "--out", "fit.txt")
    assert_bad_input(code, err, "must end in .nc")
    assert "sampling" not in err


# ------------------------------------------------------------------------------ fit chain
def test_fit_saves_and_reports(fit_file: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    path, result = fit_file
    assert path.is_file()
    assert "sampling: model 'default', 2 chain(s) x 50 draws" in result.stderr
    assert "done in" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Verdict:" in result.stdout
    assert "outcome missing" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == f"Fit saved to {Path('fits/tiny.nc')}"


def test_summary(
    capsys: pytest.CaptureFixture[str], fit_file: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    code, out, err = call(capsys, "summary", str(fit_file[0]), "--hdi", "0.8")
    assert code == 0, err
    assert "mu_beta" in out and "beta_group[D]" in out
    assert "80% HDI" in out
    assert "Diagnostics:" in out and "Verdict:" in out
    assert "Rows not used:" in out and "outcome missing" in out


def test_predict_one_profile_and_file(
    capsys: pytest.CaptureFixture[str],
    fit_file: tuple[Path, subprocess.CompletedProcess[str]],
    tmp_path: Path,
) -> None:
    fit = str(fit_file[0])
    table_csv = tmp_path / "effect.csv"
    code, out, err = call(
        capsys,
        "predict",
        fit,
        "--group",
        "B",
        "--credentials",
        "2",
        "--track-record",
        "10",
        "--out",
        str(table_csv),
    )
    assert code == 0, err
    header, row = out.splitlines()[:2]
    assert "median" in header and "90% HDI" in header
    assert row.split()[:4] == ["B", "2", "3", "10"]
    assert "%" in row
    assert "For a worker in group B with 2 credential(s)" in out
    written = pd.read_csv(table_csv)
    assert written.loc[0, "group"] == "B" and "pct_median" in written

    profiles = tmp_path / "profiles.csv"
    pd.DataFrame({"group": ["A", "D"], "credentials": [0, 3], "track_record": [5, 40]}).to_csv(
        profiles, index=False
    )
    code, out, err = call(capsys, "predict", fit, "--profiles", str(profiles), "--to", "4")
    assert_bad_input(code, err, "not both")
    code, out, err = call(capsys, "predict", fit, "--profiles", str(profiles), "--hdi", "0.5")
    assert code == 0, err
    assert "50% HDI" in out
    assert out.count("For a worker in group") == 2


def test_predict_unknown_group(
    capsys: pytest.CaptureFixture[str], fit_file: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    fit = str(fit_file[0])
    profile = ["--group", "Z", "--credentials", "1", "--track-record", "3"]
    code, _, err = call(capsys, "predict", fit, *profile)
    assert_bad_input(code, err, "'Z'", "--new-group population")
    assert len(err.strip().splitlines()) == 1
    code, out, err = call(capsys, "predict", fit, *profile, "--new-group", "population")
    assert code == 0, err
    assert "population distribution" in out and "%" in out


def test_predict_bad_input(
    capsys: pytest.CaptureFixture[str],
    fit_file: tuple[Path, subprocess.CompletedProcess[str]],
    sim_csv: Path,
    tmp_path: Path,
) -> None:
    fit = str(fit_file[0])
    code, _, err = call(capsys, "predict", fit, "--group", "A")
    assert_bad_input(code, err, "--credentials", "--track-record")
    code, _, err = call(capsys, "predict", fit, "--profiles", str(sim_csv))
    assert_bad_input(code, err, "unknown profile field")
    junk = tmp_path / "junk.nc"
    junk.write_text("not a fit", encoding="utf-8")
    code, _, err = call(capsys, "summary", str(junk))
    assert_bad_input(code, err, "junk.nc")
    assert len(err.strip().splitlines()) == 1
    code, _, err = call(capsys, "summary", str(tmp_path / "missing.nc"))
    assert_bad_input(code, err, "does not exist")


def test_compare(
    capsys: pytest.CaptureFixture[str], fit_file: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    fit = str(fit_file[0])
    code, _, err = call(capsys, "compare", fit, fit, "--names", "only_one")
    assert_bad_input(code, err, "--names")
    code, out, err = call(capsys, "compare", fit, fit, "--names", "first", "second")
    assert code == 0, err
    assert "first" in out and "second" in out


def test_report(
    capsys: pytest.CaptureFixture[str],
    fit_file: tuple[Path, subprocess.CompletedProcess[str]],
    tmp_path: Path,
) -> None:
    target = tmp_path / "r" / "report.html"
    code, out, err = call(capsys, "report", str(fit_file[0]), "--out", str(target))
    assert code == 0, err
    assert target.is_file()
    assert out.strip().splitlines()[-1] == str(target)


# ------------------------------------------------------------------------------ demo
def test_demo_text_blocks(tiny_cli_fit: CredentialFit) -> None:
    data = cli_text.format_data_summary(tiny_cli_fit)
    assert "used by the model" in data and "outcome missing" in data
    params = cli_text.format_parameter_summary(tiny_cli_fit, 0.9)
    assert "mu_beta" in params and "90% HDI" in params and "r_hat" in params
    assert params.count("effect of the first credential, by group") == 1
    diag = cli_text.format_diagnostics(tiny_cli_fit, table=False)
    assert diag.startswith("Verdict: ")
    effect = cli_text.format_average_effect(tiny_cli_fit, 0.9)
    assert "log points" in effect and "% on project value" in effect


def test_demo_flow_prints_report_path_last(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tiny_cli_fit: CredentialFit,
    tmp_path: Path,
) -> None:
    """The demo without its long fit: the sampler is replaced by the tiny fit."""
    seen: dict[str, Any] = {}

    def fake_fit(spec: ModelSpec, frame: pd.DataFrame, **settings: Any) -> CredentialFit:
        seen.update(settings, rows=len(frame), spec=spec.name)
        return tiny_cli_fit

    monkeypatch.setattr(cli_commands, "fit_with_progress", fake_fit)
    out_dir = tmp_path / "demo"
    code, out, err = call(capsys, "demo", "--out", str(out_dir), "--draws", "10")
    assert code == 0, err
    assert seen["spec"] == "default" and seen["draws"] == 10
    assert seen["chains"] == cli_settings.DEMO_CHAINS
    assert seen["rows"] > 10_000  # the embedded panel
    assert (out_dir / "fit.nc").is_file()
    assert (out_dir / "report.html").is_file()
    assert "SIMULATED" in out and "Verdict:" in out and "log points" in out
    assert out.strip().splitlines()[-1] == str(out_dir / "report.html")


def test_help_imports_no_numerical_stack() -> None:
    """``bayescred --help`` parses arguments only: PyMC, ArviZ, pandas and xarray load when a
    command runs (so the help is instant)."""
    code = (
        "import sys, contextlib, io\n"
        "from bayescred.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['--help']) == 0 and main(['fit', '--help']) == 0\n"
        "heavy = [m for m in ('pymc', 'pytensor', 'arviz', 'pandas', 'xarray') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_parquet_without_pyarrow_names_the_extra(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in ("pyarrow", "fastparquet") else real(name, *a),
    )
    code, _, err = call(capsys, "check-data", str(tmp_path / "panel.parquet"))
    assert_bad_input(code, err, "pip install 'bayescred[parquet]'")
    code, _, err = call(capsys, "simulate", "--out", str(tmp_path / "panel.parquet"))
    assert_bad_input(code, err, "pip install 'bayescred[parquet]'")
