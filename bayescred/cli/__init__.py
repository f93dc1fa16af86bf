"""The ``bayescred`` command line: ``bayescred demo | simulate | check-data | fit | summary |
predict | compare | report``."""

from bayescred.cli.main import main

__all__ = ["main"]
