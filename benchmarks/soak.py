"""Soak: fixed-rate applicant scoring while four clients storm the portfolio and an import runs.

The bar of issue 11 (150 req/s for 3 minutes, four concurrent portfolio clients, an import
running; pass: errors=0, app_p99_ms < 50, rss_growth_mb < 50, log_mismatches=0), on a world
it trains itself or on an existing store (the demo's):

    .venv/bin/python benchmarks/soak.py --rate 150 --calm 30 --duration 180
    .venv/bin/python benchmarks/soak.py --rate 150 --calm 30 --duration 180 \\
        --tracking-uri sqlite:///DEMO/mlflow.db --database-url sqlite:///DEMO/creditrisk.db \\
        --model-uri models:/creditrisk@champion --as-of 2025-12-31 --import-seed 78
    .venv/bin/python benchmarks/soak.py --customers 300 --boost-rounds 10 --lgbm-threads 1 \\
        --rate 20 --calm 2 --duration 4 --import-customers 100           # smoke-test size

(the import adds ``--import-customers`` customers prefixed ``SOAK<seed>-`` to the ledger: use
a new ``--import-seed`` for each run on the same database; four storm clients always.)

One uvicorn worker of the service (``OMP_NUM_THREADS=1``) on a trained world (the serving
benchmark's: a synthetic ledger in SQLite, one training run through the product, its version
champion). A separate load process sends ``POST /v1/applications`` OPEN-LOOP at a fixed rate:
request *i* leaves at ``t0 + i / rate`` whatever the earlier ones are doing, and its latency is
counted from that scheduled time (queueing included, no coordinated omission). Two phases of
the same stream, the peer run and the test run:

* calm (``--calm`` seconds): applications only;
* storm (``--duration`` seconds): plus four concurrent clients asking ``GET /v1/portfolio``,
  every other call for the date of a complete rescoring run (``creditrisk rescore`` is run
  for the world's as-of before the server starts, ``--no-rescore`` skips it: the cheap path,
  answered from the run, ``storm_run_ok``) and otherwise for a new ``as_of`` each time (each
  client its own dates: a whole-book computation per call on the service's worker process,
  ``storm_live_ok``), and ``creditrisk ledger import`` of ``--import-customers`` new
  customers into the live database, started as its own process a few seconds into the storm.
  The service's per-key book rate limit is raised for the soak (one key, four clients): what
  is under test is the bounded pool (503 + Retry-After when full), not the 429.

Checked: every application answer is a 200 (anything else, or a broken connection, is an error;
portfolio answers may be 200 or an overload refusal, 429/503, never anything else); the
import exits 0; the server's RSS (``/proc``) before and after the storm, and the book worker
processes' (its children) at the end and at their peak, sampled every half second; and the
decision log,
read from the database afterwards, against the answers: every answered decision is there once
with the same outputs (``log_mismatches``), and rows logged for the soak's key without an
answer received (``logged_unanswered``: the client timed out or lost the connection).

The last line is ``key=value`` figures: ``errors app_requests app_p50_ms app_p99_ms
calm_p99_ms p99_ratio_storm_vs_calm achieved_rps storm_ok storm_run_ok storm_live_ok
storm_refused storm_unfinished storm_errors import_rc import_seconds rescore_rc rss_start_mb
rss_end_mb rss_growth_mb rss_peak_mb worker_rss_end_mb worker_rss_peak_mb log_mismatches
logged_unanswered loadavg_before loadavg_after`` (the machine's 1-minute load average:
latencies mean little when it is far above the number of cores).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
STORM_CLIENTS = 4
COMPARED_OUTPUTS = ("pd_12m", "grade", "decision", "recommended_limit", "expected_loss")
OVERLOAD_STATUSES = (429, 503)
IDLE_REUSE_S = 2.0
STORM_GRACE_S = 5.0
"""A portfolio request still unanswered this long after the storm's end is given up
(``storm_unfinished``, not an error): the soak measures applications, not books."""
"""A connection idle longer is not reused: uvicorn closes idle ones after 5 s, and a request
written into a closing connection would be a client artifact, not a server error."""


def serving_benchmark() -> ModuleType:
    """benchmarks/serving.py (world training, payloads, server start/stop), loaded by path:
    its name would otherwise collide with the ``serving`` package folder."""
    spec = importlib.util.spec_from_file_location(
        "serving_benchmark", Path(__file__).with_name("serving.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- load process


@dataclass
class LoadOutcome:
    """What the load process saw (plain lists: it crosses a process boundary)."""

    app_latencies_ms: list[tuple[float, float]] = field(default_factory=list)
    """(scheduled second since start, latency ms) of each 200 application answer."""
    app_send_lag_ms: list[tuple[float, float]] = field(default_factory=list)
    """(scheduled second, ms from the schedule until the request was written): the load
    process's own delay, inside the latency; large values mean a busy client, not server."""
    app_errors: list[str] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """decision_id -> the answer's compared outputs and model version."""
    storm_statuses: list[int] = field(default_factory=list)
    storm_unfinished: int = 0
    storm_run_ok: int = 0
    """200 answers read from a complete rescoring run (``run_id`` set)."""
    storm_errors: list[str] = field(default_factory=list)
    sent: int = 0
    seconds: float = 0.0


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One HTTP/1.1 answer with a Content-Length: status and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(head[9:12]), (await reader.readexactly(length) if length else b"")


