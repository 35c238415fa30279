"""The master scale: PD -> grade is monotone, band edges belong to the higher grade, and a
scale that is not contiguous / monotone / covering [0, 1] is rejected naming the bad band."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from creditrisk.models.grades import MasterScale, PolicyConfigError, PolicyInputError
from creditrisk.models.policy import Policy

BANDS: list[dict[str, Any]] = [
    {"grade": 1, "name": "low", "pd_lower": 0.0, "pd_upper": 0.01},
    {"grade": 2, "name": "medium", "pd_lower": 0.01, "pd_upper": 0.05},
    {"grade": 3, "name": "high", "pd_lower": 0.05, "pd_upper": 0.2},
    {"grade": 4, "name": "critical", "pd_lower": 0.2, "pd_upper": 1.0},
]


@pytest.fixture
def scale() -> MasterScale:
    return MasterScale.from_config(BANDS)


def test_default_scale_has_ten_grades_covering_zero_to_one() -> None:
    scale = Policy.default().scale
    assert scale.n_grades == 10
    assert scale.bands[0].pd_lower == 0.0
    assert scale.bands[-1].pd_upper == 1.0
    assert list(scale.grades) == list(range(1, 11))


def test_grade_is_monotone_in_pd() -> None:
    scale = Policy.default().scale
    pd_12m = np.sort(np.random.default_rng(7).beta(0.4, 8.0, 5_000))
    grades = scale.grade(pd_12m)
    assert np.all(np.diff(grades) >= 0)
    assert grades.dtype == np.int64


def test_every_pd_falls_inside_its_own_band() -> None:
    scale = Policy.default().scale
    pd_12m = np.random.default_rng(3).random(2_000) ** 3
    grades = scale.grade(pd_12m)
    lower = np.array([scale.band(int(g)).pd_lower for g in grades])
    upper = np.array([scale.band(int(g)).pd_upper for g in grades])
    assert np.all((lower <= pd_12m) & (pd_12m < upper))


def test_band_edges_belong_to_the_higher_grade(scale: MasterScale) -> None:
    """Bands are [lower, upper): a PD equal to an edge takes the next grade; PD 1 is the worst."""
    edges = np.array([0.0, 0.01, 0.05, 0.2])
    assert scale.grade(edges).tolist() == [1, 2, 3, 4]
    just_below = np.nextafter(np.array([0.01, 0.05, 0.2, 1.0]), 0.0)
    assert scale.grade(just_below).tolist() == [1, 2, 3, 4]
    assert scale.grade(np.array([1.0])).tolist() == [4]


def test_one_pd_grades_like_the_vectorised_scale(scale: MasterScale) -> None:
    """grade_of (the one-row path, no numpy) gives grade()'s answer for every PD, the band
    edges and the values next to them included."""
    rng = np.random.default_rng(11)
    edges = np.array([band.pd_lower for band in scale.bands] + [1.0])
    pd_12m = np.concatenate([
        rng.random(3_000) ** 3, edges, np.nextafter(edges, 0.0).clip(0.0, 1.0),
        np.nextafter(edges, 1.0).clip(0.0, 1.0),
    ])
    vectorised = scale.grade(pd_12m)
    assert [scale.grade_of(float(p)) for p in pd_12m] == vectorised.tolist()
    assert set(vectorised.tolist()) == {1, 2, 3, 4}  # every band reached


def test_grade_keeps_the_input_shape(scale: MasterScale) -> None:
    assert scale.grade(0.03).shape == ()
    assert int(scale.grade(0.03)) == 2
    assert scale.grade(np.zeros((2, 3))).shape == (2, 3)


@pytest.mark.parametrize("bad", [np.nan, -0.01, 1.0001, np.inf])
def test_pd_outside_zero_one_is_rejected_naming_the_row(scale: MasterScale, bad: float) -> None:
    with pytest.raises(PolicyInputError, match=r"row 2 is"):
        scale.grade(np.array([0.1, 0.2, bad]))


def test_band_and_midpoint(scale: MasterScale) -> None:
    band = scale.band(2)
    assert (band.pd_lower, band.pd_upper, band.name) == (0.01, 0.05, "medium")
    assert band.midpoint == pytest.approx(0.03)
    np.testing.assert_allclose(scale.midpoint(np.array([1, 4, 2])), [0.005, 0.6, 0.03])
    with pytest.raises(PolicyInputError, match="grade 5"):
        scale.band(5)
    with pytest.raises(PolicyInputError, match="row 1 is 0"):
        scale.midpoint(np.array([1, 0]))


def test_check_grades_rejects_fractional_grades(scale: MasterScale) -> None:
    assert scale.check_grades(np.array([1.0, 3.0])).tolist() == [1, 3]
    with pytest.raises(PolicyInputError, match="integer grades"):
        scale.check_grades(np.array([1.5]))


def _bands_with(position: int, **changes: Any) -> list[dict[str, Any]]:
    bands = copy.deepcopy(BANDS)
    bands[position].update(changes)
    return bands


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        (
            _bands_with(2, pd_lower=0.06),
            r"band 3 \(grade 3, 'high'\): gap between PD 0.05 and 0.06",
        ),
        (_bands_with(2, pd_lower=0.04), r"band 3 \(grade 3, 'high'\): overlaps the previous band"),
        (
            _bands_with(0, pd_lower=0.001),
            r"band 1 \(grade 1, 'low'\): the first band must start at PD 0",
        ),
        (
            _bands_with(3, pd_upper=0.9),
            r"band 4 \(grade 4, 'critical'\): the last band must end at PD 1",
        ),
        (
            _bands_with(1, pd_upper=0.005),
            r"band 2 \(grade 2, 'medium'\): pd_lower 0.01 must be below pd_upper 0.005",
        ),
        (_bands_with(1, grade=5), r"band 2 \(grade 5, 'medium'\): grades must be numbered 1..4"),
        (_bands_with(1, pd_upper="high"), r"band 2 \(grade 2\): pd_upper must be a number"),
        (_bands_with(1, colour="red"), r"band 2 \(grade 2\): unknown keys \['colour'\]"),
        (BANDS[:1], "needs at least 2 grades"),
    ],
)
def test_bad_scale_is_rejected_naming_the_band(bands: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(PolicyConfigError, match=message):
        MasterScale.from_config(bands)


def test_missing_band_key_is_named() -> None:
    bands = copy.deepcopy(BANDS)
    del bands[3]["pd_upper"]
    with pytest.raises(PolicyConfigError, match=r"band 4 \(grade 4\): missing keys \['pd_upper'\]"):
        MasterScale.from_config(bands)


def test_scale_round_trips_through_its_config(scale: MasterScale) -> None:
    assert MasterScale.from_config(scale.to_config()) == scale


def test_docs_master_scale_table_matches_the_default_policy() -> None:
    """docs/policy.md shows analysts the shipped bands; it must not drift from policy.yaml."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "policy.md"
    rows = [
        line
        for line in docs.read_text().splitlines()
        if line.startswith("| ") and line.count("|") == 6 and line.split("|")[1].strip().isdigit()
    ]
    expected = [
        f"| {b.grade} | {b.name} | {b.pd_lower * 100:g} % | {b.pd_upper * 100:g} % | "
        f"{b.midpoint * 100:g} % |"
        for b in Policy.default().scale.bands
    ]
    assert rows == expected
