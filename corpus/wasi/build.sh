#!/usr/bin/env bash
# Builds the WASI 0.2 programs of corpus/wasi/programs with the real toolchains into corpus/wasi/build/:
#   build/py/<name>.wasm  componentize-py (CPython in the component; ~18 MB each)
#   build/js/<name>.wasm  jco componentize --backend qjs (QuickJS; ~1.7 MB each)
# and writes build/manifest.tsv (language, program, bytes, sha256, toolchain). Neither toolchain's output is
# byte-reproducible (the sha256 changes from build to build), so the built files are not committed.
#
#   corpus/wasi/build.sh [--lang js|py] [--node]
#     --lang   builds one language only (the other's build is left as it is)
#     --node   also transpiles each with jco and runs it in Node (jco's own host)
#
# The toolchains come from toolchains/setup.sh (pinned npm and PyPI packages); the WIT is wasi:cli@0.2.12 as
# jco 1.35 ships it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
langs="js py"
node=false
while [ $# -gt 0 ]; do
  case "$1" in
    --lang) langs="$2"; shift 2 ;;
    --node) node=true; shift ;;
    *) echo "usage: build.sh [--lang js|py] [--node]" >&2; exit 2 ;;
  esac
done
if [ "$langs" = js ]; then bash "$root/toolchains/setup.sh" --js >/dev/null; else bash "$root/toolchains/setup.sh" >/dev/null; fi
tc="$root/toolchains"
jco=(node "$tc/node_modules/@bytecodealliance/jco/dist/jco.js")
py="$tc/.venv/bin/componentize-py"
out="$here/build"
for lang in $langs; do rm -rf "${out:?}/$lang"; done
rm -rf "$out/wit" "$out/node" "$out/node_modules"
mkdir -p "$out/py" "$out/js" "$out/wit/deps"

# componentize-py wants the world's package at the root of the WIT folder and its dependencies in deps/.
wasi="$tc/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12"
cp "$wasi/wasi-cli/package.wit" "$out/wit/cli.wit"
for dep in io clocks random filesystem sockets; do
  mkdir -p "$out/wit/deps/$dep"
  cp "$wasi/wasi-$dep/package.wit" "$out/wit/deps/$dep/"
done
world="wasi:cli/command@0.2.12"

[ -f "$out/manifest.tsv" ] || printf 'language\tprogram\tbytes\tsha256\ttoolchain\n' > "$out/manifest.tsv"
record() {
  sed -i "/^$1\t$2\t/d" "$out/manifest.tsv"
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$(stat -c %s "$3")" "$(sha256sum "$3" | cut -d' ' -f1)" "$4" >> "$out/manifest.tsv"
}

if [[ " $langs " == *" js "* ]]; then
qjs="jco $("${jco[@]}" --version) componentize --backend qjs"
for src in "$here"/programs/js/*.js; do
  name="$(basename "$src" .js)"
  [ "$name" = io ] && continue
  (cd "$here/programs/js" && "${jco[@]}" componentize "$name.js" --wit "$out/wit" -n "$world" --backend qjs \
    --backend-qjs-disable-async -o "$out/js/$name.wasm" >/dev/null)
  record js "$name" "$out/js/$name.wasm" "$qjs"
  echo "built js/$name.wasm"
done
fi

if [[ " $langs " == *" py "* ]]; then
cpy="$("$py" --version)"
for src in "$here"/programs/py/*.py; do
  name="$(basename "$src" .py)"
  (cd "$here/programs/py" && "$py" -d "$out/wit" -w "$world" componentize "$name" -o "$out/py/$name.wasm" >/dev/null)
  record py "$name" "$out/py/$name.wasm" "$cpy"
  echo "built py/$name.wasm"
done
fi

if $node; then
  # Node 20 needs extended-const behind a flag (both toolchains' core modules use it).
  for wasm in "$out"/js/*.wasm "$out"/py/*.wasm; do
    lang="$(basename "$(dirname "$wasm")")"
    name="$(basename "$wasm" .wasm)"
    dir="$out/node/$lang-$name"
    "${jco[@]}" transpile "$wasm" -o "$dir" --no-typescript --name "$name" >/dev/null
    echo '{"type":"module"}' > "$dir/package.json"
  done
  # The runner and the transpiled modules must load the same preview2-shim instance: both resolve it from here.
  ln -s "$tc/node_modules" "$out/node_modules"
  cp "$here/node/run-wasi.mjs" "$out/run-wasi.mjs"
  echo "transpiled into $out/node; run one with:"
  echo "  node --experimental-wasm-extended-const $out/run-wasi.mjs $out/node/<lang>-<name> <name> [--dir HOST::GUEST] [--env K=V] [-- ARGS...]"
fi
