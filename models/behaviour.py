"""Behavioural checks of a bundle's applicant scoring: the rules an analyst takes for granted.

* **Declared directions hold.** For each applicant input with a declared risk direction in
  the feature catalog (a higher bureau score, revenue or company age is safer), moving it in
  the safe direction over a grid across its training range never raises the PD by more than
  a tiny tolerance (:func:`risk_direction_violations`).
* **Inputs without influence change nothing.** A column the model does not read (the
  caller's external reference) leaves every answer unchanged (:func:`invariance_violations`).
* **Same input, same answer** (:func:`repeatability_violations`).

They score through :meth:`models.bundle.CreditRiskBundle.score_applications` (the pyfunc's
path), so they check what a caller gets. The training tests run them on small seeded bundles
of every model kind, and the promotion gate refuses a challenger that breaks a direction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from creditrisk.features.applicant import FIELD_FEATURES
from creditrisk.features.customer import DAYS_PER_YEAR

if TYPE_CHECKING:
    from creditrisk.models.bundle import CreditRiskBundle

DIRECTION_TOLERANCE = 1e-9
"""PD increase allowed when moving an input the safe way (floating-point noise only)."""
GRID_POINTS = 12
AGE_MARGIN_YEARS = 2.0 / DAYS_PER_YEAR
"""Company ages on the grid stay this far inside the training range (dates are whole days)."""


@dataclass(frozen=True)
class DirectionViolation:
    """Moving ``field`` the safe way from ``from_value`` to ``to_value`` raised the PD of
    application row ``row`` from ``pd_before`` to ``pd_after``."""

    field: str
    feature: str
    direction: int
    row: int
    from_value: float
    to_value: float
    pd_before: float
    pd_after: float

    def describe(self) -> str:
        way = "higher" if self.direction < 0 else "lower"
        return (
            f"{self.field}: {way} is declared safer, yet moving it from {self.from_value:g} to "
            f"{self.to_value:g} raised the PD of row {self.row} from {self.pd_before:.4%} to "
            f"{self.pd_after:.4%}"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _set_field(
    rows: pd.DataFrame, field: str, value: float, as_of: pd.Series
) -> pd.DataFrame:
    if field == "founded_on":
        days = np.round(value * DAYS_PER_YEAR)
        founded = as_of - pd.to_timedelta(days, unit="D")
        return rows.assign(founded_on=founded.dt.strftime("%Y-%m-%d"))
    return rows.assign(**{field: float(value)})


def _grid(field: str, low: float, high: float, points: int) -> np.ndarray:
    if field == "founded_on":
        low, high = low + AGE_MARGIN_YEARS, high - AGE_MARGIN_YEARS
    return np.linspace(low, high, points) if high > low else np.array([low])


def risk_direction_violations(
    bundle: CreditRiskBundle,
    applications: pd.DataFrame,
    *,
    grid_points: int = GRID_POINTS,
    tolerance: float = DIRECTION_TOLERANCE,
) -> list[DirectionViolation]:
    """Every step of a declared applicant input in its safe direction that raised a PD.

    ``applications`` are base rows in the pyfunc's input format; for each numeric applicant
    input with a declared direction and a training range, each row is scored at
    ``grid_points`` values across the range (``founded_on`` moves the company's age).
    """
    spec = bundle.customer_spec
    base = applications.reset_index(drop=True)
    as_of = pd.to_datetime(base["as_of"]).dt.normalize()
    found: list[DirectionViolation] = []
    for field, feature in FIELD_FEATURES.items():
        if feature in spec.categorical or feature not in spec.names:
            continue
        direction = int(spec.monotone[spec.names.index(feature)])
        bounds = spec.training_range(feature)
        if direction == 0 or bounds is None:
            continue
        grid = _grid(field, *bounds, grid_points)
        safe = grid if direction < 0 else grid[::-1]  # direction -1: higher is safer
        frames = [_set_field(base, field, value, as_of) for value in safe]
        scored = bundle.score_applications(pd.concat(frames, ignore_index=True))
        pd_12m = scored["pd_12m"].to_numpy(np.float64).reshape(len(safe), len(base))
        rises = np.diff(pd_12m, axis=0) > tolerance
        for step, row in zip(*np.nonzero(rises), strict=True):
            found.append(
                DirectionViolation(
                    field=field, feature=feature, direction=direction, row=int(row),
                    from_value=float(safe[step]), to_value=float(safe[step + 1]),
                    pd_before=float(pd_12m[step, row]), pd_after=float(pd_12m[step + 1, row]),
                )
            )
    return found


def probe_applications(
    bundle: CreditRiskBundle, *, as_of: str, rows: int = 12, seed: int = 0
) -> pd.DataFrame:
    """Seeded applicant rows spread inside the bundle's training ranges (known countries and
    industries, two missing bureau scores): the base rows the gate's direction check moves."""
    spec = bundle.customer_spec
    rng = np.random.default_rng(seed)

    def inside(feature: str, fallback: tuple[float, float]) -> np.ndarray:
        low, high = spec.training_range(feature) or fallback
        return rng.uniform(low + 0.1 * (high - low), high - 0.1 * (high - low), rows)

    def levels(feature: str) -> list[str | None]:
        known = list(spec.categories.get(feature, ()))
        return [str(v) for v in rng.choice(known, rows)] if known else [None] * rows

    day = pd.Timestamp(as_of).normalize()
    ages = np.round(inside("company_age_years", (1.0, 30.0)) * DAYS_PER_YEAR)
    score = inside("external_score", (1.0, 99.0))
    score[: min(2, rows)] = np.nan
    limit = inside("credit_limit", (1_000.0, 100_000.0))
    return pd.DataFrame({
        "country": levels("country"),
        "industry": levels("industry"),
        "founded_on": [(day - pd.Timedelta(days=int(d))).strftime("%Y-%m-%d") for d in ages],
        "annual_revenue": inside("annual_revenue", (1e5, 1e7)),
        "external_score": score,
        "payment_terms_days": inside("payment_terms_days", (30.0, 30.0)).round(),
        "requested_limit": limit,
        "expected_monthly_sales": limit / 3,
        "as_of": str(day.date()),
    })


def invariance_violations(
    bundle: CreditRiskBundle, applications: pd.DataFrame, *, column: str = "external_reference"
) -> list[int]:
    """Rows whose answer changes when only ``column`` (an input the model does not read)
    changes; an empty list when the answers are identical."""
    base = applications.reset_index(drop=True)
    first = bundle.score_applications(base.assign(**{column: "ref-A"}))
    second = bundle.score_applications(
        base.assign(**{column: [f"other-{i}" for i in range(len(base))]})
    )
    return _differing_rows(first, second)


def repeatability_violations(bundle: CreditRiskBundle, applications: pd.DataFrame) -> list[int]:
    """Rows whose answer differs between two scorings of the same input."""
    base = applications.reset_index(drop=True)
    return _differing_rows(bundle.score_applications(base), bundle.score_applications(base))


def _differing_rows(first: pd.DataFrame, second: pd.DataFrame) -> list[int]:
    same = (first == second) | (first.isna() & second.isna())
    return [int(i) for i in np.flatnonzero(~same.all(axis=1).to_numpy())]
