#!/usr/bin/env bash
# Regenerates the FormView and Evaluation fixtures the FakeBackend serves, from the
# real form engine (the `tern` CLI), so browser tests draw what the app would draw.
#
#   ui/tests/fixtures/cases/<case>.json        input: {"form", "today", "context"?, "answers"}
#     (the fake matches records on "answers"; "context" only completes the evaluation)
#   ui/tests/fixtures/forms/<form>.<lang>.json  tern forms describe, every language of the form
#   ui/tests/fixtures/evaluations/<case>.<lang>.json  tern forms eval of the case, same languages
#
# Usage: bash scripts/fixtures.sh   (from ui/; builds target/debug/tern if needed)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
tern="${TERN:-$root/target/debug/tern}"
forms_dir="$root/schemas/forms"
out="$here/tests/fixtures"

if [[ -z "${TERN:-}" ]]; then
  (cd "$root" && cargo build -q -p tern-cli)
fi

json() { node -e "const d=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8')); $2" "$1"; }

rm -rf "$out/forms" "$out/evaluations"
mkdir -p "$out/forms" "$out/evaluations"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

declare -A langs
for form in pda pec arr_t1 arr_t2; do
  "$tern" forms describe "$forms_dir/$form.json" --lang en > "$out/forms/$form.en.json"
  langs[$form]="$(json "$out/forms/$form.en.json" 'console.log(d.languages.join(" "))')"
  for lang in ${langs[$form]}; do
    [[ $lang == en ]] && continue
    "$tern" forms describe "$forms_dir/$form.json" --lang "$lang" > "$out/forms/$form.$lang.json"
  done
done

for case_file in "$out"/cases/*.json; do
  name="$(basename "$case_file" .json)"
  form="$(json "$case_file" 'console.log(d.form)')"
  today="$(json "$case_file" 'console.log(d.today)')"
  json "$case_file" 'console.log(JSON.stringify({...(d.context ?? {}), ...d.answers}))' > "$tmp/answers.json"
  for lang in ${langs[$form]}; do
    "$tern" forms eval "$forms_dir/$form.json" "$tmp/answers.json" --today "$today" --lang "$lang" \
      > "$out/evaluations/$name.$lang.json"
  done
done
echo "fixtures: $(ls "$out/forms" | wc -l) form views, $(ls "$out/evaluations" | wc -l) evaluations in $out"
