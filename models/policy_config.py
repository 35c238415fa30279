"""The policy's settings as types: limit settings, order settings and how they are read.

Below the rules in the import order: :mod:`models.grades` (master scale, errors) <- this
module <- :mod:`models.limits`, :mod:`models.orders` <- :mod:`models.policy` (the facade that
reads the file and calls the rules). Nothing here imports a rule module.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from creditrisk.models.grades import MasterScale, PolicyConfigError
from creditrisk.models.policy_inputs import MAX_INPUT_AMOUNT

__all__ = [
    "LimitPolicy",
    "OrderPolicy",
    "PolicyConfigError",
    "ReviewSchedule",
    "check_keys",
    "config_mapping",
    "config_number",
]


# --------------------------------------------------------------------------- config reading


def config_mapping(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise PolicyConfigError(f"{where}: expected a mapping, got {raw!r}")
    return raw


def check_keys(raw: Mapping[str, Any], where: str, known: set[str], optional: set[str]) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise PolicyConfigError(f"{where}: unknown keys {unknown}")
    missing = sorted(known - optional - set(raw))
    if missing:
        raise PolicyConfigError(f"{where}: missing keys {missing}")


def config_number(
    raw: Mapping[str, Any],
    where: str,
    key: str,
    *,
    minimum: float,
    maximum: float = math.inf,
    above_minimum: bool = False,
) -> float:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PolicyConfigError(f"{where}.{key}: must be a finite number, got {value!r}")
    number = float(value)
    too_low = number <= minimum if above_minimum else number < minimum
    if too_low or number > maximum:
        low = "(" if above_minimum else "["
        raise PolicyConfigError(f"{where}.{key}: {number} is outside {low}{minimum}, {maximum}]")
    return number


def optional_config_number(
    raw: Mapping[str, Any], where: str, key: str, *, maximum: float = math.inf
) -> float | None:
    if raw.get(key) is None:
        return None
    return config_number(raw, where, key, minimum=0.0, maximum=maximum, above_minimum=True)


def _grade(raw: Mapping[str, Any], where: str, key: str, scale: MasterScale) -> int:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= scale.n_grades:
        raise PolicyConfigError(
            f"{where}.{key}: {value!r} is not a grade on the master scale 1..{scale.n_grades}"
        )
    return value


# --------------------------------------------------------------------------- configs


@dataclass(frozen=True)
class LimitPolicy:
    """How a recommended credit limit and an approve / refer / decline decision are set.

    Amounts are in the ledger's reporting currency, shares are fractions (0.10 = 10 %).
    """

    lgd: float
    """Loss given default: share of the exposure lost when the customer defaults."""
    sales_buffer_share: float
    """Added on top of expected sales x terms to absorb order timing and late payments."""
    max_revenue_share: float
    """The limit never exceeds this share of the customer's annual revenue."""
    max_limit_amount: float
    """Absolute maximum limit for any customer."""
    floor_grade: int
    """Worst grade that may have credit at all; worse grades are declined with limit 0."""
    refer_grades: tuple[int, ...]
    """Grades whose decision always goes to an analyst (refer)."""
    expected_loss_budget_amount: float | None
    """Per-customer ceiling on PD x LGD x limit; caps the limit (None: no such cap)."""
    expected_loss_budget_share: float | None
    """Ceiling on the expected loss rate PD x LGD; above it no credit (None: no ceiling)."""
    refer_tolerance_share: float
    """A request up to this share above the recommended limit is referred, beyond is declined."""
    rounding_step_amount: float
    """Limits are rounded down to a multiple of this amount (0: no rounding)."""
    min_limit_amount: float
    """A computed limit below this amount becomes 0 (no credit line)."""
    default_payment_terms_days: float
    """Terms assumed when a customer's payment terms are unknown (and the case referred)."""
    max_input_amount: float = MAX_INPUT_AMOUNT
    """Largest plausible amount handed to the policy (limits and orders); above it, refused."""

    KEYS = frozenset(
        {
            "lgd",
            "sales_buffer_share",
            "max_revenue_share",
            "max_limit_amount",
            "floor_grade",
            "refer_grades",
            "expected_loss_budget_amount",
            "expected_loss_budget_share",
            "refer_tolerance_share",
            "rounding_step_amount",
            "min_limit_amount",
            "default_payment_terms_days",
            "max_input_amount",
        }
    )

    @classmethod
    def from_config(cls, raw: Any, scale: MasterScale) -> LimitPolicy:
        where = "limits"
        section = config_mapping(raw, where)
        check_keys(
            section,
            where,
            set(cls.KEYS),
            {"expected_loss_budget_amount", "expected_loss_budget_share", "max_input_amount"},
        )
        floor_grade = _grade(section, where, "floor_grade", scale)
        refer_raw = section["refer_grades"]
        if not isinstance(refer_raw, list):
            raise PolicyConfigError(
                f"{where}.refer_grades: expected a list of grades, got {refer_raw!r}"
            )
        refer_grades = tuple(
            _grade({"refer_grades": item}, where, "refer_grades", scale) for item in refer_raw
        )
        beyond = [grade for grade in refer_grades if grade > floor_grade]
        if beyond:
            raise PolicyConfigError(
                f"{where}.refer_grades: grades {beyond} are worse than floor_grade {floor_grade} "
                "and are declined anyway"
            )
        limits = cls(
            lgd=config_number(section, where, "lgd", minimum=0.0, maximum=1.0, above_minimum=True),
            sales_buffer_share=config_number(section, where, "sales_buffer_share", minimum=0.0),
            max_revenue_share=config_number(
                section, where, "max_revenue_share", minimum=0.0, above_minimum=True
            ),
            max_limit_amount=config_number(
                section, where, "max_limit_amount", minimum=0.0, above_minimum=True
            ),
            floor_grade=floor_grade,
            refer_grades=tuple(sorted(set(refer_grades))),
            expected_loss_budget_amount=optional_config_number(
                section, where, "expected_loss_budget_amount"
            ),
            expected_loss_budget_share=optional_config_number(
                section, where, "expected_loss_budget_share", maximum=1.0
            ),
            refer_tolerance_share=config_number(
                section, where, "refer_tolerance_share", minimum=0.0
            ),
            rounding_step_amount=config_number(section, where, "rounding_step_amount", minimum=0.0),
            min_limit_amount=config_number(section, where, "min_limit_amount", minimum=0.0),
            default_payment_terms_days=config_number(
                section, where, "default_payment_terms_days", minimum=0.0, above_minimum=True
            ),
            max_input_amount=(
                MAX_INPUT_AMOUNT
                if section.get("max_input_amount") is None
                else config_number(
                    section, where, "max_input_amount", minimum=0.0, above_minimum=True
                )
            ),
        )
        if limits.min_limit_amount > limits.max_limit_amount:
            raise PolicyConfigError(
                f"{where}.min_limit_amount: {limits.min_limit_amount} is above max_limit_amount "
                f"{limits.max_limit_amount}"
            )
        return limits

    def to_config(self) -> dict[str, Any]:
        return {
            "lgd": self.lgd,
            "sales_buffer_share": self.sales_buffer_share,
            "max_revenue_share": self.max_revenue_share,
            "max_limit_amount": self.max_limit_amount,
            "floor_grade": self.floor_grade,
            "refer_grades": list(self.refer_grades),
            "expected_loss_budget_amount": self.expected_loss_budget_amount,
            "expected_loss_budget_share": self.expected_loss_budget_share,
            "refer_tolerance_share": self.refer_tolerance_share,
            "rounding_step_amount": self.rounding_step_amount,
            "min_limit_amount": self.min_limit_amount,
            "default_payment_terms_days": self.default_payment_terms_days,
            "max_input_amount": self.max_input_amount,
        }


