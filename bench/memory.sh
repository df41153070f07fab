#!/usr/bin/env bash
# Peak RSS of `intake run` (release build) importing generated people files of growing size, in
# json, csv, xml and xlsx. Memory must stay flat as inputs grow. SIZE_MB is the size of the text
# formats; an xlsx file holds the records of the CSV file of that size (bench/gen_xlsx.py, every
# text cell a shared string), so it is smaller on disk.
# Usage: bench/memory.sh [SIZE_MB...]   (default: 100 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000)
gen=${GEN_PEOPLE:-bench/gen_people.py}
work=${WORK:-bench/work}
mkdir -p "$work"

swift build -c release --product intake >/dev/null
bin=$(swift build -c release --show-bin-path)/intake

printf '| format | input MB | records | seconds | records/s | peak RSS MB |\n|---|---|---|---|---|---|\n'
for format in ${FORMATS:-json csv xml xlsx}; do
    reader=$format
    [ "$format" = xml ] && reader=xml-text-of-children
    sed "s/READER/$reader/" bench/controls/people.json >"$work/control-$format.json"
    sample_format=$format
    [ "$format" = xlsx ] && sample_format=csv
    python3 "$gen" --count 2000 --format "$sample_format" --out "$work/sample.$sample_format"
    per_record=$(( $(stat -c %s "$work/sample.$sample_format") / 2000 ))
    for mb in "${sizes[@]}"; do
        count=$(( mb * 1000000 / per_record ))
        input="$work/people-$count.$format"
        if [ "$format" = xlsx ]; then
            csv="$work/people-$count.csv"
            [ -f "$csv" ] || python3 "$gen" --count "$count" --format csv --out "$csv"
            [ -f "$input" ] || python3 bench/gen_xlsx.py "$csv" "$input"
        fi
        [ -f "$input" ] || python3 "$gen" --count "$count" --format "$format" --out "$input"
        rm -rf "$work/data"
        start=$(date +%s.%N)
        # Exit status 1 is a run that finished with record errors.
        status=0
        /usr/bin/time -f %M -o "$work/rss" "$bin" run --data "$work/data" --control "$work/control-$format.json" \
            --file "people=$input" >"$work/run.log" 2>&1 || status=$?
        [ "$status" -le 1 ] || { tail -5 "$work/run.log" >&2; exit 1; }
        end=$(date +%s.%N)
        seconds=$(echo "$end - $start" | bc)
        size_mb=$(( $(stat -c %s "$input") / 1000000 ))
        printf '| %s | %s | %s | %.1f | %.0f | %.1f |\n' "$format" "$size_mb" "$count" "$seconds" \
            "$(echo "$count / $seconds" | bc -l)" "$(echo "$(cat "$work/rss") / 1024" | bc -l)"
        tail -1 "$work/run.log" | grep -q "^complete: $count records read, $count applied" \
            || { echo "unexpected summary: $(tail -1 "$work/run.log")" >&2; exit 1; }
    done
done
