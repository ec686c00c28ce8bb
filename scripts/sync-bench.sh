#!/usr/bin/env bash
# Loopback figures for docs/sync.md (not part of CI). Release build, SQLite server.
# N realistic pre-departure records (about 120 varied answers each, from
# scripts/bench-records.py) imported on device A, pushed to an empty server (time
# until acknowledged, and until the server verified and projected everything),
# pulled to an empty device B, then a sync with nothing new and one changed field.
# Usage: bash scripts/sync-bench.sh [N] [ANSWERS]
set -euo pipefail
N=${1:-1000}
ANSWERS=${2:-120}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$ROOT/target/release/tern
(cd "$ROOT" && cargo build --release -p tern-cli >&2)
WORK=$(mktemp -d); cd "$WORK"; echo "working in $WORK" >&2
export TERN_PASSWORD=bench-pass-1
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
python3 "$ROOT/scripts/bench-records.py" "$N" "$ANSWERS" > records.jsonl
$T serve --data srv --listen 127.0.0.1:0 > out.txt 2> srv.log & SP=$!
trap 'kill $SP 2>/dev/null || true' EXIT
for i in $(seq 1 100); do [ -s out.txt ] && break; sleep 0.1; done
ADDR=$(head -1 out.txt)
$T admin --data srv site add bench >/dev/null
$T admin --data srv user add amina --role clinician --site bench >/dev/null
$T admin --data srv user add chen --role supervisor --site bench >/dev/null
$T device --db a.db init --user amina --site bench >/dev/null
$T device --db b.db init --user chen --site bench >/dev/null
$T device --db a.db enroll --server "http://$ADDR" --code "$($T admin --data srv device enroll --site bench)" >/dev/null
$T device --db b.db enroll --server "http://$ADDR" --code "$($T admin --data srv device enroll --site bench)" >/dev/null
$T device --db b.db sync > /dev/null
s=$(now); $T device --db a.db record import --form pda records.jsonl > import.json; e=$(now)
echo "import of $N records: $(secs "$s" "$e") s ($(python3 -c 'import json;r=json.load(open("import.json"));print(r["imported"], "imported,", len(r["refused"]), "refused")'))"
echo "pending changes: $($T device --db a.db status | python3 -c 'import json,sys;print(json.load(sys.stdin)["pending_changes"])')"
s=$(now); $T device --db a.db sync > push.json; e=$(now)
echo "first sync to an empty server, acknowledged: $(secs "$s" "$e") s"; tr -d '\n ' < push.json; echo
# Verified and projected: the server's backlog (`tern admin status`) is empty.
for i in $(seq 1 6000); do
  [ "$($T admin --data srv status | python3 -c 'import json,sys;print(json.load(sys.stdin)["unverified"])')" = 0 ] && break
  sleep 0.01
done
e2=$(now); echo "  ... verified and projected on the server: $(secs "$s" "$e2") s after the push started"
s=$(now); $T device --db b.db sync > pull.json; e=$(now)
echo "first sync to an empty device: $(secs "$s" "$e") s"; tr -d '\n ' < pull.json; echo
echo "records listed on device B: $($T device --db b.db record list --limit 1000000 | python3 -c 'import json,sys;print(len(json.load(sys.stdin)))')"
$T device --db a.db sync > idle.json; echo "nothing new:"; tr -d '\n ' < idle.json; echo
R=$(python3 -c 'import json;print(json.load(open("import.json"))["records"][7])')
$T device --db a.db record set "$R" temp_c 39.1
$T device --db a.db sync > one.json; echo "one field changed (push):"; tr -d '\n ' < one.json; echo
$T device --db b.db sync > one_b.json; echo "one field changed (pull):"; tr -d '\n ' < one_b.json; echo
GZ=$(gzip -c records.jsonl | wc -c)
echo "gzip(JSON lines) of the same records: $GZ bytes"
python3 - "$GZ" <<'PY'
import json, sys
gz = int(sys.argv[1])
push = json.load(open("push.json")); pull = json.load(open("pull.json"))
print(f"wire/gzip(JSON): push {push['bytes_sent'] / gz:.2f}x, pull {pull['bytes_received'] / gz:.2f}x")
PY
