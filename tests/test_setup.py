"""The set-up script finds a working Python >= 3.12 by running candidates, or says what to install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "find-python.sh"


def _fake(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _run(path_dirs: list[Path]) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.pathsep.join([*(str(p) for p in path_dirs), "/usr/bin", "/bin"]),
        "HOME": "/nonexistent",
    }
    return subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, env=env, check=False
    )


def test_broken_shims_and_old_pythons_are_rejected_with_install_advice(tmp_path: Path) -> None:
    _fake(tmp_path, "python3.13", 'echo "pyenv: python3.13: command not found" >&2; exit 127')
    _fake(tmp_path, "python3.12", "exit 1")
    _fake(tmp_path, "python3", "exit 1")  # stands in for a Python that fails the version check
    if any(Path("/usr/bin").glob("python3.1[2-9]")) or any(
        Path("/usr/local/bin").glob("python3.1[2-9]")
    ):
        pytest.skip("this machine has a system Python >= 3.12 outside PATH lookups")
    result = _run([tmp_path])
    assert result.returncode == 1
    assert "Python 3.12 or newer" in result.stderr
    assert "apt-get install python3.12" in result.stderr and "pyenv install" in result.stderr


@pytest.mark.skipif(sys.version_info < (3, 12), reason="needs the running Python to be >= 3.12")
def test_a_working_python_on_path_is_chosen(tmp_path: Path) -> None:
    (tmp_path / "python3.12").symlink_to(sys.executable)
    _fake(tmp_path, "python3.13", "exit 127")  # a newer name that does not run is skipped
    result = _run([tmp_path])
    assert result.returncode == 0, result.stderr
    chosen = result.stdout.strip()
    assert (
        subprocess.run(
            [chosen, "-c", "import sys; assert sys.version_info >= (3, 12)"], check=False
        ).returncode
        == 0
    )
    assert shutil.which(chosen) or Path(chosen).exists()
