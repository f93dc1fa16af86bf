"""MkDocs hooks of the documentation site: pages generated from the code at build time.

``mkdocs.yml`` loads this file under ``hooks:``. It does three things, so that the reference
pages cannot go stale:

* the spec reference (``docs/spec.md``): the marker ``<!-- bayescred:spec-reference -->`` is
  replaced by a table of every key of :class:`bayescred.ModelSpec`, read from the pydantic
  models (type, allowed values, default, meaning);
* the command-line reference (``docs/cli.md``): ``<!-- bayescred:cli-reference -->`` is replaced
  by ``bayescred --help`` and every command's ``--help``, from the argparse parser;
* the navigation: an entry of ``nav`` that is a glob pattern (``notebooks/*.ipynb``) becomes one
  entry per matching file, so that a new notebook appears on the site without editing the nav.

The functions are plain Python as well (``tests/test_docs_site.py`` imports this file).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parents[1]
SPEC_MARKER = "<!-- bayescred:spec-reference -->"
CLI_MARKER = "<!-- bayescred:cli-reference -->"
#: Terminal width the command-line help is formatted for (argparse reads ``COLUMNS``).
HELP_WIDTH = 88


# ------------------------------------------------------------------------------ spec reference
def _key(name: str, field: FieldInfo) -> str:
    """The TOML key of a field (its alias: ``lambda`` for ``lambda_``)."""
    return field.alias or name


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds (``X`` or ``X | None``), else None."""
    candidates = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _dict_value_model(annotation: Any) -> type[BaseModel] | None:
    """``V`` of a ``dict[str, V]`` field whose values are pydantic models, else None."""
    if typing.get_origin(annotation) is dict:
        value = typing.get_args(annotation)[1]
        if isinstance(value, type) and issubclass(value, BaseModel):
            return value
    return None


def _constraints(metadata: list[Any]) -> list[str]:
    """``> 0``, ``>= 1``... from a field's constraint metadata (annotated_types)."""
    out = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            out += _constraints(item.metadata)
        elif isinstance(item, annotated_types.Gt):
            out.append(f"> {item.gt}")
        elif isinstance(item, annotated_types.Ge):
            out.append(f">= {item.ge}")
        elif isinstance(item, annotated_types.Lt):
            out.append(f"< {item.lt}")
        elif isinstance(item, annotated_types.Le):
            out.append(f"<= {item.le}")
    return out


_TYPE_WORDS = {str: "text", bool: "`true` or `false`", int: "whole number", float: "number"}


def _type_words(annotation: Any, metadata: list[Any] | None = None) -> str:
    """A field's type in words: ``one of "a", "b"``, ``number > 0``, ``list of text``..."""
    constraints = " and ".join(_constraints(metadata or []))
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        return _type_words(base, [*extra, *(metadata or [])])
    if origin is Literal:
        return "one of " + _literal_values(annotation)
    if _is_union(annotation):
        args = typing.get_args(annotation)
        members = [a for a in args if a is not type(None)]
        words = [
            _literal_values(a)
            if typing.get_origin(a) is Literal and len(members) > 1
            else _type_words(a)
            for a in members
        ]
        text = " or ".join(words)
        return text + (", or unset" if type(None) in args else "")
    if origin is tuple:
        return "list of " + _type_words(typing.get_args(annotation)[0])
    if origin is dict:
        return "table"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    word = _TYPE_WORDS.get(annotation, getattr(annotation, "__name__", str(annotation)))
    return f"{word} {constraints}" if constraints else word


def _literal_values(annotation: Any) -> str:
    return ", ".join(f'`"{v}"`' for v in typing.get_args(annotation))


def _default_words(field: FieldInfo) -> str:
    """A field's default as it would be written in TOML (``"normal"``, ``true``, ``[]``)."""
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "see the section"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple | list):
        return "`[]`" if not value else "`[" + ", ".join(map(repr, value)) + "]`"
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return _link_design(text).replace("|", "\\|").replace("\n", " ")


def _doc(model: type[BaseModel]) -> str:
    """A model's docstring without its examples section, as Markdown."""
    text = typing.cast(str, model.__doc__ or "").split("Examples\n")[0]
    lines = [line.strip() for line in text.strip().splitlines()]
    return _link_design(ROLE.sub("", "\n".join(lines).strip()))


