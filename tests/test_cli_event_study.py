"""``bayescred event-study`` on a saved dynamic fit (table, sentences, pre-trend test, CSV and
figure; its refusals) and ``--events`` of ``fit`` and ``check-data``.

Everything runs :func:`bayescred.cli.main` in this process on the shared ``dynamic_fit``
(``tests/conftest.py``); ``fit --events`` reads real files and validates them, with the sampler
replaced by that fit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.image as mpimg
import pandas as pd
import pytest

from bayescred import CredentialFit
from bayescred.cli import main
from bayescred.data.simulate import SimulatedPanel
from bayescred.facade.credential_model import CredentialModel
from bayescred.model.design import as_panel


def call(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_bad_input(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and "bayescred: error:" in err
    for needle in needles:
        assert needle in err, err


@pytest.fixture(scope="module")
def dynamic_file(dynamic_fit: CredentialFit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dynamic_fit.save(tmp_path_factory.mktemp("es") / "dynamic.nc")


@pytest.fixture(scope="module")
def loaded(dynamic_file: Path) -> CredentialFit:
    from bayescred.facade import load_fit

    return load_fit(dynamic_file)


def test_event_study_prints_table_sentence_and_pretrend_test(
    capsys: pytest.CaptureFixture[str], dynamic_file: Path, loaded: CredentialFit, tmp_path: Path
) -> None:
    table, figure = tmp_path / "out" / "es.csv", tmp_path / "out" / "es.png"
    code, out, err = call(
        capsys, "event-study", str(dynamic_file), "--output", str(table), "--plot", str(figure)
    )
    assert code == 0, err
    result = loaded.event_study(hdi_prob=0.9)
    lines = out.splitlines()
    assert lines[0].startswith("Event study: effect of a worker's first credential")
    header = lines[1].split()
    assert header[:3] == ["event", "time", "period"] and "90%" in header
    body = lines[2 : 2 + len(result.table)]
    assert [line.split()[0] for line in body] == result.table["label"].tolist()
    reference = body[result.table.index[result.table["event_time"] == -1][0]]
    assert "reference" in reference and "0 (ref.)" in reference
    first_lag = body[result.table.index[result.table["event_time"] == 0][0]].split()
    lag_mean = float(result.table.loc[result.table["event_time"] == 0, "mean"].iloc[0])
    assert first_lag[2] == f"{lag_mean:+.4f}"
    assert result.sentence() in out
    test = loaded.pretrend_test(hdi_prob=0.9)
    assert f"Pre-trend test: {test.sentence()}" in out
    # the table as CSV, the figure as PNG
    written = pd.read_csv(table)
    assert written.columns.tolist() == result.table.columns.tolist()
    assert written["label"].tolist() == result.table["label"].tolist()
    pd.testing.assert_series_equal(written["mean"], result.table["mean"], check_exact=False)
    assert f"Event-study table written to {table}" in out
    assert mpimg.imread(figure).shape[0] > 100
    assert out.strip().splitlines()[-1] == f"Event-study figure written to {figure}"


def test_event_study_by_group_and_hdi(
    capsys: pytest.CaptureFixture[str], dynamic_file: Path, loaded: CredentialFit
) -> None:
    code, out, err = call(capsys, "event-study", str(dynamic_file), "--by", "group", "--hdi", "0.8")
    assert code == 0, err
    result = loaded.event_study(by="group", hdi_prob=0.8)
    assert "80% HDI" in out.splitlines()[0]
    assert out.splitlines()[1].split()[2] == "group"
    for label in result.scope_labels:
        assert result.sentence(label) in out
    assert "Pre-trend test (population profile): " in out


def test_event_study_refusals(
    capsys: pytest.CaptureFixture[str],
    dynamic_file: Path,
    tiny_fit: CredentialFit,
    tmp_path: Path,
) -> None:
    static = tiny_fit.save(tmp_path / "static.nc")
    code, out, err = call(capsys, "event-study", str(static))
    assert_bad_input(code, err, "[dynamics]", "static model", "static.nc")
    assert out == ""
    code, _, err = call(capsys, "event-study", str(dynamic_file), "--by", "cohort")
    assert_bad_input(code, err, "--by cohort", "cohort_width")
    code, _, err = call(capsys, "event-study", str(dynamic_file), "--plot", "figure.xyz")
    assert_bad_input(code, err, "--plot", "unsupported figure type")
    code, _, err = call(capsys, "event-study", str(dynamic_file), "--output", "table.txt")
    assert_bad_input(code, err, "--output", "unsupported file type")
    code, _, err = call(capsys, "event-study", str(tmp_path / "missing.nc"))
    assert_bad_input(code, err, "does not exist")
    code, _, err = call(capsys, "event-study", str(dynamic_file), "--by", "worker")
    assert code == 2 and "invalid choice" in err


# ------------------------------------------------------------------------------ --events
@pytest.fixture(scope="module")
def panel_files(
    dynamic_sim: SimulatedPanel, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """The simulated panel without its credentials column, and its events, as CSV files."""
    folder = tmp_path_factory.mktemp("events")
    data, events = folder / "panel.csv", folder / "events.csv"
    dynamic_sim.frame.drop(columns="credentials").to_csv(data, index=False)
    assert dynamic_sim.events is not None
    dynamic_sim.events.to_csv(events, index=False)
    return data, events


def test_fit_reads_events(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    panel_files: tuple[Path, Path],
    dynamic_sim: SimulatedPanel,
    dynamic_fit: CredentialFit,
    tmp_path: Path,
) -> None:
    """The events file is read and validated with the panel; the sampler gets a panel whose
    credentials come from the events (the sampler itself is replaced by the shared fit)."""
    seen: dict[str, Any] = {}

    def fake_fit(self: CredentialModel, data: Any, **settings: Any) -> CredentialFit:
        seen["panel"] = data
        return dynamic_fit

    monkeypatch.setattr(CredentialModel, "fit", fake_fit)
    data, events = panel_files
    target = tmp_path / "fit.nc"
    code, out, err = call(
        capsys, "fit", str(data), "--events", str(events), "--out", str(target), "--draws", "5"
    )
    assert code == 0, err
    panel = seen["panel"]
    assert panel.events is not None and not panel.events.derived
    expected = as_panel(pd.read_csv(data), dynamic_fit.spec, pd.read_csv(events)).events
    assert expected is not None and panel.events.n_events == expected.n_events > 0
    assert (panel.events.time == expected.time).all()
    truth = dynamic_sim.frame.set_index(["worker_id", "period"])["credentials"]
    derived = panel.frame.set_index(["worker_id", "period"])["credentials"]
    assert (derived.to_numpy() == truth.loc[derived.index].to_numpy()).all()
    assert target.is_file() and f"Fit saved to {target}" in out
    # without the events the credentials column is missing
    code, _, err = call(capsys, "fit", str(data), "--out", str(target))
    assert_bad_input(code, err, "credentials")


def test_events_file_errors(
    capsys: pytest.CaptureFixture[str], panel_files: tuple[Path, Path], tmp_path: Path
) -> None:
    data, events = panel_files
    code, _, err = call(capsys, "fit", str(data), "--events", str(tmp_path / "none.csv"))
    assert_bad_input(code, err, "--events file", "does not exist")
    code, _, err = call(capsys, "fit", str(data), "--events", "events.txt")
    assert_bad_input(code, err, "--events file", "unsupported file type")
    broken = tmp_path / "broken.csv"
    pd.read_csv(events).rename(columns={"period": "when"}).to_csv(broken, index=False)
    code, _, err = call(capsys, "check-data", str(data), "--events", str(broken))
    assert_bad_input(code, err, "period")


def test_check_data_reads_events(
    capsys: pytest.CaptureFixture[str], panel_files: tuple[Path, Path]
) -> None:
    data, events = panel_files
    code, out, err = call(capsys, "check-data", str(data), "--events", str(events))
    assert code == 0, err
    assert f"with the credential events of {events}." in out.splitlines()[0]
