#!/usr/bin/env bash
# descent-playground end to end, in a real headless browser: installs
# Debian's chromium if /usr/bin/chromium is missing and playwright-core
# (pinned by crates/playground/e2e/package-lock.json; it never downloads a
# browser), builds the playground, starts it on a free port, runs the
# browser test (crates/playground/e2e/e2e.mjs) and stops the server on any
# exit. The screenshot lands in target/playground-e2e/screenshot.png.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ! -x /usr/bin/chromium ]; then
    echo "== installing chromium"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "== playground: npm ci (playwright-core)"
(cd crates/playground/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
echo "== playground: build"
cargo build --quiet --release -p descent-playground

work=$(mktemp -d)
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

target/release/descent-playground --port 0 >"$work/out" 2>&1 &
server=$!
url=""
for _ in $(seq 100); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/out" || true)
    [ -n "$url" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$work/out"; exit 1; }
    sleep 0.1
done
[ -n "$url" ] || { echo "the playground printed no address"; cat "$work/out"; exit 1; }
echo "== playground: browser test against $url"
start=$(date +%s)
PLAYGROUND_URL="$url" node crates/playground/e2e/e2e.mjs
echo "== playground: browser test passed in $(( $(date +%s) - start )) s"
