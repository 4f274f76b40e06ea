#!/usr/bin/env bash
# The nightly fuzzing job (issue 7), runnable locally from the repository root:
#
#   bash ci/nightly.sh
#
# 0. The harness's self-test (`component-harness selftest`): engines that are wrong on purpose must be caught,
#    blamed, shrunk and written, tier by tier; a harness that cannot catch them makes the rest of the night moot.
# 0b. The WASI programs of corpus/wasi built with the real toolchains, the 18 MB componentize-py ones included
#    (`cargo test` runs only the JavaScript ones): identical on the three engines and equal to their expectations.
# 1. Differential fuzzing with the harness (`component-harness fuzz`) for FUZZ_SECONDS, all three engines compared
#    in one run, in crash-safe worker processes. Divergences and crashes are shrunk and written to
#    corpus/regressions/ by the harness (those attributed to a core backend, with their core-level evidence, to
#    corpus/backends/); new files there are copied to ci/out/regressions/ and ci/out/backends/.
# 1b. jco (the opt-in fourth engine): `conform --engine jco`, then `fuzz --engine jco --engine wasmtime --engine
#    layer-wasmi` for JCO_FUZZ_SECONDS; jco's own findings go to corpus/jco/ (and ci/out/jco/) without failing.
# 2. Every cargo-fuzz target in fuzz/ for CARGO_FUZZ_SECONDS each (needs a nightly toolchain and cargo-fuzz; both
#    are installed if missing, and this part is skipped with a message if that is impossible, e.g. offline).
#    Crash artifacts are copied to ci/out/artifacts/<target>/.
#
# Exits non-zero if any divergence or crash was found, or if a step failed to run. Logs, the harness's JSON
# summaries and ci/out/summary.md are in ci/out/.
#
# Knobs (environment):
#   FUZZ_SECONDS        seconds of the harness run (default 3600)
#   CARGO_FUZZ_SECONDS  seconds per cargo-fuzz target (default 600; 0 skips the cargo-fuzz part)
#   JOBS                worker threads for the harness / libFuzzer fork jobs (default: all cores)
#   SEED                first seed of the harness runs (default: the harness's, from the clock)
#   REQUIRE_CARGO_FUZZ  1: fail (instead of skipping) when nightly or cargo-fuzz cannot be installed
#   CARGO_FUZZ_TARGETS  space-separated targets to run (default: all, from `cargo fuzz list`)
#   REGRESSIONS_DIR     where the harness writes shrunk regressions (default: corpus/regressions)
#   JCO_FUZZ_SECONDS    seconds of the jco fuzz run (default 600; 0 skips the jco part, step 1b)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

FUZZ_SECONDS=${FUZZ_SECONDS:-3600}
CARGO_FUZZ_SECONDS=${CARGO_FUZZ_SECONDS:-600}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
SEED=${SEED:-}
REQUIRE_CARGO_FUZZ=${REQUIRE_CARGO_FUZZ:-0}
OUT=$ROOT/ci/out
REGRESSIONS=${REGRESSIONS_DIR:-$ROOT/corpus/regressions}

mkdir -p "$OUT" "$REGRESSIONS"
SUMMARY=$OUT/summary.md
: >"$SUMMARY"
failed=0

note() { echo "$*" | tee -a "$SUMMARY"; }
fail() { note "FAIL: $*"; failed=1; }
section() { echo; echo "=== $* ==="; }
# Files under a directory, one per line, sorted (empty if it does not exist).
listing() { if [ -d "$1" ]; then (cd "$1" && find . -type f | sort); fi; }
# cargo-fuzz in fuzz/, always with its own target directory fuzz/target (never $CARGO_TARGET_DIR, which may hold
# the stable, uninstrumented build of the workspace).
cfuzz() { (cd "$ROOT/fuzz" && env -u CARGO_TARGET_DIR cargo +nightly fuzz "$@"); }

