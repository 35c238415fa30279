"""Training time and peak memory of the default model on about 1,000,000 customer snapshots.

Generates a seeded synthetic ledger large enough for the requested number of labelled
monthly snapshots (about 64 per customer over 2021-2025), builds the snapshot set, then times
the default-model fit (LightGBM + early stopping + calibration + logistic baseline +
evaluation) separately from data preparation. Peak RSS is the process maximum.

Ends with one line of key=value figures.

    .venv/bin/python benchmarks/training.py [--snapshots 1000000]
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
import resource
import time
from datetime import date

import pandas as pd

from features.synthetic.generator import generate_ledger
from training.config import TrainingConfig
from training.datasets import build_snapshot_set
from training.fitting import fit_default_model

SNAPSHOTS_PER_CUSTOMER = 60  # measured on the default generator over 2021-2025


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--snapshots", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    customers = max(1_000, args.snapshots // SNAPSHOTS_PER_CUSTOMER)
    end = date(2025, 12, 31)

    t0 = time.perf_counter()
    synthetic = generate_ledger(n_customers=customers, start=date(2021, 1, 1), end=end,
                                seed=args.seed)
    t1 = time.perf_counter()
    snapshots = build_snapshot_set(synthetic.ledger, data_end=pd.Timestamp(end),
                                   horizon_days=365)
    t2 = time.perf_counter()
    rss_before_fit = peak_rss_mb()
    config = TrainingConfig()
    fit = fit_default_model(snapshots, config=config.default, model_kind="lightgbm",
                            seed=config.seed)
    t3 = time.perf_counter()
    rows = len(snapshots.frame)
    best = getattr(getattr(fit.model, "booster", None), "best_iteration", 0)
    print(f"customers            {customers:,}")
    print(f"invoices             {len(synthetic.ledger.invoices):,}")
    print(f"labelled snapshots   {rows:,} (train {fit.row_counts['train']:,}, "
          f"calibration {fit.row_counts['calibration']:,}, test {fit.row_counts['test']:,})")
    print(f"generate             {t1 - t0:8.1f} s")
    print(f"snapshots + labels   {t2 - t1:8.1f} s")
    print(f"fit + calibrate + evaluate {t3 - t2:8.1f} s ({best} trees)")
    print(f"peak RSS before fit  {rss_before_fit:8.0f} MB; overall {peak_rss_mb():.0f} MB")
    print(f"test ROC AUC         {fit.metrics['default_test_roc_auc']:.4f}")
    print(
        f"snapshots={rows} train_rows={fit.row_counts['train']} "
        f"snapshot_seconds={t2 - t1:.1f} fit_seconds={t3 - t2:.1f} trees={best} "
        f"peak_rss_mb={peak_rss_mb():.0f} test_auc={fit.metrics['default_test_roc_auc']:.4f}"
    )


if __name__ == "__main__":
    main()
