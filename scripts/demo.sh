#!/usr/bin/env bash
# make demo: synthetic ledger -> import -> features -> train -> promote -> compare -> serve.
# Everything lands in ./demo (SQLite ledger, local MLflow store); re-running starts afresh.
# It ends in a running service (foreground, Ctrl-C stops it); DEMO_SERVE=0 skips that step.
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

# elapsed seconds on every step header: the whole demo is meant to take under 3 minutes
step() { printf '\n\033[1m== %s ==\033[0m  (%ss)\n' "$*" "$SECONDS"; }

step "1. generate a synthetic ledger ($CUSTOMERS customers, $START to $END)"
$BIN/creditrisk ledger generate --customers "$CUSTOMERS" --start "$START" --end "$END" \
  --seed 42 --out "$DIR/synthetic"

step "2. import it through the canonical mapping (validated, idempotent)"
$BIN/creditrisk ledger import --mapping ledger/mappings/canonical.yaml \
  --data-dir "$DIR/synthetic"

step "3. point-in-time features as of $END"
$BIN/creditrisk features build --as-of "$END" --out "$DIR/features.parquet"

# Each model is trained once: one `train` fits the late-payment, open-invoice and LightGBM
# default models and logs them (version 1), then logs the scorecard challenger (version 2),
# which reuses the same late-payment and open-invoice models and customer snapshots.
step "4. train LightGBM (default + late payment) and the scorecard challenger, with oracle metrics"
$BIN/creditrisk train --model-kind lightgbm --challenger scorecard --truth "$DIR/synthetic" \
  --run-name lightgbm --run-id-file "$DIR/run_lightgbm" \
  --challenger-run-name scorecard --challenger-run-id-file "$DIR/run_scorecard"

step "5. promote the first champion (the LightGBM bundle, version 1)"
$BIN/creditrisk promote --version 1 --actor demo

step "6. promotion gate: the scorecard challenger must not be worse on the champion's test set"
if $BIN/creditrisk promote --actor demo; then
  echo "challenger promoted"
else
  echo "gate refused the challenger: champion kept (see the evidence above)"
fi

step "7. compare the two runs"
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

if [ "${DEMO_SERVE:-1}" != "1" ]; then
  echo
  echo "DEMO_SERVE=${DEMO_SERVE:-1}: not starting the service; demo done in ${SECONDS}s"
  echo "start it later: CREDITRISK_DATABASE_URL=$CREDITRISK_DATABASE_URL \\"
  echo "  MLFLOW_TRACKING_URI=$MLFLOW_TRACKING_URI \\"
  echo "  $BIN/creditrisk serve --port ${DEMO_PORT:-8000} --demo-key-file $DIR/demo.key"
  exit 0
fi
step "8. serve the champion on http://127.0.0.1:${DEMO_PORT:-8000} (Ctrl-C to stop; DEMO_SERVE=0 skips this)"
echo "demo steps done in ${SECONDS}s; the service runs in the foreground until Ctrl-C"
exec $BIN/creditrisk serve --port "${DEMO_PORT:-8000}" --demo-key-file "$DIR/demo.key"
