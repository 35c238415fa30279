"""Categorical features as LightGBM sees them: pandas ``category`` with a fixed vocabulary.

Feature frames carry categorical attributes (industry, country) as plain strings, so that a
frame's values never depend on which other customers happen to be in it. A model learns the
vocabulary once, at training (:func:`category_levels`), stores it with its feature spec and
encodes every frame it scores with that same vocabulary (:func:`encode_categories`).

Unseen categories: a value that was not in the training vocabulary becomes a missing value
(``NaN`` category code -1). LightGBM sends missing categories down the same branch as the
categories it did not split out, so an unseen country is scored like "any other country",
never like a specific one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd


class CategoryError(ValueError):
    """A categorical column is missing from a frame or has no vocabulary."""


def category_levels(frame: pd.DataFrame, columns: Iterable[str]) -> dict[str, list[str]]:
    """The sorted distinct non-missing values of each of ``columns`` (the vocabulary)."""
    out: dict[str, list[str]] = {}
    for column in columns:
        if column not in frame.columns:
            raise CategoryError(f"categorical column {column!r} is not in the frame")
        values = frame[column].dropna().astype(str).unique()
        out[column] = sorted(str(v) for v in values)
    return out


def encode_categories(frame: pd.DataFrame, vocabulary: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """A copy of ``frame`` whose columns in ``vocabulary`` are ``category`` dtype with exactly
    those categories; values outside the vocabulary become missing."""
    out = frame.copy()
    for column, levels in vocabulary.items():
        if column not in out.columns:
            raise CategoryError(f"categorical column {column!r} is not in the frame")
        dtype = pd.CategoricalDtype(categories=list(levels), ordered=False)
        values = out[column].astype("string")
        known = values.where(values.isin(list(levels)))
        out[column] = pd.Series(
            pd.Categorical(known.to_numpy(dtype=object, na_value=None), dtype=dtype),
            index=out.index,
        )
    return out