@dataclass(frozen=True)
class OrderPolicy:
    """When a new order is held instead of released."""

    overdue_threshold_days: float
    """Hold when the customer has an invoice more than this many days past due."""
    limit_tolerance_share: float
    """Hold when open exposure + order exceeds the limit by more than this share (0: strict)."""
    floor_grade: int
    """Hold for any grade worse than this one."""

    KEYS = frozenset({"overdue_threshold_days", "limit_tolerance_share", "floor_grade"})

    @classmethod
    def from_config(cls, raw: Any, scale: MasterScale, *, default_floor_grade: int) -> OrderPolicy:
        where = "orders"
        section = config_mapping(raw, where)
        check_keys(section, where, set(cls.KEYS), {"floor_grade"})
        floor_grade = (
            default_floor_grade
            if section.get("floor_grade") is None
            else _grade(section, where, "floor_grade", scale)
        )
        return cls(
            overdue_threshold_days=config_number(
                section, where, "overdue_threshold_days", minimum=0.0
            ),
            limit_tolerance_share=config_number(
                section, where, "limit_tolerance_share", minimum=0.0
            ),
            floor_grade=floor_grade,
        )

    def to_config(self) -> dict[str, Any]:
        return {
            "overdue_threshold_days": self.overdue_threshold_days,
            "limit_tolerance_share": self.limit_tolerance_share,
            "floor_grade": self.floor_grade,
        }


