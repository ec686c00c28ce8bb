#!/usr/bin/env bash
# The main job. Until the server and the app exist (issues 5 and 6) it builds the
# `tern` command, checks the real forms and prints what they hold.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo build --bin tern
./target/debug/tern forms lint schemas/forms/*.json
./target/debug/tern forms list schemas/forms
echo "Try: ./target/debug/tern forms eval schemas/forms/pda.json crates/forms/tests/fixtures/pda_full.json --today 2026-03-02" >&2
