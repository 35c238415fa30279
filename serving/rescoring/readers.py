"""What the service reads from the batch: the book of the latest complete rescoring run.

``/v1/portfolio`` and ``/v1/worklist`` answer from a complete run when one exists (for the
asked as-of; the latest one when none is asked) instead of scoring the whole book on the
request path, and ``/v1/customers/{id}/risk`` shows the customer's grade across runs. A
database without the rescoring tables (not migrated yet) simply has no run.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from creditrisk.serving.open_invoices import INVOICE_PREDICTION_COLUMNS
from creditrisk.serving.portfolio import CUSTOMER_COLUMNS, PortfolioScores
from creditrisk.serving.rescoring.columns import WORKLIST_RENAMES
from creditrisk.serving.rescoring.store import ScoreRun, grade_history, latest_complete_run
from creditrisk.serving.rescoring.store import read_run_scores as read_scores
from creditrisk.serving.worklist import FACT_COLUMNS, OUTLOOK_COLUMNS

FROM_SCORES = {"open_balance": "exposure", "overdue_balance": "overdue_amount"}
"""Portfolio customer column -> the score column holding it."""


def batch_run(engine: Engine, as_of: date | None) -> ScoreRun | None:
    """The complete run to answer from: for ``as_of``, or the latest when None."""
    try:
        return latest_complete_run(engine, as_of=as_of)
    except (OperationalError, ProgrammingError):  # no rescoring tables: no run
        return None


def portfolio_from_run(engine: Engine, run: ScoreRun) -> PortfolioScores:
    """The run's rows as :class:`PortfolioScores` (summary and worklist inputs)."""
    rows = read_scores(engine, run).set_index("customer_id")
    rows.index = rows.index.astype(str)
    customers = pd.DataFrame(index=rows.index)
    for column in CUSTOMER_COLUMNS:
        source = FROM_SCORES.get(column, column)
        customers[column] = rows[source].to_numpy(np.float64)
    customers["model_pd_12m"] = rows["model_pd_12m"].to_numpy(np.float64)
    customers["pd_12m"] = rows["pd_12m"].to_numpy(np.float64)
    customers["grade"] = rows["grade"].astype(str).to_numpy(object)
    customers["in_default"] = rows["in_default"].to_numpy(bool)
    stored = {v: k for k, v in WORKLIST_RENAMES.items()}
    outlook = rows[[stored.get(c, c) for c in OUTLOOK_COLUMNS]].rename(columns=WORKLIST_RENAMES)
    collections = rows[list(FACT_COLUMNS)].copy()
    for column in ("open_disputes", "promises_365d", "promises_kept", "promises_broken",
                   "promises_pending"):
        collections[column] = collections[column].astype(np.int64)
    return PortfolioScores(
        as_of=run.as_of,
        model_version=run.model_version,
        customers=customers,
        invoices=pd.DataFrame({c: [] for c in INVOICE_PREDICTION_COLUMNS}),
        collections=collections,
        outlook=outlook,
        run_id=run.run_id,
    )


def customer_grade_history(engine: Engine, customer_id: str) -> list[dict[str, Any]]:
    """The customer's grade across complete runs, latest first ([] without runs)."""
    try:
        return grade_history(engine, customer_id)
    except (OperationalError, ProgrammingError):
        return []
