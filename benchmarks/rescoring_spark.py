"""Benchmark: rescoring the synthetic book on Spark (local mode) next to the local engine.

What it measures, on the same bucketed Parquet ledger (``--customers``, 1,000,000 by default:
the ledger of ``benchmarks/features.py``, about 25M invoices and 25M payments) as of its last
day, with the same model (the bundle ``benchmarks/rescoring.py``'s setup fits with the
product's estimators on a small ledger of the same generator and caches, or ``--model``):

1. **Spark**: :func:`creditrisk.serving.rescoring.spark.engine.rescore_on_spark` on
   ``--master`` (``local[2]``: this machine's 2 cores): every bucket through
   ``groupBy(bucket).applyInPandas``, scores written to Parquet and the run's status; wall
   time, customers per second, peak memory of the whole process tree (driver Python, the
   Spark JVM and its Python workers; sampled from /proc every 0.5 s).
2. **Local engine, same work**: ``--local-buckets`` buckets (of ``--buckets``) read from the
   same folder and rated by the local engine's own function (``rate_chunk``), one after
   the other in this process: customers per second and the share of time in reading,
   features, scoring and reasons. The local engine's end-to-end figures with a database
   (SQLite, PostgreSQL) are ``benchmarks/rescoring.py``'s.

Setup, not timed: the generator's Parquet files (``benchmarks/features.py --generate-only``),
their conversion to the bucketed ledger folder (``creditrisk ledger export`` format, streamed
table by table), the model. All under ``benchmarks/out/``.

Usage: ``python benchmarks/rescoring_spark.py [--customers N] [--buckets N] [--master URL]
[--local-buckets N] [--model PATH_OR_URI]``. The last line is ``customers=...
spark_customers_per_s=... local_customers_per_s=... spark_vs_local=... spark_seconds_total=...
spark_peak_tree_rss_mb=...``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import threading
import time
from functools import partial
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))

import pyarrow.parquet as pq

OUT = REPO / "benchmarks" / "out"
JAVA_17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")


def local_benchmark() -> ModuleType:
    """benchmarks/rescoring.py (its ledger and model setup are shared, not copied)."""
    spec = importlib.util.spec_from_file_location("rescoring_benchmark", HERE / "rescoring.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants (MB), from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * page_kb
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(p, 0) for p in tree) / 1024


class PeakSampler:
    """Samples :func:`tree_rss_mb` of this process every ``every_s`` seconds in a thread."""

    def __init__(self, every_s: float = 0.5) -> None:
        self.every_s = every_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, tree_rss_mb(os.getpid()))
            self._stop.wait(self.every_s)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def bucketed_ledger(source: Path, buckets: int) -> Path:
    """The generator's files as a bucketed Parquet ledger folder (made once, streamed)."""
    from creditrisk.ledger.frame import TABLE_COLUMNS, normalize_ledger
    from creditrisk.ledger.parquet import ParquetLedgerWriter
    from creditrisk.serving.rescoring.partitions import customer_bucket

    target = OUT / f"{source.name}_buckets{buckets}"
    if target.exists():
        return target
    started = time.perf_counter()
    with ParquetLedgerWriter(target, buckets=buckets,
                             bucket_of=partial(customer_bucket, buckets=buckets)) as writer:
        for table in TABLE_COLUMNS:
            path = source / f"{table}.parquet"
            if not path.exists():
                continue
            for batch in pq.ParquetFile(path).iter_batches(batch_size=2_000_000):
                frame = normalize_ledger({table: batch.to_pandas()}).tables()[table]
                writer.write_table(table, frame)
    print(f"setup: bucketed ledger written in {time.perf_counter() - started:.0f} s "
          f"({writer.rows})", flush=True)
    return target


