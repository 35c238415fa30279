"""Where a rescoring run lives in the database: its ``score_runs`` row, finished buckets and
``scores`` rows; bulk writes and the readers.

Life cycle (safe to rerun and to kill):

* a run is identified by (as_of, model_name, model_version); its ``run_id`` is derived from
  them, so a rerun finds it;
* :func:`open_run` starts it, or resumes it when an earlier attempt stopped (killed, failed)
  with the same ledger digest and bucket count (finished buckets are skipped), or restarts it
  from scratch (its rows deleted) when the ledger changed or ``force`` is given; a complete
  run is left alone unless ``force``;
* :func:`write_bucket` writes one bucket's rows and its ``score_run_buckets`` row in ONE
  transaction (PostgreSQL: ``COPY``; SQLite: ``executemany``), deleting any rows of that
  bucket first: a kill mid-chunk leaves nothing of the chunk, a finished chunk is recorded;
* :func:`complete_run` checks that every bucket is done and the row count matches, then
  marks the run ``complete``; :func:`fail_run` marks it ``failed`` with the error.

Readers (:func:`latest_complete_run`, :func:`read_run_scores`, :func:`grade_history`) only
ever see complete runs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from creditrisk.serving.rescoring.columns import (
    conform_scores,
    empty_scores,
)
from creditrisk.serving.rescoring.score_writes import copy_scores, insert_scores
from creditrisk.serving.rescoring.tables import score_run_buckets, score_runs, scores

RUNNING = "running"
COMPLETE = "complete"
FAILED = "failed"


class RescoringError(RuntimeError):
    """A rescoring run cannot go on (named run, what is wrong); nothing is marked complete."""


@dataclass(frozen=True)
class RunKey:
    """What identifies a run: the as-of date and the model version scored."""

    as_of: date
    model_name: str
    model_version: str

    @property
    def run_id(self) -> str:
        text = f"{self.as_of.isoformat()}|{self.model_name}|{self.model_version}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class ScoreRun:
    """A ``score_runs`` row."""

    run_id: str
    as_of: date
    model_name: str
    model_version: str
    model_uri: str
    policy_version: str
    status: str
    buckets: int
    buckets_done: int
    customer_count: int
    ledger_digest: str
    started_at: datetime
    finished_at: datetime | None
    attempts: int
    timings: dict[str, float]
    monitoring: dict[str, Any]
    error: str | None

    @classmethod
    def from_row(cls, row: Any) -> ScoreRun:
        """From a ``score_runs`` row mapping (SQLAlchemy ``RowMapping``)."""
        as_of = row["as_of"]
        return cls(
            run_id=row["run_id"],
            as_of=as_of if isinstance(as_of, date) else date.fromisoformat(str(as_of)),
            model_name=row["model_name"],
            model_version=row["model_version"],
            model_uri=row["model_uri"],
            policy_version=row["policy_version"],
            status=row["status"],
            buckets=int(row["buckets"]),
            buckets_done=int(row["buckets_done"]),
            customer_count=int(row["customer_count"]),
            ledger_digest=row["ledger_digest"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            attempts=int(row["attempts"]),
            timings=json.loads(row["timings_json"] or "{}"),
            monitoring=json.loads(row["monitoring_json"] or "{}"),
            error=row["error"],
        )


@dataclass(frozen=True)
class OpenedRun:
    """A run ready to work on: which buckets are already done, and how it was opened."""

    run: ScoreRun
    done_buckets: frozenset[int]
    how: str
    """``new``, ``resumed``, ``restarted`` or ``complete`` (nothing to do)."""


def _now() -> datetime:
    return datetime.now(UTC)


def get_run(engine: Engine, run_id: str) -> ScoreRun | None:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(score_runs).where(score_runs.c.run_id == run_id)
        ).mappings().first()
    return None if row is None else ScoreRun.from_row(row)


def _done_buckets(conn: Connection, run_id: str) -> frozenset[int]:
    rows = conn.execute(
        sa.select(score_run_buckets.c.bucket).where(score_run_buckets.c.run_id == run_id)
    ).scalars()
    return frozenset(int(b) for b in rows)


def _delete_run_rows(conn: Connection, run_id: str) -> None:
    conn.execute(sa.delete(scores).where(scores.c.run_id == run_id))
    conn.execute(sa.delete(score_run_buckets).where(score_run_buckets.c.run_id == run_id))


def open_run(
    engine: Engine,
    key: RunKey,
    *,
    model_uri: str,
    policy_version: str,
    buckets: int,
    ledger_digest: str,
    force: bool = False,
    clock: Any = _now,
) -> OpenedRun:
    """Start, resume or restart the run of ``key`` (see the module docstring)."""
    run_id = key.run_id
    fresh = {
        "status": RUNNING, "buckets": buckets, "buckets_done": 0, "customer_count": 0,
        "ledger_digest": ledger_digest, "started_at": clock(), "finished_at": None,
        "timings_json": None, "monitoring_json": None, "error": None,
        "model_uri": model_uri, "policy_version": policy_version,
    }
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(score_runs).where(score_runs.c.run_id == run_id)
        ).mappings().first()
        if row is None:
            clash = conn.execute(
                sa.select(score_runs.c.model_name).where(
                    (score_runs.c.as_of == key.as_of)
                    & (score_runs.c.model_version == key.model_version)
                )
            ).scalar()
            if clash is not None:
                raise RescoringError(
                    f"a run as of {key.as_of} for model version {key.model_version} of model "
                    f"{clash!r} exists; scores are keyed by (as_of, customer, model version)"
                )
            conn.execute(sa.insert(score_runs).values(
                run_id=run_id, as_of=key.as_of, model_name=key.model_name,
                model_version=key.model_version, attempts=1, **fresh,
            ))
            how = "new"
            done: frozenset[int] = frozenset()
        else:
            existing = ScoreRun.from_row(row)
            same_input = existing.ledger_digest == ledger_digest and existing.buckets == buckets
            if existing.status == COMPLETE and not force:
                return OpenedRun(existing, _done_buckets(conn, run_id), "complete")
            if same_input and existing.status != COMPLETE and not force:
                how = "resumed"
                done = _done_buckets(conn, run_id)
                conn.execute(sa.update(score_runs).where(score_runs.c.run_id == run_id).values(
                    status=RUNNING, error=None, attempts=existing.attempts + 1,
                    model_uri=model_uri, policy_version=policy_version,
                ))
            else:
                how = "restarted"
                done = frozenset()
                _delete_run_rows(conn, run_id)
                conn.execute(sa.update(score_runs).where(score_runs.c.run_id == run_id).values(
                    attempts=existing.attempts + 1, **fresh,
                ))
        run_row = conn.execute(
            sa.select(score_runs).where(score_runs.c.run_id == run_id)
        ).mappings().one()
    return OpenedRun(ScoreRun.from_row(run_row), done, how)


# --------------------------------------------------------------------------- bulk writes


def write_bucket(
    engine: Engine,
    run_id: str,
    bucket: int,
    frame: pd.DataFrame,
    *,
    timings: Mapping[str, float],
    monitoring: Mapping[str, Any],
) -> None:
    """One bucket's rows and its done-marker, in one transaction (see the module docstring)."""
    started = time.perf_counter()
    rows = conform_scores(frame) if len(frame) else empty_scores()
    if len(rows) and (rows["run_id"] != run_id).any():
        raise RescoringError(f"bucket {bucket}: rows of another run handed to run {run_id}")
    with engine.begin() as conn:
        conn.execute(sa.delete(scores).where(
            (scores.c.run_id == run_id) & (scores.c.bucket == bucket)))
        conn.execute(sa.delete(score_run_buckets).where(
            (score_run_buckets.c.run_id == run_id) & (score_run_buckets.c.bucket == bucket)))
        if len(rows):
            if conn.dialect.name == "postgresql":
                copy_scores(conn, rows)
            else:
                insert_scores(conn, rows)
        # the bucket's own writing time so far (its rows), stored with its other stages
        stages = {**timings, "writing": time.perf_counter() - started}
        conn.execute(sa.insert(score_run_buckets).values(
            run_id=run_id, bucket=bucket, customer_count=len(rows),
            timings_json=json.dumps(stages, sort_keys=True),
            monitoring_json=json.dumps(dict(monitoring), sort_keys=True),
        ))
        conn.execute(sa.update(score_runs).where(score_runs.c.run_id == run_id).values(
            buckets_done=sa.select(sa.func.count()).select_from(score_run_buckets).where(
                score_run_buckets.c.run_id == run_id).scalar_subquery()))


