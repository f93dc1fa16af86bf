"""The record of one calibration simulation, written the same way for SBC and repeated sampling.

A record is a plain dict (what :class:`~bayescred.calibration.store.ResultStore` writes):

* ``index``: the simulation's number;
* ``status``: ``ok``, or the error that stopped it (its type and message, at most 500
  characters; nothing else is recorded then);
* for a fitted simulation, the fit's ``divergences`` and worst R-hat (``max_r_hat``), read from
  its public diagnostics table (:meth:`~bayescred.facade.credential_fit.CredentialFit.diagnostics`),
  the worker's process id (``worker_pid``) and compilation count (``compilations``), and
  ``elements``: per element its fields (``truth``, ``rank`` and ``L`` for SBC; ``estimate``,
  ``low``, ``high`` and ``truth`` for repeated sampling).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bayescred.facade.credential_fit import CredentialFit

#: Longest error text a failed simulation's ``status`` keeps.
MAX_STATUS_CHARS = 500


def failed_record(index: int, err: BaseException) -> dict[str, Any]:
    """The record of simulation ``index`` stopped by ``err``: its index and the error."""
    return {"index": int(index), "status": f"{type(err).__name__}: {err}"[:MAX_STATUS_CHARS]}


def fitted_record(
    index: int, fit: CredentialFit, elements: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The record of simulation ``index`` fitted by ``fit``, with its per-element fields.

    The diagnostics come from the fit's public table; the process id and compilation count
    from the worker running the simulation (call it there).
    """
    from bayescred.inference.compiled import shared_cache

    value = fit.diagnostics().set_index("check")["value"]  # one row per check
    return {
        "index": int(index),
        "status": "ok",
        "divergences": int(value["divergences"]),
        "max_r_hat": float(value["max R-hat"]),
        "worker_pid": os.getpid(),
        "compilations": int(shared_cache().compilations),
        "elements": elements,
    }