async def _applications(port: int, requests: Sequence[bytes], rate: float, seconds: float,
                        start: float, out: LoadOutcome) -> None:
    """Open loop on raw keep-alive connections: a free one is reused, else a new one is
    opened (no client-side queue, so a slow server shows as latency, never as a slow
    client)."""
    free: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
    pending: set[asyncio.Task[None]] = set()

    async def connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while free:
            reader, writer, idle_since = free.pop()
            if time.perf_counter() - idle_since < IDLE_REUSE_S:
                return reader, writer
            writer.close()
        return await asyncio.open_connection("127.0.0.1", port)

    async def one(request: bytes, scheduled: float) -> None:
        try:
            reader, writer = await connection()
            writer.write(request)
            out.app_send_lag_ms.append((scheduled - start,
                                        (time.perf_counter() - scheduled) * 1000.0))
            status, body = await asyncio.wait_for(_read_answer(reader), timeout=60)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            out.app_errors.append(type(exc).__name__)  # the connection is dropped
            return
        latency_ms = (time.perf_counter() - scheduled) * 1000.0
        free.append((reader, writer, time.perf_counter()))
        if status != 200:
            out.app_errors.append(f"HTTP {status}")
            return
        data = json.loads(body)
        out.answers[data["decision_id"]] = {
            "model_version": data["model_version"],
            **{name: data[name] for name in COMPARED_OUTPUTS},
        }
        out.app_latencies_ms.append((scheduled - start, latency_ms))

    total = int(rate * seconds)
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(requests[i % len(requests)], scheduled))
        pending.add(task)
        task.add_done_callback(pending.discard)
        out.sent += 1
    if pending:
        await asyncio.gather(*pending)
    for _, writer, _ in free:
        writer.close()


async def _storm_client(client: Any, headers: dict[str, str], first_day: str, client_no: int,
                        begin: float, end: float, run_day: str | None,
                        out: LoadOutcome) -> None:
    """Asks for the portfolio in a loop: a new date each time (a whole-book computation),
    alternating with ``run_day`` (a complete rescoring run's date: the cheap path) if any."""
    await asyncio.sleep(max(0.0, begin - time.perf_counter()))
    day = datetime.fromisoformat(first_day).date() - timedelta(days=client_no + 1)
    calls = client_no
    while time.perf_counter() < end:
        calls += 1
        asked = run_day if run_day is not None and calls % 2 == 0 else day.isoformat()
        try:  # a book still computing when the storm ends is left unfinished, not waited for
            answer = await asyncio.wait_for(
                client.get(f"/v1/portfolio?as_of={asked}", headers=headers),
                timeout=max(1.0, end + STORM_GRACE_S - time.perf_counter()))
        except TimeoutError:
            out.storm_unfinished += 1
            continue
        except Exception as exc:  # counted by type, never printed with a body
            out.storm_errors.append(type(exc).__name__)
            continue
        out.storm_statuses.append(answer.status_code)
        if answer.status_code in OVERLOAD_STATUSES:
            retry_after = float(answer.headers.get("Retry-After", "1") or 1)
            await asyncio.sleep(min(retry_after, 2.0))
        elif answer.status_code != 200:
            out.storm_errors.append(f"HTTP {answer.status_code}")
        elif answer.json().get("run_id") is not None:
            out.storm_run_ok += 1
        if asked != run_day:
            day -= timedelta(days=STORM_CLIENTS)  # a new date each time: nothing cached


