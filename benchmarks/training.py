"""Training time and peak memory of the default model on about 1,000,000 customer snapshots.

Generates a seeded synthetic ledger large enough for the requested number of labelled
monthly snapshots (about 34 per customer over 2021-2025), builds the snapshot set, then times
the default-model fit (LightGBM + early stopping + calibration + WoE scorecard baseline +
evaluation) separately from data preparation. Peak RSS is the process maximum.

Peer, side by side: a bare ``lightgbm.train`` on the same training matrix with the same
parameters and the same number of trees as the product's model (no early stopping, no
calibration, no baseline, no evaluation), so the ratio is the cost of everything the product
does around the booster.

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

import lightgbm as lgb
import numpy as np
import pandas as pd

from creditrisk.models.estimators import lightgbm_params
from creditrisk.models.spec import FeatureSpec
from creditrisk.synthetic.generator import generate_ledger
from creditrisk.training.config import TrainingConfig
from creditrisk.training.datasets import build_snapshot_set
from creditrisk.training.fitting import fit_default_model
from creditrisk.training.split import TRAIN

SNAPSHOTS_PER_CUSTOMER = 34  # labelled snapshots per customer, default generator, 2021-2025


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--snapshots", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--customers", type=int, default=None,
                        help="customers to generate (default: enough for --snapshots, "
                             "at least 1,000); a few hundred is the smoke-test size")
    parser.add_argument("--boost-rounds", type=int, default=None,
                        help="cap the default model's boosting rounds (>= 10; smoke-test size)")
    parser.add_argument("--lgbm-threads", type=int, default=None,
                        help="LightGBM threads per model (default: the training config's)")
    args = parser.parse_args()
    customers = args.customers or max(1_000, args.snapshots // SNAPSHOTS_PER_CUSTOMER)
    end = date(2025, 12, 31)

    t0 = time.perf_counter()
    synthetic = generate_ledger(n_customers=customers, start=date(2021, 1, 1), end=end,
                                seed=args.seed)
    t1 = time.perf_counter()
    snapshots = build_snapshot_set(synthetic.ledger, data_end=pd.Timestamp(end),
                                   horizon_days=365)
    t2 = time.perf_counter()
    rss_before_fit = peak_rss_mb()
    default: dict[str, object] = {}
    if args.boost_rounds is not None:
        default["num_boost_round"] = args.boost_rounds
    if args.lgbm_threads is not None:
        default["lgbm_params"] = {"num_threads": args.lgbm_threads}
    config = TrainingConfig.model_validate({"default": default})
    fit = fit_default_model(snapshots, config=config.default, model_kind="lightgbm",
                            seed=config.seed, oracle=synthetic.customer_month_truth)
    t3 = time.perf_counter()
    rows = len(snapshots.frame)
    best = getattr(getattr(fit.model, "booster", None), "best_iteration", 0)

    train = fit.roles == TRAIN
    frame = snapshots.frame[train]
    spec = FeatureSpec.from_catalog("customer").with_levels_from(frame)
    X, y = spec.encode(frame), frame["default_12m"].to_numpy(dtype=np.int8)
    ours = {"num_leaves": config.default.num_leaves, **config.default.lgbm_params}
    params = lightgbm_params(ours, objective="binary", seed=config.seed)
    t4 = time.perf_counter()
    lgb.train(params, lgb.Dataset(X, label=y, categorical_feature=spec.categorical_indices
                                  or "auto"), num_boost_round=max(best, 1))
    t5 = time.perf_counter()
    bare = t5 - t4
    print(f"customers            {customers:,}")
    print(f"invoices             {len(synthetic.ledger.invoices):,}")
    print(f"labelled snapshots   {rows:,} (train {fit.row_counts['train']:,}, "
          f"calibration {fit.row_counts['calibration']:,}, test {fit.row_counts['test']:,})")
    print(f"generate             {t1 - t0:8.1f} s")
    print(f"snapshots + labels   {t2 - t1:8.1f} s")
    print(f"fit + calibrate + evaluate {t3 - t2:8.1f} s ({best} trees)")
    print(f"peak RSS before fit  {rss_before_fit:8.0f} MB; overall {peak_rss_mb():.0f} MB")
    print(f"bare lightgbm.train  {bare:8.1f} s ({max(best, 1)} trees, all training rows)")
    oracle_auc = fit.metrics.get("default_test_oracle_roc_auc", float("nan"))
    print(f"test ROC AUC         {fit.metrics['default_test_roc_auc']:.4f} "
          f"(oracle {oracle_auc:.4f}, ECE {fit.metrics['default_test_ece']:.4f})")
    print(
        f"snapshots={rows} train_rows={fit.row_counts['train']} "
        f"snapshot_seconds={t2 - t1:.1f} fit_seconds={t3 - t2:.1f} trees={best} "
        f"bare_lightgbm_seconds={bare:.1f} ratio_fit_vs_bare={(t3 - t2) / bare:.2f} "
        f"peak_rss_mb={peak_rss_mb():.0f} test_auc={fit.metrics['default_test_roc_auc']:.4f} "
        f"oracle_auc={oracle_auc:.4f} test_ece={fit.metrics['default_test_ece']:.4f}"
    )


if __name__ == "__main__":
    main()
