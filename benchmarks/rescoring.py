"""Benchmark: ``creditrisk rescore`` of the whole synthetic book on SQLite and PostgreSQL,
against the service's per-request rating path on a sample.

What it measures, per database (``--databases sqlite,postgresql``):

1. the rescoring run (:func:`creditrisk.serving.rescoring.runner.rescore`, what the command
   calls) of every customer of the ``--customers`` ledger (1,000,000 by default, the ledger of
   ``benchmarks/features.py``: about 25M invoices, 25M payments) as of its last day, from the
   ledger database to the ``scores`` table: wall time, customers per second, share of time in
   reading, features, scoring, reasons and writing (seconds summed over the ``--workers``
   worker processes, so shares, not wall time); peak memory of this process and its workers
   together (their resident memory summed, sampled every 0.25 s);
2. the peer: the service's ``GET /v1/customers/{id}/risk`` work without HTTP (read the
   customer's rows, rate, limit, reasons, open invoices; ``serving.rating`` and
   ``serving.open_invoices``) for ``--sample`` customers one by one; speed-up = our customers/s
   over the peer's.

Setup, timed and printed but not in the figures: the Parquet ledger (generated once by
``benchmarks/features.py`` under ``benchmarks/out/``), a bundle fitted on a small ledger of
the same generator (:func:`ensure_model`, cached under ``benchmarks/out/``; by default the size
``creditrisk train`` produces on this generator: 60 rounds of 15 leaves for the default and
late models, 150 rounds per days-late quantile, and the open-invoice model that rates the open
invoices, fitted by training's own ``fit_open_invoice_model`` with its default settings;
``--boost-rounds 300 --num-leaves 31`` is the heavier bundle of the first measurement), and
each database loaded once by a child process (SQLite: a file under ``benchmarks/out/``, one
transaction of ``executemany`` per table from Arrow batches, indexes created after the load;
PostgreSQL: database ``--pg-database`` on ``--pg-url``'s server, ``COPY`` of Arrow-written
CSV, indexes after the load, then ``VACUUM (ANALYZE)``). An earlier run of the same as-of and
model is deleted before the timed one (a monthly run has no rows of its own to delete).

CPU is measured beside the wall time, since other processes share the machine: seconds of
this process and its workers (``getrusage``) and of the PostgreSQL server processes serving
the benchmark database (sampled from ``/proc``), with the load average before and after.

Usage: ``python benchmarks/rescoring.py [--customers N] [--databases sqlite,postgresql]
[--buckets N] [--workers N] [--sample N]``. The last line is ``customers_per_s=... peak_rss_mb=...
seconds_total=... speedup_vs_service_path=...`` (customers_per_s and seconds_total of the
first database named; every database's own figures are printed above it).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:  # annotations only: the script imports the product lazily
    from sqlalchemy.engine import Engine

    from creditrisk.serving.registry import ServedBundle

OUT = REPO / "benchmarks" / "out"
START, END = date(2024, 1, 1), date(2025, 12, 31)
TRAIN_START = date(2021, 1, 1)
"""The model's own ledger starts three years earlier: a default model needs 12 labelled
months, the same gap, a holdout and training months."""
TABLES = ("customers", "invoices", "payments", "credit_events")
OPTIONAL_TABLES = ("customer_attributes",)
LOAD_BATCH_ROWS = 200_000
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


class TreeRss:
    """Peak resident memory of this process plus its worker processes, sampled every
    ``seconds`` by a thread (the rescoring's workers are children; ``ru_maxrss`` sees this
    process only)."""

    def __init__(self, seconds: float = 0.25) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(seconds,), daemon=True)

    def _run(self, seconds: float) -> None:
        me = os.getpid()
        while not self._stop.wait(seconds):
            total = _rss_kib(me) + sum(_rss_kib(c) for c in _children(me))
            self.peak_kib = max(self.peak_kib, total)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return max(self.peak_kib / 1024, peak_rss_mb())


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _backends(database: str) -> list[int]:
    """PostgreSQL server processes serving ``database`` (their command line names it)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    text = cmdline.read().decode("utf-8", "replace")
            except OSError:
                continue
            if text.startswith("postgres: ") and f" {database} " in text:
                found.append(int(entry))
    return found


