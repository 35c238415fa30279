"""The order check: release or hold a new order, naming why.

Like :mod:`models.limits`, in two forms with one set of rules: :func:`check_orders`,
vectorised over arrays (batch), and :func:`check_order`, one order on plain Python floats
(the online service; no array per call). Both write their sentences through
:func:`order_reasons`, and a test holds them equal over many random rows. An input the
single-row form does not take goes through the batch form, which raises the error naming it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from creditrisk.models.limits import (
    RowInputError,
    amount_column,
    days_text,
    flag_column,
    grade_column,
    maximum,
    money_text,
    pd_column,
    round_cents,
    row_amount,
    row_grade,
    row_pd,
)
from creditrisk.models.reasons import DecisionReason, join_reason_codes

if TYPE_CHECKING:
    from creditrisk.models.policy import OrderPolicy, Policy

__all__ = [
    "ORDER_ACTIONS",
    "ORDER_HOLD_CODES",
    "ORDER_REASONS",
    "ORDER_REASON_CODES",
    "OrderCheck",
    "OrderDecision",
    "check_order",
    "check_orders",
    "order_reasons",
]

RELEASE, HOLD = "release", "hold"
ORDER_ACTIONS: tuple[str, ...] = (RELEASE, HOLD)

ORDER_REASONS: dict[str, str] = {
    "IN_DEFAULT": "Customer is in default (90+ days past due, written off or insolvent)",
    "GRADE_BELOW_FLOOR": (
        "Risk grade {grade} is worse than grade {floor_grade}, the floor for any credit"
    ),
    "NO_CREDIT_LIMIT": "No credit limit is set for this customer",
    "LIMIT_EXCEEDED": (
        "New exposure {new_exposure} (open {open} + order {order}) exceeds the credit limit "
        "{limit} by {excess}"
    ),
    "OVERDUE_BEYOND_THRESHOLD": (
        "Invoices are {days_past_due} days past due, beyond the {threshold_days}-day threshold"
    ),
    "WITHIN_LIMIT": (
        "New exposure {new_exposure} (open {open} + order {order}) is within the credit limit "
        "{limit}; headroom after the order {headroom}"
    ),
}
ORDER_REASON_CODES: tuple[str, ...] = tuple(ORDER_REASONS)
ORDER_HOLD_CODES = frozenset(
    {
        "IN_DEFAULT",
        "GRADE_BELOW_FLOOR",
        "NO_CREDIT_LIMIT",
        "LIMIT_EXCEEDED",
        "OVERDUE_BEYOND_THRESHOLD",
    }
)


@dataclass(frozen=True)
class OrderDecision:
    """Release or hold for one order, ready for an API answer or the decision log."""

    policy_version: str
    action: str
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
            "new_exposure_amount": self.new_exposure_amount,
            "limit_excess_amount": self.limit_excess_amount,
            "expected_loss_amount": self.expected_loss_amount,
            "reasons": [reason.to_dict() for reason in self.reasons],
        }


def order_reasons(
    codes: list[str],
    config: OrderPolicy,
    *,
    grade: int,
    credit_limit: float,
    open_exposure: float,
    order_amount: float,
    new_exposure: float,
    limit_excess: float,
    max_days_past_due: float,
) -> tuple[DecisionReason, ...]:
    """The sentences of the reason ``codes`` that fired for one order (both paths)."""
    fields = {
        "grade": str(grade),
        "floor_grade": str(config.floor_grade),
        "new_exposure": money_text(new_exposure),
        "open": money_text(open_exposure),
        "order": money_text(order_amount),
        "limit": money_text(credit_limit),
        "excess": money_text(limit_excess),
        "headroom": money_text(credit_limit - new_exposure),
        "days_past_due": days_text(max_days_past_due),
        "threshold_days": days_text(config.overdue_threshold_days),
    }
    return tuple(DecisionReason(code, ORDER_REASONS[code].format(**fields)) for code in codes)


@dataclass(frozen=True, eq=False)
class OrderCheck:
    """Order checks for a batch; ``reason_flags`` columns follow ``ORDER_REASON_CODES``."""

    policy_version: str
    orders: OrderPolicy
    grade: np.ndarray
    action: np.ndarray
    credit_limit: np.ndarray
    open_exposure_amount: np.ndarray
    order_amount: np.ndarray
    new_exposure_amount: np.ndarray
    """Open exposure plus the order: what the customer would owe once it is shipped."""
    limit_excess_amount: np.ndarray
    """How far the new exposure exceeds the limit (0 when within; NaN without a limit)."""
    expected_loss_amount: np.ndarray
    """PD x LGD x new exposure (rounded to cents)."""
    max_days_past_due: np.ndarray
    reason_flags: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return int(self.action.shape[0])

    def reasons(self, row: int) -> tuple[DecisionReason, ...]:
        codes = [
            code
            for code, hit in zip(ORDER_REASON_CODES, self.reason_flags[row], strict=True)
            if hit
        ]
        return order_reasons(
            codes,
            self.orders,
            grade=int(self.grade[row]),
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
    limit = amount_column("credit_limit", credit_limit, n_rows, allow_nan=True)
    open_amount = amount_column(
        "open_exposure", open_exposure, n_rows, allow_nan=False, allow_negative=True
    )
    order = amount_column("order_amount", order_amount, n_rows, allow_nan=False)
    days = np.nan_to_num(
        amount_column(
            "max_days_past_due", max_days_past_due, n_rows, allow_nan=True, allow_negative=True
        ),
        nan=0.0,
    )
    defaulted = flag_column("in_default", in_default, n_rows)

    new_exposure = open_amount + order
    no_limit = np.isnan(limit)
    exceeded = ~no_limit & (new_exposure > limit * (1.0 + config.limit_tolerance_share))
    excess = np.where(no_limit, np.nan, np.maximum(new_exposure - limit, 0.0))
    flags = {
        "IN_DEFAULT": defaulted,
        "GRADE_BELOW_FLOOR": grades > config.floor_grade,
        "NO_CREDIT_LIMIT": no_limit,
        "LIMIT_EXCEEDED": exceeded,
        "OVERDUE_BEYOND_THRESHOLD": days > config.overdue_threshold_days,
        "WITHIN_LIMIT": ~no_limit & ~exceeded,
    }
    hold = np.logical_or.reduce(
        [flags[code] for code in ORDER_REASON_CODES if code in ORDER_HOLD_CODES]
    )
    return OrderCheck(
        policy_version=policy.version,
        orders=config,
        grade=grades,
        action=np.where(hold, HOLD, RELEASE),
        credit_limit=limit,
        open_exposure_amount=open_amount,
        order_amount=order,
        new_exposure_amount=new_exposure,
        limit_excess_amount=excess,
        expected_loss_amount=np.round(
            pd_values * policy.limits.lgd * np.maximum(new_exposure, 0.0), 2
        ),
        max_days_past_due=days,
        reason_flags=np.column_stack([flags[code] for code in ORDER_REASON_CODES]),
    )


def _check_order_as_batch(
    policy: Policy,
    *,
    pd_12m: Any,
    grade: Any,
    credit_limit: Any,
    open_exposure: Any,
    order_amount: Any,
    max_days_past_due: Any,
    in_default: Any,
) -> OrderDecision:
    """One order through :func:`check_orders` (arrays of length one)."""
    batch = check_orders(
        pd_12m=np.array([pd_12m], dtype=np.float64),
        grade=None if grade is None else np.array([grade]),
        credit_limit=np.array([math.nan if credit_limit is None else float(credit_limit)]),
        open_exposure=np.array([float(open_exposure)]),
        order_amount=np.array([float(order_amount)]),
        max_days_past_due=np.array(
            [math.nan if max_days_past_due is None else float(max_days_past_due)]
        ),
        in_default=np.array([bool(in_default)]),
        policy=policy,
    )
    return batch.row(0)


def check_order(
    policy: Policy,
    *,
    pd_12m: float,
    grade: int | None = None,
    credit_limit: float | None,
    open_exposure: float,
    order_amount: float,
    max_days_past_due: float | None,
    in_default: bool = False,
) -> OrderDecision:
    """Release or hold one order on plain floats (``credit_limit`` None: no limit -> hold).

    The rules of :func:`check_orders`, step for step, without numpy arrays; inputs it does
    not take go through :func:`check_orders`, which names an invalid one.
    """
    try:
        pd_value = row_pd(pd_12m)
        grade_value = row_grade(policy.scale, grade, pd_value)
        limit = row_amount(credit_limit)
        open_amount = row_amount(open_exposure, allow_nan=False, allow_negative=True)
        order = row_amount(order_amount, allow_nan=False)
        days = row_amount(max_days_past_due, allow_negative=True)
    except RowInputError:
        return _check_order_as_batch(
            policy,
            pd_12m=pd_12m,
            grade=grade,
            credit_limit=credit_limit,
            open_exposure=open_exposure,
            order_amount=order_amount,
            max_days_past_due=max_days_past_due,
            in_default=in_default,
        )
    config = policy.orders
    defaulted = bool(in_default)
    if math.isnan(days):
        days = 0.0

    new_exposure = open_amount + order
    no_limit = math.isnan(limit)
    exceeded = not no_limit and new_exposure > limit * (1.0 + config.limit_tolerance_share)
    excess = math.nan if no_limit else maximum(new_exposure - limit, 0.0)
    flags = {
        "IN_DEFAULT": defaulted,
        "GRADE_BELOW_FLOOR": grade_value > config.floor_grade,
        "NO_CREDIT_LIMIT": no_limit,
        "LIMIT_EXCEEDED": exceeded,
        "OVERDUE_BEYOND_THRESHOLD": days > config.overdue_threshold_days,
        "WITHIN_LIMIT": not no_limit and not exceeded,
    }
    codes = [code for code in ORDER_REASON_CODES if flags[code]]
    hold = any(code in ORDER_HOLD_CODES for code in codes)
    return OrderDecision(
        policy_version=policy.version,
        action=HOLD if hold else RELEASE,
        new_exposure_amount=new_exposure,
        limit_excess_amount=None if no_limit else excess,
        expected_loss_amount=round_cents(
            pd_value * policy.limits.lgd * maximum(new_exposure, 0.0)
        ),
        reasons=order_reasons(
            codes,
            config,
            grade=grade_value,
            credit_limit=limit,
            open_exposure=open_amount,
            order_amount=order,
            new_exposure=new_exposure,
            limit_excess=excess,
            max_days_past_due=days,
        ),
    )
