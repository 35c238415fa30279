"""Request and response bodies of every endpoint, together (pydantic v2).

Requests are strict about what they accept: unknown fields are refused (``extra="forbid"``),
numbers are JSON numbers (never a string, a boolean or a date), amounts are finite,
non-negative and at most :data:`MAX_MONEY_AMOUNT`, dates are ISO date strings (never a
number), ids carry no control characters, country codes and industries are short strings, so
a 422 names the bad field before any scoring starts (duplicate JSON keys:
:mod:`creditrisk.serving.api.hardening`). Responses are
separate classes (never a request echoed back); every decision answer carries its
``decision_id`` and the model and policy versions that produced it. Money is rounded to
cents and every answer that carries money names its ``currency``. A grade is text: the master
scale's ``"1"`` (lowest risk) .. ``"10"``, or ``"D"`` for a customer in default.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

EARLIEST_AS_OF = date(1900, 1, 2)
LATEST_AS_OF = date(2200, 12, 31)
EARLIEST_FOUNDED_ON = date(1800, 1, 1)
"""Dates outside these bounds are refused with 422 (the ledger's day numbers cover them)."""

MAX_MONEY_AMOUNT: Final = 1e12
"""Plausibility bound of every money amount in a request (reporting currency): a trillion is
beyond any trade-credit line or order; larger values are typos or attacks (1e308 overflowed
the rounding, 1e306 gave 300-digit reasons)."""
NO_CONTROL_CHARACTERS: Final = r"^[^\x00-\x1f\x7f]+$"
"""Ids and free text: no NUL or other control character (PostgreSQL refuses NUL in text)."""
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def json_number(value: Any) -> Any:
    """A JSON number as it was sent: ``false``, ``"1e6"`` or a date are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number (not a string, boolean or date)")
    return value


def json_integer(value: Any) -> Any:
    """A JSON integer: not a boolean or a string (``30.0`` is 30, a fraction is refused by
    the int field itself)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON integer")
    return value


def iso_date(value: Any) -> Any:
    """An ISO date ``YYYY-MM-DD`` (a ``date`` object passes): never a number (``0`` is not
    1970-01-01) nor a date-time."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("must be an ISO date (YYYY-MM-DD)")


def optional_iso_date(value: Any) -> Any:
    """:func:`iso_date`, or None (an optional query parameter left out)."""
    return None if value is None else iso_date(value)


AsOfDate = Annotated[
    date, Field(ge=EARLIEST_AS_OF, le=LATEST_AS_OF), BeforeValidator(iso_date)
]
Amount = Annotated[
    float,
    Field(ge=0, le=MAX_MONEY_AMOUNT, allow_inf_nan=False,
          description=f"Money in the reporting currency, 0 .. {MAX_MONEY_AMOUNT:.0e}."),
    BeforeValidator(json_number),  # after Field: runs first, and the JSON schema keeps bounds
]
"""A money amount in the ledger's reporting currency (finite, not negative, at most
:data:`MAX_MONEY_AMOUNT`)."""
Probability = Annotated[float, Field(ge=0, le=1)]
CustomerId = Annotated[str, Field(min_length=1, max_length=64)]
Decision = Literal["approve", "counter_offer", "refer", "decline"]
Grade = Annotated[
    str,
    Field(description='Risk grade: "1" (lowest risk) .. "10" on the master scale, "D" in default.'),
]
NextStep = Literal[
    "reminder", "call", "hold_deliveries", "hand_to_collections", "write_off_review"
]
OrderAction = Literal["release", "hold"]
Direction = Literal["increases risk", "decreases risk"]


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --------------------------------------------------------------------------- shared parts


class DecisionReasonOut(BaseModel):
    """A policy rule that fired: a stable code for systems and a sentence for people."""

    code: str
    text: str


class FactorOut(BaseModel):
    """A model factor behind a score (from LightGBM's own contributions), analyst language."""

    feature: str
    description: str
    value: float | None = Field(description="The feature's value (null when missing).")
    contribution: float = Field(description="Push on the score in log-odds (positive = riskier).")
    direction: Direction


class ModelVersions(BaseModel):
    """Which model and policy produced an answer."""

    model_config = ConfigDict(protected_namespaces=())

    model_name: str
    model_version: str
    policy_version: str


class Money(BaseModel):
    """An answer that carries amounts: all of them are in this currency, rounded to cents."""

    currency: str = Field(description="ISO 4217 code of every amount in this answer.")


# --------------------------------------------------------------------------- applications


class ApplicationIn(RequestModel):
    """A new customer asking for credit: what it tells us about itself and what it asks for."""

    country: str = Field(
        min_length=2, max_length=3, pattern=r"^[A-Za-z0-9]{2,3}$",
        description="ISO 3166 country code (alpha-2 such as DE, alpha-3 or numeric).",
        examples=["DE"],
    )
    industry: str = Field(min_length=1, max_length=64, pattern=NO_CONTROL_CHARACTERS,
                          examples=["manufacturing"])
    founded_on: Annotated[
        date, Field(ge=EARLIEST_FOUNDED_ON, le=LATEST_AS_OF), BeforeValidator(iso_date)
    ] = Field(description="Date the company was founded (ISO date).")
    annual_revenue: Amount = Field(description="Last annual revenue.")
    external_score: Annotated[
        float, Field(ge=0, le=1000, allow_inf_nan=False), BeforeValidator(json_number)
    ] | None = Field(
        default=None, description="Credit bureau score, if one was bought (higher = safer)."
    )
    payment_terms_days: Annotated[int, BeforeValidator(json_integer)] = Field(
        ge=0, le=365, description="Payment terms asked for, in days."
    )
    requested_limit: Amount = Field(description="Credit limit the applicant asks for.")
    expected_monthly_sales: Amount | None = Field(
        default=None, description="What we expect to sell it per month (unknown: null)."
    )
    as_of: AsOfDate | None = Field(
        default=None, description="Decision date; defaults to the service's today."
    )
    external_reference: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/-]+$",
        description="Your own id for this application (ERP, CRM), stored in the decision log.",
    )

    @field_validator("as_of")
    @classmethod
    def _not_before_founding(cls, value: date | None, info: ValidationInfo) -> date | None:
        founded_on = info.data.get("founded_on")
        if value is not None and founded_on is not None and value < founded_on:
            raise ValueError("as_of must not be before founded_on")
        return value


