"""The recommended credit limit and its decision: approve / counter_offer / refer / decline.

The rules are written once (:func:`models.limit_rule.limit_rule`) on an arithmetic that is
numpy columns for a batch (:func:`recommend_limits`) or plain floats for one customer
(:func:`recommend_limit`, what :meth:`models.policy.Policy.recommend_limit` is, whatever
the type of its inputs: they are checked and made plain values once). Measured with
``time.process_time`` (default policy, one applicant with every input known): the batch of
one ~475 µs of CPU at load 10; the one-row path ~100 µs at load 5-9 while it still graded
and rounded through numpy, ~45 µs at load 9 without (of which ~15 µs the reason sentences).

The four decisions and their reason sentences are in :mod:`models.decisions`; the rules in
words for analysts in ``docs/policy.md``.

With no request (rescoring an existing customer) there is no counter-offer. A customer in
default is grade D (:attr:`models.grades.MasterScale.default_grade`), PD 1.0, limit 0,
decline, expected loss = LGD x current exposure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from creditrisk.features.customer import DAYS_PER_MONTH
from creditrisk.models.decisions import (
    APPROVE,
    COUNTER_OFFER,
    DECISIONS,
    DECLINE,
    LIMIT_REASON_CODES,
    LIMIT_REASONS,
    REFER,
)
from creditrisk.models.limit_reasons import limit_reasons
from creditrisk.models.limit_rule import limit_rule
from creditrisk.models.money import (
    round_money,
    round_money_value,
)
from creditrisk.models.policy_config import LimitPolicy
from creditrisk.models.policy_inputs import (
    amount_column,
    amount_value,
    flag_column,
    flag_value,
    grade_column,
    grade_value,
    pd_column,
    pd_value,
)
from creditrisk.models.reasons import DecisionReason, join_reason_codes
from creditrisk.models.rule_ops import ARRAY_OPS, SCALAR_OPS

if TYPE_CHECKING:
    from creditrisk.models.policy import Policy

__all__ = [
    "APPROVE",
    "COUNTER_OFFER",
    "DAYS_PER_MONTH",
    "DECISIONS",
    "DECLINE",
    "LIMIT_REASONS",
    "LIMIT_REASON_CODES",
    "REFER",
    "LimitDecision",
    "LimitRecommendation",
    "limit_reasons",
    "recommend_limit",
    "recommend_limits",
]


@dataclass(frozen=True)
class LimitDecision:
    """The limit decision for one customer, ready for an API answer or the decision log.

    ``grade`` is the integer code (grade D = scale size + 1), ``grade_label`` what people see
    (``"1"``..``"10"``, ``"D"``); amounts are in ``currency``, rounded to cents.
    """

    policy_version: str
    pd_12m: float
    grade: int
    grade_label: str
    decision: str
    recommended_limit: float
    expected_loss_amount: float
    credit_need_amount: float
    currency: str
    reasons: tuple[DecisionReason, ...]

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy_version": self.policy_version,
            "pd_12m": self.pd_12m,
            "grade": self.grade,
            "grade_label": self.grade_label,
            "decision": self.decision,
            "recommended_limit": self.recommended_limit,
            "expected_loss_amount": self.expected_loss_amount,
            "credit_need_amount": self.credit_need_amount,
            "currency": self.currency,
            "reasons": [reason.to_dict() for reason in self.reasons],
        }


@dataclass(frozen=True, eq=False)
class LimitRecommendation:
    """Limit decisions for a batch: one entry per row in every array.

    ``reason_flags[i, j]`` is True when reason ``LIMIT_REASON_CODES[j]`` applies to row *i*;
    sentences are written only on demand (:meth:`reasons`, :meth:`row`).
    """

    policy_version: str
    currency: str
    limits: LimitPolicy
    pd_12m: np.ndarray
    """The model's PD, or 1.0 for a customer in default."""
    grade: np.ndarray
    """Integer grade codes; grade D (in default) is ``grade_labels`` ``"D"``."""
    grade_labels: np.ndarray
    decision: np.ndarray
    recommended_limit: np.ndarray
    expected_loss_amount: np.ndarray
    """PD x LGD x recommended limit in cents; LGD x current exposure for a customer in default."""
    credit_need_amount: np.ndarray
    computed_limit_amount: np.ndarray
    """The limit after caps, before rounding, minimum and floor rules."""
    expected_loss_cap_amount: np.ndarray
    revenue_cap_amount: np.ndarray
    requested_limit: np.ndarray
    current_exposure_amount: np.ndarray
    expected_monthly_sales: np.ndarray
    payment_terms_days: np.ndarray
    """Terms used (the default where the customer's terms are unknown)."""
    annual_revenue: np.ndarray
    reason_flags: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return int(self.pd_12m.shape[0])

    def reasons(self, row: int) -> tuple[DecisionReason, ...]:
        """Reasons of one row as codes with sentences, in the order of ``LIMIT_REASONS``."""
        codes = [
            code
            for code, hit in zip(LIMIT_REASON_CODES, self.reason_flags[row].tolist(), strict=True)
            if hit
        ]
        return limit_reasons(
            codes,
            self.limits,
            currency=self.currency,
            pd_12m=float(self.pd_12m[row]),
            grade=str(self.grade_labels[row]),
            limit=float(self.recommended_limit[row]),
            requested=float(self.requested_limit[row]),
            exposure=float(self.current_exposure_amount[row]),
            el_cap=float(self.expected_loss_cap_amount[row]),
            terms_days=float(self.payment_terms_days[row]),
            computed_limit=float(self.computed_limit_amount[row]),
            revenue=float(self.annual_revenue[row]),
            revenue_cap=float(self.revenue_cap_amount[row]),
            need=float(self.credit_need_amount[row]),
            sales=float(self.expected_monthly_sales[row]),
        )

    def row(self, row: int) -> LimitDecision:
        return LimitDecision(
            policy_version=self.policy_version,
            pd_12m=float(self.pd_12m[row]),
            grade=int(self.grade[row]),
            grade_label=str(self.grade_labels[row]),
            decision=str(self.decision[row]),
            recommended_limit=float(self.recommended_limit[row]),
            expected_loss_amount=float(self.expected_loss_amount[row]),
            credit_need_amount=float(self.credit_need_amount[row]),
            currency=self.currency,
            reasons=self.reasons(row),
        )

    def reason_codes(self, *, separator: str = ",") -> np.ndarray:
        """One ``"CODE_A,CODE_B"`` string per row, vectorised (for batch output tables)."""
        return join_reason_codes(self.reason_flags, LIMIT_REASON_CODES, separator=separator)

    def to_columns(self) -> dict[str, np.ndarray]:
        """Columns for a batch table (e.g. ``pandas.DataFrame(rec.to_columns())``)."""
        return {
            "policy_version": np.full(len(self), self.policy_version),
            "pd_12m": self.pd_12m,
            "grade": self.grade,
            "grade_label": self.grade_labels,
            "decision": self.decision,
            "recommended_limit": self.recommended_limit,
            "expected_loss_amount": self.expected_loss_amount,
            "credit_need_amount": self.credit_need_amount,
            "reason_codes": self.reason_codes(),
        }


