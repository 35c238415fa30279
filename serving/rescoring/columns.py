"""The ``scores`` table's columns: the ONE ordered definition of what a rescoring writes.

Used by the table (:mod:`.store` and its Alembic migration), the Parquet export and the Spark
output schema. Each column has a kind (``date``, ``str``, ``float``, ``int``, ``bool``) that
every writer maps to its own type; the key is (``as_of``, ``customer_id``, ``model_version``).

Business meaning (money in the policy's currency, cents):

* ``pd_12m`` the PD answered (1 in default), ``model_pd_12m`` what the model says;
* ``grade`` the master scale's label ``"1"``..``"n"`` or ``"D"`` in default;
* ``exposure`` the open balance, ``overdue_amount`` the overdue balance,
  ``expected_overdue_30d`` the overdue amount plus p_late x open amount of the invoices due in
  the next 30 days (the worklist's definition), ``expected_loss`` PD x LGD x exposure;
* ``current_limit`` the credit limit on file (NULL when none), ``recommended_limit`` and
  ``decision`` the policy's, ``limit_action`` ``raise`` / ``lower`` / ``keep`` (no limit on
  file counts as 0);
* ``reason_codes`` the policy's decision reason codes, ``top_factors`` the model's top factor
  features, both comma-separated in the service's order;
* ``next_review_date`` ``as_of`` + the policy's review interval for the grade;
* ``bucket`` the customer's partition (:func:`.partitions.customer_bucket`) in this run;
* then what the service's portfolio summary and collections worklist read from a run instead
  of rescoring the book per request: invoiced amount in 90 days, aging amounts, the worklist's
  per-customer sums of its open invoices and the collection facts (disputes, promises,
  reminders, default event), unrounded as the service sums them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import pandas as pd

ColumnKind = Literal["date", "str", "float", "int", "bool"]


@dataclass(frozen=True, slots=True)
class ScoreColumn:
    """One column of the ``scores`` table."""

    name: str
    kind: ColumnKind
    nullable: bool = False


SCORE_COLUMNS: Final[tuple[ScoreColumn, ...]] = (
    ScoreColumn("as_of", "date"),
    ScoreColumn("customer_id", "str"),
    ScoreColumn("model_version", "str"),
    ScoreColumn("model_name", "str"),
    ScoreColumn("policy_version", "str"),
    ScoreColumn("run_id", "str", nullable=True),
    ScoreColumn("bucket", "int"),
    ScoreColumn("pd_12m", "float"),
    ScoreColumn("model_pd_12m", "float"),
    ScoreColumn("grade", "str"),
    ScoreColumn("in_default", "bool"),
    ScoreColumn("exposure", "float"),
    ScoreColumn("overdue_amount", "float"),
    ScoreColumn("worst_days_past_due", "float", nullable=True),
    ScoreColumn("expected_overdue_30d", "float"),
    ScoreColumn("expected_loss", "float"),
    ScoreColumn("current_limit", "float", nullable=True),
    ScoreColumn("recommended_limit", "float"),
    ScoreColumn("limit_action", "str"),
    ScoreColumn("decision", "str"),
    ScoreColumn("reason_codes", "str"),
    ScoreColumn("top_factors", "str"),
    ScoreColumn("next_review_date", "date"),
    # the portfolio summary's inputs (serving.portfolio.CUSTOMER_COLUMNS)
    ScoreColumn("invoiced_amount_90d", "float", nullable=True),
    ScoreColumn("aging_current_amount", "float", nullable=True),
    ScoreColumn("aging_1_30_amount", "float", nullable=True),
    ScoreColumn("aging_31_60_amount", "float", nullable=True),
    ScoreColumn("aging_61_90_amount", "float", nullable=True),
    ScoreColumn("aging_over_90_amount", "float", nullable=True),
    # the collections worklist's inputs (serving.worklist.OUTLOOK_COLUMNS and FACT_COLUMNS)
    ScoreColumn("open_invoice_amount", "float"),
    ScoreColumn("overdue_invoice_amount", "float"),
    ScoreColumn("oldest_days_past_due", "float"),
    ScoreColumn("soon_due_amount", "float"),
    ScoreColumn("next_expected_payment", "date", nullable=True),
    ScoreColumn("open_disputes", "int"),
    ScoreColumn("promises_365d", "int"),
    ScoreColumn("promises_kept", "int"),
    ScoreColumn("promises_broken", "int"),
    ScoreColumn("promises_pending", "int"),
    ScoreColumn("last_promise_date", "date", nullable=True),
    ScoreColumn("last_reminder_date", "date", nullable=True),
    ScoreColumn("default_event", "bool"),
    # migration 0007: the reporting currency of the row's amounts (NULL in older rows)
    ScoreColumn("currency", "str", nullable=True),
)
WORKLIST_RENAMES: Final = {"open_invoice_amount": "open_amount",
                           "overdue_invoice_amount": "overdue_amount"}
"""Stored name -> the worklist's own name (``overdue_amount`` of a score row is the feature
``overdue_balance``; the worklist sums its open invoices' overdue amounts separately)."""
KEY_COLUMNS: Final = ("as_of", "customer_id", "model_version")
SCORE_COLUMN_NAMES: Final = tuple(column.name for column in SCORE_COLUMNS)
LIMIT_ACTIONS: Final = ("raise", "lower", "keep")
LIST_SEPARATOR: Final = ","
"""Separator of ``reason_codes`` and ``top_factors``."""

_PANDAS_DTYPES: Final[dict[ColumnKind, str]] = {
    "date": "datetime64[ns]",
    "str": "string",
    "float": "float64",
    "int": "int64",
    "bool": "bool",
}


def pandas_dtype(column: ScoreColumn) -> str:
    """The pandas dtype of a column in a scores frame."""
    return _PANDAS_DTYPES[column.kind]


def conform_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly :data:`SCORE_COLUMNS`, in order, in their pandas dtypes.

    Raises ``ValueError`` naming a missing column or a NULL in a non-nullable one.
    """
    missing = [name for name in SCORE_COLUMN_NAMES if name not in frame.columns]
    if missing:
        raise ValueError(f"scores frame lacks column(s) {', '.join(missing)}")
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for column in SCORE_COLUMNS:
        values = frame[column.name].reset_index(drop=True)
        if column.kind == "date":
            values = pd.to_datetime(values).astype("datetime64[ns]")
        else:
            values = values.astype(pandas_dtype(column))
        if not column.nullable and bool(values.isna().any()):
            raise ValueError(f"scores column {column.name} has missing values")
        out[column.name] = values
    return out


def empty_scores() -> pd.DataFrame:
    """A scores frame with no rows (the right columns and dtypes)."""
    return pd.DataFrame(
        {c.name: pd.Series([], dtype=pandas_dtype(c)) for c in SCORE_COLUMNS}
    )


def split_list(text: str) -> list[str]:
    """A ``reason_codes`` / ``top_factors`` cell as a list (``""`` -> [])."""
    return [item for item in str(text).split(LIST_SEPARATOR) if item]


def as_float_array(values: pd.Series) -> np.ndarray:
    """A numeric column as float64 with NaN for missing values."""
    return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
