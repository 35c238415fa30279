"""Model quality end to end through the product, on the seeded synthetic ledger and on the
IBM accounts-receivable file.

Synthetic: generate -> write Parquet -> import (canonical mapping) -> features -> train,
with the generator's truth as the oracle. Applicants are judged on every no-history
snapshot dated after the training cut whose 12-month window has matured, against the oracle
on the same rows, with a bootstrap 95 % interval, and on the onboarding snapshots among them
also against the applicant yardstick (the oracle averaged over what an application cannot
show; ``training.applicant_evidence``). IBM:
import (shipped mapping) -> features -> train the late-payment model on a date-ordered
split, against the naive baseline (the customer's own prior late share) and the mean-delay
baseline for days late.

Ends with one line of key=value figures.

    .venv/bin/python benchmarks/quality.py [--customers 10000] [--seed 42] [--skip-ibm]
        [--existing-share 0.55]
"""

from __future__ import annotations

import sys
from pathlib import Path

# run as a script, this folder comes first on sys.path and benchmarks/features.py would
# shadow the features package: drop the folder, put the repository root first
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from creditrisk.ledger.database import ledger_max_date, make_engine, read_ledger
from creditrisk.ledger.importer import import_ledger
from creditrisk.ledger.mapping import load_mapping
from creditrisk.models.policy import Policy
from creditrisk.synthetic.generator import generate_ledger
from creditrisk.synthetic.storage import write_synthetic
from creditrisk.synthetic.world import WorldParameters
from creditrisk.training import tracking
from creditrisk.training.applicant_evidence import (
    applicant_evidence,
    applicant_rows_after_cut,
    truth_on_rows,
)
from creditrisk.training.config import TrainingConfig
from creditrisk.training.evaluation import not_enough_events
from creditrisk.training.pipeline import FittedModels, fit_models, log_training, run_training

REPO = Path(__file__).resolve().parents[1]
IBM_DIR = REPO.parent / "shared" / "datasets" / "ibm_accounts_receivable"


def synthetic(work: Path, customers: int, seed: int,
              config: TrainingConfig | None = None,
              world: WorldParameters | None = None) -> dict[str, float]:
    start, end = date(2021, 1, 1), date(2025, 12, 31)
    config = config or TrainingConfig()
    t0 = time.perf_counter()
    result = generate_ledger(n_customers=customers, start=start, end=end, seed=seed,
                             world=world)
    write_synthetic(result, work / "synthetic")
    engine = make_engine(f"sqlite:///{work / 'synthetic.db'}")
    import_ledger(load_mapping("canonical"), engine=engine, data_dir=work / "synthetic")
    ledger = read_ledger(engine)
    t1 = time.perf_counter()
    truth = {"customer_month": result.customer_month_truth, "invoice": result.invoice_truth}
    def progress(step: str) -> None:
        print(f"  synthetic: {step}", flush=True)

    # run_training's two steps, to keep the fitted models for the applicant evidence
    with tracking.training_run(config.experiment, "quality-synthetic"):
        fitted = fit_models(ledger, config=config, data_end=pd.Timestamp(end), truth=truth,
                            progress=progress)
        out = log_training(ledger, fitted, policy=Policy.default(),
                           run_name="quality-synthetic", progress=progress)
    t2 = time.perf_counter()
    m = out.metrics
    print(f"synthetic ledger: {customers} customers, {len(ledger.invoices)} invoices; "
          f"data {t1 - t0:.1f} s, training {t2 - t1:.1f} s")
    return {
        "default_auc": m["default_test_roc_auc"],
        "default_oracle_auc": m.get("default_test_oracle_roc_auc", float("nan")),
        "default_ece": m["default_test_ece"],
        "default_scorecard_auc": m["default_test_scorecard_roc_auc"],
        "default_auc_gap": m.get("default_test_roc_auc_gap", float("nan")),
        # the same gap without the outcome noise: pairs weighted by the oracle's probabilities
        # (training.expected_auc; the observed gap moves ~0.0035 from one draw to the next)
        "default_expected_auc_gap": m.get("default_test_expected_roc_auc_gap", float("nan")),
        # applicants on the holdout's onboarding snapshots only (what training logs)
        "applicant_holdout_defaults": m.get("default_oot_applicants_events", float("nan")),
        **applicant_figures(fitted, result.customer_month_truth, seed=seed),
        "late_auc": m["late_test_roc_auc"],
        "late_oracle_auc": m.get("late_test_oracle_roc_auc", float("nan")),
        # invoices open at the test month-ends, predicted as of then (not-yet-due rows for
        # the ECE; all rows for the p10-p90 coverage of the actual payment date)
        "open_invoice_auc": m.get("open_invoice_test_roc_auc", float("nan")),
        "open_invoice_ece": m.get("open_invoice_test_ece", float("nan")),
        "open_invoice_coverage": m.get("open_invoice_test_coverage_p10_p90", float("nan")),
        "train_seconds": t2 - t1,
    }