note "# Nightly fuzzing $(date -u +%Y-%m-%dT%H:%M:%SZ) at $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
note ""
note "FUZZ_SECONDS=$FUZZ_SECONDS CARGO_FUZZ_SECONDS=$CARGO_FUZZ_SECONDS JOBS=$JOBS${SEED:+ SEED=$SEED}"
note ""

# ---------------------------------------------------------------------------------------------------------------
# 1. The harness's differential fuzzer.
#
# Exit codes of `component-harness fuzz` (harness/src/commands.rs, harness/src/main.rs): 0 when no finding that
# fails the run was made (backend findings with core-level evidence do not, without --strict), 1 when at least one
# was (each shrunk and written to --out), 2 on an error (unknown engine, I/O, ...). A crash of an engine is a
# finding like a divergence: the harness survives it.
section "building the harness"
cargo build --release -p component-harness

section "harness self-test"
rc=0
cargo run --release -q -p component-harness -- selftest --json "$OUT/selftest.json" 2>&1 | tee "$OUT/selftest.log" || rc=$?
if [ "$rc" -eq 0 ]; then
  note "- selftest: $(tail -n 1 "$OUT/selftest.log")"
else
  fail "selftest: exited with $rc (see ci/out/selftest.log)"
fi

section "WASI programs, Python included (toolchains/setup.sh, then harness/tests/wasi.rs)"
rc=0
{ bash toolchains/setup.sh && COMPONENT_LAYER_WASI_PY=1 cargo test --release -p component-harness --test wasi; } \
  >"$OUT/wasi.log" 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then
  note "- wasi programs: $(grep -m1 '^test result' "$OUT/wasi.log")"
else
  fail "wasi programs: exited with $rc (see ci/out/wasi.log)"
fi

# One run compares all three engines, so both backends are fuzzed and a divergence confined to one backend can be
# attributed to it (harness/src/diff/blame.rs): those are written to corpus/backends/ and reported here, but only
# component-layer's (and the reference's) divergences fail the job.
BACKENDS=$(dirname "$REGRESSIONS")/backends
[ "$(basename "$REGRESSIONS")" = regressions ] || BACKENDS=$REGRESSIONS/backends
before=$(mktemp)
{ listing "$REGRESSIONS"; listing "$BACKENDS" | sed 's|^|backends:|'; } >"$before"
name=all-engines
section "harness fuzz: layer-wasmi, layer-wasmtime, wasmtime for ${FUZZ_SECONDS}s"
args=(fuzz --seconds "$FUZZ_SECONDS" --jobs "$JOBS" --engine layer-wasmi --engine layer-wasmtime --engine wasmtime
      --out "$REGRESSIONS" --json "$OUT/fuzz-$name.json" --quiet)
[ -n "$SEED" ] && args+=(--seed "$SEED")
rc=0
cargo run --release -q -p component-harness -- "${args[@]}" 2>&1 | tee "$OUT/fuzz-$name.log" || rc=$?
summary_line=$(grep -m1 'divergences (' "$OUT/fuzz-$name.log" || echo 'divergences')
case $rc in
  0) note "- harness: $summary_line, $(grep -m1 '^execs/s' "$OUT/fuzz-$name.log" || true)" ;;
  1) fail "harness: $summary_line (see ci/out/fuzz-$name.log)" ;;
  *) fail "harness: exited with $rc (see ci/out/fuzz-$name.log)" ;;
esac
after=$(mktemp)
{ listing "$REGRESSIONS"; listing "$BACKENDS" | sed 's|^|backends:|'; } >"$after"
new=$(comm -13 "$before" "$after")
if [ -n "$new" ]; then
  mkdir -p "$OUT/regressions" "$OUT/backends"
  while IFS= read -r f; do
    case $f in
      backends:*) f=${f#backends:}; cp "$BACKENDS/$f" "$OUT/backends/"; note "  - new backend case: $BACKENDS/${f#./}" ;;
      *) cp "$REGRESSIONS/$f" "$OUT/regressions/"; note "  - new regression: $REGRESSIONS/${f#./}" ;;
    esac
  done <<<"$new"
