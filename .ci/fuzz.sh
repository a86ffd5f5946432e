#!/usr/bin/env bash
# A short fuzz pass of every parser and loader (crates/fuzz, fuzz/): each
# target runs on its seed corpus (fuzz/corpus/<target>/) and then on mutations
# for DESCENT_FUZZ_SECONDS seconds (default 10; 10 targets, so about 2 minutes
# with the build). CI uses the mutation engine: installing cargo-fuzz from
# source alone took 163 s here, over this step's 3-minute budget. A crash is
# saved to fuzz/regressions/<target>/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo xtask fuzz --engine mutate --seconds "${DESCENT_FUZZ_SECONDS:-10}"
