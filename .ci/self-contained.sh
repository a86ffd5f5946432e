#!/usr/bin/env bash
# The workspace's tests, run from a fresh clone of this checkout in a
# temporary directory with no ../shared beside it: no golden directory or
# data set is visible except the data directory passed explicitly, so the
# run proves the repository is self-contained (the README's
# `cargo test --workspace` on a bare clone). Real-data tests must find their
# data (DESCENT_REQUIRE_DATA=1). The build shares this checkout's target
# directory, so registry dependencies are compiled once for both.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

data="$(cd "$root/../shared/datasets" 2>/dev/null && pwd)" || {
    echo "self-contained: no ../shared/datasets beside the checkout" >&2
    exit 1
}
target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$target"
target="$(cd "$target" && pwd)"

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "self-contained: note: uncommitted changes are not in the clone" >&2
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
git clone --quiet --no-hardlinks "$root" "$tmp/descent"
if [ -e "$tmp/shared" ]; then
    echo "self-contained: $tmp/shared exists" >&2
    exit 1
fi

echo "== self-contained: cargo test --workspace in $tmp/descent (DESCENT_DATA=$data)"
cd "$tmp/descent"
env -u DESCENT_GOLDEN_DIR \
    CARGO_TARGET_DIR="$target" \
    DESCENT_DATA="$data" \
    WNHOME="$data/wordnet-3.0" \
    DESCENT_REQUIRE_DATA=1 \
    cargo test --workspace
