"""Headless Chromium for the tests that render HTML in a browser."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


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
