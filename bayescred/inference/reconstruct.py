"""Rebuild a fit's :class:`ModelDesign` (and so its PyMC model) from the fit's DataTree alone.

A saved fit stores the rows the model used (``constant_data``, ``observed_data``), the spec and
the data-derived constants; nothing else is needed to compute effects, checks, log-likelihoods
or plots, so a loaded fit never needs the original frame.

:func:`design_from_tree` lives in :mod:`bayescred.inference.schema`, next to the code that
writes what it reads; it is importable from here as before.
"""

from __future__ import annotations

from bayescred.inference.schema import design_from_tree

__all__ = ["design_from_tree"]