@dataclass(frozen=True)
class ReviewSchedule:
    """How many months after a rescoring a customer is reviewed again, by grade: riskier
    grades sooner (the months never grow with the grade; grade D is reviewed soonest)."""

    months_by_grade: tuple[int, ...]
    """Months for grades 1..N of the master scale, in order."""
    in_default_months: int
    """Months for grade D (in default)."""

    KEYS = frozenset({"months_by_grade", "in_default_months"})
    DEFAULT_MONTHS = (12, 6, 3, 1)
    """Without a ``review`` section: the scale split in four, 12 / 6 / 3 / 1 months."""

    @classmethod
    def default_for(cls, scale: MasterScale) -> ReviewSchedule:
        n = scale.n_grades
        months = tuple(cls.DEFAULT_MONTHS[min(3, (g * 4) // n)] for g in range(n))
        return cls(months_by_grade=months, in_default_months=1)

    @classmethod
    def from_config(cls, raw: Any, scale: MasterScale) -> ReviewSchedule:
        where = "review"
        section = config_mapping(raw, where)
        check_keys(section, where, set(cls.KEYS), set())
        months = section["months_by_grade"]
        if not isinstance(months, list) or len(months) != scale.n_grades:
            raise PolicyConfigError(
                f"{where}.months_by_grade: must list {scale.n_grades} month counts (grades "
                f"1..{scale.n_grades}), got {months!r}"
            )
        values = [*months, section["in_default_months"]]
        for position, value in enumerate(values):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                name = "in_default_months" if position == len(months) else (
                    f"months_by_grade[{position}]")
                raise PolicyConfigError(f"{where}.{name}: must be a whole number of months "
                                        f">= 1, got {value!r}")
        if any(later > earlier for earlier, later in itertools.pairwise(values)):
            raise PolicyConfigError(
                f"{where}: a riskier grade must never be reviewed later than a safer one, got "
                f"{values} (grades 1..{scale.n_grades}, then D)"
            )
        return cls(months_by_grade=tuple(months), in_default_months=int(values[-1]))

    def months(self, grade_codes: Any) -> list[int]:
        """Months until the next review per integer grade code (grade D = N + 1)."""
        table = [*self.months_by_grade, self.in_default_months]
        return [table[int(code) - 1] for code in grade_codes]

    def to_config(self) -> dict[str, Any]:
        return {
            "months_by_grade": list(self.months_by_grade),
            "in_default_months": self.in_default_months,
        }
