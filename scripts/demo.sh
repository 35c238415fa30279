#!/usr/bin/env bash
# make demo: synthetic ledger -> import -> features -> train -> promote -> compare -> serve.
# Everything lands in ./demo (SQLite ledger, local MLflow store); re-running starts afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
DIR="${DEMO_DIR:-demo}"
CUSTOMERS="${DEMO_CUSTOMERS:-5000}"
START="${DEMO_START:-2021-01-01}"
END="${DEMO_END:-2025-12-31}"

rm -rf "$DIR"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
export CREDITRISK_DATABASE_URL="sqlite:///$DIR/creditrisk.db"
export MLFLOW_TRACKING_URI="sqlite:///$DIR/mlflow.db"

step() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }

step "1. generate a synthetic ledger ($CUSTOMERS customers, $START to $END)"
$BIN/creditrisk ledger generate --customers "$CUSTOMERS" --start "$START" --end "$END" \
  --seed 42 --out "$DIR/synthetic"

step "2. import it through the canonical mapping (validated, idempotent)"
$BIN/creditrisk ledger import --mapping ledger/mappings/canonical.yaml \
  --data-dir "$DIR/synthetic"

step "3. point-in-time features as of $END"
$BIN/creditrisk features build --as-of "$END" --out "$DIR/features.parquet"

step "4. train LightGBM (default + late payment), with oracle metrics from the generator"
$BIN/creditrisk train --truth "$DIR/synthetic" --run-name lightgbm --run-id-file "$DIR/run_lightgbm"

step "5. promote the first champion"
$BIN/creditrisk promote --actor demo

step "6. train the weight-of-evidence scorecard baseline as challenger"
$BIN/creditrisk train --model-kind scorecard --truth "$DIR/synthetic" --run-name scorecard \
  --run-id-file "$DIR/run_scorecard"

step "7. promotion gate: the challenger must not be worse on the champion's test set"
if $BIN/creditrisk promote --actor demo; then
  echo "challenger promoted"
else
  echo "gate refused the challenger: champion kept (see the evidence above)"
fi

step "8. compare the two runs"
$BIN/creditrisk runs compare "$(cat "$DIR/run_lightgbm")" "$(cat "$DIR/run_scorecard")" \
  --html "$DIR/compare.html"

cat <<INFO

Where to look:
  ledger database  $CREDITRISK_DATABASE_URL
  MLflow store     $MLFLOW_TRACKING_URI
  MLflow UI        $BIN/mlflow ui --backend-store-uri $MLFLOW_TRACKING_URI
  run comparison   $DIR/compare.html
  features         $DIR/features.parquet
INFO

step "9. serve the champion on http://127.0.0.1:${DEMO_PORT:-8000} (Ctrl-C to stop)"
if [ "${DEMO_SERVE:-1}" = "1" ]; then
  exec $BIN/creditrisk serve --port "${DEMO_PORT:-8000}" --demo-key-file "$DIR/demo.key"
fi
