"""The one-row model paths give the numbers the general paths give: LightGBM on one thread
for a few rows (models/small_batch.py) and the spec's lookup-table encoding of a few rows
(models/spec.py) are exactly equal to the estimators' own methods and to the pandas encoding
of the same rows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditrisk.models import small_batch
from creditrisk.models.estimators import BoostedClassifier, QuantileRegressors
from creditrisk.models.scorecard import WoeScorecard
from creditrisk.models.spec import SMALL_FRAME_ROWS, FeatureSpec
from tests.models.test_estimators import SPEC
from tests.models.test_estimators import _data as estimator_data


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    return estimator_data(seed, n=3000)


@pytest.fixture(scope="module")
def fitted() -> tuple[BoostedClassifier, QuantileRegressors, np.ndarray]:
    X, y = _data()
    model = BoostedClassifier(SPEC, num_boost_round=60, seed=3).fit(X[:2000], y[:2000])
    model.calibrate(X[2000:], y[2000:], "isotonic")
    days = np.abs(np.random.default_rng(1).normal(10, 5, len(X)))
    quantiles = QuantileRegressors(SPEC, num_boost_round=30).fit(X, days)
    return model, quantiles, X


def test_one_thread_predictions_equal_the_estimators_own_for_few_rows(
    fitted: tuple[BoostedClassifier, QuantileRegressors, np.ndarray],
) -> None:
    model, quantiles, X = fitted
    for rows in (X[:1], X[5:9], X[100:100 + small_batch.SMALL_BATCH_ROWS]):
        assert np.array_equal(small_batch.predict_proba(model, rows), model.predict_proba(rows))
        assert np.array_equal(small_batch.contributions(model, rows), model.contributions(rows))
        assert np.array_equal(small_batch.predict_quantiles(quantiles, rows),
                              quantiles.predict(rows))


def test_single_row_c_api_equals_booster_predict_on_rows_with_missing_values(
    fitted: tuple[BoostedClassifier, QuantileRegressors, np.ndarray],
) -> None:
    """Rule: LightGBM's single-row C API (models/small_batch.SingleRowPredictor) gives
    ``Booster.predict``'s numbers bit for bit, missing values included, one row or many."""
    model, quantiles, X = fitted
    rows = X[:400].copy()
    rows[np.random.default_rng(4).random(rows.shape) < 0.2] = np.nan
    booster = model.booster
    assert booster is not None
    for start in range(0, len(rows), small_batch.SMALL_BATCH_ROWS):
        part = rows[start:start + small_batch.SMALL_BATCH_ROWS]
        assert np.array_equal(small_batch.predict_proba(model, part), model.predict_proba(part))
        assert np.array_equal(small_batch.contributions(model, part), model.contributions(part))
        assert np.array_equal(small_batch.predict_quantiles(quantiles, part),
                              quantiles.predict(part))
    for row in rows[:50]:
        one = row.reshape(1, -1)
        assert np.array_equal(small_batch.predict_proba(model, one), model.predict_proba(one))
        assert np.array_equal(small_batch.contributions(model, one), model.contributions(one))


def test_single_row_predictors_are_made_once_per_booster_and_shared_by_threads(
    fitted: tuple[BoostedClassifier, QuantileRegressors, np.ndarray],
) -> None:
    """One predictor per (booster, kind, width); threads calling it at once each get their
    own row's answer (its buffers are used under a lock)."""
    model, _, X = fitted
    booster = model.booster
    assert booster is not None
    first = small_batch.single_row_predictor(booster, small_batch.PREDICT_CONTRIB, X.shape[1])
    again = small_batch.single_row_predictor(booster, small_batch.PREDICT_CONTRIB, X.shape[1])
    assert first is again
    expected = model.contributions(X[:200])

    def contributions_of(i: int) -> np.ndarray:
        return np.asarray(small_batch.contributions(model, X[i:i + 1])[0])

    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(contributions_of, range(200)))
    assert np.array_equal(np.vstack(got), expected)


def test_single_row_predictor_refuses_a_row_of_the_wrong_width(
    fitted: tuple[BoostedClassifier, QuantileRegressors, np.ndarray],
) -> None:
    model, _, X = fitted
    with pytest.raises(Exception, match="features"):
        small_batch.predict_proba(model, X[:1, :-1])


def test_the_equality_check_sees_a_different_model(
    fitted: tuple[BoostedClassifier, QuantileRegressors, np.ndarray],
) -> None:
    """Negative control: the comparison above fails for a model with other trees."""
    model, _, X = fitted
    X_other, y_other = _data(seed=9)
    other = BoostedClassifier(SPEC, num_boost_round=60, seed=3).fit(X_other, y_other)
    other.calibrator = model.calibrator
    assert not np.array_equal(small_batch.predict_proba(other, X[:4]), model.predict_proba(X[:4]))


def test_other_classifiers_and_large_batches_take_their_own_method() -> None:
    X, y = _data()
    scorecard = WoeScorecard(SPEC).fit(X, y)
    assert np.array_equal(small_batch.predict_proba(scorecard, X[:3]),
                          scorecard.predict_proba(X[:3]))
    assert np.array_equal(small_batch.contributions(scorecard, X[:3]),
                          scorecard.contributions(X[:3]))


CAT_SPEC = FeatureSpec(
    names=("country", "dso_days", "count"),
    descriptions=("Country", "Days sales outstanding", "Count"),
    monotone=(0, 1, 0),
    categorical=("country",),
    categories={"country": ("DE", "FR", "NL")},
)
COUNTRY_VALUES = st.one_of(st.sampled_from(["DE", "FR", "NL", "XX", "", "de"]), st.none())
NUMBERS = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))


@settings(max_examples=150, deadline=None)
@given(
    countries=st.lists(COUNTRY_VALUES, min_size=1, max_size=6),
    numbers=st.data(),
    as_string_dtype=st.booleans(),
)
def test_few_rows_encode_to_the_same_matrix_as_the_pandas_path(
    countries: list[str | None], numbers: st.DataObject, as_string_dtype: bool
) -> None:
    """Rule: a few rows (lookup tables, float columns as they are) and the same rows inside
    a frame too large for the fast path (pandas index, to_numeric) encode identically."""
    n = len(countries)
    dso = numbers.draw(st.lists(NUMBERS, min_size=n, max_size=n))
    count = numbers.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    country = pd.array(countries, dtype="string") if as_string_dtype else pd.Series(
        countries, dtype=object)
    small = pd.DataFrame({"country": country, "dso_days": pd.Series(dso, dtype=np.float64),
                          "count": count})
    large = pd.concat([small] * (SMALL_FRAME_ROWS // n + 1), ignore_index=True)
    assert len(large) > SMALL_FRAME_ROWS
    np.testing.assert_array_equal(CAT_SPEC.encode(small), CAT_SPEC.encode(large)[:n])


def test_few_rows_encoding_names_an_unseen_level_missing_and_a_known_one_by_code() -> None:
    frame = pd.DataFrame({"country": ["NL", "XX", None], "dso_days": [1.0, 2.0, 3.0],
                          "count": [1, 2, 3]})
    codes = CAT_SPEC.encode(frame)[:, 0]
    assert codes[0] == 2.0
    assert np.isnan(codes[1:]).all()
