"""Inputs of the policy rules, checked once: columns for a batch, plain values for one row.

A batch (:func:`amount_column`, :func:`flag_column`, :func:`pd_column`,
:func:`grade_column`) gets one checked float / bool / grade array per argument. One customer
(:func:`amount_value`, :func:`flag_value`, :func:`pd_value`, :func:`grade_value`) gets one
checked Python ``float`` / ``bool`` / ``int`` per argument from anything a batch of one would
take (a Python number, a numpy scalar, a one-element array, None for unknown), so the one-row
rules (:func:`models.limits.recommend_limit`) never see numpy, whatever the caller passed.
Both refuse the same values with the same message.

Every check raises :class:`PolicyInputError` naming the argument and the first bad row.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from creditrisk.models.grades import MasterScale, PolicyInputError, check_pd

__all__ = [
    "MAX_INPUT_AMOUNT", "amount_column", "amount_value", "flag_column", "flag_value",
    "grade_column", "grade_value", "pd_column", "pd_value",
]

MAX_INPUT_AMOUNT = 1e12
"""Largest amount (any currency unit) the policy takes: 1e306 is refused, not printed."""


def _problem(value: float, *, allow_nan: bool, allow_negative: bool, ceiling: float) -> str:
    if math.isinf(value):
        return "infinite"
    if math.isnan(value):
        return "" if allow_nan else "missing"
    if value < 0 and not allow_negative:
        return "negative"
    if abs(value) > ceiling:
        return f"beyond the plausible maximum {ceiling:,.0f}"
    return ""


def _one_row(name: str, values: ArrayLike) -> np.ndarray:
    """A one-row input that is not a plain Python value, as a 1-element array (refused when
    it holds more than one row)."""
    array = np.asarray(values).reshape(-1)
    if array.shape != (1,):
        raise PolicyInputError(f"{name}: expected 1 row, got shape {np.shape(values)}")
    return array


def amount_value(
    name: str,
    value: ArrayLike | None,
    *,
    allow_nan: bool,
    allow_negative: bool = False,
    ceiling: float = MAX_INPUT_AMOUNT,
) -> float:
    """One row's input as a Python float, checked like :func:`amount_column` (None is NaN)."""
    if value is None:
        number = math.nan
    elif type(value) is float or type(value) is int:
        number = float(value)
    else:
        try:
            number = float(_one_row(name, value).astype(np.float64)[0])
        except (TypeError, ValueError) as exc:
            if isinstance(exc, PolicyInputError):
                raise
            raise PolicyInputError(f"{name}: not a number ({exc})") from exc
    problem = _problem(number, allow_nan=allow_nan, allow_negative=allow_negative, ceiling=ceiling)
    if problem:
        raise PolicyInputError(f"{name}: row 0 is {problem} ({number!r})")
    return number


def amount_column(
    name: str,
    values: ArrayLike | None,
    n_rows: int,
    *,
    allow_nan: bool,
    allow_negative: bool = False,
    ceiling: float = MAX_INPUT_AMOUNT,
) -> np.ndarray:
    """One input column as float64 of length ``n_rows`` (a scalar is broadcast; None is NaN).

    Refused: infinite values, NaN unless ``allow_nan``, negatives unless ``allow_negative``,
    and magnitudes above ``ceiling`` (implausible amounts).
    """
    if values is None or (type(values) in (float, int)):  # a plain scalar: checked once
        value = amount_value(
            name, values, allow_nan=allow_nan, allow_negative=allow_negative, ceiling=ceiling
        )
        return np.full(n_rows, value)
    to_numpy = getattr(values, "to_numpy", None)
    try:
        if to_numpy is not None:  # pandas nullable dtypes need an explicit NA value
            array = np.asarray(to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PolicyInputError(f"{name}: not a number ({exc})") from exc
    if array.ndim == 0:
        array = np.full(n_rows, float(array))
    elif array.shape != (n_rows,):
        raise PolicyInputError(f"{name}: expected {n_rows} rows, got shape {array.shape}")
    low = -ceiling if allow_negative else 0.0
    valid = (array >= low) & (array <= ceiling)  # NaN and inf fail here
    if allow_nan:
        valid |= np.isnan(array)
    if not valid.all():
        row = int(np.flatnonzero(~valid)[0])
        problem = _problem(
            float(array[row]), allow_nan=allow_nan, allow_negative=allow_negative, ceiling=ceiling
        )
        raise PolicyInputError(f"{name}: row {row} is {problem} ({array[row]!r})")
    return array


def flag_column(name: str, values: ArrayLike, n_rows: int) -> np.ndarray:
    """One yes/no input column as bool of length ``n_rows`` (booleans or 0/1 only)."""
    if type(values) is bool:
        return np.full(n_rows, values)
    array = np.asarray(values)
    if array.dtype.kind not in "biu" or (
        array.dtype.kind != "b" and np.any((array != 0) & (array != 1))
    ):
        raise PolicyInputError(f"{name}: expected booleans, got dtype {array.dtype}")
    array = array.astype(bool)
    if array.ndim == 0:
        return np.full(n_rows, bool(array))
    if array.shape != (n_rows,):
        raise PolicyInputError(f"{name}: expected {n_rows} rows, got shape {array.shape}")
    return array


def flag_value(name: str, value: ArrayLike) -> bool:
    """One row's yes/no input as a Python bool, checked like :func:`flag_column`."""
    if type(value) is bool:
        return value
    return bool(flag_column(name, _one_row(name, value), 1)[0])


def pd_value(pd_12m: ArrayLike) -> float:
    """One row's PD as a Python float in [0, 1], checked like :func:`pd_column`."""
    if type(pd_12m) is float and 0.0 <= pd_12m <= 1.0:
        return pd_12m
    values = pd_column(pd_12m)
    if values.shape != (1,):
        raise PolicyInputError(f"pd_12m: expected 1 row, got shape {np.shape(pd_12m)}")
    return float(values[0])


def grade_value(scale: MasterScale, grade: ArrayLike | None, pd_12m: float) -> int:
    """One row's grade: ``grade`` checked against the scale, or ``pd_12m`` graded when None."""
    if grade is None:
        return scale.grade_of(pd_12m)
    return int(grade_column(scale, _one_row("grade", grade), np.array([pd_12m]))[0])


def pd_column(pd_12m: ArrayLike) -> np.ndarray:
    """The PD input as a 1-D float64 array of probabilities (a scalar is one row)."""
    if type(pd_12m) is float and 0.0 <= pd_12m <= 1.0:
        return np.array([pd_12m])
    try:
        values = check_pd(np.atleast_1d(np.asarray(pd_12m, dtype=np.float64)))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, PolicyInputError):
            raise
        raise PolicyInputError(f"pd_12m must be a probability in [0, 1], got {pd_12m!r}") from exc
    if values.ndim != 1:
        raise PolicyInputError(f"pd_12m: expected a 1-D array, got shape {values.shape}")
    return values


def grade_column(scale: MasterScale, grade: ArrayLike | None, pd_12m: np.ndarray) -> np.ndarray:
    """The grades given (checked against the scale), or ``pd_12m`` graded when None."""
    if grade is None:
        return scale.grade(pd_12m)
    grades = scale.check_grades(np.broadcast_to(np.asarray(grade), pd_12m.shape))
    return np.array(grades, dtype=np.int64)
