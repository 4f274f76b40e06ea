#!/usr/bin/env bash
# Installs the pinned guest toolchains into this folder: jco 1.35 (with componentize-qjs and preview2-shim) and
# componentize-js from npm (`npm ci` against package-lock.json), componentize-py from PyPI into .venv.
# Idempotent; needs node/npm and python3 (with venv). `setup.sh --js` installs only the JavaScript toolchain.
set -euo pipefail
cd "$(dirname "$0")"
js_only=false
[ "${1:-}" = --js ] && js_only=true

if [ ! -x node_modules/.bin/jco ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
if $js_only; then
  echo "jco $(node node_modules/@bytecodealliance/jco/dist/jco.js --version)"
  exit 0
fi
if [ ! -x .venv/bin/componentize-py ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
fi
echo "jco $(node node_modules/@bytecodealliance/jco/dist/jco.js --version), $(.venv/bin/componentize-py --version)"
