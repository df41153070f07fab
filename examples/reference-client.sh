#!/bin/sh
# The reference client of the original batch import API (docs/api.md), unchanged apart from the values
# at the top, which here come from the environment.
set -e
API_KEY=${API_KEY:-${INTAKE_API_KEY:?set API_KEY or INTAKE_API_KEY}}   # from: intake apikey create --name script
FILE_DIRECTORY=${FILE_DIRECTORY:-.}
SERVER=${SERVER:-localhost:8080}

CONTROL_DIGEST=`curl -s -X POST -F "comment=Example control" -F file=@${FILE_DIRECTORY}/control.json --user haplo:${API_KEY} http://${SERVER}/api/haplo-data-import-batch/control`
BATCH_ID=`curl -s -X POST -d "comment=Example import" -d "control=$CONTROL_DIGEST" --user haplo:${API_KEY} http://${SERVER}/api/haplo-data-import-batch/batch`
curl -X POST -F "batch=$BATCH_ID" -F name=data0 -F file=@${FILE_DIRECTORY}/data.json --user haplo:${API_KEY} http://${SERVER}/api/haplo-data-import-batch/file
curl -X POST -d "batch=$BATCH_ID" -d mode=dry-run --user haplo:${API_KEY} http://${SERVER}/api/haplo-data-import-batch/schedule
