"""Routing rows of one file to invoices or credit notes by a source column, extra named
invoice dimensions kept on the invoice and built as categorical features ``dim_<name>``, and
the data-quality rules' one declaration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from creditrisk.features.catalog import dimension_feature, dimension_names
from creditrisk.features.invoice import build_invoice_features
from creditrisk.ledger.dimensions import MAX_EXTRA_DIMENSIONS
from creditrisk.ledger.errors import ImportRejected, MappingError
from creditrisk.ledger.frame import QUALITY_FLAGS, TABLE_COLUMNS
from creditrisk.ledger.importer import import_ledger
from creditrisk.ledger.quality import QUALITY_RULES
from creditrisk.models.spec import FeatureSpec
from tests.ledger.erp_export import stored
from tests.ledger.test_mapping_rules import invoices_mapping

ROUTED = (
    "Doc,Cust,Issued,Due,Amount,Type\n"
    "I1,C1,2024-01-05,2024-02-04,100,Invoice\n"
    "I2,C1,2024-01-06,2024-01-06,40,Credit memo\n"
    "I3,C1,2024-01-07,2024-01-07,5,Payment difference\n"
    "I4,C1,2024-01-08,2024-02-07,-70,Invoice\n"
)
ROUTE = {"column": "Type", "values": {"Invoice": "invoice", "Credit memo": "credit_note"}}


def test_rows_are_routed_to_invoices_or_credit_notes_and_counted(
    tmp_path: Path, migrated_engine: Engine
) -> None:
    result = import_ledger(invoices_mapping(tmp_path, ROUTED, route=ROUTE),
                           engine=migrated_engine)
    assert result.report.rule_rows == {
        "invoices": {"not_routed": 1, "routed_invoices": 2, "routed_credit_notes": 1}
    }
    amounts = stored(migrated_engine).invoices.set_index("invoice_id")["amount"].to_dict()
    # credit notes are negative invoices; the route gives the sign whatever the export's
    assert amounts == {"I1": 100.0, "I2": -40.0, "I4": 70.0}


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"route": ROUTE, "amount_sign": {"column": "Type", "values": {"Invoice": 1}}},
         "give route or amount_sign, not both"),
        ({"route": {"column": "Type", "values": {"Invoice": "payment"}}}, "route.values"),
        ({"route": {"column": "Type", "values": {}}}, "at least one source value"),
    ],
)
def test_a_wrong_route_is_refused_naming_the_key(
    tmp_path: Path, extra: dict[str, object], words: str
) -> None:
    with pytest.raises(MappingError, match=words):
        invoices_mapping(tmp_path, ROUTED, **extra)


def test_a_route_column_missing_from_the_file_rejects_the_file(
    tmp_path: Path, migrated_engine: Engine
) -> None:
    mapping = invoices_mapping(tmp_path, ROUTED, route={**ROUTE, "column": "Kind"})
    with pytest.raises(ImportRejected) as caught:
        import_ledger(mapping, engine=migrated_engine)
    assert "column 'Kind' is missing" in caught.value.report.problems["problem"].iloc[0]


WITH_ORG = (
    "Doc,Cust,Issued,Due,Settled,Amount,Org,Center\n"
    "I1,C1,2024-01-05,2024-02-04,2024-02-01,100,S100,PC1\n"
    "I2,C1,2024-02-05,2024-03-06,2024-03-20,250,S200,\n"
    "I3,C2,2024-02-07,2024-03-08,2024-03-01,80,,\n"
    "I4,C2,2024-03-07,2024-04-06,,90,S100,PC2\n"
)


def test_extra_dimensions_are_kept_and_become_categorical_features(
    tmp_path: Path, migrated_engine: Engine
) -> None:
    mapping = invoices_mapping(
        tmp_path, WITH_ORG, columns={"settled_date": "Settled"},
        dimensions={"sales_org": "Org", "profit_center": {"column": "Center"}},
    )
    import_ledger(mapping, engine=migrated_engine)
    ledger = stored(migrated_engine)
    kept = ledger.invoices.set_index("invoice_id")["dimensions"]
    assert kept["I1"] == '{"profit_center":"PC1","sales_org":"S100"}'
    assert kept["I2"] == '{"sales_org":"S200"}'  # empty values are left out
    assert kept.isna()["I3"]
    assert import_ledger(mapping, engine=migrated_engine).counts["invoices"].written == 0

    features = build_invoice_features(ledger)
    names = dimension_names(features.columns)
    assert names == ["profit_center", "sales_org"]
    assert features["invoice_id"].tolist() == ["I1", "I2", "I3", "I4"]
    assert features["dim_sales_org"].isna().tolist() == [False, False, True, False]
    assert features["dim_sales_org"].dropna().tolist() == ["S100", "S200", "S100"]
    spec = FeatureSpec.from_catalog("invoice", dimensions=names).with_levels_from(features)
    assert "dim_sales_org" in spec.categorical
    assert spec.categories["dim_sales_org"] == ("S100", "S200")
    assert spec.monotone[spec.names.index("dim_sales_org")] == 0
    codes = spec.encode(features)[:, spec.names.index("dim_sales_org")]
    assert codes[[0, 1, 3]].tolist() == [0.0, 1.0, 0.0]
    assert np.isnan(codes[2])
    # serving a ledger whose invoices carry no such dimension: the column is missing
    without = features.drop(columns=["dim_sales_org", "dim_profit_center"])
    assert np.isnan(spec.encode(without)[:, spec.names.index("dim_sales_org")]).all()
    assert dimension_feature("sales_org").kind == "categorical"


def test_a_dimension_value_too_long_rejects_the_row(
    tmp_path: Path, migrated_engine: Engine
) -> None:
    text = WITH_ORG.replace("S200", "S" * 65)
    mapping = invoices_mapping(tmp_path, text, dimensions={"sales_org": "Org"})
    with pytest.raises(ImportRejected) as caught:
        import_ledger(mapping, engine=migrated_engine)
    problems = caught.value.report.problems
    assert problems["row"].tolist() == [3]
    assert problems["problem"].iloc[0] == "longer than 64 characters (dimension sales_org)"


@pytest.mark.parametrize(
    ("dimensions", "words"),
    [
        ({"Sales Org": "Org"}, "lower-case letters, digits and _"),
        ({"x" * 33: "Org"}, "at most 32 characters"),
        ({"segment": "Org"}, "an invoice column of its own"),
        ({f"d{i}": "Org" for i in range(MAX_EXTRA_DIMENSIONS + 1)}, "at most 8"),
        ({"sales_org": {"column": "Org", "format": "%d.%m.%Y"}}, "only date columns|a source"),
        ({"sales_org": {"key": ["Org", "Cust"]}}, "a dimension is a source column"),
    ],
)
def test_a_wrong_dimension_is_refused_naming_the_key(
    tmp_path: Path, dimensions: dict[str, object], words: str
) -> None:
    with pytest.raises(MappingError, match=words):
        invoices_mapping(tmp_path, WITH_ORG, dimensions=dimensions)


def test_only_invoices_take_dimensions(tmp_path: Path) -> None:
    from tests.ledger.test_mapping_rules import mapping_for

    (tmp_path / "c.csv").write_text("Id,Org\nC1,S1\n")
    with pytest.raises(MappingError, match="only invoices take extra dimensions"):
        mapping_for(tmp_path, {"customers": {"file": "c.csv", "columns": {"customer_id": "Id"},
                                             "dimensions": {"org": "Org"}}})


def test_each_quality_rule_flags_what_the_ledger_knows_and_reads_mapped_columns() -> None:
    assert {rule.flag for rule in QUALITY_RULES} == set(QUALITY_FLAGS)
    for rule in QUALITY_RULES:
        assert rule.actions[0] == "reject"  # the default
        assert (rule.repair is not None) == (rule.keeps == "repair"), rule.name
        assert {rule.column, *rule.needs} <= set(TABLE_COLUMNS[rule.table]), rule.name
        assert rule.label_effect, rule.name


def test_dimensions_as_stored_json_are_checked_and_kept_canonical(
    tmp_path: Path, migrated_engine: Engine
) -> None:
    """The canonical files carry ``dimensions`` as stored (JSON text): read back to the same
    canonical text, and a text that is not such an object rejects the row."""
    text = (
        "Doc\tCust\tIssued\tDue\tAmount\tDims\n"
        'I1\tC1\t2024-01-05\t2024-02-04\t100\t{"sales_org": "S1", "center": "P"}\n'
        "I2\tC1\t2024-01-06\t2024-02-05\t50\t\n"
        'I3\tC1\t2024-01-07\t2024-02-06\t70\t{"Bad Name": "x"}\n'
        "I4\tC1\t2024-01-08\t2024-02-07\t70\t[1, 2]\n"
    )
    mapping = invoices_mapping(tmp_path, text, delimiter="\t", columns={"dimensions": "Dims"})
    result = import_ledger(mapping, engine=migrated_engine, skip_bad_rows=True)
    problems = result.report.problems
    assert problems["row"].tolist() == [4, 5]
    assert "lower-case letters" in problems["problem"].iloc[0]
    assert problems["problem"].iloc[1] == (
        "not a JSON object of dimension names and texts (dimensions)"
    )
    kept = stored(migrated_engine).invoices.set_index("invoice_id")["dimensions"]
    assert kept["I1"] == '{"center":"P","sales_org":"S1"}'
    assert kept.isna()["I2"]
