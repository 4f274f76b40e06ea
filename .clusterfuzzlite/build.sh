#!/bin/bash -eu
# Builds the cargo-fuzz targets of fuzz/ and copies them to $OUT (ClusterFuzzLite / OSS-Fuzz build step).
cd "$SRC/component-layer"

# The workspace needs rust-version 1.95 or later; the base image pins a nightly, which may be older. If it is,
# use the current nightly instead.
need=$(sed -n 's/^rust-version = "\([0-9]*\.[0-9]*\).*"/\1/p' Cargo.toml | head -n1)
have=$(rustc --version | sed -E 's/^rustc ([0-9]+\.[0-9]+).*/\1/')
if [ -n "$need" ] && [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
  echo "rustc $have is older than the workspace's rust-version $need: installing the current nightly" >&2
  rustup toolchain install nightly --profile minimal
  export RUSTUP_TOOLCHAIN=nightly
fi

cd fuzz
cargo fuzz build -O --debug-assertions
for target in $(cargo fuzz list); do
  cp "target/x86_64-unknown-linux-gnu/release/$target" "$OUT/"
  # A case costs the same whatever its length, and the targets read seeds and mutations past byte 9.
  printf '[libfuzzer]\nlen_control = 0\n' >"$OUT/$target.options"
done
