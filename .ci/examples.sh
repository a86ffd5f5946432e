#!/usr/bin/env bash
# The root examples run (release build, shared with `cargo xtask`): each
# prints its accuracy, and `resume` fails unless the resumed run is
# bit-identical. (The kill-resume soak runs with 20 kills in the test suite;
# `cargo xtask soak train --kills N` runs it with more.)
set -euo pipefail
cd "$(dirname "$0")/.."

DATA="$(cd .. && pwd)/shared/datasets"
for example in digits_mlp resume; do
    echo "== example $example"
    cargo run --quiet --release --example "$example"
done
echo "== example mnist_mlp (1 epoch)"
DESCENT_DATA="$DATA" cargo run --quiet --release --example mnist_mlp -- --epochs 1 | tail -3
