"""Customers of the synthetic world: static attributes and latent creditworthiness.

Each customer gets a country, an industry, a size (annual revenue), a company age, payment
terms, a credit limit and a bureau score. Its latent creditworthiness ``z`` (higher is
better) is a weighted sum of industry, country, size and age plus an idiosyncratic part no
attribute reveals; the bureau score measures ``z`` with noise and, like a trade-payment
bureau score, also the distress state the customer is in when the score is read
(:func:`read_bureau_score`). Everything the ledger shows about a customer's payments later
is driven by ``z`` and the monthly distress state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from creditrisk.synthetic.calendar import MonthGrid
from creditrisk.synthetic.world import WorldParameters

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Population:
    """One partition of customers as parallel numpy arrays (one entry per customer)."""

    number: np.ndarray
    """Global customer number (1-based), the source of ``customer_id``."""
    existing: np.ndarray
    """Already a customer at ``start`` (else onboarded during the period)."""
    onboarded_day: np.ndarray
    """Onboarding date (a month-end), day number."""
    chain_start_month: np.ndarray
    """First month of the distress chain: 0 for existing customers, else onboarding month."""
    trade_start_day: np.ndarray
    """First day invoices may be issued."""
    country: np.ndarray
    industry: np.ndarray
    founded_day: np.ndarray
    annual_revenue: np.ndarray
    payment_terms_days: np.ndarray
    credit_limit: np.ndarray
    external_score: np.ndarray
    """The bureau score on file (1-99); as drawn, the reading of a healthy customer, until
    :func:`read_bureau_score` reads it in the state the customer is in."""
    score_latent: np.ndarray
    """The score's long-run part before the state and the 1-99 clipping: ``rho z + noise``."""
    z: np.ndarray
    """Latent creditworthiness (standardised, higher is better)."""
    z_attributes: np.ndarray
    """The part of ``z`` the attributes explain (country, industry, size, age)."""
    habit_days: np.ndarray
    """The customer's own payment habit in days beyond terms, unrelated to risk."""
    invoices_per_month: np.ndarray
    invoice_amount_median: np.ndarray

    @property
    def size(self) -> int:
        return len(self.number)


def _month_end_before(grid: MonthGrid, months_back: np.ndarray) -> np.ndarray:
    """Day number of the month-end ``months_back`` (>= 1) months before month 0."""
    month0 = grid.first_day[0].astype("datetime64[D]").astype("datetime64[M]")
    first_after = (month0 - months_back.astype("timedelta64[M]") + np.timedelta64(1, "M")).astype(
        "datetime64[D]"
    )
    index: np.ndarray = first_after.astype(np.int64) - 1
    return index


