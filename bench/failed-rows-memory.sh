#!/usr/bin/env bash
# Failed records as they came (docs/api.md): imports N records of which 10% fail, for each N given,
# then downloads the failed records through a server in their original form (json and csv files)
# and as a table, and prints the server's peak RSS (VmHWM) before and after each download. The
# results and the file are read again page by page and record by record, so the peak must not grow
# with N: compare the rows.
# Usage: bench/failed-rows-memory.sh [RECORDS...]   (default 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
work=$(mktemp -d /tmp/intake-failed-XXXXXX)
trap 'kill "${server_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

swift build -c release --product intake >/dev/null
bin=$(swift build -c release --show-bin-path)/intake

echo "| records | file | failed rows | download | MB | seconds | server peak RSS before (kB) | after (kB) |"
echo "|---|---|---|---|---|---|---|---|"
for records in "${sizes[@]}"; do
    rm -rf "$work/data"
    python3 - "$records" "$work" <<'PY'
import json, sys
n, work = int(sys.argv[1]), sys.argv[2]
with open(work + "/people.json", "w") as out, open(work + "/people.csv", "w") as csv:
    out.write("[")
    csv.write("first,last,start\n")
    for i in range(n):
        start = "soon" if i % 10 == 3 else "2026-01-%02d" % (i % 28 + 1)
        out.write(("," if i else "") + json.dumps({"first": "F%d" % i, "last": "L%d" % i, "start": start}) + "\n")
        csv.write("F%d,\"L%d, Jr\",%s\n" % (i, i, start))
    out.write("]")
PY
    for format in json csv; do
        cat >"$work/control-$format.json" <<JSON
{"dataImportControlFileVersion": 0, "model": "haplo:person", "files": {"people": {"read": "$format"}},
 "instructions": [
  {"action": "new", "destination": "profile"},
  {"action": "if-value-one-of", "source": "start", "values": ["soon"], "then": [{"action": "abort-record", "message": "No start date yet"}]},
  {"source": "first", "destination": "value:person-name", "name": "first"},
  {"source": "last", "destination": "value:person-name", "name": "last"},
  {"action": "field-structured", "structured": "value:person-name", "destination": "profile", "name": "dc:attribute:title"}]}
JSON
        # Exit status 1: the run finished with failed records, as meant.
        { "$bin" run --data "$work/data" --control "$work/control-$format.json" --file "people=$work/people.$format" || [ $? -eq 1 ]; } | tail -1 >"$work/summary-$format"
    done
    "$bin" serve --data "$work/data" --port 0 --print-initial-credentials >"$work/out" 2>"$work/err" &
    server_pid=$!
    for _ in $(seq 1 100); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.1; done
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/out")
    key=$("$bin" apikey create --name reader --scope batch --data "$work/data" | tail -1)
    hwm() { awk '/VmHWM/ {print $2}' "/proc/$server_pid/status"; }
    base="http://127.0.0.1:$port/api/haplo-data-import-batch"
    for format in json csv; do
        batch=$(sed -n 's/.*(batch \(.*\))$/\1/p' "$work/summary-$format")
        for download in original csv; do
            before=$(hwm)
            start=$(date +%s.%N)
            curl -sf --user "haplo:$key" "$base/results?batch=$batch&status=failed&format=$download" >"$work/failed"
            end=$(date +%s.%N)
            after=$(hwm)
            if [ "$download" = original ] && [ "$format" = json ]; then
                rows=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$work/failed")
            else
                rows=$(( $(python3 -c "import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1]))))" "$work/failed") - 1 ))
            fi
            [ "$rows" -eq $((records / 10)) ] || { echo "$format/$download: $rows failed rows, expected $((records / 10))" >&2; exit 1; }
            echo "| $records | $format | $rows | $download | $(du -m "$work/failed" | cut -f1) | $(printf '%.1f' "$(echo "$end - $start" | bc)") | $before | $after |"
        done
    done
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
done
