"""Benchmark: time and peak memory of the synthetic ledger generator.

What it measures: ``generate_ledger`` for ``--customers`` customers (1,000,000 by default)
over ``--start`` .. ``--end`` (two years by default), the whole ledger and its truth held in
memory as one :class:`SyntheticLedger` (the library API). With ``--out DIR`` it instead
streams partition by partition into Parquet files (what ``creditrisk ledger generate``
does), so memory is bounded by one partition. Peak memory is this process's
``ru_maxrss``.

Usage: ``python benchmarks/generate.py [--customers N] [--out DIR] [--partition-size N]``.
The last line is ``customers=... invoices=... seconds=... invoices_per_s=... peak_rss_mb=...``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # benchmarks/features.py must not shadow the package
    sys.path.insert(0, str(REPO))

from creditrisk.synthetic import (
    SyntheticSummary,
    SyntheticWriter,
    generate_ledger,
    iter_synthetic_partitions,
    summarize,
)


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 12, 31))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--partition-size", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=None, help="stream Parquet files here")
    args = parser.parse_args()

    mode = "stream" if args.out else "memory"
    print(
        f"generating {args.customers:,} customers, {args.start} to {args.end}, "
        f"partitions of {args.partition_size:,}, mode {mode}",
        flush=True,
    )
    t0 = time.perf_counter()
    if args.out:
        summary = SyntheticSummary()
        with SyntheticWriter(args.out) as writer:
            for i, part in enumerate(
                iter_synthetic_partitions(
                    n_customers=args.customers,
                    start=args.start,
                    end=args.end,
                    seed=args.seed,
                    partition_size=args.partition_size,
                )
            ):
                writer.write(part)
                summary = summary + summarize(part)
                print(
                    f"  partition {i + 1}: {time.perf_counter() - t0:7.1f} s, "
                    f"peak {peak_rss_mb():,.0f} MB",
                    flush=True,
                )
    else:
        result = generate_ledger(
            n_customers=args.customers,
            start=args.start,
            end=args.end,
            seed=args.seed,
            partition_size=args.partition_size,
        )
        summary = summarize(result)
    seconds = time.perf_counter() - t0
    peak = peak_rss_mb()

    print(f"customers            {summary.customers:,}")
    print(f"invoices             {summary.invoices:,}")
    print(f"payments             {summary.payments:,}")
    print(f"credit events        {summary.credit_events:,}")
    print(f"yearly default rate  {summary.yearly_default_rate:.2%}")
    print(f"wall time            {seconds:,.1f} s")
    print(f"invoices per second  {summary.invoices / seconds:,.0f}")
    print(f"peak RSS             {peak:,.0f} MB")
    figures = {
        "customers": summary.customers,
        "invoices": summary.invoices,
        "payments": summary.payments,
        "credit_events": summary.credit_events,
        "truth_rows": summary.truth_customer_months,
        "mode": mode,
        "seconds": round(seconds, 2),
        "invoices_per_s": round(summary.invoices / seconds),
        "peak_rss_mb": round(peak),
        "yearly_default_rate": round(summary.yearly_default_rate, 4),
    }
    print(" ".join(f"{key}={value}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