fi
rm -f "$before" "$after"

# ---------------------------------------------------------------------------------------------------------------
# 1b. jco, the opt-in fourth engine (harness/src/engine/jco): the conformance suites on jco (a file that fails
# without a rule in corpus/expectations.txt fails the job), then jco fuzzed against wasmtime and layer-wasmi for
# JCO_FUZZ_SECONDS. Divergences of jco alone are jco's findings: written to corpus/jco/ with a report each (copied
# to ci/out/jco/), reported here, and they do not fail the job; any other finding does.
JCO_FUZZ_SECONDS=${JCO_FUZZ_SECONDS:-600}
JCO_DIR=$(dirname "$REGRESSIONS")/jco
[ "$(basename "$REGRESSIONS")" = regressions ] || JCO_DIR=$REGRESSIONS/jco
if [ "$JCO_FUZZ_SECONDS" = 0 ]; then
  note "- jco: skipped (JCO_FUZZ_SECONDS=0)"
elif ! bash toolchains/setup.sh --js >"$OUT/jco-setup.log" 2>&1; then
  fail "jco: toolchains/setup.sh --js failed (see ci/out/jco-setup.log)"
else
  section "conform on jco"
  rc=0
  cargo run --release -q -p component-harness -- conform --engine jco --jobs "$JOBS" >"$OUT/conform-jco.log" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    note "- conform on jco: $(tail -n 1 "$OUT/conform-jco.log")"
  else
    fail "conform on jco: exited with $rc (see ci/out/conform-jco.log)"
  fi
  section "harness fuzz: jco, wasmtime, layer-wasmi for ${JCO_FUZZ_SECONDS}s"
  before=$(mktemp)
  listing "$JCO_DIR" >"$before"
  args=(fuzz --seconds "$JCO_FUZZ_SECONDS" --jobs "$JOBS" --engine jco --engine wasmtime --engine layer-wasmi
        --out "$REGRESSIONS" --json "$OUT/fuzz-jco.json" --quiet)
  [ -n "$SEED" ] && args+=(--seed "$SEED")
  rc=0
  cargo run --release -q -p component-harness -- "${args[@]}" 2>&1 | tee "$OUT/fuzz-jco.log" || rc=$?
  case $rc in
    0) note "- jco fuzz: $(grep -m1 ' findings (' "$OUT/fuzz-jco.log" || true), $(grep -m1 '^execs/s' "$OUT/fuzz-jco.log" || true)" ;;
    1) fail "jco fuzz: findings that are not jco's alone (see ci/out/fuzz-jco.log)" ;;
    *) fail "jco fuzz: exited with $rc (see ci/out/fuzz-jco.log)" ;;
  esac
  after=$(mktemp)
  listing "$JCO_DIR" >"$after"
  new=$(comm -13 "$before" "$after")
  if [ -n "$new" ]; then
    mkdir -p "$OUT/jco"
    while IFS= read -r f; do cp "$JCO_DIR/$f" "$OUT/jco/"; note "  - new jco finding: $JCO_DIR/${f#./}"; done <<<"$new"
  fi
  rm -f "$before" "$after"
fi

# ---------------------------------------------------------------------------------------------------------------
# 2. cargo-fuzz targets.
cargo_fuzz_ready() {
  if ! command -v rustup >/dev/null 2>&1; then
    echo "rustup is not installed"
    return 1
  fi
  if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "installing the nightly toolchain"
    if ! rustup toolchain install nightly --profile minimal; then
      echo "could not install the nightly toolchain (offline?)"
      return 1
    fi
  fi
  if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    if ! cargo install cargo-fuzz --locked; then
      echo "could not install cargo-fuzz (offline?)"
      return 1
    fi
  fi
}

if [ "$CARGO_FUZZ_SECONDS" = 0 ]; then
  note "- cargo-fuzz: skipped (CARGO_FUZZ_SECONDS=0)"