#: A Sphinx role before a code span (``:class:`X```), dropped on the site.
ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):(?=`)")
#: A citation of the design page in a docstring or description (as ``tests/test_docs.py``).
DESIGN_CITATION = re.compile(r"`{0,2}docs/design\.md`{0,2},? \(?section (\d+(?:\.\d+)?)\)?")


#: The same citation in rendered HTML (a docstring rendered by mkdocstrings).
HTML_CITATION = re.compile(
    r"(?:<code>)?docs/design\.md(?:</code>)?,? \(?section (\d+(?:\.\d+)?)\)?"
)


def design_anchors(path: Path = ROOT / "docs" / "design.md") -> dict[str, str]:
    """Section number -> the anchor MkDocs gives its heading in ``docs/design.md``."""
    from markdown.extensions.toc import slugify

    headings = re.findall(
        r"^#{2,3} (\d+(?:\.\d+)?)(\.? .*)$", path.read_text(encoding="utf-8"), re.M
    )
    return {number: slugify(number + rest, "-") for number, rest in headings}


def _link_design(text: str) -> str:
    """``docs/design.md section 3.1`` -> a link to that section of the model page."""
    anchors = design_anchors()

    def link(match: re.Match[str]) -> str:
        number = match.group(1)
        return f"[the model, section {number}](design.md#{anchors.get(number, number)})"

    return DESIGN_CITATION.sub(link, text)


def spec_sections(
    model: type[BaseModel] | None = None, prefix: str = ""
) -> Iterator[tuple[str, type[BaseModel]]]:
    """Every section of a spec: (dotted TOML path, its pydantic model), the top level first.

    ``priors`` tables are not sections: their keys are parameter names, listed separately.
    """
    from bayescred.spec import ModelSpec

    model = model or ModelSpec
    yield prefix, model
    for name, field in model.model_fields.items():
        inner = _model_of(field.annotation)
        if inner is not None:
            yield from spec_sections(inner, f"{prefix}.{_key(name, field)}".lstrip("."))


def _prior_tables(sections: list[tuple[str, type[BaseModel]]]) -> list[str]:
    """Paths of the ``dict[str, PriorSpec]`` tables (``priors``, ``extensive.priors``)."""
    return [
        f"{path}.{_key(name, field)}".lstrip(".")
        for path, model in sections
        for name, field in model.model_fields.items()
        if _dict_value_model(field.annotation) is not None
    ]


def spec_reference() -> str:
    """Markdown listing every key of a model specification, generated from the pydantic models.

    Returns
    -------
    str
        One section per TOML table (``## [effect.pooling]``), each a table of its keys with
        type or allowed values, default and meaning; then the prior names and distributions,
        and the default spec as TOML.
    """
    from bayescred.spec import (
        DIST_PARAMETERS,
        EXTENSIVE_PRIOR_NAMES,
        PRIOR_NAMES,
        ModelSpec,
        PriorSpec,
    )

    sections = list(spec_sections())
    out: list[str] = []
    for path, model in sections:
        title = "Top level" if not path else f"`[{path}]`"
        out += [f"## {title}", "", _doc(model), ""]
        out += ["| key | type or values | default | meaning |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            key = _key(name, field)
            inner = _model_of(field.annotation)
            if inner is not None:
                anchor = f"{path}.{key}".lstrip(".")
                kind = f"table: [`[{anchor}]`](#{_slug(anchor)})"
            elif _dict_value_model(field.annotation) is not None:
                anchor = f"{path}.{key}".lstrip(".")
                kind = f"table of priors: [`[{anchor}.NAME]`](#priors)"
            else:
                kind = _type_words(field.annotation, field.metadata)
            meaning = field.description or ""
            out.append(
                f"| `{key}` | {_cell(kind)} | {_cell(_default_words(field))} | {_cell(meaning)} |"
            )
        out.append("")

    tables = ", ".join(f"`[{t}.NAME]`" for t in _prior_tables(sections))
    out += [
        "## Priors",
        "",
        f"Priors are set per parameter in {tables}, e.g. `[priors.mu_beta]` with "
        '`dist = "normal"`, `mu = 0.0`, `sigma = 0.3`. Unset priors take weakly informative '
        "defaults on the outcome's scale (" + _link_design("docs/design.md section 3.6") + ").",
        "",
        "### Parameter names",
        "",
        "| name | parameter | in `[extensive.priors]` |",
        "|---|---|---|",
    ]
    for prior, meaning in PRIOR_NAMES.items():
        ext = "yes" if prior in EXTENSIVE_PRIOR_NAMES else "no"
        out.append(f"| `{prior}` | {_cell(meaning)} | {ext} |")
    out += ["", "### A prior's keys", "", _doc(PriorSpec), ""]
    out += ["| key | type or values | meaning |", "|---|---|---|"]
    for name, field in PriorSpec.model_fields.items():
        kind = _type_words(field.annotation, field.metadata)
        meaning = field.description or ""
        out.append(f"| `{_key(name, field)}` | {_cell(kind)} | {_cell(meaning)} |")
    out += ["", "Each distribution takes exactly these parameters:", ""]
    out += ["| `dist` | parameters |", "|---|---|"]
    for dist, params in DIST_PARAMETERS.items():
        out.append(f"| `{dist}` | {', '.join(f'`{p}`' for p in params)} |")
    out += [
        "",
        "## The default spec as TOML",
        "",
        "`bc.ModelSpec().to_toml_string()`: every key with its default (unset optional "
        "tables are left out).",
        "",
        "```toml",
        ModelSpec().to_toml_string().rstrip(),
        "```",
        "",
    ]
    return "\n".join(out)


