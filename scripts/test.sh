#!/usr/bin/env bash
# The whole test suite: installs what is missing, then runs every test of the
# workspace and the front end. Debug builds; property tests take PROPTEST_CASES.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

export PROPTEST_CASES="${PROPTEST_CASES:-64}"
export RUST_BACKTRACE=1

# The app shell (src-tauri) embeds the built UI: build it before any cargo command.
if [ -f src-tauri/Cargo.toml ]; then
  npm --prefix ui run --silent build >/dev/null
fi

echo "== Rust tests" >&2
cargo test --workspace

if [ -f ui/package.json ]; then
  echo "== UI checks and tests" >&2
  (cd ui && npm run --silent check && npm run --silent lint && npm run --silent test)
  if npm --prefix ui run | grep -q "test:e2e"; then
    (cd ui && npm run --silent test:e2e)
  fi
fi
if [ -f src-tauri/Cargo.toml ] && [ -f ui/vitest.app.config.ts ]; then
  echo "== The real app (Tauri under Xvfb, tauri-driver) against tern serve" >&2
  cargo build -p tern-app -p tern-cli
  (cd ui && npm run --silent test:app)
fi
echo "all tests passed" >&2
