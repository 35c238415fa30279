"""An applicant's inputs against what the model saw in training.

Each numeric applicant input's training range travels in the bundle (learned by
:meth:`models.spec.FeatureSpec.with_levels_from` on the training rows). A value outside it
(a bureau score of 900 when training saw 1-99) is refused with
:class:`ApplicantInputOutOfRange`, never silently extrapolated: a tree model is flat beyond
its last split and a scorecard's last bin is open, so the PD would be a guess presented as
a fact. A missing value is not out of range (it has its own bin / missing branch).

Categorical inputs (country, industry) with a level not seen in training are accepted: the
spec encodes an unseen level as missing, so both models score it exactly as an applicant that
did not say (documented in docs/runs.md). The known levels are available from the spec for a
caller that wants to refuse instead.
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


def check_record(spec: FeatureSpec, record: Mapping[str, Any]) -> None:
    """Raise :class:`ApplicantInputOutOfRange` for the first applicant feature of one
    feature ``record`` outside its training range (missing values pass)."""
    for field, feature in FIELD_FEATURES.items():
        found = spec.training_range(feature)
        value = record.get(feature)
        if found is None or value is None or feature in spec.categorical:
            continue
        number = float(value)
        if math.isnan(number):
            continue
        low, high = found
        if not low <= number <= high:
            raise ApplicantInputOutOfRange(field, feature, number, low, high)


def check_frame(spec: FeatureSpec, features: pd.DataFrame) -> None:
    """:func:`check_record` for a frame of applicant feature rows (vectorised per feature);
    the error names the first offending row's value."""
    for field, feature in FIELD_FEATURES.items():
        found = spec.training_range(feature)
        if found is None or feature in spec.categorical or feature not in features.columns:
            continue
        values = pd.to_numeric(features[feature], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        low, high = found
        outside = ~np.isnan(values) & ((values < low) | (values > high))
        if outside.any():
            value = float(values[int(np.flatnonzero(outside)[0])])
            raise ApplicantInputOutOfRange(field, feature, value, low, high)
