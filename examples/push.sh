#!/bin/sh
# A hardened batch import client with nothing but curl: the four steps, then it waits for the batch
# and exits with its outcome, so cron or a CI job can tell a good night from a bad one.
#
#   INTAKE_API_KEY=ik_… SERVER=https://intake.example.ac.uk ./push.sh CONTROL NAME FILE [dry-run]
#
# The key needs the `batch` scope. It reaches curl on standard input, never on the command line
# (where `ps` would show it to everyone on the machine). Every request fails loudly: an HTTP error
# prints the server's message and stops the script. The batch id is printed on stdout; the log and
# the outcome on stderr.
#
# Exit status (as `intake push --wait`): 0 every record applied; 1 the batch finished with record
# errors; 2 the input was refused or the run stopped on an error; 3 the server could not be reached
# or refused the key.
set -eu
: "${INTAKE_API_KEY:?set INTAKE_API_KEY to an API key with the batch scope}"
SERVER=${SERVER:-http://localhost:8080}
API=$SERVER/api/haplo-data-import-batch
CONTROL=${1:?usage: push.sh CONTROL NAME FILE [dry-run]}
NAME=${2:?usage: push.sh CONTROL NAME FILE [dry-run]}
FILE=${3:?usage: push.sh CONTROL NAME FILE [dry-run]}
MODE=${4:-}

# One request; on failure the server's one-line message is shown, and the exit status says whether
# it was the server refusing the input (2) or the connection or the key (3).
api() {
    out=$(printf 'user = "haplo:%s"\n' "$INTAKE_API_KEY" |
        curl --config - --silent --show-error --fail-with-body --retry 3 --retry-connrefused "$@") || {
        status=$?
        printf '%s\n' "$out" >&2
        case $status in
            22) case $out in Unauthorized|Forbidden) exit 3 ;; *) exit 2 ;; esac ;;
            *) exit 3 ;;
        esac
    }
    printf '%s' "$out"
}

field() { printf '%s' "$STATUS" | sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"; }

CONTROL_DIGEST=$(api -F "comment=push.sh $(basename "$CONTROL")" -F "file=@$CONTROL" "$API/control")
BATCH_ID=$(api -d "comment=push.sh $(basename "$FILE")" -d "control=$CONTROL_DIGEST" "$API/batch")
api -F "batch=$BATCH_ID" -F "name=$NAME" -F "file=@$FILE" "$API/file" >/dev/null
api -d "batch=$BATCH_ID" -d "mode=$MODE" "$API/schedule" >/dev/null
echo "scheduled batch $BATCH_ID" >&2

while :; do
    STATUS=$(api "$API/status?batch=$BATCH_ID")
    case $(field state) in
        complete | dry-run | error | cancelled) break ;;
    esac
    sleep 1
done

api "$API/log?batch=$BATCH_ID" >&2
echo >&2
STATE=$(field state)
FAILED=$(field recordsFailed)
ERRORS=$(field errors)
echo "$STATE: $(field recordsRead) records read, $(field recordsApplied) applied, $FAILED failed, $(field recordsUnchanged) unchanged, $ERRORS errors" >&2
echo "$BATCH_ID"
case $STATE in
    complete | dry-run) [ "$FAILED" = 0 ] && [ "$ERRORS" = 0 ] || exit 1 ;;
    *) exit 2 ;;
esac