def _slug(path: str) -> str:
    """The anchor MkDocs gives the heading ``[path]`` (``effect.pooling`` -> ``effectpooling``)."""
    return "".join(c for c in path if c.isalnum() or c in "-_")


# ------------------------------------------------------------------------------- CLI reference
@contextlib.contextmanager
def _columns(width: int) -> Iterator[None]:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def cli_commands(parser: argparse.ArgumentParser | None = None) -> dict[str, Any]:
    """The ``bayescred`` subcommands: name -> its argparse parser, in the parser's order."""
    from bayescred.cli.main import build_parser

    parser = parser or build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli_reference() -> str:
    """Markdown with ``bayescred --help`` and each command's ``--help``, from the parser."""
    from bayescred.cli.main import PROG, build_parser

    with _columns(HELP_WIDTH):
        parser = build_parser()
        out = [f"## `{PROG}`", "", "```text", parser.format_help().rstrip(), "```", ""]
        for name, sub in cli_commands(parser).items():
            out += [f"## `{PROG} {name}`", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------- navigation
def expand_nav(nav: Any, bases: list[Path]) -> Any:
    """``nav`` with every entry that is a glob pattern replaced by the files it matches.

    A pattern is matched in the first folder of ``bases`` where it matches anything (the docs
    folder, then the folder of ``mkdocs.yml``, where ``notebooks/`` is mounted under its own
    name by mkdocs-jupyter's ``notebook_dirs``); matches are sorted by name. A pattern that
    matches nothing is left as it is, so that MkDocs reports it as a missing page.
    """
    if isinstance(nav, list):
        out: list[Any] = []
        for item in nav:
            if isinstance(item, str) and any(c in item for c in "*?["):
                matches: list[str] = []
                for base in bases:
                    matches = sorted(p.relative_to(base).as_posix() for p in base.glob(item))
                    if matches:
                        break
                out += matches or [item]
            else:
                out.append(expand_nav(item, bases))
        return out
    if isinstance(nav, dict):
        return {key: expand_nav(value, bases) for key, value in nav.items()}
    return nav


# ----------------------------------------------------------------------------------- the hooks
def on_config(config: Any) -> Any:
    """Expand glob patterns in the navigation."""
    if config.nav:
        bases = [Path(config.docs_dir), Path(config.config_file_path).parent]
        config.nav = expand_nav(config.nav, bases)
    return config


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """Drop Sphinx roles left in rendered docstrings (``:class:<code>X</code>`` -> the code)."""
    html = re.sub(r":(?:class|func|meth|mod|attr|data|exc|obj):(?=<code)", "", html)
    html = re.sub(r"(<code[^>]*>)~", r"\1", html)
    design = files.get_file_from_path("design.md")
    if design is None or page.file is design:
        return html
    url, anchors = design.url_relative_to(page.file), design_anchors()

    def link(match: re.Match[str]) -> str:
        number = match.group(1)
        return f'<a href="{url}#{anchors[number]}">the model, section {number}</a>'

    return HTML_CITATION.sub(link, html)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Fill the generated reference pages."""
    if SPEC_MARKER in markdown:
        markdown = markdown.replace(SPEC_MARKER, spec_reference())
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    return markdown
