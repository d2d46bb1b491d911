#!/usr/bin/env bash
# ag-ui-validate on every recorded AG-UI test stream: any error fails.
set -euo pipefail
cd "$(dirname "$0")"
validator="${AGUI_VALIDATE:-../../.venv/bin/ag-ui-validate}"
count=0
for stream in test/streams/*.jsonl; do
  "$validator" --no-color "$stream" >/dev/null || { "$validator" --no-color "$stream"; exit 1; }
  count=$((count + 1))
done
echo "ag-ui-validate: $count streams, 0 errors"
