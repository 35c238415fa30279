"""Online scoring speed: our service against ``mlflow models serve`` on the same champion.

    .venv/bin/python benchmarks/serving.py                      # trains a world first
    .venv/bin/python benchmarks/serving.py --customers 300 --boost-rounds 10 --lgbm-threads 1 \\
        --duration 1 --warmup 0.5 --risk-duration 1                 # smoke-test size
    .venv/bin/python benchmarks/serving.py --tracking-uri sqlite:///mlflow.db \\
        --model-uri models:/creditrisk@champion --database-url sqlite:///creditrisk.db

Both servers run on localhost with ONE uvicorn worker each, on the same registered model
(``models:/NAME@champion``) and with ``OMP_NUM_THREADS=1`` (LightGBM's OpenMP team costs
milliseconds per single-row predict on a busy machine; our service sets the same limit
itself, so MLflow gets it too for a fair comparison). A separate load-generator process
drives each one in turn with the same applicant payloads at a fixed concurrency (keep-alive
connections, asyncio, raw HTTP/1.1) for a fixed duration, after a warm-up, and counts
requests/s, latency percentiles and errors (any non-200 answer or broken connection). Our
``POST /v1/applications`` writes every decision to the decision log (SQLite, WAL) before
answering; MLflow's ``/invocations`` writes nothing. Then ``GET /v1/customers/{id}/risk`` is
timed on the ledger (random customers, one client by default: its latency, not queueing).

The last line is ``key=value`` figures:
``ours_rps mlflow_rps ratio_rps ours_p50_ms ours_p99_ms mlflow_p50_ms mlflow_p99_ms errors
ours_cpu_ms_per_req mlflow_cpu_ms_per_req customer_risk_p50_ms customer_risk_p99_ms
customer_risk_cpu_ms_per_req load_avg_start load_avg_end``. The CPU figures are each server's
process tree's CPU seconds (``/proc``, every thread and child process) per answer over its
whole run, warm-up included: on a machine shared with other jobs they move much less than
requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
WORLD_START, WORLD_END = date(2023, 1, 1), date(2025, 12, 31)
"""The trained world's ledger period; its last day is the decision date of the payloads."""
COUNTRIES = ("DE", "FR", "NL", "IT", "ES", "PL", "BE", "AT")
INDUSTRIES = ("manufacturing", "wholesale", "retail", "construction", "transport",
              "hospitality", "it_services", "healthcare")


# --------------------------------------------------------------------------- payloads


def applicant_rows(n: int, *, seed: int, as_of: date,
                   score_range: tuple[float, float] = (5.0, 95.0)) -> list[dict[str, object]]:
    """``n`` seeded applicants in the pyfunc's column format (dates as ISO strings); bureau
    scores drawn within ``score_range`` (the service refuses a score outside the range the
    model was trained on with a 422, which would count as an error)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        founded = as_of - timedelta(days=rng.randint(200, 40 * 365))
        revenue = round(10 ** rng.uniform(5, 8), -2)
        rows.append({
            "country": rng.choice(COUNTRIES),
            "industry": rng.choice(INDUSTRIES),
            "founded_on": founded.isoformat(),
            "annual_revenue": revenue,
            "external_score": None if rng.random() < 0.2 else round(rng.uniform(*score_range), 1),
            "payment_terms_days": float(rng.choice((14, 30, 45, 60))),
            "requested_limit": round(revenue * rng.uniform(0.005, 0.2), -2),
            "expected_monthly_sales": None if rng.random() < 0.1
            else round(revenue / 12 * rng.uniform(0.01, 0.3), -2),
            "as_of": as_of.isoformat(),
        })
    return rows


def service_body(row: dict[str, object]) -> bytes:
    """An applicant row as our service's JSON body: payment terms a JSON integer (the service
    refuses ``30.0``; the pyfunc's signature column is a double, so MLflow gets the float)."""
    terms = row["payment_terms_days"]
    body = {**row, "payment_terms_days": int(terms) if isinstance(terms, float) else terms}
    return json.dumps(body).encode()


