"""The feature spec a model was trained with, and how frames become numeric matrices.

The spec is fitted once on training data (it learns the category levels) and then travels
inside the bundle, so training, the API, batch rescoring and ``mlflow models serve`` encode
features identically. Categorical values become level codes (unseen level -> NaN, which
LightGBM treats as missing); numeric values become float64.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


class FeatureSpecError(ValueError):
    """Input rows do not match the spec; the message names the missing or bad feature."""


@dataclass(frozen=True)
class FeatureSpec:
    """Ordered feature names with kinds, monotone directions and learned category levels."""

    names: tuple[str, ...]
    descriptions: tuple[str, ...]
    monotone: tuple[int, ...]
    categorical: tuple[str, ...] = ()
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (len(self.names) == len(self.descriptions) == len(self.monotone)):
            raise FeatureSpecError("names, descriptions and monotone must have the same length")
        unknown = set(self.categorical) - set(self.names)
        if unknown:
            raise FeatureSpecError(f"categorical features not in names: {sorted(unknown)}")

    @property
    def categorical_indices(self) -> list[int]:
        return [self.names.index(name) for name in self.categorical]

    @property
    def lightgbm_monotone(self) -> list[int]:
        """Monotone constraints for LightGBM; categorical features are never constrained."""
        cats = set(self.categorical)
        return [0 if n in cats else int(m) for n, m in zip(self.names, self.monotone, strict=True)]

    def with_levels_from(self, frame: pd.DataFrame) -> FeatureSpec:
        """A copy whose category levels are learned from ``frame`` (sorted, stable)."""
        levels = {}
        for name in self.categorical:
            values = frame[name].dropna().astype("string").unique()
            levels[name] = tuple(sorted(str(v) for v in values))
        return FeatureSpec(self.names, self.descriptions, self.monotone, self.categorical, levels)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Frame with (at least) the spec's columns -> float64 matrix in spec order."""
        missing = [n for n in self.names if n not in frame.columns]
        if missing:
            raise FeatureSpecError(f"missing feature columns: {', '.join(missing)}")
        out = np.empty((len(frame), len(self.names)), dtype=np.float64)
        cats = set(self.categorical)
        for j, name in enumerate(self.names):
            column = frame[name]
            if name in cats:
                levels = pd.Index(self.categories.get(name, ()))
                codes = levels.get_indexer(column.astype("string").fillna("\x00"))
                out[:, j] = np.where(codes < 0, np.nan, codes)
            else:
                try:
                    out[:, j] = pd.to_numeric(column, errors="raise").to_numpy(
                        dtype=np.float64, na_value=np.nan
                    )
                except (ValueError, TypeError) as exc:
                    raise FeatureSpecError(f"feature {name!r} is not numeric: {exc}") from exc
        return out

    def encode_record(self, record: Mapping[str, Any]) -> np.ndarray:
        """One dict -> (1, k) matrix without building a DataFrame (the online fast path)."""
        row = np.empty((1, len(self.names)), dtype=np.float64)
        cats = set(self.categorical)
        for j, name in enumerate(self.names):
            value = record.get(name)
            if name in cats:
                levels = self.categories.get(name, ())
                text = None if value is None else str(value)
                row[0, j] = levels.index(text) if text in levels else np.nan
            else:
                row[0, j] = np.nan if value is None else float(value)
        return row

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "descriptions": list(self.descriptions),
            "monotone": list(self.monotone),
            "categorical": list(self.categorical),
            "categories": {k: list(v) for k, v in self.categories.items()},
        }

    @classmethod
    def from_features(
        cls,
        names: Sequence[str],
        descriptions: Sequence[str],
        monotone: Sequence[int],
        categorical: Sequence[str] = (),
    ) -> FeatureSpec:
        return cls(tuple(names), tuple(descriptions), tuple(int(m) for m in monotone),
                   tuple(categorical))
