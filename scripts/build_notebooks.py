"""Write the example notebooks' ``.ipynb`` files from their jupytext ``.py`` sources.

Each ``notebooks/NAME.py`` (jupytext percent format: ``# %%`` code cells, ``# %% [markdown]``
cells) is the source of ``notebooks/NAME.ipynb``. The ``.ipynb`` files are written without
outputs or execution counts and with stable cell ids, so that regenerating an unchanged source
gives an identical file.

Usage::

    .venv/bin/python scripts/build_notebooks.py          # (re)write every .ipynb
    .venv/bin/python scripts/build_notebooks.py --check  # fail if a committed .ipynb is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
SOURCE_FORMAT = "py:percent"
#: The pairing jupytext records in both files, so that Jupyter with jupytext keeps them in sync.
PAIRING = "ipynb,py:percent"
DEFAULT_KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def sources(notebook_dir: Path = NOTEBOOK_DIR) -> list[Path]:
    """The notebook sources: every ``.py`` file of ``notebook_dir``, sorted by name."""
    return sorted(notebook_dir.glob("*.py"))


def target(source: Path, out_dir: Path | None = None) -> Path:
    """The ``.ipynb`` written from ``source``: next to it, or in ``out_dir``."""
    return (out_dir or source.parent) / source.with_suffix(".ipynb").name


def notebook(source: Path) -> nbformat.NotebookNode:
    """The notebook of a jupytext percent-format source, without outputs or execution counts."""
    nb = jupytext.read(source, fmt=SOURCE_FORMAT)
    kernelspec = nb.metadata.get("kernelspec", DEFAULT_KERNELSPEC)
    nb.metadata = nbformat.NotebookNode(
        {
            "jupytext": {"formats": PAIRING},
            "kernelspec": kernelspec,
            "language_info": {"name": "python"},
        }
    )
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"  # stable ids: regenerating gives identical files
        if cell.cell_type == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nbformat.validate(nb)
    return nb


def render(source: Path) -> str:
    """The text of the ``.ipynb`` file generated from ``source``."""
    text = nbformat.writes(notebook(source))
    return text if text.endswith("\n") else text + "\n"


def build(notebook_dir: Path = NOTEBOOK_DIR, out_dir: Path | None = None) -> list[Path]:
    """Write the ``.ipynb`` of every source of ``notebook_dir`` (to ``out_dir`` if given)."""
    written = []
    for source in sources(notebook_dir):
        path = target(source, out_dir)
        path.write_text(render(source), encoding="utf-8", newline="\n")
        written.append(path)
    return written


def stale(notebook_dir: Path = NOTEBOOK_DIR) -> list[str]:
    """One line per ``.ipynb`` of ``notebook_dir`` that is missing, out of date or orphaned."""
    problems = []
    for source in sources(notebook_dir):
        path = target(source)
        if not path.exists():
            problems.append(f"{path}: missing (generate it from {source.name})")
        elif path.read_text(encoding="utf-8") != render(source):
            problems.append(f"{path}: differs from what {source.name} generates")
    for path in sorted(notebook_dir.glob("*.ipynb")):
        if not path.with_suffix(".py").exists():
            problems.append(f"{path}: no source {path.with_suffix('.py').name}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="compare the committed .ipynb files instead of writing"
    )
    parser.add_argument(
        "--dir", type=Path, default=NOTEBOOK_DIR, help="notebook folder (default: notebooks/)"
    )
    args = parser.parse_args(argv)
    if args.check:
        problems = stale(args.dir)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("run `.venv/bin/python scripts/build_notebooks.py`", file=sys.stderr)
            return 1
        print(f"{len(sources(args.dir))} notebooks match their .py sources")
        return 0
    for path in build(args.dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
