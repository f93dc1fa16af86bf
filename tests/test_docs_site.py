"""The documentation site (``mkdocs.yml``, ``docs/``, ``scripts/docs_hooks.py``).

The reference pages are generated from the code: the spec reference must list every key of the
pydantic schema (read here independently, from its JSON schema), the command-line reference
every command and option of the parser. The site builds with ``mkdocs build --strict`` (without
executing the notebooks: ``make docs`` does that, and ``tests/test_notebooks.py`` runs them);
a broken internal link and a notebook that raises each fail the build.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import mkdocs  # noqa: F401  (the docs extra, in the dev extra: missing must fail, not skip)

ROOT = Path(__file__).resolve().parents[1]
MKDOCS_TIMEOUT_S = 240


def _load_hooks() -> ModuleType:
    """``scripts/docs_hooks.py`` as a module (``scripts/`` is not a package)."""
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "scripts" / "docs_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = _load_hooks()


# ------------------------------------------------------------------------------ spec reference
def _schema_keys() -> dict[str, set[str]]:
    """Section path -> its keys, from ``ModelSpec.model_json_schema()`` (TOML names, aliases)."""
    from bayescred.spec import ModelSpec

    schema = ModelSpec.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})

    def target(prop: dict[str, Any]) -> dict[str, Any] | None:
        """The object schema a property refers to (directly, or in ``anyOf`` with null)."""
        for option in [prop, *prop.get("anyOf", []), *prop.get("allOf", [])]:
            if "$ref" in option:
                return defs[option["$ref"].rsplit("/", 1)[-1]]
        return None

    sections: dict[str, set[str]] = {}

    def walk(obj: dict[str, Any], path: str) -> None:
        sections[path] = set(obj["properties"])
        for key, prop in obj["properties"].items():
            inner = target(prop)
            if inner is not None and "properties" in inner:
                walk(inner, f"{path}.{key}".lstrip("."))

    walk(schema, "")
    return sections


def _reference_sections(markdown: str) -> dict[str, set[str]]:
    """Section path -> the keys in the first column of its table, from the generated page."""
    sections: dict[str, set[str]] = {}
    current: str | None = None
    for line in markdown.splitlines():
        heading = re.match(r"^## (?:`\[(.+)\]`|(Top level))$", line)
        if heading:
            current = heading.group(1) or ""
            sections[current] = set()
        elif line.startswith("## "):
            current = None
        elif current is not None:
            row = re.match(r"^\| `([^`]+)` \|", line)
            if row:
                sections[current].add(row.group(1))
    return sections


def test_spec_reference_lists_every_key_of_the_schema() -> None:
    expected = _schema_keys()
    assert {"", "outcome", "effect.pooling", "extensive", "sampling"} <= set(expected)
    assert "lambda" in expected["effect.pooling"]  # the TOML name, not the field name lambda_
    assert _reference_sections(hooks.spec_reference()) == expected


def test_spec_reference_lists_every_prior_and_distribution() -> None:
    from bayescred.spec import DIST_PARAMETERS, PRIOR_NAMES, PriorSpec

    page = hooks.spec_reference()
    for name in [*PRIOR_NAMES, *DIST_PARAMETERS]:
        assert f"| `{name}` |" in page, name
    for key in PriorSpec.model_json_schema()["properties"]:
        assert f"| `{key}` |" in page, key


def test_every_spec_key_has_a_description() -> None:
    """Each field says what it is: the reference's "meaning" column is never empty."""
    from bayescred.spec import PriorSpec

    undocumented = [
        f"{path}.{name}".lstrip(".")
        for path, model in [*hooks.spec_sections(), ("priors.NAME", PriorSpec)]
        for name, field in model.model_fields.items()
        if not field.description
    ]
    assert undocumented == []


def test_spec_reference_types_and_defaults() -> None:
    """Allowed values, constraints and defaults come from the schema (a few exact rows)."""
    page = hooks.spec_reference()
    assert "| `draws` | whole number >= 1 | `1000` |" in page
    assert "| `target_accept` | number > 0 and < 1 | `0.95` |" in page
    assert '| `reference` | `"median"` or number >= 0 | `"median"` |' in page
    assert '| `curve` | one of `"geometric"`, `"linear"`, `"quadratic"`, `"step"` |' in page
    assert '| `kind` | one of `"real"`, `"nonnegative"`, `"count"`, `"binary"`, or unset |' in page
    assert "| `period_effects` | `true` or `false` | `true` |" in page


def test_design_citations_become_links() -> None:
    text = hooks._link_design("see docs/design.md section 3.1 and ``docs/design.md`` section 5")
    assert text == (
        "see [the model, section 3.1](design.md#31-credential-curves) and "
        "[the model, section 5](design.md#5-likelihood-families)"
    )


