"""The feature catalog: every feature the models see, declared once, read from here.

Each :class:`Feature` (:mod:`features.declaration`) carries its name (the column name
everywhere: feature frames, model signatures, reason codes), a description a credit analyst
understands (shown as a reason code), the direction of risk (used as a LightGBM monotone
constraint where that is sound), its family, its look-back window and its level (one row per
customer, or per invoice). The declarations live in :mod:`features.customer_catalog` and
:mod:`features.invoice_catalog`; this module is how the rest of the code reads them (column
order, categorical names, monotone constraints, the Markdown of docs/features.md).

Direction: ``+1`` a higher value means higher risk, ``-1`` a higher value means lower risk,
``0`` not monotone or not known. Windows: "last N days" as of date ``T`` means records dated
``T - N < d <= T``.
"""

from __future__ import annotations

from collections.abc import Iterable

from creditrisk.features.customer_catalog import CUSTOMER_FEATURES
from creditrisk.features.declaration import Feature, Kind, Level
from creditrisk.features.invoice_catalog import INVOICE_FEATURES, INVOICE_ID_COLUMNS

__all__ = [
    "CUSTOMER_FEATURES",
    "DIMENSION_FEATURE_PREFIX",
    "INVOICE_FEATURES",
    "INVOICE_ID_COLUMNS",
    "LEVELS",
    "CatalogError",
    "Feature",
    "Kind",
    "Level",
    "catalog",
    "catalog_markdown",
    "categorical_names",
    "dimension_feature",
    "dimension_names",
    "feature",
    "feature_names",
    "monotone_constraints",
]


class CatalogError(ValueError):
    """A feature level or name that the catalog does not declare."""


LEVELS: tuple[Level, ...] = ("customer", "invoice")

DIMENSION_FEATURE_PREFIX = "dim_"


def dimension_feature(name: str) -> Feature:
    """The feature of an extra named invoice dimension (``dimensions:`` in the import
    mapping, kept in ``invoices.dimensions``): ``dim_<name>``, categorical, no risk
    direction. The one declaration of the family: which names a model was trained with
    travel in its bundle's invoice spec, so serving encodes the same columns."""
    return Feature(
        DIMENSION_FEATURE_PREFIX + name,
        f"Invoice dimension '{name}' of the export (named in the import mapping)",
        0,
        "dimension",
        None,
        "invoice",
        "categorical",
    )


def dimension_names(columns: Iterable[str]) -> list[str]:
    """The extra dimension names behind the ``dim_<name>`` columns among ``columns``."""
    prefix = DIMENSION_FEATURE_PREFIX
    return [c[len(prefix):] for c in columns if c.startswith(prefix) and len(c) > len(prefix)]


def catalog(level: Level) -> tuple[Feature, ...]:
    """The declared features of ``level`` ("customer" or "invoice"), in column order."""
    if level == "customer":
        return CUSTOMER_FEATURES
    if level == "invoice":
        return INVOICE_FEATURES
    raise CatalogError(f"unknown feature level {level!r} (expected one of {', '.join(LEVELS)})")


def feature_names(level: Level) -> list[str]:
    """Column names of ``level``'s features, in catalog order."""
    return [f.name for f in catalog(level)]


def categorical_names(level: Level) -> list[str]:
    """Names of the categorical features of ``level``."""
    return [f.name for f in catalog(level) if f.kind == "categorical"]


def monotone_constraints(level: Level) -> list[int]:
    """LightGBM ``monotone_constraints``, aligned with :func:`feature_names`.

    Categorical features are never constrained.
    """
    return [0 if f.kind == "categorical" else int(f.direction) for f in catalog(level)]


def feature(name: str, level: Level) -> Feature:
    """The declared feature called ``name`` at ``level``."""
    for f in catalog(level):
        if f.name == name:
            return f
    if level == "invoice" and dimension_names([name]):
        return dimension_feature(dimension_names([name])[0])
    raise CatalogError(f"no {level} feature named {name!r} in the catalog")


_DIRECTION_WORDS = {1: "higher = riskier", -1: "higher = safer", 0: "-"}


def catalog_markdown(level: Level) -> str:
    """The catalog of ``level`` as a Markdown table (used for docs/features.md)."""
    lines = [
        "| feature | description | risk direction | family | window (days) | kind |",
        "|---|---|---|---|---|---|",
    ]
    for f in catalog(level):
        window = "" if f.window_days is None else str(f.window_days)
        lines.append(
            f"| `{f.name}` | {f.description} | {_DIRECTION_WORDS[f.direction]} | {f.family} "
            f"| {window} | {f.kind} |"
        )
    return "\n".join(lines) + "\n"
