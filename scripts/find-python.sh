#!/usr/bin/env bash
# Print the path of the newest working Python >= 3.12, or explain what to install and exit 1.
# Every candidate is *run*: a pyenv shim named python3.12 that is not selected fails and is skipped.
set -u
candidates=()
for name in python3.14 python3.13 python3.12 python3; do
  p=$(command -v "$name" 2>/dev/null) && candidates+=("$p")
done
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for p in "$root"/versions/3.1[2-9]*/bin/python3; do [ -x "$p" ] && candidates+=("$p"); done
fi
for p in /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do [ -x "$p" ] && candidates+=("$p"); done
best=""; best_ver=0
for p in "${candidates[@]}"; do
  ver=$("$p" -c 'import sys, venv; v = sys.version_info; print(v[0] * 100 + v[1]) if v >= (3, 12) else None' 2>/dev/null) || continue
  [ -n "$ver" ] && [ "$ver" != "None" ] || continue
  if [ "$ver" -gt "$best_ver" ]; then best="$p"; best_ver="$ver"; fi
done
if [ -z "$best" ]; then
  cat >&2 <<'MSG'
bayescred needs Python 3.12 or newer (PyMC 6 does not support older versions), with the venv module.
None was found that runs. Install one of:
  Debian/Ubuntu : sudo apt-get install python3.12 python3.12-venv   (or python3.13 / python3.13-venv)
  pyenv         : pyenv install 3.13   (then re-run this command; pyenv's versions are found without selecting them)
  macOS         : brew install python@3.13
MSG
  exit 1
fi
echo "$best"