def recommend_limits(
    pd_12m: ArrayLike,
    grade: ArrayLike | None,
    *,
    expected_monthly_sales: ArrayLike | None,
    payment_terms_days: ArrayLike | None,
    requested_limit: ArrayLike | None,
    annual_revenue: ArrayLike | None,
    current_exposure: ArrayLike | None,
    in_default: ArrayLike,
    policy: Policy,
) -> LimitRecommendation:
    """Recommended credit limit and decision per customer, vectorised (a scalar is one row).

    Missing values (NaN or None) mean unknown: no expected sales -> the request is taken as the
    need and the case referred; no payment terms -> the default terms, referred; no annual
    revenue -> no revenue cap, referred; no request -> a rescoring (decided on the grade and the
    limit alone, never a counter-offer); no current exposure -> 0. ``grade=None`` grades
    ``pd_12m`` on the policy's master scale. The rules, in words, are in ``docs/policy.md``.
    """
    pd_values = pd_column(pd_12m)
    n_rows = pd_values.shape[0]
    ceiling = policy.limits.max_input_amount

    def amounts(name: str, values: ArrayLike | None, allow_negative: bool = False) -> np.ndarray:
        return amount_column(
            name, values, n_rows, allow_nan=True, allow_negative=allow_negative,
            ceiling=ceiling,
        )

    sales = amounts("expected_monthly_sales", expected_monthly_sales)
    requested = amounts("requested_limit", requested_limit)
    revenue = amounts("annual_revenue", annual_revenue)
    parts = limit_rule(
        ARRAY_OPS,
        policy,
        pd_12m=pd_values,
        grade=grade_column(policy.scale, grade, pd_values),
        sales=sales,
        terms=amount_column("payment_terms_days", payment_terms_days, n_rows, allow_nan=True),
        requested=requested,
        revenue=revenue,
        exposure=amounts("current_exposure", current_exposure, allow_negative=True),
        defaulted=flag_column("in_default", in_default, n_rows),
    )
    return LimitRecommendation(
        policy_version=policy.version,
        currency=policy.currency,
        limits=policy.limits,
        pd_12m=parts.pd_reported,
        grade=parts.grade,
        grade_labels=policy.scale.grade_labels(parts.grade),
        decision=parts.decision,
        recommended_limit=parts.limit,
        expected_loss_amount=round_money(
            parts.expected_loss, name="expected_loss_amount", ceiling=ceiling
        ),
        credit_need_amount=parts.need,
        computed_limit_amount=parts.computed,
        expected_loss_cap_amount=parts.el_cap,
        revenue_cap_amount=parts.revenue_cap,
        requested_limit=requested,
        current_exposure_amount=parts.exposure,
        expected_monthly_sales=sales,
        payment_terms_days=parts.terms_used,
        annual_revenue=revenue,
        reason_flags=np.stack(parts.flags, axis=1),
    )


