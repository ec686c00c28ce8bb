#!/usr/bin/env bash
# The main job: a Tern server on embedded SQLite with a demo site, a user of each role
# and the real forms, and the desktop app connected to it. Installs what is missing.
# State lives in .tern/ (delete it to start over). Ctrl-C or closing the app stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm --prefix ui run --silent build >/dev/null   # the app embeds the built UI
cargo build -p tern-cli -p tern-app

mkdir -p .tern/server .tern/app
server_out=.tern/server.out
./target/debug/tern serve --data .tern/server --listen 127.0.0.1:8080 --demo --dashboard ui/dist >"$server_out" 2>.tern/server.log &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [ "$(wc -l <"$server_out")" -ge 1 ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat .tern/server.log >&2; echo "the server did not start (is port 8080 busy?)" >&2; exit 1; }
  sleep 0.1
done
address=$(head -n 1 "$server_out")
case "$address" in http*) ;; *) address="http://$address" ;; esac
sleep 0.5
echo "Server: $address (log: .tern/server.log)" >&2
echo "Supervisor dashboard: $address/ in a browser (sign in as demo-supervisor)" >&2
if [ "$(wc -l <"$server_out")" -ge 2 ]; then
  demo=$(sed -n 2p "$server_out")
  if [ ! -f .tern/demo.json ]; then
    # Passwords are printed by the first run only: keep them.
    echo "$demo" > .tern/demo.json
    echo "Demo accounts and enrolment code (saved in .tern/demo.json):" >&2
    echo "$demo" >&2
  else
    code=$(printf '%s' "$demo" | python3 -c 'import json,sys;print(json.load(sys.stdin)["enrolment_code"])')
    echo "Demo accounts: .tern/demo.json (passwords from the first run). A fresh enrolment code: $code" >&2
  fi
fi
[ -f .tern/demo.json ] && echo "Enrol the app with the enrolment code above, a demo user's name (e.g. demo-clinician) and that account's password from .tern/demo.json (it proves the account)." >&2

# The app's first-run screen offers this server.
[ -f .tern/app/settings.json ] || printf '{"language":"en","server_url":"%s","lock_timeout_minutes":5}\n' "$address" > .tern/app/settings.json
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display: starting the app under Xvfb :77 (screenshots only). Run from a desktop session to use it." >&2
  Xvfb :77 -screen 0 1280x800x24 >/dev/null 2>&1 &
  xvfb_pid=$!
  trap 'kill "$server_pid" "$xvfb_pid" 2>/dev/null || true' EXIT
  export DISPLAY=:77
fi
TERN_APP_DATA="$PWD/.tern/app" ./target/debug/tern-app