class ServerCpu:
    """CPU seconds the PostgreSQL server spent for ``database`` while it is entered: each
    backend naming the database in its command line is sampled every ``seconds`` (its last
    reading counts; a backend is a process per connection, gone when it disconnects)."""

    def __init__(self, database: str | None, seconds: float = 0.5) -> None:
        self.database = database
        self._ticks: dict[int, int] = {}
        self._start: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(seconds,), daemon=True)

    def _sample(self) -> None:
        if self.database is None:
            return
        for pid in _backends(self.database):
            ticks = _cpu_ticks(pid)
            self._start.setdefault(pid, ticks)
            self._ticks[pid] = max(self._ticks.get(pid, 0), ticks)

    def _run(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            self._sample()

    def __enter__(self) -> ServerCpu:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def seconds(self) -> float:
        hz = os.sysconf("SC_CLK_TCK")
        return sum(t - self._start.get(p, 0) for p, t in self._ticks.items()) / hz


def client_cpu_seconds() -> float:
    """User + system CPU of this process and its finished (waited-for) children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def ledger_folder(customers: int, seed: int) -> Path:
    """The Parquet ledger of benchmarks/features.py, generated by it when missing."""
    folder = OUT / f"synthetic_{customers}_{seed}_{START}_{END}"
    if not folder.exists() and customers <= 100_000:  # small: in this process, 4 tables
        from creditrisk.synthetic.generator import generate_ledger

        ledger = generate_ledger(n_customers=customers, start=START, end=END, seed=seed).ledger
        partial = folder.with_name(folder.name + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        for table, frame in ledger.tables().items():
            if table in TABLES + OPTIONAL_TABLES:
                frame.to_parquet(partial / f"{table}.parquet", index=False)
        partial.rename(folder)
    if not folder.exists():
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "features.py"),
                        "--generate-only", f"--customers={customers}", f"--seed={seed}",
                        f"--out={OUT}"], check=True)
    return folder


# --------------------------------------------------------------------------- loading


def _schema_columns(table: str) -> list[str]:
    from creditrisk.ledger.schema import LEDGER_TABLES

    return [c.name for c in LEDGER_TABLES[table].columns]


def _parquet_tables(folder: Path) -> list[str]:
    """The ledger tables present as Parquet, in foreign-key order."""
    return [t for t in TABLES + OPTIONAL_TABLES if (folder / f"{t}.parquet").exists()]


def _batches(folder: Path, table: str) -> Iterator[pa.RecordBatch]:
    """The table's Parquet rows in Arrow batches, only the schema's columns, dates as
    ``YYYY-MM-DD`` text (how SQLAlchemy's Date stores them in SQLite; PostgreSQL parses it)."""
    import pyarrow.compute as pc

    parquet = pq.ParquetFile(folder / f"{table}.parquet")
    names = [c for c in _schema_columns(table) if c in parquet.schema_arrow.names]
    for batch in parquet.iter_batches(batch_size=LOAD_BATCH_ROWS, columns=names):
        columns = []
        for column in batch.columns:
            if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
                column = pc.cast(pc.cast(column, pa.date32()), pa.string())
            elif pa.types.is_dictionary(column.type):
                column = column.dictionary_decode()
            columns.append(column)
        yield pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _indexes_sqlite(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return [(str(name), str(sql)) for name, sql in conn.execute(
        "select name, sql from sqlite_master where type = 'index' and tbl_name = ? "
        "and sql is not null", (table,))]


def load_sqlite(folder: Path, path: Path) -> None:
    """Migrate a new SQLite file and bulk-insert the Parquet ledger: per table, its secondary
    indexes dropped, one transaction of ``executemany`` over tuples of Arrow batches, the
    indexes created again. ``journal_mode=OFF`` / ``synchronous=OFF`` for this load only (a
    crash leaves the ``.partial`` file, never the benchmark's database)."""
    from creditrisk.ledger.database import upgrade_database

    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    upgrade_database(f"sqlite:///{partial}")
    conn = sqlite3.connect(partial, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    for table in _parquet_tables(folder):
        started = time.perf_counter()
        indexes = _indexes_sqlite(conn, table)
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute("BEGIN")
        rows = 0
        for batch in _batches(folder, table):
            names = ", ".join(batch.schema.names)
            marks = ", ".join("?" for _ in batch.schema.names)
            conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                             zip(*(c.to_pylist() for c in batch.columns), strict=True))
            rows += batch.num_rows
        conn.execute("COMMIT")
        for _, sql in indexes:
            conn.execute(sql)
        print(f"  sqlite {table}: {rows:,} rows in {time.perf_counter() - started:.1f} s",
              flush=True)
    conn.execute("ANALYZE")
    conn.close()
    partial.rename(path)


def load_postgres(folder: Path, url: str) -> None:
    """Migrate the (new) database and ``COPY`` the Parquet ledger in, per table: secondary
    indexes dropped, CSV written by Arrow per batch, indexes created again; foreign-key
    triggers off for this session (``session_replication_role = replica``: the generator's
    ledger is consistent, and the benchmark's own database only)."""
    import pyarrow.csv as pacsv
    from sqlalchemy import create_engine

    from creditrisk.ledger.database import upgrade_database

    upgrade_database(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        conn.exec_driver_sql("SET session_replication_role = replica")
        for table in _parquet_tables(folder):
            started = time.perf_counter()
            indexes = conn.exec_driver_sql(
                "select indexname, indexdef from pg_indexes where tablename = %(t)s "
                "and indexname not in (select conname from pg_constraint)", {"t": table}).all()
            for name, _ in indexes:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
            rows = 0
            for batch in _batches(folder, table):
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
                names = ", ".join(batch.schema.names)
                with raw.cursor() as cursor, cursor.copy(
                        f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(buffer.getvalue())
                rows += batch.num_rows
            for _, sql in indexes:
                conn.exec_driver_sql(sql)
            print(f"  postgresql {table}: {rows:,} rows in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
        conn.exec_driver_sql("SET session_replication_role = DEFAULT")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")  # hint bits set once, not by the first run
    engine.dispose()


def ensure_postgres(folder: Path, server_url: str, database: str) -> str:
    """The benchmark database on ``server_url``'s server, created and loaded when missing."""
    from sqlalchemy import create_engine, text

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("select 1 from pg_database where datname = :d"),
                              {"d": database}).scalar()
        marker_missing = True
        if exists:
            url = server_url.rsplit("/", 1)[0] + f"/{database}"
            probe = create_engine(url)
            with probe.connect() as pc:
                marker_missing = not pc.execute(text(
                    "select count(*) from information_schema.tables where table_name = "
                    "'bench_loaded'")).scalar()
            probe.dispose()
        if exists and marker_missing:
            conn.execute(text(f'DROP DATABASE "{database}"'))
        if not exists or marker_missing:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    url = server_url.rsplit("/", 1)[0] + f"/{database}"
    if marker_missing:
        load_postgres(folder, url)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("create table bench_loaded (done int)"))
        engine.dispose()
    return url


# --------------------------------------------------------------------------- model


def ensure_model(path: Path, *, customers: int, boost_rounds: int, num_leaves: int,
                 quantile_rounds: int, lgbm_threads: int) -> Path:
    """A real bundle (LightGBM default and late-payment models, days-late quantiles, the
    default policy) fitted on a small ledger of the same generator, saved at ``path`` (cached).

    Fitted directly with the product's estimators rather than through ``run_training``:
    labels are a seeded Bernoulli draw of the generator's true 12-month PD per monthly
    snapshot, and the settled invoices' days beyond terms. Rescoring speed depends on the
    trees (``boost_rounds``, 31 leaves), not on how the labels were obtained.
    """
    if path.exists():
        return path
    import numpy as np

    from creditrisk.features.invoice import build_invoice_features
    from creditrisk.features.snapshots import build_snapshots
    from creditrisk.models.bundle import CreditRiskBundle
    from creditrisk.models.estimators import (
        DEFAULT_LGBM_PARAMS,
        BoostedClassifier,
        QuantileRegressors,
    )
    from creditrisk.models.policy import Policy
    from creditrisk.models.pyfunc import save_bundle
    from creditrisk.models.spec import FeatureSpec
    from creditrisk.synthetic.generator import generate_ledger
    from creditrisk.training.config import OpenInvoiceModelConfig
    from creditrisk.training.open_invoices import fit_open_invoice_model

    synthetic = generate_ledger(n_customers=customers, start=TRAIN_START, end=END, seed=11)
    ledger = synthetic.ledger
    month_ends = list(pd.date_range(TRAIN_START, date(END.year - 1, 12, 31), freq="ME"))
    snapshots = build_snapshots(ledger, as_of_dates=month_ends)
    truth = synthetic.customer_month_truth.rename(columns={"month_end": "as_of"})
    labelled = snapshots.merge(truth[["customer_id", "as_of", "pd_12m"]],
                               on=["customer_id", "as_of"], how="inner")
    rng = np.random.default_rng(7)
    y_default = (rng.random(len(labelled)) < labelled["pd_12m"].to_numpy()).astype(np.int64)
    params = {**DEFAULT_LGBM_PARAMS, "num_leaves": num_leaves, "num_threads": lgbm_threads}
    customer_spec = FeatureSpec.from_catalog("customer").with_levels_from(labelled)
    default_model = BoostedClassifier(customer_spec, params=params,
                                      num_boost_round=boost_rounds, seed=7).fit(
        customer_spec.encode(labelled), y_default)
    invoices = build_invoice_features(ledger)
    settled = ledger.invoices.set_index("invoice_id")["settled_date"]
    settled_on = pd.to_datetime(invoices["invoice_id"].map(settled))
    invoices = invoices.loc[settled_on.notna().to_numpy()].reset_index(drop=True)
    settled_on = settled_on.loc[settled_on.notna()].reset_index(drop=True)
    days_late = (settled_on - pd.to_datetime(invoices["due_date"])).dt.days.clip(lower=0)
    invoice_spec = FeatureSpec.from_catalog("invoice").with_levels_from(invoices)
    X_invoice = invoice_spec.encode(invoices)
    late_model = BoostedClassifier(invoice_spec, params=params, num_boost_round=boost_rounds,
                                   seed=7).fit(X_invoice, (days_late > 0).to_numpy(np.int64))
    days_model = QuantileRegressors(invoice_spec, params=params,
                                    num_boost_round=quantile_rounds, seed=7).fit(
        X_invoice, days_late.to_numpy(np.float64))
    open_invoices = fit_open_invoice_model(
        ledger, data_end=pd.Timestamp(END), grace_days=0, seed=7,
        config=OpenInvoiceModelConfig(lgbm_params={"num_leaves": num_leaves,
                                                   "num_threads": lgbm_threads}))
    bundle = CreditRiskBundle(
        customer_spec=customer_spec, invoice_spec=invoice_spec, default_model=default_model,
        late_model=late_model, days_model=days_model, policy=Policy.default(),
        open_invoice_model=open_invoices.model,
        metadata={"model_name": "rescoring-benchmark", "rounds": boost_rounds,
                  "num_leaves": num_leaves, "quantile_rounds": quantile_rounds})
    return save_bundle(bundle, path)


# --------------------------------------------------------------------------- runs


def rescore_once(url: str, served: ServedBundle, model_uri: str, buckets: int,
                 workers: int) -> dict[str, float]:
    from creditrisk.ledger.database import make_engine, upgrade_database
    from creditrisk.serving.rescoring.runner import rescore

    upgrade_database(url)
    engine = make_engine(url)
    forget_run(engine, served)
    database = engine.url.database if engine.dialect.name == "postgresql" else None
    load_before = os.getloadavg()
    cpu_before = client_cpu_seconds()
    with ServerCpu(database) as server:
        started = time.perf_counter()
        result = rescore(engine, served, as_of=END, model_uri=model_uri,
                         buckets=buckets, force=True, workers=workers)
        seconds = time.perf_counter() - started
    engine.dispose()
    return {"seconds": seconds, "customers": float(result.run.customer_count),
            "client_cpu_s": client_cpu_seconds() - cpu_before, "server_cpu_s": server.seconds,
            "load_before": load_before[0], "load_after": os.getloadavg()[0],
            **{f"t_{k}": v for k, v in result.timings.items()}}


def forget_run(engine: Engine, served: ServedBundle) -> None:
    """Delete an earlier benchmark run of this (as-of, model) before the timed one, outside
    the timing: a monthly run writes a new as-of and has no rows of its own to delete
    (``force`` would otherwise delete the previous million rows inside the measurement)."""
    import sqlalchemy as sa

    from creditrisk.serving.rescoring.store import RunKey
    from creditrisk.serving.rescoring.tables import score_run_buckets, score_runs, scores

    run_id = RunKey(END, served.model_name, served.model_version).run_id
    with engine.begin() as conn:
        for table in (scores, score_run_buckets, score_runs):
            conn.execute(sa.delete(table).where(table.c.run_id == run_id))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE scores")


def service_path(url: str, served: ServedBundle, sample: int, seed: int) -> float:
    """Seconds per customer of the service's per-request rating path."""
    import numpy as np
    from sqlalchemy import select

    from creditrisk.ledger.database import make_engine
    from creditrisk.ledger.schema import LEDGER_TABLES
    from creditrisk.serving import open_invoices, rating
    from creditrisk.serving.errors import CustomerNotOnboarded

    engine = make_engine(url)
    table = LEDGER_TABLES["customers"]
    with engine.connect() as conn:
        ids = [str(r[0]) for r in conn.execute(select(table.c.customer_id))]
    rng = np.random.default_rng(seed)
    chosen = rng.choice(np.asarray(ids), size=min(sample, len(ids)), replace=False)
    started = time.perf_counter()
    done = 0
    for customer_id in chosen.tolist():
        try:
            state = rating.load_customer(served, engine, customer_id, as_of=END)
        except CustomerNotOnboarded:
            continue
        rating.recommend_customer_limit(served, state)
        rating.explain_customer(served, state)
        open_invoices.predict_open_invoices(served, state.ledger, as_of=END)  # type: ignore[arg-type]
        done += 1
    engine.dispose()
    return (time.perf_counter() - started) / max(done, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--buckets", type=int, default=64)
    parser.add_argument("--sample", type=int, default=200, help="customers for the peer")
    parser.add_argument("--train-customers", type=int, default=2_000)
    parser.add_argument("--boost-rounds", type=int, default=60,
                        help="rounds of the default and late models (creditrisk train's early "
                             "stopping picks 25-50 on this generator, docs/synthetic.md)")
    parser.add_argument("--num-leaves", type=int, default=15,
                        help="leaves per tree (the product's default is 15)")
    parser.add_argument("--quantile-rounds", type=int, default=150,
                        help="rounds of each days-late quantile model (training's default; "
                             "the open-invoice model, which rates open invoices, takes "
                             "training's own defaults)")
    parser.add_argument("--lgbm-threads", type=int, default=2,
                        help="threads fitting the benchmark's bundle")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes rating buckets (creditrisk rescore --workers)")
    parser.add_argument("--pg-url", default=os.environ.get("CREDITRISK_BENCH_PG_URL",
                                                           DEFAULT_PG_URL))
    parser.add_argument("--pg-database", default=None)
    parser.add_argument("--load-only", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    folder = ledger_folder(args.customers, args.seed)
    sqlite_file = OUT / f"rescoring_{args.customers}_{args.seed}.db"
    pg_database = args.pg_database or f"creditrisk_bench_rescoring_{args.customers}"
    if args.load_only == "sqlite":
        load_sqlite(folder, sqlite_file)
        return 0
    if args.load_only == "postgresql":
        print(ensure_postgres(folder, args.pg_url, pg_database))
        return 0

    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    urls: dict[str, str] = {}
    for database in databases:
        started = time.perf_counter()
        if database == "sqlite" and not sqlite_file.exists():
            subprocess.run([sys.executable, __file__, "--load-only=sqlite",
                            f"--customers={args.customers}", f"--seed={args.seed}"], check=True)
        if database == "postgresql":
            done = subprocess.run(
                [sys.executable, __file__, "--load-only=postgresql",
                 f"--customers={args.customers}", f"--seed={args.seed}",
                 f"--pg-url={args.pg_url}", f"--pg-database={pg_database}"],
                check=True, capture_output=True, text=True)
            urls[database] = done.stdout.strip().splitlines()[-1]
        else:
            urls[database] = f"sqlite:///{sqlite_file}"
        print(f"{database}: ledger ready in {time.perf_counter() - started:.1f} s (setup)",
              flush=True)

    from creditrisk.serving.registry import ModelRegistry

    model_path = ensure_model(
        OUT / (f"rescoring_bundle_{args.train_customers}_{args.boost_rounds}_"
               f"{args.num_leaves}_{args.quantile_rounds}_open.pkl"),
        customers=args.train_customers, boost_rounds=args.boost_rounds,
        num_leaves=args.num_leaves, quantile_rounds=args.quantile_rounds,
        lgbm_threads=args.lgbm_threads)
    model_uri = str(model_path)
    served = ModelRegistry("sqlite://").load(model_uri)
    results: dict[str, dict[str, float]] = {}
    tree = TreeRss().__enter__()
    for database in databases:
        figures = rescore_once(urls[database], served, model_uri, args.buckets, args.workers)
        results[database] = figures
        stages = {k[2:]: v for k, v in figures.items() if k.startswith("t_")}
        total = sum(stages.values()) or 1.0
        print(f"{database}: {figures['customers']:,.0f} customers in {figures['seconds']:.1f} s "
              f"= {figures['customers'] / figures['seconds']:,.0f} customers/s; stages: "
              + ", ".join(f"{k} {v / total:.0%}" for k, v in stages.items())
              + f"; peak RSS so far {tree.peak_mb:,.0f} MB (this process and its "
              f"{args.workers} workers)", flush=True)
        per_customer_ms = 1000 / max(figures["customers"], 1.0)
        print(f"{database}: CPU {figures['client_cpu_s']:,.0f} s in the runner and its workers "
              f"({figures['client_cpu_s'] * per_customer_ms:.3f} ms a customer), "
              f"{figures['server_cpu_s']:,.0f} s in the database server "
              f"({figures['server_cpu_s'] * per_customer_ms:.3f} ms); load average "
              f"{figures['load_before']:.1f} before, {figures['load_after']:.1f} after "
              f"(other processes on the machine share its {os.cpu_count()} cores)", flush=True)
    first = databases[0]
    per_customer_s = service_path(urls[first], served, args.sample, args.seed)
    peer_rate = 1.0 / per_customer_s
    ours = results[first]["customers"] / results[first]["seconds"]
    print(f"peer (service per-request path, {first}, {args.sample} customers): "
          f"{peer_rate:,.1f} customers/s ({per_customer_s * 1000:.1f} ms each); "
          f"speed-up (customers/s, ours vs peer): {ours / peer_rate:,.1f}x")
    extra = " ".join(f"{d}_customers_per_s={r['customers'] / r['seconds']:.0f} "
                     f"{d}_seconds={r['seconds']:.1f} {d}_client_cpu_s={r['client_cpu_s']:.0f} "
                     f"{d}_server_cpu_s={r['server_cpu_s']:.0f} {d}_load={r['load_after']:.1f}"
                     for d, r in results.items())
    tree.__exit__(None, None, None)
    print(f"customers_per_s={ours:.0f} peak_rss_mb={tree.peak_mb:.0f} workers={args.workers} "
          f"seconds_total={results[first]['seconds']:.1f} "
          f"speedup_vs_service_path={ours / peer_rate:.1f} {extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