class ApplicationOut(ModelVersions, Money):
    """The credit decision for an applicant."""

    decision_id: str
    as_of: date
    pd_12m: Probability = Field(description="Probability of default within 12 months.")
    grade: Grade
    grade_name: str
    decision: Decision
    recommended_limit: float
    expected_loss: float = Field(description="PD x LGD x recommended limit.")
    reasons: list[DecisionReasonOut]
    top_factors: list[FactorOut]
    external_reference: str | None = None


# --------------------------------------------------------------------------- customers


class GradeHistoryOut(BaseModel):
    """The customer in one complete rescoring run (``creditrisk rescore``)."""

    model_config = ConfigDict(protected_namespaces=())

    as_of: date
    model_name: str
    model_version: str
    grade: Grade
    pd_12m: Probability
    recommended_limit: float
    decision: Decision


class CustomerRiskOut(ModelVersions, Money):
    """An existing customer re-rated from its live ledger."""

    decision_id: str
    customer_id: str
    as_of: date
    pd_12m: Probability = Field(description="12-month PD; 1 for a customer in default.")
    model_pd_12m: Probability = Field(
        description="What the default model says (the answer is 1 when already in default)."
    )
    grade: Grade
    grade_name: str
    in_default: bool = Field(
        description="Past due beyond the bundle's threshold (90 days by default), or an "
        "insolvency or write-off on file: PD 1, grade D, no credit, orders held."
    )
    exposure: float = Field(description="Open receivable balance.")
    overdue_amount: float
    worst_days_past_due: float
    open_invoice_count: int
    p_late_open_exposure_weighted: Probability | None = Field(
        description="Probability the open invoices are paid late, weighted by open amount "
        "(null without open invoices)."
    )
    p_late_open_invoice_mean: Probability | None = Field(
        description="Average probability of late payment per open invoice."
    )
    expected_loss: float = Field(description="PD x LGD x exposure (LGD x exposure in default).")
    current_limit: float | None = Field(description="Credit limit on file (null: none set).")
    recommended_limit: float
    limit_decision: Decision = Field(
        description="What the policy says about the customer's credit line at this PD."
    )
    expected_monthly_sales: float = Field(
        description="Monthly sales the limit is sized for: invoiced in the last 12 months per "
        "month of trading."
    )
    reasons: list[DecisionReasonOut]
    top_factors: list[FactorOut]
    grade_history: list[GradeHistoryOut] = Field(
        default_factory=list,
        description="The customer's grade in the complete rescoring runs, latest first "
        "(empty before the first `creditrisk rescore`).",
    )


class OrderCheckIn(RequestModel):
    """A new order waiting to be shipped on credit."""

    order_amount: Amount = Field(description="Amount the order adds to the customer's exposure.")
    as_of: AsOfDate | None = Field(default=None, description="Defaults to the service's today.")
    order_reference: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/-]+$"
    )


class OrderCheckOut(ModelVersions, Money):
    """Release or hold for an order, with the reasons."""

    decision_id: str
    customer_id: str
    as_of: date
    action: OrderAction
    order_amount: float
    open_exposure: float
    new_exposure: float
    credit_limit: float | None
    limit_excess: float | None = Field(
        description="How far the new exposure exceeds the limit (0 within; null without limit)."
    )
    worst_days_past_due: float
    in_default: bool
    pd_12m: Probability
    grade: Grade
    expected_loss: float = Field(description="PD x LGD x new exposure.")
    reasons: list[DecisionReasonOut]
    order_reference: str | None = None


# --------------------------------------------------------------------------- invoices


