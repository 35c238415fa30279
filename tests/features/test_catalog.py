"""The catalog is the single declared list: frames follow it, docs render from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from creditrisk.features.catalog import (
    CUSTOMER_FEATURES,
    INVOICE_FEATURES,
    CatalogError,
    catalog_markdown,
    categorical_names,
    feature,
    feature_names,
    monotone_constraints,
)
from creditrisk.features.customer import build_features
from creditrisk.features.invoice import build_invoice_features
from tests.features.hand_ledger import AS_OF, hand_ledger

DOC = Path(__file__).resolve().parents[2] / "docs" / "features.md"


@pytest.mark.parametrize("level", ["customer", "invoice"])
def test_names_are_unique_and_described(level: str) -> None:
    """Every feature has a unique name, an analyst description and a valid direction."""
    features = CUSTOMER_FEATURES if level == "customer" else INVOICE_FEATURES
    names = [f.name for f in features]
    assert len(names) == len(set(names))
    assert all(f.level == level for f in features)
    assert all(f.description and f.description[0].isupper() for f in features)
    assert len({f.description for f in features}) == len(features)
    assert all(f.direction in (-1, 0, 1) for f in features)
    assert all(f.kind in ("numeric", "categorical") for f in features)
    assert all(re.fullmatch(r"[a-z0-9_]+", n) for n in names)


def test_windows_are_in_the_names() -> None:
    """A feature over N days says so in its name (``_90d``/``_365d``) and its window."""
    for f in CUSTOMER_FEATURES:
        match = re.search(r"_(\d+)d$", f.name)
        if match:
            assert f.window_days is not None, f.name
            assert f.window_days >= int(match.group(1)), f.name


@pytest.mark.parametrize("level", ["customer", "invoice"])
def test_monotone_constraints_align_with_names(level: str) -> None:
    constraints = monotone_constraints(level)  # type: ignore[arg-type]
    names = feature_names(level)  # type: ignore[arg-type]
    assert len(constraints) == len(names)
    for name, constraint in zip(names, constraints, strict=True):
        if name in categorical_names(level):  # type: ignore[arg-type]
            assert constraint == 0
    late_share = "late_share_365d" if level == "customer" else "prior_late_share"
    assert constraints[names.index(late_share)] == 1


def test_frames_follow_the_catalog_order() -> None:
    ledger = hand_ledger()
    assert list(build_features(ledger, as_of=AS_OF).columns) == feature_names("customer")
    invoice = build_invoice_features(ledger)
    assert list(invoice.columns)[5:] == feature_names("invoice")


def test_unknown_level_or_name_is_refused() -> None:
    with pytest.raises(CatalogError, match="bank"):
        feature_names("bank")  # type: ignore[arg-type]
    with pytest.raises(CatalogError, match="no customer feature named 'shoe_size'"):
        feature("shoe_size", "customer")
    assert feature("dso_days", "customer").direction == 1


@pytest.mark.parametrize("level", ["customer", "invoice"])
def test_docs_show_the_catalog_as_declared(level: str) -> None:
    """docs/features.md holds the tables rendered by ``catalog_markdown`` (regenerate with
    ``from features.catalog import catalog_markdown; print(catalog_markdown("customer"))``)."""
    text = DOC.read_text()
    start, end = f"<!-- catalog:{level} -->\n", f"<!-- /catalog:{level} -->"
    assert start in text
    assert end in text
    table = text.split(start, 1)[1].split(end, 1)[0]
    assert table == catalog_markdown(level)  # type: ignore[arg-type]
