#!/usr/bin/env bash
# Installs what Tern's build, main job and tests need on Debian 12, and nothing that
# is already there. Safe to run again. Used by scripts/start.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: C toolchain bits for the vendored SQLCipher/OpenSSL build, the
# WebKitGTK stack for Tauri, Xvfb + WebKitWebDriver for end-to-end tests of the app,
# Chromium for the dashboard tests, PostgreSQL for the server tests.
APT_PACKAGES=(
  build-essential pkg-config perl make curl ca-certificates
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev
  xvfb webkit2gtk-driver chromium chromium-driver postgresql
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# tauri-driver bridges WebDriver to WebKitWebDriver for the app's end-to-end tests.
if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "installing tauri-driver" >&2
  cargo install tauri-driver --locked --quiet
fi

# The front end.
if [ -f ui/package.json ] && { [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; }; then
  echo "installing npm packages for ui/" >&2
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi

# The independent FHIR validator the export tests call (scripts/validate_fhir.py):
# PyPI fhir.resources, pinned; its R4B models check the R4 resources we write.
if ! python3 -c "import fhir.resources.R4B" >/dev/null 2>&1; then
  echo "installing the Python package fhir.resources" >&2
  python3 -m pip install --quiet --disable-pip-version-check "fhir.resources==7.1.0"
fi