def local_rate(lake: Path, served: object, *, as_of: object, buckets: int,
               local_buckets: int) -> tuple[int, float, dict[str, float]]:
    """(customers, seconds, stage seconds) of the local engine on the first buckets."""
    from creditrisk.ledger.parquet import read_parquet_ledger
    from creditrisk.serving.rescoring.scoring import rate_chunk

    customers, timings = 0, {"reading": 0.0}
    started = time.perf_counter()
    for bucket in range(min(local_buckets, buckets)):
        t0 = time.perf_counter()
        ledger = read_parquet_ledger(lake, buckets=[bucket])
        timings["reading"] += time.perf_counter() - t0
        chunk = rate_chunk(ledger, as_of=as_of, served=served, run_id="benchmark",  # type: ignore[arg-type]
                           buckets=buckets, timings=timings)
        customers += len(chunk.scores)
    return customers, time.perf_counter() - started, timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--buckets", type=int, default=64)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--local-buckets", type=int, default=2)
    parser.add_argument("--train-customers", type=int, default=2_000)
    parser.add_argument("--boost-rounds", type=int, default=300)
    parser.add_argument("--num-leaves", type=int, default=31)
    parser.add_argument("--quantile-rounds", type=int, default=300)
    parser.add_argument("--lgbm-threads", type=int, default=2)
    parser.add_argument("--model", default=None,
                        help="a bundle path or models:/ URI instead of training one")
    parser.add_argument("--tracking-uri", default=None, help="with --model models:/...")
    args = parser.parse_args(argv)
    if "JAVA_HOME" not in os.environ and JAVA_17.is_dir():
        os.environ["JAVA_HOME"] = str(JAVA_17)

    from creditrisk.serving.registry import ModelRegistry
    from creditrisk.serving.rescoring.spark.engine import rescore_on_spark
    from creditrisk.serving.rescoring.spark.session import spark_session, stop_session

    peer = local_benchmark()
    OUT.mkdir(parents=True, exist_ok=True)
    lake = bucketed_ledger(peer.ledger_folder(args.customers, args.seed), args.buckets)
    tracking_uri = args.tracking_uri or f"sqlite:///{OUT / 'mlflow.db'}"
    model_uri = args.model or str(peer.ensure_model(
        OUT / (f"rescoring_bundle_{args.train_customers}_{args.boost_rounds}_"
               f"{args.num_leaves}_{args.quantile_rounds}.pkl"),
        customers=args.train_customers, boost_rounds=args.boost_rounds,
        num_leaves=args.num_leaves, quantile_rounds=args.quantile_rounds,
        lgbm_threads=args.lgbm_threads))
    served = ModelRegistry(tracking_uri).load(model_uri)
    as_of = peer.END

    local_n, local_s, stages = local_rate(lake, served, as_of=as_of, buckets=args.buckets,
                                          local_buckets=args.local_buckets)
    spark = spark_session(args.master, shuffle_partitions=args.buckets,
                          config={"spark.driver.memory": args.driver_memory,
                                  "spark.ui.enabled": "false"})
    out = OUT / f"spark_scores_{args.customers}_{args.seed}"
    try:
        with PeakSampler() as sampler:
            started = time.perf_counter()
            summary = rescore_on_spark(spark, ledger=str(lake), out=str(out), as_of=as_of,
                                       served=served)
            spark_s = time.perf_counter() - started
    finally:
        stop_session(spark)

    spark_rate = summary.customers / spark_s
    local_rate_ = local_n / local_s
    stage_total = sum(stages.values()) or 1.0
    print(f"{'engine':<8} {'customers':>10} {'seconds':>9} {'customers/s':>12}")
    print(f"{'spark':<8} {summary.customers:>10,} {spark_s:>9.1f} {spark_rate:>12.0f}  "
          f"({args.master}, {args.buckets} buckets, peak tree RSS {sampler.peak_mb:.0f} MB)")
    print(f"{'local':<8} {local_n:>10,} {local_s:>9.1f} {local_rate_:>12.0f}  "
          f"({args.local_buckets} of {args.buckets} buckets, one process)")
    print("local stages: " + ", ".join(
        f"{k} {v / stage_total:.0%}" for k, v in stages.items()))
    print(f"customers={summary.customers} spark_customers_per_s={spark_rate:.1f} "
          f"local_customers_per_s={local_rate_:.1f} "
          f"spark_vs_local={spark_rate / local_rate_:.2f} spark_seconds_total={spark_s:.1f} "
          f"spark_peak_tree_rss_mb={sampler.peak_mb:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