def http_request(method: str, path: str, *, port: int, body: bytes = b"",
                 headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


# --------------------------------------------------------------------------- load generator


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: np.ndarray
    answered: int = 0
    """Every answer of the run, the warm-up's included (what the server's CPU paid for)."""
    server_cpu_s: float = float("nan")
    """CPU seconds of the server's process tree over the whole run (Linux; NaN elsewhere)."""

    @property
    def cpu_ms_per_request(self) -> float:
        """Server CPU per answer: on a shared machine a steadier measure than requests/s."""
        return self.server_cpu_s / self.answered * 1000.0 if self.answered else float("nan")

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if len(self.latencies_ms) else np.nan


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _drive(port: int, requests: Sequence[bytes], concurrency: int, warmup_s: float,
                 duration_s: float) -> tuple[int, int, float, list[float], int]:
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0, "answered": 0}
    start = time.perf_counter()
    measure_from = start + warmup_s
    stop_at = measure_from + duration_s

    async def connection(worker: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = worker
        try:
            while (now := time.perf_counter()) < stop_at:
                writer.write(requests[i % len(requests)])
                i += concurrency
                try:
                    status = await _read_response(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    counts["errors"] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                done = time.perf_counter()
                counts["answered"] += 1
                if now >= measure_from:
                    latencies.append((done - now) * 1000.0)
                    counts["ok" if status == 200 else "errors"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection(w) for w in range(concurrency)))
    return counts["ok"], counts["errors"], duration_s, latencies, counts["answered"]


def _load_process(port: int, requests: list[bytes], concurrency: int, warmup_s: float,
                  duration_s: float, out: Any) -> None:
    out.put(asyncio.run(_drive(port, requests, concurrency, warmup_s, duration_s)))


def drive(port: int, requests: list[bytes], *, concurrency: int, warmup_s: float,
          duration_s: float, server_pid: int | None = None) -> LoadResult:
    """Run the load in a separate process (it must not share a core's GIL with a server);
    with ``server_pid``, the CPU that server's process tree spent meanwhile."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(
        target=_load_process, args=(port, requests, concurrency, warmup_s, duration_s, queue)
    )
    cpu_before = tree_cpu_seconds(server_pid) if server_pid else float("nan")
    process.start()
    ok, errors, seconds, latencies, answered = queue.get(timeout=warmup_s + duration_s + 120)
    process.join()
    cpu = tree_cpu_seconds(server_pid) - cpu_before if server_pid else float("nan")
    return LoadResult(ok, errors, seconds, np.asarray(latencies), answered, cpu)


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants (all threads), from
    ``/proc`` (``mlflow models serve`` answers from a child process); NaN without ``/proc``."""
    ticks, stack = 0, [pid]
    try:
        while stack:
            current = stack.pop()
            stat = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(stat[11]) + int(stat[12])  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(child) for child in (task / "children").read_text().split())
    except (OSError, ValueError):
        return float("nan")
    return ticks / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, path: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    probe = http_request("GET", path, port=port, headers={"Connection": "close"})
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
                conn.sendall(probe)
                if conn.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"server on port {port} not ready on {path} after {seconds:.0f}s")


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                cwd=REPO)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --------------------------------------------------------------------------- world


@dataclass(frozen=True)
class World:
    tracking_uri: str
    model_uri: str
    database_url: str
    customer_ids: list[str]
    as_of: date
    score_range: tuple[float, float] = (5.0, 95.0)
    """Bureau scores of the payloads: inside the ledger's own (its 5th to 95th percentile)."""


def trained_world(workdir: Path, *, customers: int, boost_rounds: int | None,
                  lgbm_threads: int | None) -> World:
    """Through the product: a seeded synthetic ledger in SQLite, one training run
    (``run_training``: late-payment, open-invoice and default models, the bundle registered)
    and its version made champion. ``boost_rounds`` and ``lgbm_threads`` cap every model's
    boosting rounds and LightGBM threads (the smoke-test size); None keeps the config's own."""
    import pandas as pd

    from creditrisk.ledger.database import make_engine, upgrade_database
    from creditrisk.ledger.store import write_ledger
    from creditrisk.models.policy import Policy
    from creditrisk.synthetic.generator import generate_ledger
    from creditrisk.training import tracking
    from creditrisk.training.config import TrainingConfig
    from creditrisk.training.pipeline import run_training

    tracking_uri = f"sqlite:///{(workdir / 'mlflow.db').resolve()}"
    tracking.configure(tracking_uri)
    synthetic = generate_ledger(n_customers=customers, start=WORLD_START, end=WORLD_END,
                                seed=11)
    database_url = f"sqlite:///{workdir / 'ledger.db'}"
    upgrade_database(database_url)
    engine = make_engine(database_url)
    write_ledger(engine, synthetic.ledger)
    engine.dispose()
    config = TrainingConfig.capped(boost_rounds=boost_rounds, lgbm_threads=lgbm_threads)
    result = run_training(synthetic.ledger, config=config, data_end=pd.Timestamp(WORLD_END),
                          policy=Policy.default(), run_name="serving-benchmark")
    if result.version is None:
        raise SystemExit("training registered no bundle")
    tracking.set_alias(result.model_name, tracking.CHAMPION_ALIAS, result.version)
    ids = [str(c) for c in synthetic.ledger.customers["customer_id"]]
    return World(tracking_uri, f"models:/{result.model_name}@{tracking.CHAMPION_ALIAS}",
                 database_url, ids, WORLD_END,
                 score_range(synthetic.ledger.customers["external_score"].dropna().tolist()))


