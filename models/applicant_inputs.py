"""An applicant's inputs against what the model saw in training.

Each numeric applicant input's training range travels in the bundle (learned by
:meth:`models.spec.FeatureSpec.with_levels_from` on the training rows). Outside it, a model
must never extrapolate silently. Two rules, chosen per field (:data:`REFUSED_OUTSIDE_RANGE`):

* **Refused** - ``external_score``: a bureau score lives on a fixed scale, so a value outside
  the scale the model learned (900 when training saw 1-99) is a different scale or a
  mistake. :class:`ApplicantInputOutOfRange` names the field, the value and the range (the
  service answers 422).
* **Held at the edge** - company age (``founded_on``), ``annual_revenue``,
  ``payment_terms_days``, ``requested_limit``: a company founded last month or a request
  larger than any granted limit is a real applicant, not an error. The value is clamped to the
  training range before scoring, so the PD is the one of the nearest value the model saw
  (for the monotone LightGBM model and the WoE scorecard this is what they would give anyway:
  a tree is flat beyond its last split and a scorecard's last bin is open; clamping makes it
  hold for any future model too). The policy still sees the real requested amount, revenue and
  terms.

A missing value is never out of range (it has its own bin / missing branch). Categorical
inputs (country, industry) with a level not seen in training are accepted: the spec encodes
an unseen level as missing, so both models score it exactly as an applicant that did not say.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from creditrisk.features.applicant import FIELD_FEATURES
from creditrisk.models.spec import FeatureSpec

UNITS = {"company_age_years": " years"}
REFUSED_OUTSIDE_RANGE: tuple[str, ...] = ("external_score",)
"""Application fields refused outside their training range; every other numeric applicant
input is held at the edge of its range (see the module docstring)."""


class ApplicantInputOutOfRange(ValueError):  # noqa: N818 - the domain's name for the refusal
    """An applicant input outside the range the model was trained on.

    ``field`` is the application field (``founded_on`` for the company's age), ``feature`` the
    model feature it becomes, ``value`` the feature value, ``low``/``high`` the training range.
    """

    def __init__(self, field: str, feature: str, value: float, low: float, high: float) -> None:
        self.field = field
        self.feature = feature
        self.value = value
        self.low = low
        self.high = high
        unit = UNITS.get(feature, "")
        what = field if field == feature else f"{field} (as {feature})"
        super().__init__(
            f"{what} = {value:g}{unit} is outside the range the model was trained on "
            f"({low:g}{unit} to {high:g}{unit}); it is refused rather than extrapolated"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "feature": self.feature, "value": self.value,
                "low": self.low, "high": self.high}


def input_ranges(spec: FeatureSpec) -> dict[str, tuple[float, float]]:
    """Application field -> training range of the feature it becomes (numeric inputs only)."""
    out = {}
    for field, feature in FIELD_FEATURES.items():
        found = spec.training_range(feature)
        if found is not None and feature not in spec.categorical:
            out[field] = found
    return out


def admit_record(spec: FeatureSpec, record: Mapping[str, Any]) -> dict[str, Any]:
    """One applicant feature ``record`` as the model may score it: raises
    :class:`ApplicantInputOutOfRange` for a refused field outside its training range, clamps
    the other applicant inputs to theirs (missing values pass unchanged)."""
    out = dict(record)
    for field, feature in FIELD_FEATURES.items():
        found = spec.training_range(feature)
        value = record.get(feature)
        if found is None or value is None or feature in spec.categorical:
            continue
        number = float(value)
        low, high = found
        if math.isnan(number) or low <= number <= high:
            continue
        if field in REFUSED_OUTSIDE_RANGE:
            raise ApplicantInputOutOfRange(field, feature, number, low, high)
        out[feature] = min(max(number, low), high)
    return out


def admit_frame(spec: FeatureSpec, features: pd.DataFrame) -> pd.DataFrame:
    """:func:`admit_record` for a frame of applicant feature rows (vectorised per feature);
    the error names the first refused row's value. Returns a copy."""
    out = features.copy()
    for field, feature in FIELD_FEATURES.items():
        found = spec.training_range(feature)
        if found is None or feature in spec.categorical or feature not in out.columns:
            continue
        values = pd.to_numeric(out[feature], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        low, high = found
        outside = ~np.isnan(values) & ((values < low) | (values > high))
        if not outside.any():
            continue
        if field in REFUSED_OUTSIDE_RANGE:
            value = float(values[int(np.flatnonzero(outside)[0])])
            raise ApplicantInputOutOfRange(field, feature, value, low, high)
        out[feature] = np.clip(values, low, high)
    return out