def bucket_records(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    """The finished buckets of a run: bucket, customer_count, timings, monitoring."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(score_run_buckets).where(score_run_buckets.c.run_id == run_id)
            .order_by(score_run_buckets.c.bucket)
        ).mappings().all()
    return [
        {"bucket": int(r["bucket"]), "customer_count": int(r["customer_count"]),
         "timings": json.loads(r["timings_json"]), "monitoring": json.loads(r["monitoring_json"])}
        for r in rows
    ]


def complete_run(
    engine: Engine, run_id: str, *, timings: Mapping[str, float], monitoring: Mapping[str, Any],
    clock: Any = _now,
) -> ScoreRun:
    """Mark the run complete after checking every bucket is done and the rows add up."""
    with engine.begin() as conn:
        run = ScoreRun.from_row(conn.execute(
            sa.select(score_runs).where(score_runs.c.run_id == run_id)).mappings().one())
        done = _done_buckets(conn, run_id)
        missing = sorted(set(range(run.buckets)) - done)
        if missing:
            raise RescoringError(f"run {run_id}: bucket(s) {missing[:10]} not written")
        expected = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(score_run_buckets.c.customer_count), 0))
            .where(score_run_buckets.c.run_id == run_id)).scalar_one()
        written = conn.execute(
            sa.select(sa.func.count()).select_from(scores).where(scores.c.run_id == run_id)
        ).scalar_one()
        if int(expected) != int(written):
            raise RescoringError(
                f"run {run_id}: {written} score rows but the buckets recorded {expected}")
        conn.execute(sa.update(score_runs).where(score_runs.c.run_id == run_id).values(
            status=COMPLETE, customer_count=int(written), buckets_done=len(done),
            finished_at=clock(), timings_json=json.dumps(dict(timings), sort_keys=True),
            monitoring_json=json.dumps(dict(monitoring), sort_keys=True), error=None,
        ))
        row = conn.execute(
            sa.select(score_runs).where(score_runs.c.run_id == run_id)).mappings().one()
    return ScoreRun.from_row(row)


def fail_run(engine: Engine, run_id: str, error: str) -> None:
    """Mark the run failed (never complete) with a short error text (no data values)."""
    with engine.begin() as conn:
        conn.execute(sa.update(score_runs).where(score_runs.c.run_id == run_id).values(
            status=FAILED, error=error[:2000]))


# --------------------------------------------------------------------------- readers


def complete_runs(engine: Engine) -> list[ScoreRun]:
    """Every complete run, latest as-of first (then latest finished)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(score_runs).where(score_runs.c.status == COMPLETE)
            .order_by(score_runs.c.as_of.desc(), score_runs.c.finished_at.desc())
        ).mappings().all()
    return [ScoreRun.from_row(r) for r in rows]


