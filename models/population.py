"""Population binning and the population stability index (PSI): the one definition of how a
rated population is compared with the one a model was trained on, or with a previous run.

A :class:`Binning` splits one variable into bins: numeric variables by inner edges (a value
``v`` falls in bin ``i`` when ``edges[i-1] < v <= edges[i]``, open at both ends), categorical
ones by level (unseen levels in an ``other`` bin); missing values always have their own last
bin. :func:`reference_population` learns decile edges and the shares of each bin on the
training rows; the bundle carries that (``metadata["population_reference"]``, a compact
JSON-safe dict), and a rescoring counts its customers into the same bins.

PSI = sum over bins of (actual share - expected share) x ln(actual / expected), shares floored
at :data:`PSI_FLOOR` so an empty bin does not make it infinite. Usual reading (and the flags
used here): below 0.1 stable, 0.1 to 0.25 a shift worth a look (amber), above 0.25 a
significant shift (red).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

PSI_FLOOR: Final = 1e-4
PSI_AMBER: Final = 0.1
PSI_RED: Final = 0.25
REFERENCE_BINS: Final = 10
SCORE_VARIABLE: Final = "pd_12m"
"""The name under which the model's PD (not the rated 1 in default) is binned."""


@dataclass(frozen=True)
class Binning:
    """How one variable is binned (see the module docstring); ``shares`` are the training
    population's, when known (one per bin, the missing bin last)."""

    name: str
    edges: tuple[float, ...] = ()
    levels: tuple[str, ...] | None = None
    shares: tuple[float, ...] | None = None

    @property
    def categorical(self) -> bool:
        return self.levels is not None

    @property
    def n_bins(self) -> int:
        """Bins including the missing bin (and ``other`` for categorical variables)."""
        if self.levels is not None:
            return len(self.levels) + 2
        return len(self.edges) + 2

    def counts(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """How many values fall in each bin (int64, length :attr:`n_bins`)."""
        series = pd.Series(values)
        missing = series.isna().to_numpy(bool)
        if self.levels is not None:
            lookup = {level: i for i, level in enumerate(self.levels)}
            other = len(self.levels)
            index = np.fromiter(
                (lookup.get(str(v), other) for v in series.astype(object).tolist()),
                dtype=np.int64, count=len(series),
            )
        else:
            numbers = pd.to_numeric(series, errors="coerce").to_numpy(np.float64)
            missing = missing | np.isnan(numbers)
            index = np.searchsorted(np.asarray(self.edges, dtype=np.float64),
                                    np.nan_to_num(numbers), side="left").astype(np.int64)
        index[missing] = self.n_bins - 1
        return np.bincount(index, minlength=self.n_bins).astype(np.int64)

    def same_bins(self, other: Binning) -> bool:
        return self.edges == other.edges and self.levels == other.levels

    def to_dict(self) -> dict[str, Any]:
        return {
            "edges": list(self.edges),
            "levels": None if self.levels is None else list(self.levels),
            "shares": None if self.shares is None else list(self.shares),
        }

    @classmethod
    def from_dict(cls, name: str, raw: Mapping[str, Any]) -> Binning:
        levels = raw.get("levels")
        shares = raw.get("shares")
        return cls(
            name=name,
            edges=tuple(float(e) for e in raw.get("edges") or ()),
            levels=None if levels is None else tuple(str(v) for v in levels),
            shares=None if shares is None else tuple(float(s) for s in shares),
        )


def shares_of(counts: Sequence[float] | np.ndarray) -> np.ndarray:
    total = float(np.sum(counts))
    array = np.asarray(counts, dtype=np.float64)
    return array / total if total > 0 else np.zeros_like(array)


def psi(expected_shares: Sequence[float] | np.ndarray,
        actual_shares: Sequence[float] | np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    expected = np.maximum(np.asarray(expected_shares, dtype=np.float64), PSI_FLOOR)
    actual = np.maximum(np.asarray(actual_shares, dtype=np.float64), PSI_FLOOR)
    if expected.shape != actual.shape:
        raise ValueError(f"PSI needs the same bins, got {expected.shape} and {actual.shape}")
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def psi_flag(value: float) -> str:
    """``green`` below 0.1, ``amber`` up to 0.25, ``red`` above; ``n/a`` when unknown."""
    if value is None or math.isnan(value):
        return "n/a"
    return "red" if value > PSI_RED else "amber" if value > PSI_AMBER else "green"


def decile_edges(values: pd.Series, bins: int = REFERENCE_BINS) -> tuple[float, ...]:
    """Unique inner quantile edges of the finite values (empty without any)."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
    finite = numbers[np.isfinite(numbers)]
    if not len(finite):
        return ()
    quantiles = np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])
    return tuple(float(q) for q in np.unique(quantiles))


def learn_binning(name: str, values: pd.Series, *, categorical: bool,
                  bins: int = REFERENCE_BINS) -> Binning:
    """Edges (or levels) learned from ``values`` and their shares."""
    if categorical:
        levels = tuple(sorted(str(v) for v in pd.Series(values).dropna().unique()))
        binning = Binning(name, levels=levels)
    else:
        binning = Binning(name, edges=decile_edges(values, bins))
    shares = shares_of(binning.counts(values))
    return Binning(binning.name, binning.edges, binning.levels,
                   tuple(round(float(s), 6) for s in shares))


def reference_population(
    features: pd.DataFrame, *, categorical: Sequence[str], model_pd_12m: np.ndarray,
    score_edges: Sequence[float], bins: int = REFERENCE_BINS,
) -> dict[str, Any]:
    """The training population, compact: per feature column of ``features`` and for the
    model's PD (binned on ``score_edges``, the master scale's inner PD edges), the binning
    and its shares. JSON-safe (for the bundle's metadata)."""
    out: dict[str, Any] = {}
    for name in features.columns:
        out[str(name)] = learn_binning(str(name), features[name],
                                       categorical=name in categorical, bins=bins).to_dict()
    score = Binning(SCORE_VARIABLE, edges=tuple(float(e) for e in score_edges))
    score_shares = shares_of(score.counts(np.asarray(model_pd_12m, dtype=np.float64)))
    out[SCORE_VARIABLE] = Binning(
        SCORE_VARIABLE, score.edges, None, tuple(round(float(s), 6) for s in score_shares)
    ).to_dict()
    return out


def binnings_from(reference: Mapping[str, Any]) -> dict[str, Binning]:
    """:func:`reference_population`'s dict back as binnings."""
    return {name: Binning.from_dict(name, raw) for name, raw in reference.items()}
