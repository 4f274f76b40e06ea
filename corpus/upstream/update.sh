#!/usr/bin/env bash
# Refreshes the vendored upstream conformance suites from upstream checkouts.
#
#   corpus/upstream/update.sh <component-model> <wasmtime> <wasm-tools> [<wit-component crate source>]
#
# <component-model>, <wasmtime> and <wasm-tools> are git checkouts of WebAssembly/component-model,
# bytecodealliance/wasmtime and bytecodealliance/wasm-tools at the commits to vendor. The fourth argument is the
# source of the `wit-component` crate whose test outputs are vendored (default: the 0.254.x copy in the cargo
# registry, which `cargo fetch` brings). The script
#
#   * replaces component-model/, wasmtime-misc/ and wasm-tools/ with the upstream test files (.wast, .wat,
#     .wat.stderr, README.md, nyi.txt) and license files,
#   * replaces wit-component/components/*.wat and wit-component/wit/*.wit with the crate's expected outputs,
#   * rewrites the table of sources in SOURCES.tsv (repository, commit, date),
#   * keeps the rows of index.tsv and wit-component/index.tsv whose files still exist, adds a row marked
#     `unclassified` for every new file and drops the rows of files that are gone, and prints both lists.
#
# Then run the suites — `cargo run --release -p component-harness -- conform` — and update
# corpus/expectations.txt for what changed: every new failure needs a fix or a rule with its reason. New
# wit-component rows need wasmtime's behaviour recorded (columns 2 and 3) before their trials can run.
set -euo pipefail

