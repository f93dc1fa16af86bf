"""Docstrings that cite the design page point at sections that exist in docs/design.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"docs/design\.md``?,? \(?section (\d+(?:\.\d+)?)")


def test_design_citations_point_at_existing_sections() -> None:
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", design, flags=re.MULTILINE))
    assert {"2", "3", "4", "5", "8"} <= sections
    cited = {
        (str(path.relative_to(ROOT)), number)
        for path in (ROOT / "bayescred").rglob("*.py")
        for number in CITATION.findall(path.read_text(encoding="utf-8"))
    }
    assert cited, "no docstring cites the design page"
    missing = sorted((path, n) for path, n in cited if n not in sections)
    assert missing == []
    stale = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "bayescred").rglob("*.py")
        if "DESIGN section" in p.read_text(encoding="utf-8")
    ]
    assert stale == []
