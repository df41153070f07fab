#!/usr/bin/env bash
# Uploads a large data file to a release-build server and prints the server's peak RSS (VmHWM)
# before and after, to show that uploads stream to disk instead of being held in memory.
# Usage: bench/upload-memory.sh [SIZE_MB]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-200}
work=$(mktemp -d /tmp/intake-upload-XXXXXX)
trap 'kill "${server_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

swift build -c release --product intake >/dev/null
bin=$(swift build -c release --show-bin-path)/intake

"$bin" serve --data "$work/data" --port 0 --print-initial-credentials >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/out")
key=$(awk '/API key:/ {print $3}' "$work/out")
hwm() { awk '/VmHWM/ {print $2}' "/proc/$server_pid/status"; }

head -c "$((size_mb * 1024 * 1024))" /dev/urandom >"$work/big.bin"
digest=$(curl -s -X POST -F comment=c -F file=@examples/control.json --user "haplo:$key" "http://127.0.0.1:$port/api/haplo-data-import-batch/control")
batch=$(curl -s -X POST -d "control=$digest" --user "haplo:$key" "http://127.0.0.1:$port/api/haplo-data-import-batch/batch")
before=$(hwm)
start=$(date +%s.%N)
curl -s -X POST -F "batch=$batch" -F name=data0 -F "file=@$work/big.bin" --user "haplo:$key" \
    "http://127.0.0.1:$port/api/haplo-data-import-batch/file" >"$work/digest"
end=$(date +%s.%N)
after=$(hwm)
expected=$(sha256sum "$work/big.bin" | cut -d' ' -f1)
[ "$(cat "$work/digest")" = "$expected" ] || { echo "digest mismatch: $(cat "$work/digest")" >&2; exit 1; }
echo "upload of ${size_mb} MB: $(echo "$end - $start" | bc) s; server peak RSS before ${before} kB, after ${after} kB"
