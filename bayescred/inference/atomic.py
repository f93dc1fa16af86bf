"""Write a file or folder atomically: into a temporary sibling, flushed to disk, then renamed
over the target, so a crash never leaves a half-written target (an existing one stays intact
until the rename).

:func:`atomic_replace` does the moves and the clean-up; :func:`temporary_sibling` names the
temporary path and :func:`fsync_path` flushes a file or folder. See
:mod:`bayescred.inference.io` for how saving a fit uses them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from bayescred.errors import FitFileError

__all__ = ["atomic_replace", "fsync_path", "temporary_sibling"]


def temporary_sibling(target: Path, tag: str) -> Path:
    """A fresh hidden path next to ``target``: ``.<name>.<12 hex digits>.<tag>``.

    Parameters
    ----------
    target
        The path to be written.
    tag
        What the path is for (``"tmp"``, ``"old"``).

    Returns
    -------
    pathlib.Path
        A path in ``target``'s folder that nothing else uses.
    """
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.{tag}")


def fsync_path(path: Path, *, directory: bool = False) -> None:
    """Flush ``path`` to disk (best effort for folders, which some systems cannot open).

    Parameters
    ----------
    path
        A file, or (with ``directory``) a folder.
    directory
        Whether ``path`` is a folder: then failing to open or flush it is ignored.

    Raises
    ------
    OSError
        If a file cannot be opened or flushed.
    """
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def atomic_replace(
    target: Path,
    tmp: Path,
    write: Callable[[], object],
    *,
    verify: Callable[[], None] | None = None,
    reserve_file: bool = False,
) -> None:
    """Run ``write`` (it writes ``tmp``) and ``verify``, move ``tmp`` over ``target``.

    On any failure ``tmp`` is removed and an existing ``target`` is left (or put back) as it
    was.

    Parameters
    ----------
    target
        The file or folder to replace (it need not exist).
    tmp
        Where ``write`` writes, in ``target``'s folder (:func:`temporary_sibling`).
    write
        Writes ``tmp``; its result is ignored.
    verify
        Checks the written ``tmp`` before it is moved into place (raises if it is wrong).
    reserve_file
        Create ``tmp`` as an empty file first (exclusively, so the name is reserved).

    Raises
    ------
    FitFileError
        If ``write`` fails (with its error as the cause).
    """
    old: Path | None = None
    try:
        if reserve_file:
            # reserve a unique name; the mode honours the umask like any new file
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        try:
            write()
        except Exception as err:
            raise FitFileError(f"could not write a fit to {str(target)!r}: {err}") from err
        if verify is not None:
            verify()
        if tmp.is_dir():
            for f in tmp.rglob("*"):
                if f.is_file():
                    fsync_path(f)
            if target.exists():  # a folder cannot be renamed over a non-empty one
                old = temporary_sibling(target, "old")
                os.replace(target, old)
        else:
            fsync_path(tmp)
        os.replace(tmp, target)
        fsync_path(target.parent, directory=True)
    except BaseException:
        if old is not None and not target.exists():
            os.replace(old, target)
            old = None
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
