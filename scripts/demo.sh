#!/usr/bin/env bash
# Set everything up, build the small sample image, ingest it, and say where the output is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python scripts/make_sample.py sample
rm -rf sample/cases
status=0
.venv/bin/exhibit ingest sample/sample-phone.raw --case DEMO-1 --exhibit 'JS/1' --examiner "Demo Examiner" --out sample/cases || status=$?
echo "Output: $(pwd)/sample/cases/DEMO-1/JS%2F1 (artefacts.parquet, sources.parquet, errors.parquet, messages.parquet, media.parquet)"
.venv/bin/exhibit chats sample/cases/DEMO-1 || status=$?
exit $status