def recommend_limit(
    pd_12m: ArrayLike,
    grade: ArrayLike | None,
    *,
    expected_monthly_sales: ArrayLike | None,
    payment_terms_days: ArrayLike | None,
    requested_limit: ArrayLike | None,
    annual_revenue: ArrayLike | None,
    current_exposure: ArrayLike | None,
    in_default: ArrayLike,
    policy: Policy,
) -> LimitDecision:
    """One customer's :func:`recommend_limits` (None = unknown): every input is checked and
    made a plain Python value once (:mod:`models.policy_inputs`, the same checks and messages
    as the batch), then the same rules (:func:`limit_rule`) run on plain floats. A Python
    number, a numpy scalar or a one-element array all take this one path."""
    ceiling = policy.limits.max_input_amount

    def amount(name: str, value: ArrayLike | None, allow_negative: bool = False) -> float:
        return amount_value(
            name, value, allow_nan=True, allow_negative=allow_negative, ceiling=ceiling
        )

    pd_checked = pd_value(pd_12m)
    sales = amount("expected_monthly_sales", expected_monthly_sales)
    requested = amount("requested_limit", requested_limit)
    revenue = amount("annual_revenue", annual_revenue)
    parts = limit_rule(
        SCALAR_OPS,
        policy,
        pd_12m=pd_checked,
        grade=grade_value(policy.scale, grade, pd_checked),
        sales=sales,
        terms=amount("payment_terms_days", payment_terms_days),
        requested=requested,
        revenue=revenue,
        exposure=amount("current_exposure", current_exposure, allow_negative=True),
        defaulted=flag_value("in_default", in_default),
    )
    limit = float(parts.limit)
    grade_label = policy.scale.label(parts.grade)
    codes = [code for code, hit in zip(LIMIT_REASON_CODES, parts.flags, strict=True) if hit]
    return LimitDecision(
        policy_version=policy.version,
        pd_12m=float(parts.pd_reported),
        grade=int(parts.grade),
        grade_label=grade_label,
        decision=parts.decision,
        recommended_limit=limit,
        expected_loss_amount=round_money_value(
            parts.expected_loss, name="expected_loss_amount", ceiling=ceiling
        ),
        credit_need_amount=float(parts.need),
        currency=policy.currency,
        reasons=limit_reasons(
            codes,
            policy.limits,
            currency=policy.currency,
            pd_12m=float(parts.pd_reported),
            grade=grade_label,
            limit=limit,
            requested=requested,
            exposure=float(parts.exposure),
            el_cap=float(parts.el_cap),
            terms_days=float(parts.terms_used),
            computed_limit=float(parts.computed),
            revenue=revenue,
            revenue_cap=float(parts.revenue_cap),
            need=float(parts.need),
            sales=sales,
        ),
    )
