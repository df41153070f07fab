#!/usr/bin/env bash
# Imports N records with a release build, then reads the whole per-record results and the log through
# a server and prints the server's peak RSS (VmHWM) before and after: results and logs stream from
# the store a page at a time, so memory does not grow with the batch.
# Usage: bench/read-memory.sh [RECORDS]   (default 300000)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-300000}
work=$(mktemp -d /tmp/intake-read-XXXXXX)
trap 'kill "${server_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

swift build -c release --product intake >/dev/null
bin=$(swift build -c release --show-bin-path)/intake

python3 - "$records" "$work/people.json" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as out:
    out.write("[")
    for i in range(n):
        out.write(("," if i else "") + json.dumps({"first": "F%d" % i, "last": "L%d" % i,
                                                   "email": "p%d@example.org" % i if i % 50 else "not-an-email"}) + "\n")
    out.write("]")
PY
cat >"$work/control.json" <<'JSON'
{"dataImportControlFileVersion": 0, "model": "haplo:person", "files": {"people": {"read": "json"}},
 "instructions": [
  {"action": "new", "destination": "profile"},
  {"source": "first", "destination": "value:person-name", "name": "first"},
  {"source": "last", "destination": "value:person-name", "name": "last"},
  {"action": "field-structured", "structured": "value:person-name", "destination": "profile", "name": "dc:attribute:title"},
  {"source": "email", "destination": "profile", "name": "std:attribute:email"}]}
JSON
"$bin" run --data "$work/data" --control "$work/control.json" --file "people=$work/people.json" | tail -1 >"$work/summary"
batch=$(sed -n 's/.*(batch \(.*\))$/\1/p' "$work/summary")

"$bin" serve --data "$work/data" --port 0 --print-initial-credentials >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/out")
key=$("$bin" apikey create --name reader --scope batch --data "$work/data" | tail -1)
hwm() { awk '/VmHWM/ {print $2}' "/proc/$server_pid/status"; }
base="http://127.0.0.1:$port/api/haplo-data-import-batch"

before=$(hwm)
start=$(date +%s.%N)
curl -sf --user "haplo:$key" "$base/results?batch=$batch" >"$work/results.ndjson"
curl -sf --user "haplo:$key" "$base/log?batch=$batch" >"$work/log.txt"
end=$(date +%s.%N)
after=$(hwm)
lines=$(wc -l <"$work/results.ndjson")
[ "$lines" -eq "$records" ] || { echo "results have $lines lines, expected $records" >&2; exit 1; }
echo "$records records: results $(du -m "$work/results.ndjson" | cut -f1) MB and log $(wc -l <"$work/log.txt") lines read in $(echo "$end - $start" | bc) s; server peak RSS before ${before} kB, after ${after} kB"
