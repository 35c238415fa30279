"""The sentences of a limit decision: each reason code that fired, written out with its figures.

The codes and their sentence templates are in :mod:`models.decisions`; the rules that fire
them in :mod:`models.limit_rule`. A decision prints only the few fields its sentences use,
so each field is formatted on first use.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from creditrisk.features.customer import DAYS_PER_MONTH
from creditrisk.models.decisions import LIMIT_REASONS
from creditrisk.models.money import days_text, money_text, percent_text
from creditrisk.models.policy_config import LimitPolicy
from creditrisk.models.reasons import DecisionReason

__all__ = ["limit_reasons"]


class _LazyFields(dict[str, str]):
    """Sentence fields written on first use: a decision prints only the few it needs."""

    def __init__(self, makers: dict[str, Callable[[], str]]) -> None:
        super().__init__()
        self._makers = makers

    def __missing__(self, key: str) -> str:
        value = self[key] = self._makers[key]()
        return value


def limit_reasons(
    codes: list[str],
    config: LimitPolicy,
    *,
    currency: str,
    pd_12m: float,
    grade: str,
    limit: float,
    requested: float,
    exposure: float,
    el_cap: float,
    terms_days: float,
    computed_limit: float,
    revenue: float,
    revenue_cap: float,
    need: float,
    sales: float,
) -> tuple[DecisionReason, ...]:
    """The sentences of the reason ``codes`` that fired for one customer."""
    if not codes:
        return ()

    def money(amount: float) -> str:
        return money_text(amount, currency)

    fields = _LazyFields(
        {
            "grade": lambda: grade,
            "floor_grade": lambda: str(config.floor_grade),
            "pd": lambda: percent_text(pd_12m),
            "lgd": lambda: percent_text(config.lgd),
            "el_rate": lambda: percent_text(pd_12m * config.lgd),
            "el_budget_share": lambda: percent_text(
                float(config.expected_loss_budget_share or math.nan)
            ),
            "el_budget": lambda: money(float(config.expected_loss_budget_amount or math.nan)),
            "el_cap": lambda: money(el_cap),
            "requested": lambda: money(requested),
            "limit": lambda: money(limit),
            "request_excess": lambda: money(requested - limit),
            "tolerance": lambda: percent_text(config.refer_tolerance_share),
            "exposure": lambda: money(exposure),
            "exposure_excess": lambda: money(exposure - limit),
            "terms_days": lambda: days_text(terms_days),
            "month_days": lambda: days_text(DAYS_PER_MONTH),
            "computed_limit": lambda: money(computed_limit),
            "min_limit": lambda: money(config.min_limit_amount),
            "max_revenue_share": lambda: percent_text(config.max_revenue_share),
            "revenue": lambda: money(revenue),
            "revenue_cap": lambda: money(revenue_cap),
            "max_limit": lambda: money(config.max_limit_amount),
            "need": lambda: money(need),
            "sales": lambda: money(sales),
            "buffer": lambda: percent_text(config.sales_buffer_share),
        }
    )
    return tuple(DecisionReason(code, LIMIT_REASONS[code].format_map(fields)) for code in codes)