def latest_complete_run(
    engine: Engine, *, as_of: date | None = None, model_version: str | None = None,
    before: date | None = None,
) -> ScoreRun | None:
    """The latest complete run (for ``as_of`` when given, of ``model_version`` when given,
    strictly before ``before`` when given)."""
    for run in complete_runs(engine):
        if as_of is not None and run.as_of != as_of:
            continue
        if model_version is not None and run.model_version != model_version:
            continue
        if before is not None and run.as_of >= before:
            continue
        return run
    return None


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return empty_scores()
    return conform_scores(frame)


def read_run_scores(engine: Engine, run: ScoreRun) -> pd.DataFrame:
    """The scores of a complete run (SCORE_COLUMNS), by customer id."""
    if run.status != COMPLETE:
        raise RescoringError(f"run {run.run_id} is {run.status}, not complete")
    with engine.connect() as conn:
        frame = pd.read_sql(
            sa.select(scores).where(scores.c.run_id == run.run_id)
            .order_by(scores.c.customer_id), conn)
    return _typed(frame)


def read_customer_scores(engine: Engine, run: ScoreRun, customer_id: str) -> pd.DataFrame:
    """One customer's row of a complete run (empty when the run did not rate it)."""
    with engine.connect() as conn:
        frame = pd.read_sql(
            sa.select(scores).where(
                (scores.c.run_id == run.run_id) & (scores.c.customer_id == customer_id)), conn)
    return _typed(frame)


