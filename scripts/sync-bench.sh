#!/usr/bin/env bash
# Loopback figures for docs/sync.md: N records (10 answers each) pushed to an empty
# server, pulled to an empty device, then a sync with nothing new and one changed field.
set -euo pipefail
# Usage: bash scripts/sync-bench.sh [N]   (not part of CI)
N=${1:-1000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$ROOT/target/release/tern
[ -x "$T" ] || (cd "$ROOT" && cargo build --release -p tern-cli)
WORK=$(mktemp -d); cd "$WORK"; echo "working in $WORK" >&2
export TERN_PASSWORD=bench-pass-1
python3 -c "
import json
for i in range($N):
    print(json.dumps({'sex':'female','date_of_birth':'1990-01-01','temp_c':36.5+(i%10)/10,'heart_rate':60+i%40,'weight_kg':50+i%30,'height_cm':150+i%40,'resp_rate':12+i%8,'sbp':110+i%30,'dbp':70+i%20,'muac_mm':250}))
" > records.jsonl
$T serve --data srv --listen 127.0.0.1:0 > out.txt 2> srv.log & SP=$!
for i in $(seq 1 100); do [ -s out.txt ] && break; sleep 0.1; done
ADDR=$(head -1 out.txt)
$T admin --data srv site add bench >/dev/null
$T admin --data srv user add amina --role clinician --site bench >/dev/null
$T admin --data srv user add chen --role supervisor --site bench >/dev/null
$T device --db a.db init --user amina --site bench >/dev/null
$T device --db b.db init --user chen --site bench >/dev/null
$T device --db a.db enroll --server http://$ADDR --code $($T admin --data srv device enroll --site bench) >/dev/null
$T device --db b.db enroll --server http://$ADDR --code $($T admin --data srv device enroll --site bench) >/dev/null
$T device --db b.db sync > /dev/null
s=$(date +%s.%N); $T device --db a.db record import --form pda records.jsonl > import.json; e=$(date +%s.%N)
echo "import of $N records: $(echo "$e - $s" | bc) s"
echo "pending: $($T device --db a.db status | python3 -c 'import json,sys;print(json.load(sys.stdin)["pending_changes"])')"
s=$(date +%s.%N); $T device --db a.db sync > push.json; e=$(date +%s.%N)
echo "first sync to empty server (push): $(echo "$e - $s" | bc) s"; cat push.json | tr -d '\n '; echo
s=$(date +%s.%N); $T device --db b.db sync > pull.json; e=$(date +%s.%N)
echo "first sync to empty device (pull): $(echo "$e - $s" | bc) s"; cat pull.json | tr -d '\n '; echo
$T device --db a.db sync > idle.json; echo "nothing new:"; cat idle.json | tr -d '\n '; echo
R=$(python3 -c 'import json;print(json.load(open("import.json"))["records"][7])')
$T device --db a.db record set $R temp_c 39.1
$T device --db a.db sync > one.json; echo "one field changed (push):"; cat one.json | tr -d '\n '; echo
$T device --db b.db sync > one_b.json; echo "one field changed (pull):"; cat one_b.json | tr -d '\n '; echo
gzip -c records.jsonl | wc -c | xargs echo "gzip(JSON lines) bytes:"
kill $SP; wait $SP || true