elif ! cargo_fuzz_ready; then
  msg="cargo-fuzz part SKIPPED: the nightly toolchain or cargo-fuzz is not available and could not be installed"
  if [ "$REQUIRE_CARGO_FUZZ" = 1 ]; then
    fail "$msg (REQUIRE_CARGO_FUZZ=1)"
  else
    echo "WARNING: $msg" >&2
    note "- WARNING: $msg"
  fi
else
  section "building the cargo-fuzz targets"
  if ! cfuzz build; then
    fail "cargo fuzz build failed"
  else
    targets=${CARGO_FUZZ_TARGETS:-$(cfuzz list)}
    # Seed component_new's corpus with valid generated components (it also mutates them itself, from a seed).
    mkdir -p fuzz/corpus/component_new
    if [ -z "$(ls -A fuzz/corpus/component_new)" ]; then
      gen=$(mktemp -d)
      if cargo run --release -q -p component-harness -- gen --seed 0 --count 4 --out "$gen" >/dev/null; then
        cp "$gen"/*.wasm fuzz/corpus/component_new/ 2>/dev/null || true
      fi
      rm -rf "$gen"
    fi
    export COMPONENT_LAYER_FUZZ_REGRESSIONS=$OUT/fuzz-regressions
    for t in $targets; do
      section "cargo fuzz run $t for ${CARGO_FUZZ_SECONDS}s"
      before=$(mktemp)
      listing "fuzz/artifacts/$t" >"$before"
      # JOBS > 1: libFuzzer's fork mode, which keeps going after a crash (all crashes are kept as artifacts).
      extra=()
      if [ "$JOBS" -gt 1 ]; then extra=(-fork="$JOBS" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1); fi
      rc=0
      # -len_control=0: a case costs the same whatever its length, and the targets read seeds and mutations past
      # byte 9, which libFuzzer's slowly growing length limit would not reach in a short run.
      cfuzz run "$t" -- -max_total_time="$CARGO_FUZZ_SECONDS" -len_control=0 -print_final_stats=1 \
        ${extra[@]+"${extra[@]}"} >"$OUT/cargo-fuzz-$t.log" 2>&1 || rc=$?
      tail -n 25 "$OUT/cargo-fuzz-$t.log"
      after=$(mktemp)
      listing "fuzz/artifacts/$t" >"$after"
      new=$(comm -13 "$before" "$after")
      rm -f "$before" "$after"
      execs=$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+|exec/s: [0-9]+' "$OUT/cargo-fuzz-$t.log" | tail -n1 || true)
      if [ -n "$new" ]; then
        mkdir -p "$OUT/artifacts/$t"
        while IFS= read -r f; do
          cp "fuzz/artifacts/$t/$f" "$OUT/artifacts/$t/"
          # Re-run it alone, for the full report (in fork mode the children's output is not kept).
          cfuzz run "$t" "$ROOT/fuzz/artifacts/$t/${f#./}" >"$OUT/artifacts/$t/$(basename "$f").log" 2>&1 || true
        done <<<"$new"
        fail "cargo-fuzz $t: $(echo "$new" | wc -l) crash artifact(s) in ci/out/artifacts/$t (see ci/out/cargo-fuzz-$t.log)"
      elif [ "$rc" -ne 0 ]; then
        fail "cargo-fuzz $t: exited with $rc (see ci/out/cargo-fuzz-$t.log)"
      else
        note "- cargo-fuzz $t: no crash (${execs:-exec/s unknown})"
      fi
    done
  fi
fi

echo
cat "$SUMMARY"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$SUMMARY" >>"$GITHUB_STEP_SUMMARY"; fi
if [ "$failed" -ne 0 ]; then
  echo "nightly fuzzing: FAILED (divergences, crashes or errors; see ci/out/)" >&2
  exit 1
fi
echo "nightly fuzzing: OK"
