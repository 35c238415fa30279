"""Turning one generated partition into ledger and truth DataFrames in contract dtypes.

The frames come out exactly as :func:`creditrisk.ledger.frame.normalize_ledger` would leave
them (ids and labels pandas ``string``, dates ``datetime64[ns]`` at midnight, amounts
``float64``, flags ``bool``), so no re-normalisation pass is needed on 25M invoices. Ids are
built with Arrow compute (vectorised), numbered globally across partitions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from creditrisk.ledger.frame import CREDIT_EVENT_TYPES, DATE_DTYPE, ID_DTYPE
from creditrisk.synthetic.calendar import NO_DATE
from creditrisk.synthetic.events import NO_INVOICE, CreditEvents
from creditrisk.synthetic.invoicing import Invoices
from creditrisk.synthetic.payments import Settlement
from creditrisk.synthetic.population import Population
from creditrisk.synthetic.truth import CustomerMonthTruth
from creditrisk.synthetic.world import WorldParameters

CUSTOMER_PREFIX, CUSTOMER_DIGITS = "C", 8
INVOICE_PREFIX, INVOICE_DIGITS = "I", 10
PAYMENT_PREFIX, PAYMENT_DIGITS = "P", 10
EVENT_PREFIX, EVENT_DIGITS = "E", 10


def format_ids(
    prefix: str, numbers: np.ndarray, digits: int, *, missing: np.ndarray | None = None
) -> pd.api.extensions.ExtensionArray:
    """``prefix`` + zero-padded ``numbers`` as a pandas ``string`` array (NA where missing)."""
    text = pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), digits, "0")
    ids = pc.binary_join_element_wise(prefix, text, "")
    if missing is not None and missing.any():
        ids = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), ids)
    return pd.array(ids, dtype=ID_DTYPE)


def labels(values: tuple[str, ...], index: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """The labels ``values[index]`` as a pandas ``string`` array."""
    taken = pa.array(list(values), type=pa.string()).take(pa.array(index, type=pa.int64()))
    return pd.array(taken, dtype=ID_DTYPE)


def dates(days: np.ndarray) -> np.ndarray:
    """Day numbers as ``datetime64[ns]`` (NaT for :data:`NO_DATE`)."""
    valid = days < NO_DATE
    out = np.where(valid, days, 0).astype("datetime64[D]").astype(DATE_DTYPE)
    out[~valid] = np.datetime64("NaT")
    return out


def customers_frame(population: Population, world: WorldParameters) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": format_ids(CUSTOMER_PREFIX, population.number, CUSTOMER_DIGITS),
            "onboarded_on": dates(population.onboarded_day),
            "country": labels(world.countries, population.country),
            "industry": labels(world.industries, population.industry),
            "founded_on": dates(population.founded_day),
            "credit_limit": population.credit_limit.astype(np.float64),
            "payment_terms_days": population.payment_terms_days.astype(np.float64),
            "external_score": population.external_score.astype(np.float64),
            "annual_revenue": population.annual_revenue.astype(np.float64),
        }
    )


def invoices_frame(
    invoices: Invoices,
    settlement: Settlement,
    population: Population,
    *,
    end_day: int,
    first_number: int,
    world: WorldParameters,
) -> pd.DataFrame:
    settled = settlement.paid_in_full & (settlement.planned_pay_day <= end_day)
    disputed = settlement.disputed & (settlement.dispute_day <= end_day)
    return pd.DataFrame(
        {
            "invoice_id": invoice_ids(first_number, invoices.size),
            "customer_id": format_ids(
                CUSTOMER_PREFIX, population.number[invoices.customer], CUSTOMER_DIGITS
            ),
            "issue_date": dates(invoices.issue_day),
            "due_date": dates(invoices.due_day),
            "amount": invoices.amount.astype(np.float64),
            "currency": labels((world.currency,), np.zeros(invoices.size, dtype=np.int64)),
            "disputed": disputed,
            "settled_date": dates(np.where(settled, settlement.planned_pay_day, NO_DATE)),
        }
    )


def invoice_ids(first_number: int, count: int) -> pd.api.extensions.ExtensionArray:
    return format_ids(INVOICE_PREFIX, np.arange(first_number, first_number + count), INVOICE_DIGITS)


def payments_frame(
    invoices: Invoices,
    settlement: Settlement,
    population: Population,
    *,
    default_day: np.ndarray,
    end_day: int,
    first_invoice_number: int,
    first_number: int,
) -> pd.DataFrame:
    """Instalments dated on or before ``end`` and before the customer's default."""
    index = np.arange(invoices.size)
    customer_default = default_day[invoices.customer]
    first_day = settlement.first_instalment_day
    has_first = (first_day <= end_day) & (first_day < customer_default)
    has_final = settlement.paid_in_full & (settlement.planned_pay_day <= end_day)
    final_amount = np.round(invoices.amount - settlement.first_instalment_amount, 2)

    invoice = np.concatenate([index[has_first], index[has_final]])
    day = np.concatenate([first_day[has_first], settlement.planned_pay_day[has_final]])
    amount = np.concatenate(
        [settlement.first_instalment_amount[has_first], final_amount[has_final]]
    )
    instalment = np.concatenate(
        [np.zeros(int(has_first.sum()), np.int64), np.ones(int(has_final.sum()), np.int64)]
    )
    customer = invoices.customer[invoice]
    order = np.lexsort((instalment, invoice, day, customer))
    invoice, day, amount, customer = invoice[order], day[order], amount[order], customer[order]
    return pd.DataFrame(
        {
            "payment_id": format_ids(
                PAYMENT_PREFIX, np.arange(first_number, first_number + len(day)), PAYMENT_DIGITS
            ),
            "customer_id": format_ids(
                CUSTOMER_PREFIX, population.number[customer], CUSTOMER_DIGITS
            ),
            "invoice_id": format_ids(
                INVOICE_PREFIX, first_invoice_number + invoice, INVOICE_DIGITS
            ),
            "paid_on": dates(day),
            "amount": amount.astype(np.float64),
        }
    )


def credit_events_frame(
    events: CreditEvents,
    population: Population,
    *,
    first_invoice_number: int,
    first_number: int,
) -> pd.DataFrame:
    missing = events.invoice == NO_INVOICE
    return pd.DataFrame(
        {
            "event_id": format_ids(
                EVENT_PREFIX, np.arange(first_number, first_number + events.size), EVENT_DIGITS
            ),
            "customer_id": format_ids(
                CUSTOMER_PREFIX, population.number[events.customer], CUSTOMER_DIGITS
            ),
            "event_date": dates(events.day),
            "event_type": labels(CREDIT_EVENT_TYPES, events.event_type),
            "invoice_id": format_ids(
                INVOICE_PREFIX,
                first_invoice_number + np.maximum(events.invoice, 0),
                INVOICE_DIGITS,
                missing=missing,
            ),
        }
    )


def customer_month_truth_frame(truth: CustomerMonthTruth, population: Population) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": format_ids(
                CUSTOMER_PREFIX, population.number[truth.customer], CUSTOMER_DIGITS
            ),
            "month_end": dates(truth.month_end_day),
            "pd_12m": truth.pd_12m.astype(np.float64),
            "in_default": truth.in_default.astype(bool),
            "pd_12m_application": truth.pd_12m_application.astype(np.float64),
        }
    )


def invoice_truth_frame(p_late: np.ndarray, *, first_invoice_number: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "invoice_id": invoice_ids(first_invoice_number, len(p_late)),
            "p_late": p_late.astype(np.float64),
        }
    )
