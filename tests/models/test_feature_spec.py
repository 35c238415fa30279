"""Category encoding lives once, in models/spec.py: the levels a model saw at training are
kept in its spec, and at scoring an unseen or missing category is missing (NaN), never the
code of a known level."""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditrisk.models.spec import FeatureSpec

SPEC = FeatureSpec(
    names=("country", "dso_days"),
    descriptions=("Country", "Days sales outstanding"),
    monotone=(0, 1),
    categorical=("country",),
)


def test_levels_are_learned_sorted_from_the_training_rows() -> None:
    train = pd.DataFrame({"country": pd.array(["FR", "DE", "FR", None], dtype="string"),
                          "dso_days": [10.0, 20.0, 30.0, 40.0]})
    assert SPEC.with_levels_from(train).categories == {"country": ("DE", "FR")}


def test_unseen_and_missing_categories_are_encoded_as_missing() -> None:
    train = pd.DataFrame({"country": pd.array(["DE", "FR"], dtype="string"),
                          "dso_days": [10.0, 20.0]})
    fitted = SPEC.with_levels_from(train)
    scored = pd.DataFrame({"country": pd.array(["FR", "XX", None, "DE"], dtype="string"),
                           "dso_days": [1.0, 2.0, 3.0, 4.0]})
    codes = fitted.encode(scored)[:, 0]
    assert codes[0] == 1.0
    assert codes[3] == 0.0
    assert np.isnan(codes[1])
    assert np.isnan(codes[2])
