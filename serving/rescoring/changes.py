"""What changed between two complete runs: grade migrations, limit moves, breaches, new
defaults, and the credit events an ERP or a workflow consumes.

Definitions (one place):

* **grade rank**: ``"1"``..``"n"`` by number, ``"D"`` worst (n + 1); a **downgrade** is a
  worse rank than in the previous run, an **upgrade** a better one; its **main reason** is the
  current run's first top factor (the model's strongest push on risk);
* **limit to lower / raise**: ``limit_action`` of the current run; the amount is
  ``recommended - current`` limit (no limit on file counts as 0), with the customer's exposure;
* **breach**: exposure above the limit on file;
* **new default**: in default now, not in default (or not rated) in the previous run;
* **payment behaviour changed**: the worst days past due moved to another aging bucket
  (current, 1-30, 31-60, 61-90, over 90).

Credit events, one row each: ``grade_downgrade``, ``grade_upgrade``, ``limit_lower``,
``limit_raise``, ``limit_breach``, ``new_default``, ``payment_behaviour_changed`` with
as_of, customer_id, model_version, previous and current value, amount, currency (the run's
reporting currency, ``scores.currency``; empty for runs written before it was stored) and
detail. The tables with amounts (moves, limits, breaches, new defaults) carry it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from creditrisk.models.grades import DEFAULT_GRADE_LABEL
from creditrisk.serving.rescoring.columns import as_float_array, split_list

EVENT_COLUMNS: Final = (
    "as_of", "customer_id", "model_version", "event_type", "previous_value", "current_value",
    "amount", "currency", "detail",
)
AGING_EDGES: Final = (0.0, 30.0, 60.0, 90.0)
AGING_LABELS: Final = ("current", "1-30", "31-60", "61-90", "over 90")


def grade_rank(grades: pd.Series) -> np.ndarray:
    """Numeric rank of grade labels; ``"D"`` is worse than every scale grade."""
    labels = grades.astype(str)
    numbers = pd.to_numeric(labels.where(labels != DEFAULT_GRADE_LABEL), errors="coerce")
    worst = float(np.nanmax(numbers.to_numpy(np.float64), initial=0.0)) + 1.0
    return np.where(labels == DEFAULT_GRADE_LABEL, max(worst, 1000.0),
                    numbers.to_numpy(np.float64))


def aging_bucket(days_past_due: np.ndarray) -> np.ndarray:
    days = np.nan_to_num(np.asarray(days_past_due, np.float64), nan=0.0)
    return np.asarray(AGING_LABELS, dtype=object)[
        np.searchsorted(np.asarray(AGING_EDGES), days, side="left")]


def main_reason(top_factors: pd.Series) -> list[str]:
    return [next(iter(split_list(text)), "") for text in top_factors.astype(str).tolist()]


@dataclass(frozen=True)
class RunChanges:
    """The comparison of ``current`` with ``previous`` (None: a first run, nothing moved)."""

    as_of: date
    previous_as_of: date | None
    migration: pd.DataFrame
    """Customers by previous grade (rows) and current grade (columns)."""
    moves: pd.DataFrame
    """Customers whose grade moved: customer_id, previous/current grade, direction, main
    reason, pd before/after, exposure."""
    limits: pd.DataFrame
    """Customers whose limit should move: customer_id, limit_action, current/recommended
    limit, change, exposure, grade."""
    breaches: pd.DataFrame
    new_defaults: pd.DataFrame
    events: pd.DataFrame


def grade_order(labels: list[str]) -> list[str]:
    return sorted(set(labels), key=lambda g: grade_rank(pd.Series([g]))[0])


def run_currency(scores: pd.DataFrame) -> str | None:
    """The reporting currency of a run's score rows (None when they do not say)."""
    if "currency" not in scores.columns:
        return None
    known = scores["currency"].dropna()
    return str(known.iloc[0]) if len(known) else None


