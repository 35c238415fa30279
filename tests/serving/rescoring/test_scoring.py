"""The batch rates like the service: same grade, PD, limit, decision and reasons as the rating
code the API calls, and a bucket's sub-ledger gives the same rows as the whole ledger."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest

from creditrisk.models.grades import PolicyConfigError
from creditrisk.models.policy import Policy
from creditrisk.serving import rating
from creditrisk.serving.registry import ServedBundle
from creditrisk.serving.rescoring.columns import SCORE_COLUMN_NAMES, split_list
from creditrisk.serving.rescoring.partitions import bucket_ledger, customer_bucket
from creditrisk.serving.rescoring.scoring import limit_actions, score_customers
from tests.serving.bundle_fixture import ServingWorld
from tests.serving.rescoring.conftest import AS_OF


@pytest.fixture(scope="module")
def whole_book(serving_world: ServingWorld, champion: ServedBundle) -> pd.DataFrame:
    return score_customers(serving_world.ledger, as_of=AS_OF, served=champion, buckets=4)


def test_rows_are_the_score_columns_one_per_onboarded_customer(whole_book: pd.DataFrame
                                                               ) -> None:
    assert tuple(whole_book.columns) == SCORE_COLUMN_NAMES
    assert whole_book["customer_id"].is_unique
    assert set(whole_book["limit_action"]) <= {"raise", "lower", "keep"}
    assert whole_book["in_default"].any(), "the fixture book has customers in default"
    defaulted = whole_book.loc[whole_book["in_default"]]
    assert (defaulted["grade"] == "D").all()
    assert (defaulted["pd_12m"] == 1.0).all()
    assert (defaulted["recommended_limit"] == 0.0).all()


def test_a_sample_of_customers_rated_by_the_service_code_gives_the_same_answer(
    serving_world: ServingWorld, champion: ServedBundle, whole_book: pd.DataFrame
) -> None:
    sample = pd.concat([whole_book.sample(12, random_state=5),
                        whole_book.loc[whole_book["in_default"]].head(3)])
    for row in sample.itertuples():
        state = rating.rate_customer(champion, serving_world.ledger, row.customer_id,
                                     as_of=AS_OF)
        limit = rating.recommend_customer_limit(champion, state)
        factors = rating.explain_customer(champion, state)
        assert (row.grade, row.pd_12m, row.in_default) == (
            state.grade, state.pd_12m, state.in_default)
        assert row.recommended_limit == round(limit.recommended_limit, 2)
        assert row.decision == limit.decision
        assert split_list(row.reason_codes) == list(limit.reason_codes)
        assert split_list(row.top_factors) == [f.feature for f in factors]
        assert row.expected_loss == rating.expected_loss(champion, state)


def test_a_bucket_sub_ledger_rates_its_customers_as_the_whole_ledger_does(
    serving_world: ServingWorld, champion: ServedBundle, whole_book: pd.DataFrame
) -> None:
    parts = [score_customers(bucket_ledger(serving_world.ledger, b, 4), as_of=AS_OF,
                             served=champion, buckets=4) for b in range(4)]
    assert [int(p["bucket"].iloc[0]) for p in parts] == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(
        pd.concat(parts).sort_values("customer_id").reset_index(drop=True),
        whole_book.sort_values("customer_id").reset_index(drop=True),
    )


def test_buckets_are_a_stable_hash_of_the_id() -> None:
    ids = pd.Series(["C1", "C2", "Ü-3", "C1"])
    buckets = customer_bucket(ids, 7)
    assert buckets.tolist() == customer_bucket(ids.copy(), 7).tolist()
    assert buckets.iloc[0] == buckets.iloc[3]
    assert buckets.iloc[2] == zlib.crc32("Ü-3".encode()) % 7


def test_limit_action_counts_no_limit_on_file_as_zero() -> None:
    actions = limit_actions(np.array([np.nan, 5000.0, 5000.0, np.nan]),
                            np.array([1000.0, 4000.0, 5000.0, 0.0]))
    assert actions.tolist() == ["raise", "lower", "keep", "keep"]


def test_the_review_schedule_reviews_riskier_grades_sooner_and_is_validated() -> None:
    policy = Policy.default()
    schedule = policy.review_schedule()
    months = schedule.months(range(1, policy.scale.default_grade + 1))
    assert months == sorted(months, reverse=True)
    assert months[-1] <= months[0]
    raw = policy.to_dict()
    raw["review"] = {"months_by_grade": [1, 12, *([6] * 8)], "in_default_months": 1}
    with pytest.raises(PolicyConfigError, match="riskier grade must never be reviewed later"):
        Policy.from_dict(raw)
    raw["review"] = {"months_by_grade": [12, 6], "in_default_months": 1}
    with pytest.raises(PolicyConfigError, match="must list 10"):
        Policy.from_dict(raw)
    del raw["review"]
    assert Policy.from_dict(raw).review_schedule().months([1, 11]) == [12, 1]


def test_next_review_date_follows_the_grade(whole_book: pd.DataFrame) -> None:
    stamp = pd.Timestamp(AS_OF)
    defaulted = whole_book.loc[whole_book["grade"] == "D", "next_review_date"]
    assert (defaulted == stamp + pd.DateOffset(months=1)).all()
    safest = whole_book.loc[whole_book["grade"].isin(["1", "2", "3"]), "next_review_date"]
    assert (safest == stamp + pd.DateOffset(months=12)).all()
