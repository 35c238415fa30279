"""Whether the model still holds: population stability and the outcomes backtest.

**PSI** (:mod:`creditrisk.models.population`) per feature and for the model's PD, against the
training population (the bundle's ``metadata["population_reference"]``) and against the
previous complete run, flagged at 0.1 (amber) and 0.25 (red). Every chunk of a run counts its
customers into the run's bins (:func:`chunk_counts`); the run keeps the sums
(``score_runs.monitoring_json``), so comparing two runs never re-reads their customers. A bundle
without a training reference is binned on its training ranges (10 equal-width bins) and the
master scale: PSI against a previous run of the same model still works, against training it
is ``n/a``.

**Outcomes backtest** (:func:`backtest`): for each matured cohort (a complete run whose as-of
is at least 12 months before the ledger's end), the observed default rate per grade over the
next 12 months (a default event of the bundle's own definition after the as-of and by as-of +
12 months, as the training labels count it, for customers not in default at the as-of) against the
mean predicted PD, with a Jeffreys test per grade: the Beta(d + 1/2, n - d + 1/2) posterior's
probability that the true rate is at most the predicted PD; green when >= 5 %, amber when
>= 0.1 %, red below (the ECB's traffic-light reading of the Jeffreys test). AUC of the PD
against the outcome per cohort.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy.stats import beta

from creditrisk.features.default_status import default_events, next_default_dates
from creditrisk.ledger.frame import Ledger
from creditrisk.models.population import (
    SCORE_VARIABLE,
    Binning,
    binnings_from,
    psi,
    psi_flag,
    shares_of,
)
from creditrisk.serving.registry import ServedBundle

REFERENCE_KEY: Final = "population_reference"
FALLBACK_BINS: Final = 10
HORIZON_MONTHS: Final = 12
JEFFREYS_GREEN: Final = 0.05
JEFFREYS_AMBER: Final = 0.001


def run_binnings(served: ServedBundle) -> dict[str, Binning]:
    """The bins of every monitored variable: the bundle's training reference, or a fallback
    from its training ranges and the master scale (no shares)."""
    bundle = served.bundle
    reference = bundle.metadata.get(REFERENCE_KEY)
    if isinstance(reference, Mapping) and reference:
        return binnings_from(reference)
    spec = bundle.customer_spec
    out: dict[str, Binning] = {}
    levels = dict(getattr(spec, "categories", {}) or {})
    for name in spec.names:
        if name in spec.categorical:
            out[name] = Binning(name, levels=tuple(str(v) for v in levels.get(name, ())))
            continue
        bounds = spec.training_range(name)
        if bounds is None or not bounds[1] > bounds[0]:
            out[name] = Binning(name)
            continue
        inner = np.linspace(bounds[0], bounds[1], FALLBACK_BINS + 1)[1:-1]
        out[name] = Binning(name, edges=tuple(float(e) for e in inner))
    out[SCORE_VARIABLE] = Binning(SCORE_VARIABLE, edges=score_edges(served))
    return out


def score_edges(served: ServedBundle) -> tuple[float, ...]:
    """The master scale's inner PD edges (so the score's bins are the grades)."""
    return tuple(float(band.pd_lower) for band in served.bundle.policy.scale.bands[1:])


def chunk_counts(
    binnings: Mapping[str, Binning], features: pd.DataFrame, model_pd_12m: np.ndarray
) -> dict[str, list[int]]:
    """Per monitored variable: how many of the chunk's customers fall in each bin."""
    out: dict[str, list[int]] = {}
    for name, binning in binnings.items():
        if name == SCORE_VARIABLE:
            out[name] = binning.counts(np.asarray(model_pd_12m, np.float64)).tolist()
        elif name in features.columns:
            out[name] = binning.counts(features[name]).tolist()
    return out


def merge_counts(parts: list[Mapping[str, list[int]]]) -> dict[str, list[int]]:
    """Bin counts summed over chunks."""
    total: dict[str, np.ndarray] = {}
    for part in parts:
        for name, counts in part.items():
            array = np.asarray(counts, dtype=np.int64)
            total[name] = total[name] + array if name in total else array
    return {name: array.tolist() for name, array in total.items()}


def run_monitoring(binnings: Mapping[str, Binning], counts: Mapping[str, list[int]]
                   ) -> dict[str, Any]:
    """What a run keeps: the bins (edges/levels, training shares) and its counts."""
    return {
        "binning": {name: b.to_dict() for name, b in binnings.items()},
        "counts": dict(counts),
    }


@dataclass(frozen=True)
class StabilityRow:
    variable: str
    psi_training: float
    flag_training: str
    psi_previous: float
    flag_previous: str


