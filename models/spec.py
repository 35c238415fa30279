"""The feature spec a model was trained with, and how frames become numeric matrices.

The spec is fitted once on training data (it learns the category levels) and then travels
inside the bundle, so training, the API, batch rescoring and ``mlflow models serve`` encode
features identically. Categorical values become level codes (unseen level -> NaN, which
LightGBM treats as missing); numeric values become float64. The spec also learns each numeric
feature's training range (:meth:`FeatureSpec.with_levels_from`), so an input outside what the
model ever saw can be refused instead of silently extrapolated (see
:mod:`models.applicant_inputs`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from creditrisk.features.catalog import Level, catalog, dimension_feature, dimension_names

SMALL_FRAME_ROWS: Final = 64
"""Up to this many rows categorical columns are encoded with the spec's lookup tables
(:meth:`FeatureSpec.level_codes`) instead of a pandas index per column: the same codes."""
MISSING_LEVEL: Final = "\x00"
"""What a missing category is looked up as (no level is ever this string)."""


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
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    """Numeric feature -> (lowest, highest) finite value seen in training (learned with the
    levels; a feature with no finite training value has no entry)."""

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
        """A copy whose category levels (sorted, stable) and numeric ranges are learned from
        the training rows ``frame``."""
        levels = {}
        for name in self.categorical:
            values = frame[name].dropna().astype("string").unique()
            levels[name] = tuple(sorted(str(v) for v in values))
        ranges: dict[str, tuple[float, float]] = {}
        for name in self.names:
            if name in levels or name not in frame.columns:
                continue
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
            finite = values[np.isfinite(values)]
            if len(finite):
                ranges[name] = (float(finite.min()), float(finite.max()))
        return FeatureSpec(self.names, self.descriptions, self.monotone, self.categorical,
                           levels, ranges)

    def training_range(self, name: str) -> tuple[float, float] | None:
        """(low, high) of ``name`` seen in training; None when unknown (also for a spec
        pickled before ranges were learned)."""
        return dict(getattr(self, "ranges", {}) or {}).get(name)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Frame with (at least) the spec's columns -> float64 matrix in spec order. An
        extra invoice dimension (``dim_<name>``) none of the rows carries may be absent:
        missing, like a value the ledger does not hold."""
        absent = [n for n in self.names if n not in frame.columns]
        missing = [n for n in absent if not dimension_names([n])]
        if missing:
            raise FeatureSpecError(f"missing feature columns: {', '.join(missing)}")
        out = np.empty((len(frame), len(self.names)), dtype=np.float64)
        cats = set(self.categorical)
        small = len(frame) <= SMALL_FRAME_ROWS
        for j, name in enumerate(self.names):
            if name in absent:
                out[:, j] = np.nan
                continue
            column = frame[name]
            if name in cats:
                codes = self._small_codes(name, column) if small else None
                if codes is None:
                    levels = pd.Index(self.categories.get(name, ()))
                    codes = levels.get_indexer(column.astype("string").fillna(MISSING_LEVEL))
                out[:, j] = np.where(codes < 0, np.nan, codes)
            elif column.dtype == np.float64:  # already numbers: to_numeric would return them
                out[:, j] = column.to_numpy()
            else:
                try:
                    out[:, j] = pd.to_numeric(column, errors="raise").to_numpy(
                        dtype=np.float64, na_value=np.nan
                    )
                except (ValueError, TypeError) as exc:
                    raise FeatureSpecError(f"feature {name!r} is not numeric: {exc}") from exc
        return out

    def level_codes(self, name: str) -> Mapping[str, int]:
        """Level -> code of a categorical feature, built once per spec (a lookup table the
        few-row paths reuse; the levels never change after fitting)."""
        tables: dict[str, dict[str, int]] | None = self.__dict__.get("_level_codes")
        if tables is None:
            tables = {}
            object.__setattr__(self, "_level_codes", tables)
        if name not in tables:
            levels = self.categories.get(name, ())
            # first occurrence wins, as pandas.Index.get_indexer on unique levels
            tables[name] = {level: code for code, level in reversed(list(enumerate(levels)))}
        return tables[name]

    def _small_codes(self, name: str, column: pd.Series) -> np.ndarray | None:
        """Level codes (-1 = unseen) of a few rows of plain strings or missing values, the
        same as ``get_indexer`` on ``astype("string").fillna(MISSING_LEVEL)``; None for any
        other value (the general path reads it)."""
        lookup = self.level_codes(name)
        codes = np.empty(len(column), dtype=np.int64)
        for i, value in enumerate(column.tolist()):
            if isinstance(value, str):
                codes[i] = lookup.get(value, -1)
            elif value is None or value is pd.NA or (type(value) is float and value != value):
                codes[i] = lookup.get(MISSING_LEVEL, -1)
            else:
                return None
        return codes

    def encode_record(self, record: Mapping[str, Any]) -> np.ndarray:
        """One dict -> (1, k) matrix without building a DataFrame (the online fast path)."""
        row = np.empty((1, len(self.names)), dtype=np.float64)
        cats = set(self.categorical)
        for j, name in enumerate(self.names):
            value = record.get(name)
            if name in cats:
                code = None if value is None else self.level_codes(name).get(str(value))
                row[0, j] = np.nan if code is None else code
            else:
                row[0, j] = np.nan if value is None else float(value)
        return row

    def encode_columns(self, columns: Mapping[str, Any], n_rows: int) -> np.ndarray:
        """Columns of a few rows (name -> list or array of ``n_rows`` values: numbers, or
        text / None for categories) -> float64 matrix in spec order: what :meth:`encode`
        gives the same values as a frame, without building one. An absent ``dim_<name>``
        column is missing, as in :meth:`encode`."""
        out = np.empty((n_rows, len(self.names)), dtype=np.float64)
        cats = set(self.categorical)
        for j, name in enumerate(self.names):
            if name not in columns:
                if not dimension_names([name]):
                    raise FeatureSpecError(f"missing feature columns: {name}")
                out[:, j] = np.nan
            elif name in cats:
                lookup = self.level_codes(name)
                missing = lookup.get(MISSING_LEVEL, -1)
                codes = [missing if v is None else lookup.get(str(v), -1) for v in columns[name]]
                out[:, j] = [np.nan if c < 0 else c for c in codes]
            else:
                out[:, j] = np.asarray(
                    [np.nan if v is None else v for v in columns[name]], dtype=np.float64
                ) if isinstance(columns[name], list) else np.asarray(columns[name], np.float64)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "descriptions": list(self.descriptions),
            "monotone": list(self.monotone),
            "categorical": list(self.categorical),
            "categories": {k: list(v) for k, v in self.categories.items()},
            "ranges": {k: list(v) for k, v in (getattr(self, "ranges", {}) or {}).items()},
        }

    @classmethod
    def from_catalog(cls, level: Level, *, dimensions: Sequence[str] = ()) -> FeatureSpec:
        """The spec of the declared feature catalog at ``level`` ("customer" or "invoice"):
        names, analyst descriptions, risk directions and categorical features, in catalog
        order, then ``dim_<name>`` per extra invoice dimension in ``dimensions``. The one
        place the catalog becomes a model spec (levels learned later)."""
        features = [*catalog(level), *(dimension_feature(name) for name in dimensions)]
        return cls.from_features(
            [f.name for f in features],
            [f.description for f in features],
            [f.direction for f in features],
            [f.name for f in features if f.kind == "categorical"],
        )

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
