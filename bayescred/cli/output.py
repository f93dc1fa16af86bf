"""What the commands print: one-line errors, progress notes, numbers and text tables."""

from __future__ import annotations

import math
import sys
from typing import Any


class CLIError(Exception):
    """Bad command-line input: reported as one line on stderr, exit status 2."""


# ------------------------------------------------------------------------------ output
def out(text: str = "") -> None:
    """Print ``text`` to stdout and flush (so it interleaves with stderr in order)."""
    print(text, flush=True)


def note(text: str) -> None:
    """Print a progress line to stderr."""
    print(text, file=sys.stderr, flush=True)


def fmt(value: Any, digits: int = 3, sign: bool = False) -> str:
    """A number for a table: ``-`` when missing, else ``digits`` decimals."""
    if value is None or not math.isfinite(float(value)):
        return "-"
    return f"{float(value):{'+' if sign else ''}.{digits}f}"


def pct(value: Any) -> str:
    """A signed percentage: one decimal, or three significant digits when huge."""
    v = float(value)
    if not math.isfinite(v):
        return "-"
    return f"{v:+.1f}%" if abs(v) < 1e5 else f"{v:+.3g}%"


def indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line if line else line for line in text.splitlines())


def text_table(rows: list[dict[str, str]], left: tuple[str, ...] = ()) -> str:
    """Align string cells in columns: the ``left`` columns left-aligned, the others right."""
    if not rows:
        return ""
    columns = list(rows[0])
    width = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}

    def line(cells: dict[str, str]) -> str:
        parts = [
            f"{cells[c]:<{width[c]}}" if c in left else f"{cells[c]:>{width[c]}}" for c in columns
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line({c: c for c in columns}), *(line(r) for r in rows)])
