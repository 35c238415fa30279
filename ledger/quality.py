"""The data-quality rules a mapping chooses per table (``quality:``), declared once each.

A rule names the rows it concerns (a condition on the typed ledger columns), the actions a
mapping may choose (``reject`` is the default), the flag a repaired or flagged row carries in
``invoices.quality_flags``, what ``repair`` does, and how the labels treat such a row
(training/labels.py applies it; docs/import.md explains it). The mapping's rules
(:mod:`creditrisk.ledger.mapping.spec`: which actions a mapping may choose) and the checks
(:mod:`creditrisk.ledger.validation.rows`: condition, repair, flag, count) both read this
table, so a new rule is one more entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import pandas as pd

QualityAction = Literal["reject", "repair", "flag"]


@dataclass(frozen=True)
class QualityRule:
    """One data-quality rule of one table."""

    name: str
    table: str
    column: str
    """The ledger column the rule is about (problems are shown under its source column)."""
    needs: tuple[str, ...]
    """Ledger columns the condition reads (the rule is not checked when one is not mapped)."""
    breaks: Callable[[pd.DataFrame], pd.Series]
    """Which rows break the rule."""
    actions: tuple[QualityAction, ...]
    flag: str
    """Set in ``quality_flags`` on the rows the rule repaired or flagged."""
    problem: str
    """The rejection, naming what the other action would do."""
    repair: Callable[[pd.DataFrame, pd.Series], None] | None = None
    """Mends the broken rows of the frame in place (``repair`` only)."""
    label_effect: str = ""

    @property
    def keeps(self) -> QualityAction:
        """The action that keeps the row (``repair`` or ``flag``)."""
        return self.actions[1]


def _at_issue(column: str) -> Callable[[pd.DataFrame, pd.Series], None]:
    def repair(frame: pd.DataFrame, broken: pd.Series) -> None:
        frame[column] = frame[column].where(~broken, frame["issue_date"])

    return repair


def _before_issue(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    def breaks(frame: pd.DataFrame) -> pd.Series:
        return (frame[column] < frame["issue_date"]).fillna(False).astype(bool)

    return breaks


QUALITY_RULES: tuple[QualityRule, ...] = (
    QualityRule(
        name="zero_amount",
        table="invoices",
        column="amount",
        needs=("amount",),
        breaks=lambda frame: (frame["amount"] == 0).fillna(False).astype(bool),
        actions=("reject", "flag"),
        flag="zero_amount",
        problem="amount is zero (quality.zero_amount: flag keeps it)",
        label_effect="never labelled or featured (amount <= 0)",
    ),
    QualityRule(
        name="due_before_issue",
        table="invoices",
        column="due_date",
        needs=("issue_date", "due_date"),
        breaks=_before_issue("due_date"),
        actions=("reject", "repair"),
        flag="due_date_repaired",
        problem="due date is before the issue date {issue} (quality.due_before_issue: "
        "repair sets it to the issue date)",
        repair=_at_issue("due_date"),
        label_effect="late-payment outcome unknown (no trustworthy due date): left out of "
        "the late model like a censored invoice",
    ),
    QualityRule(
        name="settled_before_issue",
        table="invoices",
        column="settled_date",
        needs=("issue_date", "settled_date"),
        breaks=_before_issue("settled_date"),
        actions=("reject", "repair"),
        flag="prepaid",
        problem="settled before the issue date {issue} (quality.settled_before_issue: "
        "repair keeps it as a prepayment settled at issue)",
        repair=_at_issue("settled_date"),
        label_effect="a prepayment: labelled not late, days beyond terms from the issue date",
    ),
)
"""Every rule, in the order the checks apply them. The ledger itself never holds a due or
settlement date before issue, so those rules cannot ``flag``; nothing repairs a zero amount."""


def table_rules(table: str) -> dict[str, QualityRule]:
    """The rules of ``table`` by name."""
    return {rule.name: rule for rule in QUALITY_RULES if rule.table == table}