# ------------------------------------------------------------------------------- CLI reference
def test_cli_reference_covers_every_command_and_option() -> None:
    from bayescred.cli.main import build_parser

    page = hooks.cli_reference()
    commands = hooks.cli_commands(build_parser())
    assert {"demo", "fit", "summary", "predict", "compare", "report"} <= set(commands)
    for name, parser in commands.items():
        section = page.split(f"## `bayescred {name}`\n", 1)[1].split("\n## ", 1)[0]
        for action in parser._actions:
            for option in action.option_strings:
                assert option in section, f"{name} {option}"
            if not action.option_strings and action.dest != argparse.SUPPRESS:
                assert (action.metavar or action.dest) in section, f"{name} {action.dest}"


# ---------------------------------------------------------------------------------- navigation
def test_nav_globs_expand_to_every_notebook(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# a")
    (tmp_path / "nb").mkdir()
    for name in ("02_b.ipynb", "01_a.ipynb", "notes.md"):
        (tmp_path / "nb" / name).write_text("{}")
    nav = [{"Home": "a.md"}, {"Examples": ["nb/*.ipynb", "*.md", "gone/*.ipynb"]}]
    expanded = hooks.expand_nav(nav, [tmp_path / "docs", tmp_path])
    assert expanded == [
        {"Home": "a.md"},
        {"Examples": ["nb/01_a.ipynb", "nb/02_b.ipynb", "a.md", "gone/*.ipynb"]},
    ]
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    site_nav = hooks.expand_nav(["notebooks/*.ipynb"], [ROOT / "docs", ROOT])
    assert [Path(p).name for p in site_nav] == notebooks


# ----------------------------------------------------------------------------------- the build
def _mkdocs(config: Path, site: Path, *, execute: bool) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "BAYESCRED_DOCS_EXECUTE": "true" if execute else "false",
        "NO_MKDOCS_2_WARNING": "1",
    }
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)]
    return subprocess.run(
        [*command, "-d", str(site)],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=MKDOCS_TIMEOUT_S,
    )


def _copy_site_sources(dest: Path) -> Path:
    """The files the site is built from, copied to ``dest``; returns the copied config."""
    shutil.copy(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", dest / "docs")
    shutil.copytree(ROOT / "notebooks", dest / "notebooks", ignore=shutil.ignore_patterns(".*"))
    (dest / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "docs_hooks.py", dest / "scripts" / "docs_hooks.py")
    return dest / "mkdocs.yml"


def test_site_builds_strict_without_executing(tmp_path: Path) -> None:
    """The real config builds with ``--strict``: every nav entry exists, every internal link
    and anchor resolves, every API object is found; the pages hold what they are for."""
    result = _mkdocs(ROOT / "mkdocs.yml", tmp_path / "site", execute=False)
    assert result.returncode == 0, result.stderr[-4000:]
    site = tmp_path / "site"
    spec_page = (site / "spec" / "index.html").read_text(encoding="utf-8")
    assert "low_rank_mass_matrix" in spec_page and "<!-- bayescred" not in spec_page
    cli_page = (site / "cli" / "index.html").read_text(encoding="utf-8")
    assert "--track-record" in cli_page and "<!-- bayescred" not in cli_page
    api_page = (site / "api" / "model" / "index.html").read_text(encoding="utf-8")
    assert 'id="bayescred.CredentialFit.average_effect"' in api_page
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        page = site / "notebooks" / notebook.stem / "index.html"
        assert page.is_file(), f"{notebook.name} is not on the site"
        assert notebook.stem in (site / "index.html").read_text(encoding="utf-8")  # in the nav
    # offline: no web fonts; the theme's assets are local
    html = "".join(p.read_text(encoding="utf-8") for p in site.rglob("*.html"))
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html


def test_broken_internal_link_fails_the_build(tmp_path: Path) -> None:
    config = _copy_site_sources(tmp_path)
    index = tmp_path / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\n[gone](no_such_page.md)\n")
    result = _mkdocs(config, tmp_path / "site", execute=False)
    assert result.returncode != 0
    assert "no_such_page.md" in result.stderr


def test_notebook_error_fails_the_build(tmp_path: Path) -> None:
    """With execution on (as in ``make docs``) a notebook that raises aborts the build."""
    import nbformat

    config = _copy_site_sources(tmp_path)
    notebooks = tmp_path / "notebooks"
    for path in notebooks.glob("*.ipynb"):
        path.unlink()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Broken"), nbformat.v4.new_code_cell("1 / 0")]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Py"}
    nbformat.write(nb, notebooks / "99_broken.ipynb")
    result = _mkdocs(config, tmp_path / "site", execute=True)
    assert result.returncode != 0
    assert "ZeroDivisionError" in result.stdout + result.stderr