class InvoicePredictionOut(BaseModel):
    """An open invoice: how likely it is paid late and when it is expected to be paid."""

    invoice_id: str
    customer_id: str
    issue_date: date
    due_date: date
    amount: float = Field(description="Invoice amount.")
    open_amount: float = Field(description="Amount still unpaid.")
    days_past_due: int = Field(description="Days past the due date (0 when not yet due).")
    p_late: Probability
    expected_overdue_amount: float = Field(description="open_amount x p_late.")
    expected_payment_p10: date
    expected_payment_p50: date
    expected_payment_p90: date


class InvoicePredictionsOut(ModelVersions, Money):
    """The open invoices of one customer."""

    decision_id: str
    customer_id: str
    as_of: date
    invoices: list[InvoicePredictionOut]


class WorklistItemOut(BaseModel):
    """One customer to work: its money at stake, its history with us, and the next step."""

    customer_id: str
    grade: Grade
    pd_12m: Probability
    in_default: bool
    open_amount: float = Field(description="Open balance.")
    overdue_amount: float = Field(description="Open amount of invoices past due.")
    oldest_days_past_due: int
    soon_due_amount: float = Field(description="Open amount falling due within the horizon.")
    expected_overdue_30d: float = Field(
        description="Overdue amount + p_late x open amount of invoices due within the horizon."
    )
    next_expected_payment: date | None = Field(
        description="Earliest expected payment date (p50) of its open invoices; after as_of."
    )
    open_disputes: int
    promises_365d: int = Field(description="Promises to pay in the last 365 days.")
    promises_kept: int
    promises_broken: int
    promises_pending: int
    last_promise_date: date | None
    last_reminder_date: date | None
    next_step: NextStep


class WorklistOut(ModelVersions, Money):
    """The collections worklist: customers by priority, those in default in their own list."""

    as_of: date
    horizon_days: int
    customer_count: int = Field(description="Customers in the main list (before the limit).")
    items: list[WorklistItemOut]
    in_default: list[WorklistItemOut]
    run_id: str | None = Field(
        default=None,
        description="The complete rescoring run this answer was read from (its as_of and model "
        "version are the answer's); null when the book was scored live.",
    )


# --------------------------------------------------------------------------- portfolio


class AgingBucketOut(BaseModel):
    bucket: Literal["current", "1_30", "31_60", "61_90", "over_90"]
    amount: float
    share: float | None = Field(description="Share of the open balance (null when none open).")


class GradeMixOut(BaseModel):
    grade: Grade
    name: str
    customer_count: int
    exposure: float


class PortfolioOut(ModelVersions, Money):
    """The receivables book as of a date."""

    as_of: date
    customer_count: int
    open_balance: float
    overdue_balance: float
    dso_days: float | None = Field(
        description="Open balance / amount invoiced in the last 90 days x 90 (null without "
        "sales)."
    )
    expected_loss: float = Field(
        description="Sum of PD x LGD x exposure over customers (PD 1 for those in default)."
    )
    customers_in_default: int
    exposure_in_default: float
    aging: list[AgingBucketOut]
    grade_mix: list[GradeMixOut]
    run_id: str | None = Field(
        default=None,
        description="The complete rescoring run this answer was read from (its as_of and model "
        "version are the answer's); null when the book was scored live.",
    )


# --------------------------------------------------------------------------- model


class FeatureOut(BaseModel):
    name: str
    description: str
    direction: Literal[-1, 0, 1] = Field(
        description="+1 higher is riskier, -1 higher is safer, 0 not monotone."
    )


class ApplicantInputOut(BaseModel):
    """An applicant input's training range and what happens to a value outside it."""

    field: str = Field(description="The application field (``founded_on`` for the age).")
    feature: str = Field(description="The model feature it becomes.")
    low: float
    high: float
    outside_range: Literal["refused", "held at the edge"] = Field(
        description="refused: a 422 naming the field; held at the edge: scored as the nearest "
        "value the model saw."
    )


class DefaultDefinitionOut(BaseModel):
    """What "in default" means for this bundle (the definition its labels were built with)."""

    days_past_due: int
    event_types: list[str]


class ModelOut(ModelVersions):
    """The bundle being served."""

    source_uri: str
    run_id: str | None
    training_metrics: dict[str, float]
    customer_features: list[FeatureOut]
    invoice_features: list[FeatureOut]
    applicant_inputs: list[ApplicantInputOut]
    default_definition: DefaultDefinitionOut
    metadata: dict[str, Any] = Field(
        description="What training recorded in the bundle (model kind, data end, headline "
        "metrics...)."
    )


# --------------------------------------------------------------------------- decision log


class DecisionOut(BaseModel):
    """A logged decision as the API returns it."""

    model_config = ConfigDict(protected_namespaces=())

    decision_id: str
    created_at: datetime
    kind: str
    customer_id: str | None
    api_key_id: str
    model_name: str
    model_version: str
    policy_version: str
    request: Any
    features: Any
    outputs: Any
    reasons: Any


# --------------------------------------------------------------------------- operations


class ReloadOut(BaseModel):
    """Answer of ``POST /v1/admin/reload``."""

    previous_version: str | None
    current_version: str | None
    changed: bool


class HealthOut(BaseModel):
    status: str


class ReadinessOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    status: str
    model: str
    database: str
    model_version: str | None
