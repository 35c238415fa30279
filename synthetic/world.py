"""The parameters of the synthetic world: who the customers are and how they pay.

Every number that shapes the generated ledger lives here, in one frozen dataclass, so a
reader can see the whole generative story in one place and a test can vary it. Units are
in the names: ``_days`` are calendar days, ``_per_month`` are monthly rates, logits are on
the log-odds scale. Latent creditworthiness ``z`` is standardised (about N(0, 1)); higher
is better.
"""

from __future__ import annotations

from dataclasses import dataclass

HEALTHY, WATCH, DISTRESSED, DEFAULTED = 0, 1, 2, 3
"""Monthly distress states of the Markov chain; ``DEFAULTED`` is absorbing."""
STATE_NAMES: tuple[str, ...] = ("healthy", "watch", "distressed", "defaulted")
N_STATES = 4
N_LIVING_STATES = 3


@dataclass(frozen=True)
class WorldParameters:
    """The generative model of the synthetic receivables ledger (defaults are the world)."""

    # --- population -------------------------------------------------------------------
    countries: tuple[str, ...] = ("DE", "FR", "NL", "IT", "ES", "PL", "BE", "AT")
    country_weights: tuple[float, ...] = (0.28, 0.18, 0.12, 0.12, 0.10, 0.08, 0.06, 0.06)
    country_effect_z: tuple[float, ...] = (0.15, 0.0, 0.15, -0.25, -0.2, -0.1, 0.05, 0.15)
    industries: tuple[str, ...] = (
        "manufacturing",
        "wholesale",
        "retail",
        "construction",
        "transport",
        "hospitality",
        "it_services",
        "healthcare",
    )
    industry_weights: tuple[float, ...] = (0.2, 0.18, 0.14, 0.12, 0.1, 0.08, 0.1, 0.08)
    industry_effect_z: tuple[float, ...] = (0.15, 0.05, -0.2, -0.5, -0.25, -0.55, 0.2, 0.45)
    existing_share: float = 0.55
    """Share of customers already trading at ``start``; the rest onboard over the period."""
    max_tenure_months: int = 120
    """Existing customers were onboarded up to this many months before ``start``."""
    revenue_median: float = 3_000_000.0
    revenue_log_sigma: float = 1.4
    age_median_years: float = 9.0
    age_log_sigma: float = 0.9
    min_age_years: float = 0.25
    max_age_years: float = 100.0
    size_weight_z: float = 0.35
    """Effect on z of one standard deviation of log annual revenue."""
    age_weight_z: float = 0.3
    """Effect on z of one standard deviation of log company age."""
    idiosyncratic_sigma_z: float = 0.55
    """The part of creditworthiness no attribute explains."""
    external_score_correlation: float = 0.6
    """Correlation of the bureau score with z (the score is a noisy measure of it)."""
    external_score_center: float = 55.0
    external_score_scale: float = 15.0
    bureau_days_beyond_terms: tuple[float, ...] = (0.0, 15.0, 22.0, 30.0, 60.0, 90.0, 120.0)
    bureau_payment_index: tuple[float, ...] = (80.0, 70.0, 60.0, 50.0, 40.0, 30.0, 20.0)
    """A trade-payment index (the PAYDEX scale: 80 = pays on terms, 70 = 15 days beyond,
    60 = 22, 50 = 30, 40 = 60, 30 = 90, 20 = 120): how a bureau reads the days beyond terms
    it sees reported by the customer's *other* suppliers. The bureau score loses the index
    points of the distress state's delay shift (``delay_state_days``) at the time it is read:
    about 17 points on watch (+20 days), 35 when distressed (+45 days)."""
    payment_terms_days: tuple[int, ...] = (14, 30, 45, 60)
    payment_terms_weights: tuple[float, ...] = (0.15, 0.5, 0.2, 0.15)
    terms_size_shift: float = 0.5
    """Bigger customers negotiate longer terms (log-odds shift per sd of size)."""

    # --- invoicing --------------------------------------------------------------------
    invoices_per_month: float = 1.4
    """Average invoices per active customer-month (before seasonality and size)."""
    invoice_rate_size_elasticity: float = 0.3
    invoice_rate_noise_sigma: float = 0.3
    invoice_amount_median: float = 2_500.0
    invoice_amount_size_elasticity: float = 0.35
    invoice_amount_customer_sigma: float = 0.5
    invoice_amount_sigma: float = 0.5
    seasonality: tuple[float, ...] = (
        0.92, 0.96, 1.05, 1.0, 1.02, 0.98, 0.86, 0.74, 1.03, 1.1, 1.17, 1.17,
    )  # fmt: skip
    """Invoice volume multiplier per calendar month (Q4 peak, summer dip)."""
    state_invoice_multiplier: tuple[float, ...] = (1.0, 0.9, 0.7, 0.6)
    """Customers in trouble order less (the last value is the default month before default)."""
    credit_limit_months_of_sales: float = 1.5
    credit_limit_sigma: float = 0.35
    credit_limit_rounding: float = 500.0
    credit_limit_minimum: float = 1_000.0
    currency: str = "EUR"

    # --- distress chain (monthly transitions; logit = base + slope * z) -----------------
    healthy_to_watch: tuple[float, float] = (-5.3, -0.8)
    healthy_to_distressed: tuple[float, float] = (-12.0, -0.8)
    healthy_to_default: tuple[float, float] = (-7.0, -0.5)
    watch_to_healthy: tuple[float, float] = (-3.0, 0.15)
    watch_to_distressed: tuple[float, float] = (-3.3, -0.15)
    watch_to_default: tuple[float, float] = (-9.0, -0.15)
    distressed_to_watch: tuple[float, float] = (-3.8, 0.15)
    distressed_to_default: tuple[float, float] = (-2.5, -0.15)
    applicant_watch: tuple[float, float] = (-3.6, -1.0)
    """Probability that a new customer already is on watch when onboarded (logit)."""
    applicant_distressed: tuple[float, float] = (-5.5, -1.0)
    existing_burn_in_months: int = 12
    """Existing customers start at ``start`` in the chain's state after this many months."""

    # --- defaults ---------------------------------------------------------------------
    default_last_day_of_month: int = 28
    """Defaults are dated on day 1..28 of the month the chain is absorbed (see truth)."""
    collection_share: float = 0.3
    """Share of defaults that go to collection and are written off, not an insolvency."""
    write_off_delay_days: tuple[int, int] = (60, 240)

    # --- payment delay (days beyond terms) ----------------------------------------------
    delay_base_days: float = -2.0
    delay_z_days: float = -8.0
    """Days beyond terms added per sd of creditworthiness (better customers pay earlier)."""
    delay_habit_sigma_days: float = 0.5
    """A customer's own payment habit, unrelated to its risk."""
    delay_state_days: tuple[float, ...] = (0.0, 20.0, 45.0)
    """Days beyond terms added on watch and when distressed (healthy, watch, distressed)."""
    delay_noise_scale_days: float = 1.5
    """Scale of the logistic noise of each invoice's delay."""
    delay_cap_days: int = 75
    """No invoice of a living customer is ever paid later than this beyond its due date."""
    dispute_logit: tuple[float, float] = (-3.8, -0.5)
    dispute_state_logit: tuple[float, ...] = (0.0, 0.7, 1.2)
    dispute_delay_days: tuple[float, float] = (15.0, 40.0)
    partial_logit: tuple[float, float] = (-2.6, -0.3)
    partial_state_logit: tuple[float, ...] = (0.0, 0.8, 1.4)
    partial_first_share: tuple[float, float] = (0.3, 0.7)
    partial_max_gap_days: int = 30

    # --- dunning ----------------------------------------------------------------------
    first_reminder_days: int = 7
    reminder_interval_days: int = 30
    promise_share_when_paying_soon: float = 0.45
    promise_share_otherwise: float = 0.15
    promise_soon_days: int = 18
    promise_lag_days: tuple[int, int] = (1, 4)
