"""The example notebooks: their ``.py`` sources generate the committed ``.ipynb`` files, which
carry no outputs, and every notebook executes without error with small settings.

The notebooks' sources are jupytext percent-format ``.py`` files in ``notebooks/``;
``scripts/build_notebooks.py`` writes each ``.ipynb`` from its ``.py``. They read their run size
from ``BAYESCRED_NB_*`` environment variables (see ``notebooks/README.md``); here they get tiny
values and execute in the slow tier (CI's documentation build executes them as well), in a
Jupyter kernel of the interpreter running the tests. Needs jupytext, nbclient, nbformat and ipykernel (the ``dev`` extra): a
missing one is an error, not a skip.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import ipykernel  # noqa: F401  (the notebooks run in an ipykernel; missing must fail, not skip)
import jupytext
import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
GENERATOR = ROOT / "scripts" / "build_notebooks.py"
EXPECTED = {
    "01_quickstart",
    "02_checking_and_comparing",
    "03_new_worker_profile",
    "04_paper_patterns",
    "05_calibration",
    "06_event_study",
    "07_which_credentials_pay",
}
SOURCES = sorted(NOTEBOOK_DIR.glob("*.py"))
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

#: Run size for the notebooks: tiny, so that all four execute in about two minutes.
SMALL_RUN = {
    "BAYESCRED_NB_DRAWS": "60",
    "BAYESCRED_NB_TUNE": "60",
    "BAYESCRED_NB_CHAINS": "2",
    "BAYESCRED_NB_WORKERS": "100",
    "BAYESCRED_NB_SIMS": "4",
    "BAYESCRED_NB_PANELS": "2",
    "BAYESCRED_NB_PROCESSES": "2",
}
CELL_TIMEOUT_S = 300
TEST_KERNEL = "bayescred-tests"


def _load_generator() -> ModuleType:
    """``scripts/build_notebooks.py`` as a module (``scripts/`` is not a package)."""
    spec = importlib.util.spec_from_file_location("build_notebooks", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_notebooks = _load_generator()


def _python_names() -> set[str]:
    major, minor = sys.version_info[:2]
    return {"python", f"python{major}", f"python{major}.{minor}"}


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernel running this interpreter: the ``python3`` kernelspec if it does (jupyter_client
    maps a bare ``python`` in its argv to ``sys.executable``), else a kernelspec written to a
    temporary Jupyter path."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv0 = KernelSpecManager().get_kernel_spec("python3").argv[0]
    except NoSuchKernel:
        argv0 = ""
    if argv0 in _python_names() or (
        argv0 and Path(argv0).resolve() == Path(sys.executable).resolve()
    ):
        yield "python3"
        return
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / TEST_KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bayescred tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(root), *([old] if old else [])])
    try:
        yield TEST_KERNEL
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old


def test_all_notebooks_present() -> None:
    assert {p.stem for p in SOURCES} == EXPECTED
    assert {p.stem for p in NOTEBOOKS} == EXPECTED
    for source in SOURCES:
        assert source.with_suffix(".ipynb").exists(), f"{source.name} has no .ipynb"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_source_is_paired_percent_script(source: Path) -> None:
    """Each source is a jupytext percent-format script paired with its ``.ipynb``."""
    nb = jupytext.read(source)
    meta = nb.metadata["jupytext"]
    assert meta["text_representation"]["format_name"] == "percent"
    assert meta["formats"] == build_notebooks.PAIRING
    assert nb.cells[0].cell_type == "markdown", "a notebook opens with its introduction"
    # Magics are commented (`# %matplotlib inline`): the source is plain Python that ruff reads.
    ast.parse(source.read_text(encoding="utf-8"), filename=str(source))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown", "a notebook opens with its introduction"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "no code cells"
    for i, cell in enumerate(code):
        assert cell.get("outputs") == [], f"code cell {i} has outputs"
        assert cell.get("execution_count") is None, f"code cell {i} has an execution count"
    assert "BAYESCRED_NB_DRAWS" in code[0].source, "the first code cell sets the run size"


def test_notebooks_match_generator() -> None:
    """The committed notebooks are what ``scripts/build_notebooks.py`` writes from the sources."""
    problems = build_notebooks.stale(NOTEBOOK_DIR)
    assert not problems, "\n".join([*problems, "run `.venv/bin/python scripts/build_notebooks.py`"])
    assert build_notebooks.main(["--check"]) == 0


def test_generator_check_names_a_stale_notebook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--check`` fails, naming the file, when a notebook no longer matches its source."""
    for source in SOURCES:
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    written = build_notebooks.build(tmp_path)
    assert [p.stem for p in written] == sorted(EXPECTED)
    assert build_notebooks.main(["--check", "--dir", str(tmp_path)]) == 0

    edited = tmp_path / "02_checking_and_comparing.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# %%\nprint(1)\n", encoding="utf-8")
    (tmp_path / "03_new_worker_profile.ipynb").unlink()
    (tmp_path / "04_paper_patterns.ipynb").rename(tmp_path / "05_orphan.ipynb")
    (tmp_path / "04_paper_patterns.py").unlink()
    capsys.readouterr()
    assert build_notebooks.main(["--check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "02_checking_and_comparing.ipynb: differs" in err
    assert "03_new_worker_profile.ipynb: missing" in err
    assert "05_orphan.ipynb: no source 05_orphan.py" in err
    assert "01_quickstart" not in err


# 4.5 minutes in all: in the slow tier, because CI's documentation build (`make docs`, in
# `.ci/run`) executes every notebook again with `allow_errors: false`
@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_executes(
    source: Path, kernel_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notebook generated from ``source`` runs end to end with the tiny settings."""
    for key, value in SMALL_RUN.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = build_notebooks.notebook(source)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the failing cell and traceback
    elapsed = time.perf_counter() - start
    print(f"{source.stem}: executed in {elapsed:.1f} s")
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.get("output_type") == "error"
    ]
    assert not errors