async def _load(port: int, requests: list[bytes], token: str, rate: float, calm_s: float,
                storm_s: float, as_of: str, run_day: str | None) -> LoadOutcome:
    import httpx

    out = LoadOutcome()
    headers = {"Authorization": f"Bearer {token}"}
    # a new connection per portfolio request: they are seconds apart, and a pooled one can sit
    # idle past uvicorn's 5 s keep-alive and be closed just as it is reused (a client-side
    # race that was counted as a server error: seen once in CI as a ReadError)
    no_reuse = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120.0,
                                 limits=no_reuse) as storm:
        start = time.perf_counter() + 0.2
        storm_from, storm_to = start + calm_s, start + calm_s + storm_s
        await asyncio.gather(
            _applications(port, requests, rate, calm_s + storm_s, start, out),
            *(_storm_client(storm, headers, as_of, n, storm_from, storm_to, run_day, out)
              for n in range(STORM_CLIENTS)),
        )
        out.seconds = time.perf_counter() - start
    return out


def _load_process(args: tuple[Any, ...], queue: Any) -> None:
    queue.put(asyncio.run(_load(*args)))


# --------------------------------------------------------------------------- server side


def rss_mb(pid: int) -> float:
    """Resident set size of a process (Linux ``/proc``), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS for pid {pid}")


def children_rss_mb(pid: int) -> float:
    """Resident set size of the direct children of ``pid`` (the book worker processes), MB."""
    total = 0.0
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            with contextlib.suppress(OSError, RuntimeError):  # exited meanwhile
                total += rss_mb(int(child))
    return total


class RssSampler(threading.Thread):
    """Samples the server's and its children's RSS every ``every_s`` until stopped: peaks."""

    def __init__(self, pid: int, every_s: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.every_s = pid, every_s
        self.server_peak_mb = self.workers_peak_mb = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.every_s):
            try:
                self.server_peak_mb = max(self.server_peak_mb, rss_mb(self.pid))
                self.workers_peak_mb = max(self.workers_peak_mb, children_rss_mb(self.pid))
            except (OSError, RuntimeError):
                return

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def run_rescore(env: dict[str, str], world: Any, log: Path) -> float:
    """``creditrisk rescore`` for the world's as-of (a complete run to answer from); its
    exit code."""
    command = [str(Path(PYTHON).parent / "creditrisk"), "rescore", "--as-of",
               world.as_of.isoformat(), "--model", world.model_uri, "--database-url",
               world.database_url, "--tracking-uri", world.tracking_uri, "--workers", "1"]
    with log.open("wb") as sink:
        done = subprocess.run(command, env=env, stdout=sink, stderr=subprocess.STDOUT,
                              cwd=REPO, check=False)
    return float(done.returncode)


def import_files(directory: Path, *, customers: int, seed: int, end: Any) -> int:
    """A new synthetic book (ids prefixed ``SOAK<seed>-``, so they add to the ledger) written
    as the canonical mapping's Parquet files; the number of rows."""
    from creditrisk.synthetic.generator import generate_ledger

    ledger = generate_ledger(n_customers=customers, start=end - timedelta(days=365), end=end,
                             seed=seed).ledger
    directory.mkdir(parents=True, exist_ok=True)
    rows = 0
    for name in ("customers", "invoices", "payments", "credit_events"):
        frame = getattr(ledger, name).copy()
        for column in ("customer_id", "invoice_id", "payment_id"):
            if column in frame.columns:
                frame[column] = (f"SOAK{seed}-" + frame[column].astype("string")).astype(object)
        frame.to_parquet(directory / f"{name}.parquet", index=False)
        rows += len(frame)
    return rows


