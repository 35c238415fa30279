"""The credit policy file and its facade: master scale, limit and order settings, one version.

A :class:`Policy` is read from a YAML file (``models/policy.yaml`` is the default), carries a
``version`` and a ``currency`` (ISO 4217) and travels inside the model bundle as
:meth:`Policy.to_dict`. Everything it produces says which policy version produced it. How the
limit is computed is told for analysts in ``docs/policy.md``.

Import order (no circle): :mod:`models.grades` <- :mod:`models.policy_config` (settings types)
<- :mod:`models.limits`, :mod:`models.orders` (the rules, each written once, vectorised) <-
this module. One customer's limit (:meth:`Policy.recommend_limit`) runs the same rules on plain
values; an order check (:meth:`Policy.check_order`) is a batch of one. Names that lived here
before the split are still importable.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import ArrayLike

from creditrisk.models.decisions import (
    APPROVE,
    COUNTER_OFFER,
    DECISIONS,
    DECLINE,
    HOLD,
    LIMIT_REASON_CODES,
    LIMIT_REASONS,
    ORDER_ACTIONS,
    ORDER_HOLD_CODES,
    ORDER_REASON_CODES,
    ORDER_REASONS,
    REFER,
    RELEASE,
)
from creditrisk.models.grades import (
    DEFAULT_GRADE_LABEL,
    DEFAULT_GRADE_NAME,
    MasterScale,
    PolicyConfigError,
    PolicyInputError,
    check_pd,
)
from creditrisk.models.limits import (
    DAYS_PER_MONTH,
    LimitDecision,
    LimitRecommendation,
    recommend_limit,
    recommend_limits,
)
from creditrisk.models.orders import OrderCheck, OrderDecision, check_orders
from creditrisk.models.policy_config import (
    LimitPolicy,
    OrderPolicy,
    ReviewSchedule,
    check_keys,
    config_mapping,
)
from creditrisk.models.reasons import DecisionReason, join_reason_codes

__all__ = [
    "APPROVE",
    "COUNTER_OFFER",
    "DAYS_PER_MONTH",
    "DECISIONS",
    "DECLINE",
    "DEFAULT_CURRENCY",
    "DEFAULT_GRADE_LABEL",
    "DEFAULT_GRADE_NAME",
    "HOLD",
    "LIMIT_REASONS",
    "LIMIT_REASON_CODES",
    "ORDER_ACTIONS",
    "ORDER_HOLD_CODES",
    "ORDER_REASONS",
    "ORDER_REASON_CODES",
    "POLICY_KEYS",
    "REFER",
    "RELEASE",
    "DecisionReason",
    "LimitDecision",
    "LimitPolicy",
    "LimitRecommendation",
    "MasterScale",
    "OrderCheck",
    "OrderDecision",
    "OrderPolicy",
    "Policy",
    "PolicyConfigError",
    "PolicyInputError",
    "ReviewSchedule",
    "check_orders",
    "check_pd",
    "join_reason_codes",
    "recommend_limits",
]


# --------------------------------------------------------------------------- the policy


POLICY_KEYS = {
    "version", "description", "currency", "master_scale", "limits", "orders", "review",
}
DEFAULT_CURRENCY = "EUR"
"""Currency of a policy file without a ``currency`` key (files written before it existed)."""
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")


def _currency(raw: Any) -> str:
    if raw is None:
        return DEFAULT_CURRENCY
    if not isinstance(raw, str) or not _CURRENCY_CODE.fullmatch(raw):
        raise PolicyConfigError(
            f"policy.currency: must be an ISO 4217 code of 3 upper-case letters, got {raw!r}"
        )
    return raw


@dataclass(frozen=True)
class Policy:
    """Master scale + limit policy + order policy under one version string."""

    version: str
    scale: MasterScale
    limits: LimitPolicy
    orders: OrderPolicy
    description: str = ""
    currency: str = DEFAULT_CURRENCY
    """ISO 4217 code of every amount the policy reads and writes."""
    review: ReviewSchedule | None = None
    """Months to the next review by grade after a rescoring (None: the schedule's default,
    :meth:`review_schedule`; files and bundles written before it existed)."""

    @classmethod
    def from_dict(cls, raw: Any) -> Policy:
        """Build and validate from the parsed policy file (the shape :meth:`to_dict` returns)."""
        section = config_mapping(raw, "policy")
        check_keys(section, "policy", POLICY_KEYS, {"description", "currency", "review"})
        version = section["version"]
        if not isinstance(version, str) or not version.strip():
            raise PolicyConfigError(f"policy.version: must be a non-empty string, got {version!r}")
        scale = MasterScale.from_config(section["master_scale"])
        limits = LimitPolicy.from_config(section["limits"], scale)
        orders = OrderPolicy.from_config(
            section["orders"], scale, default_floor_grade=limits.floor_grade
        )
        return cls(
            version=version,
            scale=scale,
            limits=limits,
            orders=orders,
            description=str(section.get("description") or ""),
            currency=_currency(section.get("currency")),
            review=(
                None if section.get("review") is None
                else ReviewSchedule.from_config(section["review"], scale)
            ),
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> Policy:
        """Read a policy file; :class:`PolicyConfigError` names the file on a bad one."""
        text = Path(path).read_text(encoding="utf-8")
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PolicyConfigError(f"{path}: not valid YAML: {exc}") from exc
        try:
            return cls.from_dict(raw)
        except PolicyConfigError as exc:
            raise PolicyConfigError(f"{path}: {exc}") from exc

    @classmethod
    def default(cls) -> Policy:
        """The policy shipped with the package (``models/policy.yaml``)."""
        package = __package__ or "creditrisk.models"
        resource = importlib.resources.files(package).joinpath("policy.yaml")
        raw = yaml.safe_load(resource.read_text(encoding="utf-8"))
        return cls.from_dict(raw)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-safe form; ``Policy.from_dict(p.to_dict()) == p``."""
        return {
            "version": self.version,
            "description": self.description,
            "currency": self.currency,
            "master_scale": self.scale.to_config(),
            "limits": self.limits.to_config(),
            "orders": self.orders.to_config(),
            **({"review": self.review.to_config()} if self.review is not None else {}),
        }

    def review_schedule(self) -> ReviewSchedule:
        """The review schedule: the file's ``review`` section or the default split."""
        return self.review if self.review is not None else ReviewSchedule.default_for(self.scale)

    def digest(self) -> str:
        """SHA-256 of the canonical settings: two policies with one version must share it."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def grade(self, pd_12m: ArrayLike) -> np.ndarray:
        return self.scale.grade(pd_12m)

    def recommend_limits(
        self,
        pd_12m: ArrayLike,
        *,
        grade: ArrayLike | None = None,
        expected_monthly_sales: ArrayLike | None,
        payment_terms_days: ArrayLike | None,
        requested_limit: ArrayLike | None,
        annual_revenue: ArrayLike | None,
        current_exposure: ArrayLike | None,
        in_default: ArrayLike,
    ) -> LimitRecommendation:
        """:func:`recommend_limits` under this policy (grades ``pd_12m`` when ``grade`` is None)."""
        return recommend_limits(
            pd_12m,
            grade,
            expected_monthly_sales=expected_monthly_sales,
            payment_terms_days=payment_terms_days,
            requested_limit=requested_limit,
            annual_revenue=annual_revenue,
            current_exposure=current_exposure,
            in_default=in_default,
            policy=self,
        )

    def recommend_limit(
        self,
        pd_12m: ArrayLike,
        *,
        grade: ArrayLike | None = None,
        expected_monthly_sales: ArrayLike | None,
        payment_terms_days: ArrayLike | None,
        requested_limit: ArrayLike | None = None,
        annual_revenue: ArrayLike | None,
        current_exposure: ArrayLike | None = None,
        in_default: ArrayLike = False,
    ) -> LimitDecision:
        """One customer's limit decision (None means unknown): :func:`models.limits.
        recommend_limit`, which checks each input once (any Python number, numpy scalar or
        one-element array; a bad one is named) and runs the rules on plain floats."""
        return recommend_limit(
            pd_12m,
            grade,
            expected_monthly_sales=expected_monthly_sales,
            payment_terms_days=payment_terms_days,
            requested_limit=requested_limit,
            annual_revenue=annual_revenue,
            current_exposure=current_exposure,
            in_default=in_default,
            policy=self,
        )

    def check_orders(
        self,
        *,
        pd_12m: ArrayLike,
        grade: ArrayLike | None = None,
        credit_limit: ArrayLike | None,
        open_exposure: ArrayLike,
        order_amount: ArrayLike,
        max_days_past_due: ArrayLike | None,
        in_default: ArrayLike,
    ) -> OrderCheck:
        """:func:`check_orders` under this policy (grades ``pd_12m`` when ``grade`` is None)."""
        return check_orders(
            grade=grade,
            pd_12m=pd_12m,
            credit_limit=credit_limit,
            open_exposure=open_exposure,
            order_amount=order_amount,
            max_days_past_due=max_days_past_due,
            in_default=in_default,
            policy=self,
        )

    def check_order(
        self,
        *,
        pd_12m: float,
        grade: int | None = None,
        credit_limit: float | None,
        open_exposure: float,
        order_amount: float,
        max_days_past_due: float | None,
        in_default: bool = False,
    ) -> OrderDecision:
        """Release or hold one order (``credit_limit`` None: no limit set -> hold): a batch of
        one."""
        return self.check_orders(
            pd_12m=pd_12m,
            grade=grade,
            credit_limit=credit_limit,
            open_exposure=open_exposure,
            order_amount=order_amount,
            max_days_past_due=max_days_past_due,
            in_default=in_default,
        ).row(0)