def existing_world(tracking_uri: str, model_uri: str, database_url: str, as_of: date) -> World:
    from sqlalchemy import select

    from creditrisk.ledger.database import make_engine
    from creditrisk.ledger.schema import LEDGER_TABLES

    engine = make_engine(database_url)
    with engine.connect() as conn:
        table = LEDGER_TABLES["customers"]
        ids = [str(r[0]) for r in conn.execute(select(table.c.customer_id).limit(5000))]
        scores = [float(r[0]) for r in conn.execute(
            select(table.c.external_score).where(table.c.external_score.is_not(None)).limit(50_000)
        )]
    engine.dispose()
    return World(tracking_uri, model_uri, database_url, ids, as_of, score_range(scores))


def score_range(scores: Sequence[float]) -> tuple[float, float]:
    """5th to 95th percentile of the ledger's bureau scores (0-100 without any)."""
    if not scores:
        return (0.0, 100.0)
    low, high = np.percentile(np.asarray(scores, dtype=float), [5, 95])
    return (float(low), float(high))


# --------------------------------------------------------------------------- main


def use_repo_imports() -> None:
    """Import the repo's packages, not this directory's scripts (``benchmarks/features.py``
    would shadow the ``features`` package)."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(REPO))


def main(argv: Sequence[str] | None = None) -> None:
    use_repo_imports()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracking-uri", help="existing MLflow store (default: train one)")
    parser.add_argument("--model-uri", default="models:/creditrisk@champion")
    parser.add_argument("--database-url", help="ledger database (with --tracking-uri)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="decision date for payloads (default: today UTC)")
    parser.add_argument("--concurrency", type=int, default=4,
                        help="in-flight requests (one worker: p99 >= concurrency / throughput)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per server")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--risk-duration", type=float, default=8.0)
    parser.add_argument("--risk-concurrency", type=int, default=1,
                        help="clients for the customer-risk timing (1 = latency, no queueing)")
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--keep-workdir", action="store_true",
                        help="keep the temporary folder (stores, server logs) after a good run")
    parser.add_argument("--customers", type=int, default=1_500,
                        help="synthetic customers of the trained world (without --tracking-uri)")
    parser.add_argument("--boost-rounds", type=int, default=None,
                        help="cap every model's boosting rounds (>= 10; smoke-test size)")
    parser.add_argument("--lgbm-threads", type=int, default=None,
                        help="LightGBM threads per model (default: the training config's)")
    args = parser.parse_args(argv)

    load_start = os.getloadavg()[0]  # timings on a shared machine mean little without it
    workdir = Path(tempfile.mkdtemp(prefix="creditrisk-bench-"))
    if args.tracking_uri:
        if not args.database_url:
            parser.error("--database-url is required with --tracking-uri")
        world = existing_world(args.tracking_uri, args.model_uri, args.database_url,
                               args.as_of or datetime.now(UTC).date())
    else:
        print(f"training a world of {args.customers:,} customers in {workdir} ...", flush=True)
        world = trained_world(workdir, customers=args.customers,
                              boost_rounds=args.boost_rounds, lgbm_threads=args.lgbm_threads)
    as_of = args.as_of or world.as_of

    from creditrisk.serving.api_keys import generate_api_key, seed_entry

    key = generate_api_key(label="bench", scopes=["score", "read"], created_at=datetime.now(UTC))
    path = os.pathsep.join([str(Path(PYTHON).parent), os.environ.get("PATH", "")])
    base_env = {**os.environ, "PATH": path, "OMP_NUM_THREADS": "1",
                "MLFLOW_TRACKING_URI": world.tracking_uri,
                "MLFLOW_REGISTRY_URI": world.tracking_uri}
    ours_env = {
        **base_env,
        "CREDITRISK_DATABASE_URL": world.database_url,
        "CREDITRISK_MODEL_URI": world.model_uri,
        "CREDITRISK_API_KEYS": seed_entry(key.record),
        "CREDITRISK_RELOAD_POLL_SECONDS": "0",
    }
    rows = applicant_rows(256, seed=5, as_of=as_of, score_range=world.score_range)
    auth = {"Authorization": f"Bearer {key.token}"}
    ours_port, mlflow_port = free_port(), free_port()
    ours_requests = [
        http_request("POST", "/v1/applications", port=ours_port, headers=auth,
                     body=service_body(row))
        for row in rows
    ]
    mlflow_requests = [
        http_request("POST", "/invocations", port=mlflow_port,
                     body=json.dumps({"dataframe_records": [row]}).encode())
        for row in rows
    ]
    figures: dict[str, float] = {}

    ours = start([PYTHON, "-m", "uvicorn", "creditrisk.serving.api.entrypoint:app_from_env",
                  "--factory", "--host", "127.0.0.1", "--port", str(ours_port), "--workers", "1",
                  "--no-access-log", "--log-level", "warning"], ours_env, workdir / "ours.log")
    try:
        wait_for(ours_port, "/readyz", ours, 120)
        result = drive(ours_port, ours_requests, concurrency=args.concurrency,
                       warmup_s=args.warmup, duration_s=args.duration, server_pid=ours.pid)
        report("ours  POST /v1/applications", result, args.concurrency)
        figures.update(ours_rps=result.rps, ours_p50_ms=result.percentile(50),
                       ours_p99_ms=result.percentile(99), ours_errors=result.errors,
                       ours_cpu_ms=result.cpu_ms_per_request)

        rng = random.Random(9)
        risk_requests = [
            http_request("GET", f"/v1/customers/{cid}/risk?as_of={as_of.isoformat()}",
                         port=ours_port, headers=auth)
            for cid in rng.sample(world.customer_ids, min(200, len(world.customer_ids)))
        ]
        risk = drive(ours_port, risk_requests, concurrency=args.risk_concurrency,
                     warmup_s=1.0, duration_s=args.risk_duration, server_pid=ours.pid)
        report("ours  GET /v1/customers/{id}/risk", risk, args.risk_concurrency)
        figures.update(customer_risk_rps=risk.rps, customer_risk_p50_ms=risk.percentile(50),
                       customer_risk_p99_ms=risk.percentile(99), risk_errors=risk.errors,
                       customer_risk_cpu_ms=risk.cpu_ms_per_request)
    finally:
        stop(ours)

    if not args.skip_mlflow:
        mlflow = start([PYTHON, "-m", "mlflow", "models", "serve", "-m", world.model_uri,
                        "--env-manager", "local", "-h", "127.0.0.1", "-p", str(mlflow_port),
                        "-w", "1"], base_env, workdir / "mlflow.log")
        try:
            wait_for(mlflow_port, "/ping", mlflow, 180)
            result = drive(mlflow_port, mlflow_requests, concurrency=args.concurrency,
                           warmup_s=args.warmup, duration_s=args.duration,
                           server_pid=mlflow.pid)
            report("mlflow POST /invocations", result, args.concurrency)
            figures.update(mlflow_rps=result.rps, mlflow_p50_ms=result.percentile(50),
                           mlflow_p99_ms=result.percentile(99), mlflow_errors=result.errors,
                           mlflow_cpu_ms=result.cpu_ms_per_request)
        finally:
            stop(mlflow)

    mlflow_rps = figures.get("mlflow_rps", float("nan"))
    errors = int(figures["ours_errors"] + figures.get("mlflow_errors", 0)
                 + figures["risk_errors"])
    print(
        f"ours_rps={figures['ours_rps']:.0f} mlflow_rps={mlflow_rps:.0f} "
        f"ratio_rps={figures['ours_rps'] / mlflow_rps:.2f} "
        f"ours_p50_ms={figures['ours_p50_ms']:.2f} ours_p99_ms={figures['ours_p99_ms']:.2f} "
        f"mlflow_p50_ms={figures.get('mlflow_p50_ms', float('nan')):.2f} "
        f"mlflow_p99_ms={figures.get('mlflow_p99_ms', float('nan')):.2f} "
        f"errors={errors} concurrency={args.concurrency} "
        f"ours_cpu_ms_per_req={figures['ours_cpu_ms']:.3f} "
        f"mlflow_cpu_ms_per_req={figures.get('mlflow_cpu_ms', float('nan')):.3f} "
        f"customer_risk_p50_ms={figures['customer_risk_p50_ms']:.2f} "
        f"customer_risk_p99_ms={figures['customer_risk_p99_ms']:.2f} "
        f"customer_risk_cpu_ms_per_req={figures['customer_risk_cpu_ms']:.3f} "
        f"load_avg_start={load_start:.2f} load_avg_end={os.getloadavg()[0]:.2f}"
    )
    if not args.keep_workdir:  # after a failure it stays, with the servers' logs
        shutil.rmtree(workdir, ignore_errors=True)


def report(name: str, result: LoadResult, concurrency: int) -> None:
    print(
        f"{name:38s} concurrency {concurrency:3d}: {result.rps:8.1f} req/s  "
        f"p50 {result.percentile(50):7.2f} ms  p90 {result.percentile(90):7.2f} ms  "
        f"p99 {result.percentile(99):7.2f} ms  errors {result.errors}  "
        f"server CPU {result.cpu_ms_per_request:.3f} ms/answer",
        flush=True,
    )


if __name__ == "__main__":
    main()