def run_import(command: list[str], env: dict[str, str], log: Path, at: float,
               result: dict[str, float]) -> None:
    """Start the import at ``at`` (perf_counter), wait for it; exit code and seconds."""
    time.sleep(max(0.0, at - time.perf_counter()))
    began = time.perf_counter()
    with log.open("wb") as sink:
        done = subprocess.run(command, env=env, stdout=sink, stderr=subprocess.STDOUT,
                              cwd=REPO, check=False)
    result.update(rc=float(done.returncode), seconds=time.perf_counter() - began)


def decision_log_mismatches(database_url: str, key_id: str,
                            answers: dict[str, dict[str, Any]]) -> tuple[int, int, list[str]]:
    """Answers missing from the log or differing from it (the count), rows logged for the key
    that no answer carried (the count: requests whose answer the client never got, e.g. it
    gave up waiting), and the first few descriptions of both."""
    from sqlalchemy import select

    from creditrisk.ledger.database import make_engine
    from creditrisk.serving.tables import decision_log

    engine = make_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(decision_log.c.decision_id, decision_log.c.model_version,
                   decision_log.c.outputs_json)
            .where(decision_log.c.api_key_id == key_id)
            .where(decision_log.c.kind == "application")
        ).all()
    engine.dispose()
    logged = {row.decision_id: (row.model_version, json.loads(row.outputs_json)) for row in rows}
    problems = [f"{decision_id}: not in the log" for decision_id in answers.keys() - logged.keys()]
    unanswered = [f"{decision_id}: logged, no answer received"
                  for decision_id in logged.keys() - answers.keys()]
    for decision_id in answers.keys() & logged.keys():
        version, outputs = logged[decision_id]
        answer = answers[decision_id]
        differing = [name for name in COMPARED_OUTPUTS if outputs.get(name) != answer[name]]
        if version != answer["model_version"]:
            differing.append("model_version")
        if differing:
            problems.append(f"{decision_id}: {', '.join(differing)} differ")
    return len(problems), len(unanswered), (problems + unanswered)[:5]


# --------------------------------------------------------------------------- main