def stability(current: Mapping[str, Any], previous: Mapping[str, Any] | None
              ) -> list[StabilityRow]:
    """PSI per variable against training and against the previous run (NaN when the bins
    differ or there is no reference), the score first, then the largest shift first."""
    rows: list[StabilityRow] = []
    binning = current.get("binning", {})
    counts = current.get("counts", {})
    prev_binning = (previous or {}).get("binning", {})
    prev_counts = (previous or {}).get("counts", {})
    for name, raw in binning.items():
        if name not in counts:
            continue
        b = Binning.from_dict(name, raw)
        actual = shares_of(counts[name])
        vs_training = psi(b.shares, actual) if b.shares is not None else math.nan
        vs_previous = math.nan
        if name in prev_binning and name in prev_counts:
            before = Binning.from_dict(name, prev_binning[name])
            if before.same_bins(b) and sum(prev_counts[name]) > 0:
                vs_previous = psi(shares_of(prev_counts[name]), actual)
        rows.append(StabilityRow(name, vs_training, psi_flag(vs_training), vs_previous,
                                 psi_flag(vs_previous)))

    def order(row: StabilityRow) -> tuple[int, float]:
        worst = max(np.nan_to_num(row.psi_training, nan=-1.0),
                    np.nan_to_num(row.psi_previous, nan=-1.0))
        return (0 if row.variable == SCORE_VARIABLE else 1, -float(worst))

    return sorted(rows, key=order)


def stability_frame(rows: list[StabilityRow]) -> pd.DataFrame:
    return pd.DataFrame([row.__dict__ for row in rows],
                        columns=["variable", "psi_training", "flag_training", "psi_previous",
                                 "flag_previous"])


# --------------------------------------------------------------------------- backtest


def jeffreys_p_value(defaults: int, customers: int, predicted_pd: float) -> float:
    """P(true default rate <= predicted PD) under the Jeffreys posterior Beta(d+1/2, n-d+1/2):
    small when more defaults were observed than the PD predicts."""
    if customers <= 0:
        return math.nan
    return float(beta.cdf(predicted_pd, defaults + 0.5, customers - defaults + 0.5))


def traffic_light(p_value: float) -> str:
    if math.isnan(p_value):
        return "n/a"
    return "green" if p_value >= JEFFREYS_GREEN else "amber" if p_value >= JEFFREYS_AMBER else "red"


def roc_auc(scores: np.ndarray, outcomes: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); NaN with one class."""
    y = np.asarray(outcomes, dtype=bool)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return math.nan
    ranks = pd.Series(np.asarray(scores, np.float64)).rank(method="average").to_numpy()
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def outcome_date(as_of: date) -> date:
    later: date = (pd.Timestamp(as_of) + pd.DateOffset(months=HORIZON_MONTHS)).date()
    return later


def matured(as_of: date, ledger_end: date) -> bool:
    """A cohort's 12-month outcome is known once the ledger reaches as-of + 12 months."""
    return outcome_date(as_of) <= ledger_end


def cohort_outcomes(served: ServedBundle, ledger: Ledger, cohort: pd.DataFrame,
                    as_of: date) -> pd.DataFrame:
    """The cohort's customers not in default at as-of, with ``defaulted`` (in default at
    as-of + 12 months, the bundle's definition)."""
    alive = cohort.loc[~cohort["in_default"].to_numpy(bool)].reset_index(drop=True)
    keys = pd.DataFrame({"customer_id": alive["customer_id"].astype("string"),
                         "as_of": pd.Timestamp(as_of)})
    events = default_events(ledger, served.bundle.default_definition)
    first = next_default_dates(keys, events, known_until=pd.Timestamp(outcome_date(as_of)))
    alive["defaulted"] = first.notna().to_numpy(bool)
    return alive


def backtest(outcomes: pd.DataFrame, *, as_of: date) -> tuple[pd.DataFrame, float]:
    """Per grade: customers, defaults, observed rate, mean predicted PD, Jeffreys p-value and
    light; and the cohort's AUC."""
    rows = []
    for grade, group in outcomes.groupby("grade", sort=False):
        n = len(group)
        d = int(group["defaulted"].sum())
        predicted = float(group["pd_12m"].mean())
        p_value = jeffreys_p_value(d, n, predicted)
        rows.append({"as_of": as_of, "grade": str(grade), "customers": n, "defaults": d,
                     "observed_rate": d / n if n else math.nan, "predicted_pd": predicted,
                     "jeffreys_p": p_value, "light": traffic_light(p_value)})
    frame = pd.DataFrame(rows, columns=["as_of", "grade", "customers", "defaults",
                                        "observed_rate", "predicted_pd", "jeffreys_p", "light"])
    frame["_order"] = pd.to_numeric(frame["grade"], errors="coerce")
    frame = frame.sort_values("_order", kind="stable").drop(columns="_order")
    auc = roc_auc(outcomes["model_pd_12m"].to_numpy(np.float64),
                  outcomes["defaulted"].to_numpy(bool))
    return frame.reset_index(drop=True), auc