def draw_population(
    rng: np.random.Generator,
    *,
    first_number: int,
    n_customers: int,
    grid: MonthGrid,
    world: WorldParameters,
) -> Population:
    """Draw ``n_customers`` customers numbered from ``first_number``."""
    n = n_customers
    number = np.arange(first_number, first_number + n, dtype=np.int64)

    onboarding_months = np.flatnonzero(grid.last_day < grid.end_day)
    onboarding_months = onboarding_months[grid.last_day[onboarding_months] >= grid.start_day]
    existing = rng.random(n) < world.existing_share
    if len(onboarding_months):
        new_month = onboarding_months[rng.integers(0, len(onboarding_months), n)]
    else:  # a period too short to onboard anyone in: everybody already is a customer
        existing[:] = True
        new_month = np.zeros(n, dtype=np.int64)
    tenure_months = rng.integers(1, world.max_tenure_months + 1, n)
    existing_onboarded = _month_end_before(grid, tenure_months)
    onboarded_day = np.where(existing, existing_onboarded, grid.last_day[new_month])
    chain_start_month = np.where(existing, 0, new_month).astype(np.int64)
    trade_start_day = np.where(
        existing, grid.start_day, grid.first_day[np.minimum(new_month + 1, grid.n_months - 1)]
    ).astype(np.int64)

    country = rng.choice(len(world.countries), size=n, p=_normalised(world.country_weights))
    industry = rng.choice(len(world.industries), size=n, p=_normalised(world.industry_weights))
    size_sd = rng.standard_normal(n)
    age_sd = rng.standard_normal(n)
    annual_revenue = np.round(world.revenue_median * np.exp(world.revenue_log_sigma * size_sd), -2)
    age_years = np.clip(
        world.age_median_years * np.exp(world.age_log_sigma * age_sd),
        world.min_age_years,
        world.max_age_years,
    )
    founded_day = onboarded_day - np.round(age_years * DAYS_PER_YEAR).astype(np.int64)

    z_attributes = (
        np.asarray(world.country_effect_z)[country]
        + np.asarray(world.industry_effect_z)[industry]
        + world.size_weight_z * size_sd
        + world.age_weight_z * age_sd
    )
    z = z_attributes + world.idiosyncratic_sigma_z * rng.standard_normal(n)
    rho = world.external_score_correlation
    score_latent = rho * z + np.sqrt(1.0 - rho**2) * rng.standard_normal(n)
    external_score = bureau_score(score_latent, np.zeros(n, dtype=np.int64), world)

    u_terms = np.clip(rng.random(n), 1e-12, 1.0 - 1e-12)
    terms_logit = np.log(u_terms / (1.0 - u_terms)) + world.terms_size_shift * size_sd
    shifted = 1.0 / (1.0 + np.exp(-terms_logit))
    terms_index = np.searchsorted(np.cumsum(_normalised(world.payment_terms_weights)), shifted)
    terms_index = np.minimum(terms_index, len(world.payment_terms_days) - 1)
    payment_terms_days = np.asarray(world.payment_terms_days, dtype=np.int64)[terms_index]

    rate_noise = world.invoice_rate_noise_sigma
    elasticity = world.invoice_rate_size_elasticity
    invoices_per_month = world.invoices_per_month * np.exp(
        elasticity * size_sd
        + rate_noise * rng.standard_normal(n)
        - 0.5 * (elasticity**2 + rate_noise**2)
    )
    invoice_amount_median = world.invoice_amount_median * np.exp(
        world.invoice_amount_size_elasticity * size_sd
        + world.invoice_amount_customer_sigma * rng.standard_normal(n)
    )
    monthly_sales = (
        invoices_per_month * invoice_amount_median * np.exp(0.5 * world.invoice_amount_sigma**2)
    )
    exposure = monthly_sales * (payment_terms_days + 15) / 30.0
    raw_limit = (
        exposure
        * world.credit_limit_months_of_sales
        * np.exp(world.credit_limit_sigma * rng.standard_normal(n))
    )
    step = world.credit_limit_rounding
    credit_limit = np.maximum(np.ceil(raw_limit / step) * step, world.credit_limit_minimum)
    habit_days = world.delay_habit_sigma_days * rng.standard_normal(n)

    return Population(
        number=number,
        existing=existing,
        onboarded_day=onboarded_day.astype(np.int64),
        chain_start_month=chain_start_month,
        trade_start_day=trade_start_day,
        country=country,
        industry=industry,
        founded_day=founded_day.astype(np.int64),
        annual_revenue=annual_revenue,
        payment_terms_days=payment_terms_days,
        credit_limit=credit_limit,
        external_score=external_score,
        score_latent=score_latent,
        z=z,
        z_attributes=z_attributes,
        habit_days=habit_days,
        invoices_per_month=invoices_per_month,
        invoice_amount_median=invoice_amount_median,
    )


def bureau_state_points(world: WorldParameters) -> np.ndarray:
    """Points the bureau score loses in each living state (healthy, watch, distressed): the
    state's delay shift read on the trade-payment index, relative to paying on terms."""
    days = np.asarray(world.delay_state_days, dtype=np.float64)
    index = np.interp(days, world.bureau_days_beyond_terms, world.bureau_payment_index)
    base = np.interp(0.0, world.bureau_days_beyond_terms, world.bureau_payment_index)
    points: np.ndarray = index - base
    return points


def bureau_score(score_latent: np.ndarray, state: np.ndarray, world: WorldParameters) -> np.ndarray:
    """The 1-99 bureau score (one decimal) of customers whose long-run part is
    ``score_latent`` read while in ``state`` (0 healthy, 1 watch, 2 distressed)."""
    raw = (
        world.external_score_center
        + world.external_score_scale * score_latent
        + bureau_state_points(world)[state]
    )
    score: np.ndarray = np.round(np.clip(raw, 1, 99), 1)
    return score


def read_bureau_score(
    population: Population, state: np.ndarray, world: WorldParameters
) -> Population:
    """The population with its bureau scores read in ``state``, each customer's distress state
    when the score is taken: at onboarding for a new customer, at ``start`` for one already
    trading (the score on file when the extract begins). A bureau built from trade-payment
    experience with other suppliers sees trouble as those suppliers are paid late."""
    score = bureau_score(population.score_latent, state, world)
    return replace(population, external_score=score)


def _normalised(weights: tuple[float, ...]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    shares: np.ndarray = w / w.sum()
    return shares
