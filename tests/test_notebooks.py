"""The example notebooks execute without error (small settings) and are committed without outputs.

The notebooks read their run size from ``BAYESCRED_NB_*`` environment variables (see
``notebooks/README.md``); here they get tiny values so that all four execute in the default
tier. They run in a Jupyter kernel of the interpreter running the tests.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {
    "01_quickstart.ipynb",
    "02_checking_and_comparing.ipynb",
    "03_new_worker_profile.ipynb",
    "04_paper_patterns.ipynb",
}

#: Run size for the notebooks: tiny, so that all four execute in about two minutes.
SMALL_RUN = {
    "BAYESCRED_NB_DRAWS": "60",
    "BAYESCRED_NB_TUNE": "60",
    "BAYESCRED_NB_CHAINS": "2",
    "BAYESCRED_NB_WORKERS": "100",
}
CELL_TIMEOUT_S = 300
TEST_KERNEL = "bayescred-tests"


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
    assert {p.name for p in NOTEBOOKS} == EXPECTED


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


def test_notebooks_match_generator(tmp_path: Path) -> None:
    """The committed notebooks are what ``notebooks/_build_notebooks.py`` writes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_build_notebooks", NOTEBOOK_DIR / "_build_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for written in module.main(tmp_path):
        committed = NOTEBOOK_DIR / written.name
        assert written.read_text() == committed.read_text(), (
            f"{written.name} differs from the generator: run "
            "`.venv/bin/python notebooks/_build_notebooks.py`"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(
    path: Path, kernel_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in SMALL_RUN.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the failing cell and traceback
    elapsed = time.perf_counter() - start
    print(f"{path.name}: executed in {elapsed:.1f} s")
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.get("output_type") == "error"
    ]
    assert not errors