if [ $# -lt 3 ]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi

here="$(cd "$(dirname "$0")" && pwd)"
cm="$(cd "$1" && pwd)"
wt="$(cd "$2" && pwd)"
tools="$(cd "$3" && pwd)"
witc="${4:-}"
if [ -z "$witc" ]; then
  witc="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/wit-component-0.254.* 2>/dev/null | sort -V | tail -n 1)"
fi
[ -d "$witc/tests/components" ] || { echo "error: no wit-component crate source with tests/ (give it as 4th argument)" >&2; exit 1; }

old_list="$(mktemp)"; new_list="$(mktemp)"
trap 'rm -f "$old_list" "$new_list"' EXIT
cut -f1 "$here/index.tsv" | tail -n +2 | sort > "$old_list"

# copy_tests <from> <to>: the test files below <from>, with their relative paths, into a fresh <to>.
copy_tests() {
  local from="$1" to="$2"
  rm -rf "$to"
  mkdir -p "$to"
  (cd "$from" && find . -type f \( -name '*.wast' -o -name '*.wat' -o -name '*.wat.stderr' \) -print0 |
    while IFS= read -r -d '' f; do mkdir -p "$to/$(dirname "$f")" && cp "$f" "$to/$f"; done)
}

copy_tests "$cm/test" "$here/component-model"
for f in README.md nyi.txt; do [ -f "$cm/test/$f" ] && cp "$cm/test/$f" "$here/component-model/"; done
cp "$cm/LICENSE" "$here/component-model/" 2>/dev/null || true
cp "$cm"/LICENSE-* "$here/component-model/" 2>/dev/null || true

rm -rf "$here/wasmtime-misc"
for sub in component-model component-model-threading; do
  [ -d "$wt/tests/misc_testsuite/$sub" ] && copy_tests "$wt/tests/misc_testsuite/$sub" "$here/wasmtime-misc/$sub"
done
# Component tests kept elsewhere in wasmtime's misc suite (e.g. gc/component-*.wast).
(cd "$wt/tests/misc_testsuite" && find . -path ./component-model -prune -o -path ./component-model-threading -prune \
  -o -type f -name 'component*.wast' -print0 |
  while IFS= read -r -d '' f; do mkdir -p "$here/wasmtime-misc/$(dirname "$f")" && cp "$f" "$here/wasmtime-misc/$f"; done)
cp "$wt/LICENSE" "$here/wasmtime-misc/"

rm -rf "$here/wasm-tools"
copy_tests "$tools/tests/cli/component-model" "$here/wasm-tools/component-model"
mkdir -p "$here/wasm-tools/missing-features"
[ -d "$tools/tests/cli/missing-features/component-model" ] &&
  copy_tests "$tools/tests/cli/missing-features/component-model" "$here/wasm-tools/missing-features/component-model"
[ -f "$tools/tests/cli/missing-features/component-not-enabled.wast" ] &&
  cp "$tools/tests/cli/missing-features/component-not-enabled.wast" "$here/wasm-tools/missing-features/"
cp "$tools"/LICENSE-* "$here/wasm-tools/"

rm -rf "$here/wit-component/components" "$here/wit-component/wit"
mkdir -p "$here/wit-component/components" "$here/wit-component/wit"
for d in "$witc"/tests/components/*/; do
  n="$(basename "$d")"
  [ -f "$d/component.wat" ] && cp "$d/component.wat" "$here/wit-component/components/$n.wat"
  [ -f "$d/component.wit.print" ] && cp "$d/component.wit.print" "$here/wit-component/wit/$n.wit"
done
cp "$witc"/LICENSE-* "$here/wit-component/"

# The table of sources.
{
  printf 'folder\trepository\tcommit\tdate\tupstream test root\n'
  printf 'component-model\tWebAssembly/component-model\t%s\t%s\ttest/\n' \
    "$(git -C "$cm" rev-parse HEAD)" "$(git -C "$cm" log -1 --format=%cs)"
  printf 'wasmtime-misc\tbytecodealliance/wasmtime\t%s\t%s\ttests/misc_testsuite/\n' \
    "$(git -C "$wt" rev-parse HEAD)" "$(git -C "$wt" log -1 --format=%cs)"
  printf 'wasm-tools\tbytecodealliance/wasm-tools\t%s\t%s\ttests/cli/\n' \
    "$(git -C "$tools" rev-parse HEAD)" "$(git -C "$tools" log -1 --format=%cs)"
  printf 'wit-component\tcrates.io wit-component %s\t-\t-\ttests/components/<name>/component.wat\n' \
    "$(basename "$witc" | sed 's/^wit-component-//')"
} > "$here/SOURCES.tsv"

# index.tsv: keep rows of files that still exist, add the new ones as unclassified.
(cd "$here" && find component-model wasmtime-misc wasm-tools -type f \( -name '*.wast' -o -name '*.wat' \) | sort) > "$new_list"
{
  head -n 1 "$here/index.tsv"
  awk -F'\t' 'NR == FNR { keep[$1] = 1; next } FNR > 1 && ($1 in keep)' "$new_list" "$here/index.tsv"
  comm -13 "$old_list" "$new_list" | awk -F'\t' '{ printf "%s\t-\tunclassified\t-\t-\t-\t-\t-\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\tadded by update.sh\n", $1 }'
} > "$here/index.tsv.new"
mv "$here/index.tsv.new" "$here/index.tsv"

echo "files added:";   comm -13 "$old_list" "$new_list" | sed 's/^/  /'
echo "files removed:"; comm -23 "$old_list" "$new_list" | sed 's/^/  /'

# wit-component/index.tsv: the same for components.
ls "$here/wit-component/components" | sort > "$new_list"
cut -f1 "$here/wit-component/index.tsv" | tail -n +2 | sort > "$old_list"
{
  head -n 1 "$here/wit-component/index.tsv"
  awk -F'\t' 'NR == FNR { keep[$1] = 1; next } FNR > 1 && ($1 in keep)' "$new_list" "$here/wit-component/index.tsv"
  comm -13 "$old_list" "$new_list" | awk '{ printf "%s\tunrecorded\tunrecorded\t-\t-\tadded by update.sh: record wasmtime 48 here\n", $1 }'
} > "$here/wit-component/index.tsv.new"
mv "$here/wit-component/index.tsv.new" "$here/wit-component/index.tsv"
echo "components added:";   comm -13 "$old_list" "$new_list" | sed 's/^/  /'
echo "components removed:"; comm -23 "$old_list" "$new_list" | sed 's/^/  /'
echo "next: cargo run --release -p component-harness -- conform   (then update corpus/expectations.txt)"