@functools.cache
def _grade_history_statement() -> sa.Select[Any]:
    """Built once: constructing the select costs more than SQLite takes to run it (SQLAlchemy
    then reuses its compiled form from the statement cache)."""
    return sa.select(
        scores.c.as_of, scores.c.model_name, scores.c.model_version, scores.c.grade,
        scores.c.pd_12m, scores.c.recommended_limit, scores.c.decision,
    ).join(score_runs, score_runs.c.run_id == scores.c.run_id).where(
        (scores.c.customer_id == sa.bindparam("customer_id"))
        & (score_runs.c.status == COMPLETE)
    ).order_by(scores.c.as_of.desc(), scores.c.model_version.desc()).limit(
        sa.bindparam("row_limit", type_=sa.Integer)
    )


def grade_history(engine: Engine, customer_id: str, *, limit: int = 24) -> list[dict[str, Any]]:
    """The customer's grade, PD and limit across complete runs, latest first: as_of,
    model_name, model_version, grade, pd_12m, recommended_limit, decision (plain rows: it is
    read on every ``/risk`` request, where a DataFrame cost more than the query)."""
    with engine.connect() as conn:
        rows = conn.execute(
            _grade_history_statement(), {"customer_id": customer_id, "row_limit": limit}
        ).all()
    return [
        {"as_of": row.as_of if isinstance(row.as_of, date) else date.fromisoformat(str(row.as_of)),
         "model_name": str(row.model_name), "model_version": str(row.model_version),
         "grade": str(row.grade), "pd_12m": float(row.pd_12m),
         "recommended_limit": float(row.recommended_limit), "decision": str(row.decision)}
        for row in rows
    ]


def ledger_digest(engine: Engine) -> str:
    """A fingerprint of the ledger's content: per table its row count, and per date column its
    latest value and per number column its total (one aggregate query per table). A changed
    ledger restarts an unfinished run instead of mixing two ledgers in one result."""
    from creditrisk.ledger.schema import LEDGER_TABLES

    parts: list[str] = []
    with engine.connect() as conn:
        for name, table in sorted(LEDGER_TABLES.items()):
            columns: list[Any] = [sa.func.count()]
            for column in table.columns:
                if isinstance(column.type, sa.Date):
                    columns += [sa.func.max(column), sa.func.count(column)]
                elif isinstance(column.type, sa.Float | sa.Numeric | sa.Integer):
                    columns.append(sa.func.sum(column))
            values = conn.execute(sa.select(*columns)).one()
            parts.append(f"{name}:" + "|".join(
                f"{round(float(v), 2)}" if isinstance(v, float) else str(v) for v in values))
    return hashlib.sha256(";".join(parts).encode("utf-8")).hexdigest()