def compare_runs(current: pd.DataFrame, previous: pd.DataFrame | None) -> RunChanges:
    """Everything that changed from ``previous`` to ``current`` (score frames)."""
    now = current.set_index("customer_id", drop=False)
    currency = run_currency(current)
    as_of = pd.Timestamp(now["as_of"].iloc[0]).date() if len(now) else date.min
    model_version = str(now["model_version"].iloc[0]) if len(now) else ""
    before = (previous.set_index("customer_id", drop=False)
              if previous is not None else now.iloc[0:0])
    both = now.index.intersection(before.index)
    grade_now = now.loc[both, "grade"].astype(str)
    grade_before = before.loc[both, "grade"].astype(str)
    migration = pd.crosstab(grade_before.rename("previous_grade"),
                            grade_now.rename("current_grade"))
    order = grade_order([*migration.index.tolist(), *migration.columns.tolist()])
    migration = migration.reindex(index=order, columns=order, fill_value=0)

    rank_now = grade_rank(grade_now)
    rank_before = grade_rank(grade_before)
    moved = rank_now != rank_before
    moves = pd.DataFrame({
        "customer_id": both.to_numpy()[moved],
        "previous_grade": grade_before.to_numpy()[moved],
        "current_grade": grade_now.to_numpy()[moved],
        "direction": np.where(rank_now[moved] > rank_before[moved], "downgrade", "upgrade"),
        "main_reason": np.asarray(main_reason(now.loc[both, "top_factors"]),
                                  dtype=object)[moved],
        "previous_pd_12m": as_float_array(before.loc[both, "pd_12m"])[moved],
        "current_pd_12m": as_float_array(now.loc[both, "pd_12m"])[moved],
        "exposure": as_float_array(now.loc[both, "exposure"])[moved],
    }).sort_values(["direction", "exposure"], ascending=[True, False], kind="stable")

    current_limit = np.nan_to_num(as_float_array(now["current_limit"]), nan=0.0)
    recommended = as_float_array(now["recommended_limit"])
    action = now["limit_action"].astype(str).to_numpy()
    limits = pd.DataFrame({
        "customer_id": now["customer_id"].astype(str).to_numpy(),
        "limit_action": action,
        "current_limit": as_float_array(now["current_limit"]),
        "recommended_limit": recommended,
        "change": np.round(recommended - current_limit, 2),
        "exposure": as_float_array(now["exposure"]),
        "grade": now["grade"].astype(str).to_numpy(),
    })
    limits = limits.loc[action != "keep"].sort_values("change", kind="stable")

    exposure = as_float_array(now["exposure"])
    on_file = as_float_array(now["current_limit"])
    breach = ~np.isnan(on_file) & (exposure > on_file)
    breaches = pd.DataFrame({
        "customer_id": now["customer_id"].astype(str).to_numpy()[breach],
        "exposure": exposure[breach], "current_limit": on_file[breach],
        "excess": np.round(exposure[breach] - on_file[breach], 2),
        "grade": now["grade"].astype(str).to_numpy()[breach],
    }).sort_values("excess", ascending=False, kind="stable")

    was_default = before["in_default"].reindex(now.index).fillna(False).astype(bool).to_numpy()
    is_default = now["in_default"].astype(bool).to_numpy()
    fresh = is_default & ~was_default if previous is not None else is_default & False
    new_defaults = pd.DataFrame({
        "customer_id": now["customer_id"].astype(str).to_numpy()[fresh],
        "previous_grade": before["grade"].reindex(now.index).astype(object).to_numpy()[fresh],
        "exposure": exposure[fresh],
    })

    aging_now = aging_bucket(as_float_array(now.loc[both, "worst_days_past_due"]))
    aging_before = aging_bucket(as_float_array(before.loc[both, "worst_days_past_due"]))
    behaviour = aging_now != aging_before

    def rows(kind: str, ids: np.ndarray, prev: object, cur: object, amount: object,
             detail: object) -> pd.DataFrame:
        return pd.DataFrame({"customer_id": ids, "event_type": kind, "previous_value": prev,
                             "current_value": cur, "amount": amount, "detail": detail})

    parts = [
        rows(f"grade_{m['direction'].iloc[0]}" if len(m) else "grade_move",
             m["customer_id"].to_numpy(), m["previous_grade"].to_numpy(),
             m["current_grade"].to_numpy(), m["exposure"].to_numpy(), m["main_reason"].to_numpy())
        for _, m in moves.groupby("direction", sort=True)
    ]
    for kind in ("lower", "raise"):
        chosen = limits.loc[limits["limit_action"] == kind]
        parts.append(rows(f"limit_{kind}", chosen["customer_id"].to_numpy(),
                          chosen["current_limit"].to_numpy(),
                          chosen["recommended_limit"].to_numpy(), chosen["change"].to_numpy(),
                          "grade " + chosen["grade"]))
    parts.append(rows("limit_breach", breaches["customer_id"].to_numpy(),
                      breaches["current_limit"].to_numpy(), breaches["exposure"].to_numpy(),
                      breaches["excess"].to_numpy(), "exposure above the limit on file"))
    parts.append(rows("new_default", new_defaults["customer_id"].to_numpy(),
                      new_defaults["previous_grade"].to_numpy(), DEFAULT_GRADE_LABEL,
                      new_defaults["exposure"].to_numpy(), "in default at the as-of date"))
    parts.append(rows("payment_behaviour_changed", both.to_numpy()[behaviour],
                      aging_before[behaviour], aging_now[behaviour],
                      as_float_array(now.loc[both, "overdue_amount"])[behaviour],
                      "worst days past due moved to another aging bucket"))
    nonempty = [p for p in parts if len(p)]
    events = (pd.concat(nonempty, ignore_index=True) if nonempty
              else pd.DataFrame({c: [] for c in ("customer_id", *EVENT_COLUMNS[3:])}))
    events["currency"] = currency
    events.insert(0, "as_of", as_of)
    events.insert(2, "model_version", model_version)
    for column in ("previous_value", "current_value"):
        events[column] = events[column].astype(object).where(events[column].notna(), None)
        events[column] = events[column].map(lambda v: None if v is None else str(v))
    events = events[list(EVENT_COLUMNS)].sort_values(["event_type", "customer_id"],
                                                     kind="stable").reset_index(drop=True)
    moves, limits, breaches = (frame.assign(currency=currency)
                               for frame in (moves, limits, breaches))
    return RunChanges(
        as_of=as_of,
        previous_as_of=(pd.Timestamp(before["as_of"].iloc[0]).date()
                        if previous is not None and len(before) else None),
        migration=migration, moves=moves.reset_index(drop=True),
        limits=limits.reset_index(drop=True), breaches=breaches.reset_index(drop=True),
        new_defaults=new_defaults.assign(currency=currency), events=events,
    )
