"""Headless Chromium for the tests that render HTML in a browser.

:func:`screenshot` renders a page to a PNG and returns its pixels, :func:`dump_dom` returns the
page's DOM after its scripts ran; both skip the test when Chromium is not installed
(:func:`chromium`) and fail it, with the end of Chromium's stderr, when Chromium fails.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

#: Seconds a Chromium run may take.
TIMEOUT = 180
#: Grey level (0 black, 1 white) below which a pixel counts as drawn on, not background.
BACKGROUND_GREY = 0.9


def chromium() -> str:
    """The Chromium binary, or skip the test with the reason."""
    for name in ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed (apt-get install chromium); browser render skipped")


def chromium_args(binary: str, profile: Path) -> list[str]:
    """Headless flags that keep Chromium off the network, with a fresh profile."""
    return [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ]


def run_chromium(
    page: Path, profile: Path, *flags: str, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Open ``page`` in headless Chromium with ``flags`` and the fresh profile ``profile``.

    Skips the test without Chromium; fails it (with the end of stderr) unless Chromium exits 0.
    """
    binary = chromium()
    run = subprocess.run(
        [*chromium_args(binary, profile), *flags, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def screenshot(
    page: Path,
    shot: Path,
    profile: Path,
    *,
    window: tuple[int, int],
    flags: tuple[str, ...] = (),
    timeout: float = TIMEOUT,
) -> np.ndarray:
    """Render ``page`` in a ``window`` of (width, height) pixels to the PNG ``shot``; its pixels
    (height, width, channels), as :func:`matplotlib.image.imread` reads them."""
    width, height = window
    run_chromium(
        page,
        profile,
        f"--window-size={width},{height}",
        *flags,
        f"--screenshot={shot}",
        timeout=timeout,
    )
    return np.asarray(mpimg.imread(shot))


def dump_dom(
    page: Path, profile: Path, *, flags: tuple[str, ...] = (), timeout: float = TIMEOUT
) -> str:
    """The DOM of ``page`` as serialised by headless Chromium after loading it."""
    return run_chromium(page, profile, *flags, "--dump-dom", timeout=timeout).stdout


def grey_levels(pixels: np.ndarray) -> np.ndarray:
    """Each pixel's grey level: the mean of its colour channels (alpha left out)."""
    return np.asarray(pixels[..., :3].mean(axis=-1))


def drawn_share(pixels: np.ndarray) -> float:
    """Share of the pixels darker than the background (a blank render gives 0)."""
    return float((grey_levels(pixels) < BACKGROUND_GREY).mean())