def applicant_figures(fitted: FittedModels, truth: pd.DataFrame, *, seed: int) -> dict[str, float]:
    """Applicants on every no-history snapshot after the training cut (matured windows):
    the model's AUC with its bootstrap interval and the oracle's on the same rows; on the
    onboarding snapshots among them, the model's, the oracle's and the applicant yardstick's.
    NaN when the default model was skipped or a comparison has too few events."""
    nan = float("nan")
    keys = ("applicant_auc", "applicant_auc_low", "applicant_auc_high", "applicant_oracle_auc",
            "applicant_defaults", "applicant_rows", "applicant_onboarding_auc",
            "applicant_onboarding_oracle_auc", "applicant_yardstick_auc",
            "applicant_onboarding_defaults")
    figures = dict.fromkeys(keys, nan)
    fit, snapshots = fitted.default, fitted.snapshots
    if fit is None or snapshots is None:
        return figures
    frame = snapshots.frame
    rows = frame.loc[applicant_rows_after_cut(frame, fit.split.train_end)].reset_index(drop=True)
    if rows.empty:
        return figures
    y = rows["default_12m"].to_numpy(dtype=np.int8)
    score = fit.model.predict_proba(fit.spec.encode(rows))
    found = applicant_evidence(y, score, truth_on_rows(rows, truth),
                               min_events=fitted.config.default.min_segment_events, seed=seed)

    def auc(key: str, events: str) -> str:
        return f"{found[key]:.4f}" if key in found else not_enough_events(found.get(events, 0))

    print(f"applicants after the training cut ({fit.split.train_end.date()}): "
          f"{int(found['n'])} no-history snapshots, {int(found['events'])} defaults; "
          f"model AUC {auc('roc_auc', 'events')}"
          + (f" (95 % bootstrap {found['roc_auc_low']:.4f}-{found['roc_auc_high']:.4f})"
             if "roc_auc" in found else "")
          + f", oracle {auc('oracle_roc_auc', 'oracle_events')} on the same rows")
    print(f"  of which onboarding snapshots: {int(found.get('onboarding_n', 0))}, "
          f"{int(found.get('onboarding_events', 0))} defaults; model "
          f"{auc('onboarding_model_roc_auc', 'onboarding_events')}, oracle "
          f"{auc('onboarding_oracle_roc_auc', 'onboarding_events')}, applicant yardstick "
          f"{auc('yardstick_roc_auc', 'onboarding_events')}")
    if found.get("oracle_n", found["n"]) != found["n"]:
        print(f"  (the oracle is known on {int(found['oracle_n'])} of the rows)")
    return figures | {
        "applicant_auc": found.get("roc_auc", nan),
        "applicant_auc_low": found.get("roc_auc_low", nan),
        "applicant_auc_high": found.get("roc_auc_high", nan),
        "applicant_oracle_auc": found.get("oracle_roc_auc", nan),
        "applicant_defaults": found["events"],
        "applicant_rows": found["n"],
        "applicant_onboarding_auc": found.get("onboarding_model_roc_auc", nan),
        "applicant_onboarding_oracle_auc": found.get("onboarding_oracle_roc_auc", nan),
        "applicant_yardstick_auc": found.get("yardstick_roc_auc", nan),
        "applicant_onboarding_defaults": found.get("onboarding_events", nan),
    }


def ibm(work: Path) -> dict[str, float]:
    engine = make_engine(f"sqlite:///{work / 'ibm.db'}")
    import_ledger(load_mapping("ibm_accounts_receivable"), engine=engine, data_dir=IBM_DIR)
    ledger = read_ledger(engine)
    config = TrainingConfig(train_default=False,
                            late={"lgbm_params": {"min_data_in_leaf": 20}})  # type: ignore[arg-type]
    end = pd.Timestamp(ledger_max_date(ledger))
    out = run_training(ledger, config=config, data_end=end, policy=Policy.default(),
                       run_name="quality-ibm")
    m = out.metrics
    return {
        "ibm_late_auc": m["late_test_roc_auc"],
        "ibm_naive_auc": m["late_test_naive_prior_share_roc_auc"],
        "ibm_days_late_mae": m["late_test_days_late_mae"],
        "ibm_days_late_mae_baseline": m["late_test_days_late_mae_mean_baseline"],
        "ibm_test_invoices": m["late_test_n"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-ibm", action="store_true")
    parser.add_argument("--existing-share", type=float, default=WorldParameters.existing_share,
                        help="share of customers already trading at the start; the rest "
                        "onboard during the five years (a growth scenario: lower)")
    parser.add_argument("--boost-rounds", type=int, default=None,
                        help="cap every model's boosting rounds (>= 10; smoke-test size)")
    parser.add_argument("--lgbm-threads", type=int, default=None,
                        help="LightGBM threads per model (default: the training config's)")
    args = parser.parse_args()
    if not 0.0 <= args.existing_share <= 1.0:
        parser.error(f"--existing-share must be in [0, 1], got {args.existing_share}")
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tracking.configure(f"sqlite:///{work / 'mlflow.db'}")
        config = TrainingConfig.capped(boost_rounds=args.boost_rounds,
                                       lgbm_threads=args.lgbm_threads)
        world = replace(WorldParameters(), existing_share=args.existing_share)
        figures |= synthetic(work, args.customers, args.seed, config, world)
        if not args.skip_ibm:
            if IBM_DIR.exists():
                figures |= ibm(work)
            else:
                print(f"IBM file not found under {IBM_DIR}: skipped")
    for key, value in figures.items():
        print(f"  {key:32s} {value:.4f}")
    print(" ".join(f"{k}={v:.4f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