def latency_timeline(latencies_ms: Sequence[tuple[float, float]],
                     send_lags_ms: Sequence[tuple[float, float]], *, window_s: float,
                     import_at_s: float, import_seconds: float) -> str:
    """Application latency by window of the schedule (p50 / p99 / max, ms): where a tail
    comes from (the import, a storm's first books, a steady cost) shows in one look."""
    windows: dict[int, list[float]] = {}
    lags: dict[int, list[float]] = {}
    for at, ms in latencies_ms:
        windows.setdefault(int(at // window_s), []).append(ms)
    for at, ms in send_lags_ms:
        lags.setdefault(int(at // window_s), []).append(ms)
    lines = [f"application latency by {window_s:g} s window (import from {import_at_s:.0f} s, "
             f"{import_seconds:.1f} s long): start  n  p50  p99  max  send-lag p99  max"]
    for index in sorted(windows):
        values, lag = windows[index], lags.get(index, [math.nan])
        lines.append(f"  {index * window_s:5.0f} s {len(values):5d} {percentile(values, 50):7.1f}"
                     f" {percentile(values, 99):7.1f} {max(values):7.1f}"
                     f" {percentile(lag, 99):7.1f} {max(lag):7.1f}")
    worst = max(windows, key=lambda index: percentile(windows[index], 99))
    seconds: dict[int, list[float]] = {}
    for at, ms in latencies_ms:
        if int(at // window_s) == worst:
            seconds.setdefault(int(at), []).append(ms)
    lines.append("  the worst window by second: " + ", ".join(
        f"{second} s {percentile(values, 99):.0f}" for second, values in sorted(seconds.items())))
    return "\n".join(lines)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if len(values) else math.nan


def main(argv: Sequence[str] | None = None) -> None:
    bench = serving_benchmark()
    bench.use_repo_imports()
    parser = argparse.ArgumentParser(  # the bar's exact command in --help
        description="\n\n".join(__doc__.split("\n\n")[:4]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=150.0, help="applications per second")
    parser.add_argument("--calm", type=float, default=30.0, help="seconds before the storm")
    parser.add_argument("--duration", type=float, default=180.0, help="storm seconds")
    parser.add_argument("--import-customers", type=int, default=2_000)
    parser.add_argument("--customers", type=int, default=1_500)
    parser.add_argument("--boost-rounds", type=int, default=None)
    parser.add_argument("--lgbm-threads", type=int, default=None)
    parser.add_argument("--import-seed", type=int, default=77,
                        help="seed of the imported book (its ids are prefixed with it)")
    parser.add_argument("--tracking-uri", help="existing MLflow store (default: train one)")
    parser.add_argument("--model-uri", default="models:/creditrisk@champion")
    parser.add_argument("--database-url", help="ledger database (with --tracking-uri)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="decision date with --tracking-uri (default: the world's end)")
    parser.add_argument("--rescore", action=argparse.BooleanOptionalAction, default=True,
                        help="run creditrisk rescore for the as-of first: half the storm's "
                        "calls then read that run (default: on)")
    parser.add_argument("--keep-workdir", action="store_true")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="creditrisk-soak-"))
    if args.tracking_uri:
        if not args.database_url:
            parser.error("--database-url is required with --tracking-uri")
        world = bench.existing_world(args.tracking_uri, args.model_uri, args.database_url,
                                     args.as_of or bench.WORLD_END)
    else:
        print(f"training a world of {args.customers:,} customers in {workdir} ...", flush=True)
        world = bench.trained_world(workdir, customers=args.customers,
                                    boost_rounds=args.boost_rounds,
                                    lgbm_threads=args.lgbm_threads)
    import_rows = import_files(workdir / "import", customers=args.import_customers,
                               seed=args.import_seed, end=world.as_of)
    print(f"import ready: {import_rows:,} rows", flush=True)

    from creditrisk.serving.api_keys import generate_api_key, seed_entry

    key = generate_api_key(label="soak", scopes=["score", "read"], created_at=datetime.now(UTC))
    path = os.pathsep.join([str(Path(PYTHON).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path, "OMP_NUM_THREADS": "1",
           "MLFLOW_TRACKING_URI": world.tracking_uri, "MLFLOW_REGISTRY_URI": world.tracking_uri,
           "CREDITRISK_DATABASE_URL": world.database_url,
           "CREDITRISK_MODEL_URI": world.model_uri,
           "CREDITRISK_API_KEYS": seed_entry(key.record),
           "CREDITRISK_RELOAD_POLL_SECONDS": "0",
           "CREDITRISK_BOOK_RATE_LIMIT": "100000/minute"}
    rescore_rc = math.nan
    if args.rescore:
        began = time.perf_counter()
        rescore_rc = run_rescore(env, world, workdir / "rescore.log")
        print(f"rescore as of {world.as_of}: exit {rescore_rc:.0f} in "
              f"{time.perf_counter() - began:.0f} s", flush=True)
    run_day = world.as_of.isoformat() if rescore_rc == 0 else None
    port = bench.free_port()
    requests = [
        bench.http_request("POST", "/v1/applications", port=port, body=bench.service_body(row),
                           headers={"Authorization": f"Bearer {key.token}"})
        for row in bench.applicant_rows(512, seed=5, as_of=world.as_of,
                                        score_range=world.score_range)
    ]
    server = bench.start([PYTHON, "-m", "uvicorn", "creditrisk.serving.api.entrypoint:app_from_env",
                          "--factory", "--host", "127.0.0.1", "--port", str(port),
                          "--workers", "1", "--no-access-log", "--log-level", "warning"],
                         env, workdir / "server.log")
    imported: dict[str, float] = {"rc": math.nan, "seconds": math.nan}
    try:
        bench.wait_for(port, "/readyz", server, 120)
        rss_start = rss_mb(server.pid)
        sampler = RssSampler(server.pid)
        sampler.start()
        load_before = os.getloadavg()[0]
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        load = context.Process(target=_load_process, args=(
            (port, requests, key.token, args.rate, args.calm, args.duration,
             world.as_of.isoformat(), run_day), queue))
        started = time.perf_counter()
        load.start()
        importer = threading.Thread(target=run_import, args=(
            [str(Path(PYTHON).parent / "creditrisk"), "ledger", "import", "--mapping", "canonical",
             "--data-dir", str(workdir / "import"), "--database-url", world.database_url],
            env, workdir / "import.log", started + args.calm + min(5.0, args.duration / 4),
            imported))
        importer.start()
        print(f"load: {args.rate:g} req/s, {args.calm:g} s calm + {args.duration:g} s storm",
              flush=True)
        outcome: LoadOutcome = queue.get(timeout=args.calm + args.duration + 600)
        load.join()
        importer.join()
        rss_end = rss_mb(server.pid)
        worker_rss_end = children_rss_mb(server.pid)
        sampler.stop()
        load_after = os.getloadavg()[0]
    finally:
        bench.stop(server)

    mismatches, unanswered, examples = decision_log_mismatches(
        world.database_url, key.record.key_id, outcome.answers)
    calm = [ms for at, ms in outcome.app_latencies_ms if at < args.calm]
    storm = [ms for at, ms in outcome.app_latencies_ms if at >= args.calm]
    refused = sum(status in OVERLOAD_STATUSES for status in outcome.storm_statuses)
    errors = (len(outcome.app_errors) + len(outcome.storm_errors) + int(imported["rc"] != 0)
              + int(args.rescore and rescore_rc != 0))
    storm_ok = outcome.storm_statuses.count(200)
    figures = {
        "errors": errors,
        "app_requests": outcome.sent,
        "app_p50_ms": percentile(storm, 50),
        "app_p99_ms": percentile(storm, 99),
        "calm_p99_ms": percentile(calm, 99),
        "p99_ratio_storm_vs_calm": percentile(storm, 99) / percentile(calm, 99),
        "achieved_rps": len(outcome.app_latencies_ms) / outcome.seconds,
        "storm_ok": storm_ok,
        "storm_run_ok": outcome.storm_run_ok,
        "storm_live_ok": storm_ok - outcome.storm_run_ok,
        "storm_refused": refused,
        "storm_unfinished": outcome.storm_unfinished,
        "storm_errors": len(outcome.storm_errors),
        "import_rc": imported["rc"],
        "import_seconds": imported["seconds"],
        "rescore_rc": rescore_rc,
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_end,
        "rss_growth_mb": rss_end - rss_start,
        "rss_peak_mb": sampler.server_peak_mb,
        "worker_rss_end_mb": worker_rss_end,
        "worker_rss_peak_mb": sampler.workers_peak_mb,
        "log_mismatches": mismatches,
        "logged_unanswered": unanswered,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }
    print(f"applications: {outcome.sent} sent, {len(outcome.app_errors)} errors "
          f"{sorted(set(outcome.app_errors))[:5]}; storm: {len(outcome.storm_statuses)} answers "
          f"({refused} refused as overload), errors {sorted(set(outcome.storm_errors))[:5]}")
    print(f"decision log: {mismatches} mismatches, {unanswered} logged without an answer "
          f"received {examples}")
    print(latency_timeline(outcome.app_latencies_ms, outcome.app_send_lag_ms, window_s=10.0,
                           import_at_s=args.calm + min(5.0, args.duration / 4),
                           import_seconds=imported["seconds"]))
    if errors == 0 and not args.keep_workdir:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"logs kept in {workdir}")
    print(" ".join(f"{name}={value:.2f}" if isinstance(value, float) else f"{name}={value}"
                   for name, value in figures.items()))


if __name__ == "__main__":
    main()
