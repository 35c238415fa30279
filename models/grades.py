"""The master scale: 12-month probability of default (PD) mapped to risk grades.

Grades are integers ``1`` (lowest risk) to ``N`` (highest risk), numbered in order. Each grade
owns a half-open PD band ``[pd_lower, pd_upper)``; the bands are contiguous, non-overlapping
and together cover ``[0, 1]`` (the last band also contains ``pd = 1``). The scale is read from
the policy file, so a credit department can move the band edges without touching code.

Integers rather than letters (``AAA``..``D``) keep grade comparisons (``grade > floor``) plain
arithmetic in vectorised code; each grade also carries a short name for display.

Grade D (in default) is outside the master scale: a customer in default has no PD band, it
has defaulted (reported PD 1.0). In arrays it is the integer code
:attr:`MasterScale.default_grade` ``= N + 1``, so it sorts as the worst and ``grade > floor``
still holds; shown to people it is :data:`DEFAULT_GRADE_LABEL` ``"D"`` named
:data:`DEFAULT_GRADE_NAME` ``"in default"`` (:meth:`MasterScale.label`,
:meth:`MasterScale.grade_labels`, :meth:`MasterScale.grade_name`). Grades on the scale are
labelled by their number (``"1"``..``"10"``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

DEFAULT_GRADE_LABEL = "D"
DEFAULT_GRADE_NAME = "in default"


class PolicyConfigError(ValueError):
    """The policy file (master scale, limit or order settings) is invalid."""


class PolicyInputError(ValueError):
    """An input array handed to the policy is invalid (names the argument, row and value)."""


@dataclass(frozen=True)
class GradeBand:
    """One risk grade and its PD band ``[pd_lower, pd_upper)``."""

    grade: int
    name: str
    pd_lower: float
    pd_upper: float

    @property
    def midpoint(self) -> float:
        """Arithmetic middle of the band: the PD used when only the grade is known."""
        return (self.pd_lower + self.pd_upper) / 2.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "name": self.name,
            "pd_lower": self.pd_lower,
            "pd_upper": self.pd_upper,
        }


BAND_KEYS = frozenset({"grade", "name", "pd_lower", "pd_upper"})


def _describe(position: int, raw: Mapping[str, Any]) -> str:
    return f"master_scale band {position + 1} (grade {raw.get('grade', '?')!r})"


def _band_from_config(position: int, raw: Any) -> GradeBand:
    if not isinstance(raw, Mapping):
        raise PolicyConfigError(
            f"master_scale band {position + 1}: expected a mapping, got {raw!r}"
        )
    where = _describe(position, raw)
    unknown = sorted(set(raw) - BAND_KEYS)
    if unknown:
        raise PolicyConfigError(f"{where}: unknown keys {unknown}")
    missing = sorted(BAND_KEYS - set(raw))
    if missing:
        raise PolicyConfigError(f"{where}: missing keys {missing}")
    grade = raw["grade"]
    if isinstance(grade, bool) or not isinstance(grade, int):
        raise PolicyConfigError(f"{where}: grade must be an integer, got {grade!r}")
    bounds = []
    for key in ("pd_lower", "pd_upper"):
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PolicyConfigError(f"{where}: {key} must be a number, got {value!r}")
        bounds.append(float(value))
    return GradeBand(grade=grade, name=str(raw["name"]), pd_lower=bounds[0], pd_upper=bounds[1])


def _validate_bands(bands: Sequence[GradeBand]) -> None:
    """Bands must be numbered 1..N in order, monotone, contiguous and cover [0, 1]."""
    if len(bands) < 2:
        raise PolicyConfigError(f"master_scale: needs at least 2 grades, got {len(bands)}")
    for position, band in enumerate(bands):
        where = f"master_scale band {position + 1} (grade {band.grade}, {band.name!r})"
        if band.grade != position + 1:
            raise PolicyConfigError(
                f"{where}: grades must be numbered 1..{len(bands)} in order, got {band.grade}"
            )
        if not (np.isfinite(band.pd_lower) and np.isfinite(band.pd_upper)):
            raise PolicyConfigError(f"{where}: PD bounds must be finite numbers")
        if not band.pd_lower < band.pd_upper:
            raise PolicyConfigError(
                f"{where}: pd_lower {band.pd_lower} must be below pd_upper {band.pd_upper}"
            )
        if position == 0 and band.pd_lower != 0.0:
            raise PolicyConfigError(
                f"{where}: the first band must start at PD 0, not {band.pd_lower}"
            )
        if position > 0:
            previous = bands[position - 1].pd_upper
            if band.pd_lower > previous:
                raise PolicyConfigError(
                    f"{where}: gap between PD {previous} and {band.pd_lower} "
                    "(pd_lower must equal the previous band's pd_upper)"
                )
            if band.pd_lower < previous:
                raise PolicyConfigError(
                    f"{where}: overlaps the previous band (pd_lower {band.pd_lower} "
                    f"is below the previous pd_upper {previous})"
                )
    last = bands[-1]
    if last.pd_upper != 1.0:
        raise PolicyConfigError(
            f"master_scale band {len(bands)} (grade {last.grade}, {last.name!r}): "
            f"the last band must end at PD 1, not {last.pd_upper}"
        )


def check_pd(pd_12m: ArrayLike, *, name: str = "pd_12m") -> np.ndarray:
    """Return ``pd_12m`` as float64, raising :class:`PolicyInputError` on NaN or outside [0, 1]."""
    values = np.asarray(pd_12m, dtype=np.float64)
    bad = ~((values >= 0.0) & (values <= 1.0))  # NaN compares False, so it is caught too
    if bad.any():
        flat = values.reshape(-1)
        row = int(np.flatnonzero(bad.reshape(-1))[0])
        raise PolicyInputError(
            f"{name} must be a probability in [0, 1]; row {row} is {flat[row]!r} "
            f"({int(bad.sum())} bad rows)"
        )
    return values


@dataclass(frozen=True)
class MasterScale:
    """Maps PD to grades ``1..N`` through contiguous half-open PD bands covering [0, 1]."""

    bands: tuple[GradeBand, ...]

    def __post_init__(self) -> None:
        _validate_bands(self.bands)

    @classmethod
    def from_config(cls, raw: Any) -> MasterScale:
        """Build from the ``master_scale`` list of the policy file (one mapping per grade)."""
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise PolicyConfigError(f"master_scale: expected a list of bands, got {raw!r}")
        return cls(tuple(_band_from_config(position, item) for position, item in enumerate(raw)))

    def to_config(self) -> list[dict[str, Any]]:
        return [band.to_dict() for band in self.bands]

    @property
    def n_grades(self) -> int:
        return len(self.bands)

    @property
    def grades(self) -> np.ndarray:
        """All grades, best first: ``array([1, 2, ..., N])``."""
        return np.arange(1, self.n_grades + 1, dtype=np.int64)

    @property
    def worst_grade(self) -> int:
        """Worst grade on the scale (a PD band); grade D is :attr:`default_grade`."""
        return self.n_grades

    @property
    def default_grade(self) -> int:
        """Integer code of grade D (in default): ``n_grades + 1``, worse than every band."""
        return self.n_grades + 1

    def label(self, grade: int) -> str:
        """``"1"``..``"N"`` for grades on the scale, ``"D"`` for :attr:`default_grade`."""
        code = int(grade)
        if code == self.default_grade:
            return DEFAULT_GRADE_LABEL
        if not 1 <= code <= self.n_grades:
            raise PolicyInputError(f"grade {grade} is neither on the master scale nor D")
        return str(code)

    def grade_labels(self, grades: ArrayLike) -> np.ndarray:
        """:meth:`label` of each integer grade code (vectorised, an array of str)."""
        labels = np.array([str(g) for g in range(self.n_grades + 1)] + [DEFAULT_GRADE_LABEL])
        codes = np.asarray(grades, dtype=np.int64)
        if ((codes < 1) | (codes > self.default_grade)).any():
            raise PolicyInputError(f"grades outside 1..{self.n_grades} and D")
        result: np.ndarray = labels[codes]
        return result

    def grade_name(self, grade: int) -> str:
        """The band's display name, or ``"in default"`` for grade D."""
        if int(grade) == self.default_grade:
            return DEFAULT_GRADE_NAME
        return self.band(int(grade)).name

    def grade(self, pd_12m: ArrayLike) -> np.ndarray:
        """Grade of each PD (int64, same shape); a PD on a band edge takes the higher grade."""
        values = check_pd(pd_12m)
        inner_edges = np.array([band.pd_lower for band in self.bands[1:]], dtype=np.float64)
        return np.searchsorted(inner_edges, values, side="right").astype(np.int64) + 1

    def grade_of(self, pd_12m: float) -> int:
        """:meth:`grade` of one PD already checked to be a float in [0, 1] (no numpy)."""
        return bisect_right([band.pd_lower for band in self.bands[1:]], pd_12m) + 1

    def band(self, grade: int) -> GradeBand:
        """The band of one grade; :class:`PolicyInputError` for a grade not on the scale."""
        if isinstance(grade, bool) or not isinstance(grade, int | np.integer):
            raise PolicyInputError(f"grade must be an integer 1..{self.n_grades}, got {grade!r}")
        if not 1 <= int(grade) <= self.n_grades:
            raise PolicyInputError(f"grade {grade} is not on the master scale 1..{self.n_grades}")
        return self.bands[int(grade) - 1]

    def midpoint(self, grade: ArrayLike) -> np.ndarray:
        """Middle PD of each grade's band (vectorised over an array of grades)."""
        grades = self.check_grades(grade)
        middles = np.array([band.midpoint for band in self.bands], dtype=np.float64)
        result: np.ndarray = middles[grades - 1]
        return result

    def check_grades(self, grade: ArrayLike, *, name: str = "grade") -> np.ndarray:
        """Return grades as int64, raising :class:`PolicyInputError` for one not on the scale."""
        raw = np.asarray(grade)
        integral = raw.dtype.kind in "iu" or (
            raw.dtype.kind == "f" and bool(np.all(np.isfinite(raw) & (raw == np.round(raw))))
        )
        if not integral:
            raise PolicyInputError(f"{name} must hold integer grades, got dtype {raw.dtype}")
        grades = raw.astype(np.int64)
        bad = (grades < 1) | (grades > self.n_grades)
        if bad.any():
            row = int(np.flatnonzero(bad.reshape(-1))[0])
            raise PolicyInputError(
                f"{name}: row {row} is {int(grades.reshape(-1)[row])}, "
                f"not a grade on the master scale 1..{self.n_grades}"
            )
        return grades
