#!/usr/bin/env bash
# The API docs build without a warning (broken links, private links,
# missing docs).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== cargo doc --workspace --no-deps (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
