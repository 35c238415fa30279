"""The order check: release or hold a new order, naming why.

The rules are written once, vectorised (:func:`check_orders`); one order online is a batch
of one (:meth:`models.policy.Policy.check_order`). A customer in default (grade D) has every
order held, with a reason saying it is in default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from creditrisk.models.decisions import (
    HOLD,
    ORDER_ACTIONS,
    ORDER_HOLD_CODES,
    ORDER_REASON_CODES,
    ORDER_REASONS,
    RELEASE,
)
from creditrisk.models.money import days_text, money_text, round_money
from creditrisk.models.policy_config import OrderPolicy
from creditrisk.models.policy_inputs import amount_column, flag_column, grade_column, pd_column
from creditrisk.models.reasons import DecisionReason, join_reason_codes

if TYPE_CHECKING:
    from creditrisk.models.policy import Policy

__all__ = [
    "ORDER_ACTIONS",
    "ORDER_HOLD_CODES",
    "ORDER_REASONS",
    "ORDER_REASON_CODES",
    "OrderCheck",
    "OrderDecision",
    "check_orders",
    "order_reasons",
]


@dataclass(frozen=True)
class OrderDecision:
    """Release or hold for one order, ready for an API answer or the decision log."""

    policy_version: str
    action: str
    grade: int
    grade_label: str
    """``"1"``..``"10"`` on the master scale, ``"D"`` in default."""
    currency: str
    new_exposure_amount: float
    limit_excess_amount: float | None
    """How far the new exposure exceeds the limit (0 when within; None without a limit)."""
    expected_loss_amount: float
    reasons: tuple[DecisionReason, ...]

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy_version": self.policy_version,
            "action": self.action,
            "grade": self.grade,
            "grade_label": self.grade_label,
            "currency": self.currency,
            "new_exposure_amount": self.new_exposure_amount,
            "limit_excess_amount": self.limit_excess_amount,
            "expected_loss_amount": self.expected_loss_amount,
            "reasons": [reason.to_dict() for reason in self.reasons],
        }


def order_reasons(
    codes: list[str],
    config: OrderPolicy,
    *,
    currency: str,
    grade: str,
    credit_limit: float,
    open_exposure: float,
    order_amount: float,
    new_exposure: float,
    limit_excess: float,
    max_days_past_due: float,
) -> tuple[DecisionReason, ...]:
    """The sentences of the reason ``codes`` that fired for one order."""

    def money(amount: float) -> str:
        return money_text(amount, currency)

    fields = {
        "grade": grade,
        "floor_grade": str(config.floor_grade),
        "new_exposure": money(new_exposure),
        "open": money(open_exposure),
        "order": money(order_amount),
        "limit": money(credit_limit),
        "excess": money(limit_excess),
        "headroom": money(credit_limit - new_exposure),
        "days_past_due": days_text(max_days_past_due),
        "threshold_days": days_text(config.overdue_threshold_days),
    }
    return tuple(DecisionReason(code, ORDER_REASONS[code].format(**fields)) for code in codes)


@dataclass(frozen=True, eq=False)
class OrderCheck:
    """Order checks for a batch; ``reason_flags`` columns follow ``ORDER_REASON_CODES``."""

    policy_version: str
    currency: str
    orders: OrderPolicy
    grade: np.ndarray
    grade_labels: np.ndarray
    action: np.ndarray
    credit_limit: np.ndarray
    open_exposure_amount: np.ndarray
    order_amount: np.ndarray
    new_exposure_amount: np.ndarray
    """Open exposure plus the order: what the customer would owe once it is shipped."""
    limit_excess_amount: np.ndarray
    """How far the new exposure exceeds the limit (0 when within; NaN without a limit)."""
    expected_loss_amount: np.ndarray
    """PD x LGD x new exposure (rounded to cents; PD 1.0 in default)."""
    max_days_past_due: np.ndarray
    reason_flags: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return int(self.action.shape[0])

    def reasons(self, row: int) -> tuple[DecisionReason, ...]:
        codes = [
            code
            for code, hit in zip(ORDER_REASON_CODES, self.reason_flags[row].tolist(), strict=True)
            if hit
        ]
        return order_reasons(
            codes,
            self.orders,
            currency=self.currency,
            grade=str(self.grade_labels[row]),
            credit_limit=float(self.credit_limit[row]),
            open_exposure=float(self.open_exposure_amount[row]),
            order_amount=float(self.order_amount[row]),
            new_exposure=float(self.new_exposure_amount[row]),
            limit_excess=float(self.limit_excess_amount[row]),
            max_days_past_due=float(self.max_days_past_due[row]),
        )

    def row(self, row: int) -> OrderDecision:
        excess = float(self.limit_excess_amount[row])
        return OrderDecision(
            policy_version=self.policy_version,
            action=str(self.action[row]),
            grade=int(self.grade[row]),
            grade_label=str(self.grade_labels[row]),
            currency=self.currency,
            new_exposure_amount=float(self.new_exposure_amount[row]),
            limit_excess_amount=None if math.isnan(excess) else excess,
            expected_loss_amount=float(self.expected_loss_amount[row]),
            reasons=self.reasons(row),
        )

    def reason_codes(self, *, separator: str = ",") -> np.ndarray:
        return join_reason_codes(self.reason_flags, ORDER_REASON_CODES, separator=separator)


def check_orders(
    *,
    grade: ArrayLike | None,
    pd_12m: ArrayLike,
    credit_limit: ArrayLike | None,
    open_exposure: ArrayLike,
    order_amount: ArrayLike,
    max_days_past_due: ArrayLike | None,
    in_default: ArrayLike,
    policy: Policy,
) -> OrderCheck:
    """Release or hold each order, vectorised.

    Held when the customer is in default, its grade is worse than the floor, it has no credit
    limit (NaN), open exposure + order exceeds the limit (beyond the tolerance), or its worst
    open invoice is more days past due than the threshold (NaN days past due: nothing overdue).
    Released otherwise. ``grade=None`` grades ``pd_12m`` on the master scale.
    """
    config = policy.orders
    pd_values = pd_column(pd_12m)
    n_rows = pd_values.shape[0]
    grades = grade_column(policy.scale, grade, pd_values)
    ceiling = policy.limits.max_input_amount
    limit = amount_column("credit_limit", credit_limit, n_rows, allow_nan=True, ceiling=ceiling)
    open_amount = amount_column(
        "open_exposure",
        open_exposure,
        n_rows,
        allow_nan=False,
        allow_negative=True,
        ceiling=ceiling,
    )
    order = amount_column("order_amount", order_amount, n_rows, allow_nan=False, ceiling=ceiling)
    days = amount_column(
        "max_days_past_due", max_days_past_due, n_rows, allow_nan=True, allow_negative=True
    )
    days = np.where(np.isnan(days), 0.0, days)
    defaulted = flag_column("in_default", in_default, n_rows)

    new_exposure = open_amount + order
    no_limit = np.isnan(limit)
    exceeded = ~no_limit & (new_exposure > limit * (1.0 + config.limit_tolerance_share))
    excess = np.where(no_limit, np.nan, np.maximum(new_exposure - limit, 0.0))
    grades = np.where(defaulted, policy.scale.default_grade, grades)
    flags = {
        "IN_DEFAULT": defaulted,
        "GRADE_BELOW_FLOOR": (grades > config.floor_grade) & ~defaulted,
        "NO_CREDIT_LIMIT": no_limit,
        "LIMIT_EXCEEDED": exceeded,
        "OVERDUE_BEYOND_THRESHOLD": days > config.overdue_threshold_days,
        "WITHIN_LIMIT": ~no_limit & ~exceeded,
    }
    hold = np.zeros(n_rows, dtype=bool)
    for code in ORDER_HOLD_CODES:
        hold |= flags[code]
    pd_used = np.where(defaulted, 1.0, pd_values)
    return OrderCheck(
        policy_version=policy.version,
        currency=policy.currency,
        orders=config,
        grade=grades,
        grade_labels=policy.scale.grade_labels(grades),
        action=np.where(hold, HOLD, RELEASE),
        credit_limit=limit,
        open_exposure_amount=open_amount,
        order_amount=order,
        new_exposure_amount=new_exposure,
        limit_excess_amount=excess,
        expected_loss_amount=round_money(
            pd_used * policy.limits.lgd * np.maximum(new_exposure, 0.0),
            name="expected_loss_amount",
            ceiling=2 * ceiling,  # open exposure + order: each within the ceiling
        ),
        max_days_past_due=days,
        reason_flags=np.stack([flags[code] for code in ORDER_REASON_CODES], axis=1),
    )
