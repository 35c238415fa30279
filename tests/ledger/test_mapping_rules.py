"""Mapping rules on small exports: optional columns left out, filters, generated ids,
amount sign, value-map defaults, epoch_us, data-quality rules, ambiguous separators."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from creditrisk.ledger.errors import ImportRejected, MappingError
from creditrisk.ledger.importer import import_ledger
from creditrisk.ledger.mapping import REQUIRED_COLUMNS, LedgerMapping, parse_mapping
from creditrisk.ledger.store import count_rows
from tests.ledger.erp_export import stored

INVOICES = (
    "Doc,Cust,Issued,Due,Settled,Amount\n"
    "I1,C1,2024-01-05,2024-02-04,2024-02-01,100.00\n"
    "I2,C1,2024-02-05,2024-03-06,,250.50\n"
)
# every table with only what the ledger needs on every row (no optional column mapped)
MINIMAL: dict[str, tuple[str, str, dict[str, str]]] = {
    "customers": ("customers.csv", "Id\nC1\n", {"customer_id": "Id"}),
    "invoices": (
        "invoices.csv",
        INVOICES,
        {
            "invoice_id": "Doc",
            "customer_id": "Cust",
            "issue_date": "Issued",
            "due_date": "Due",
            "amount": "Amount",
        },
    ),
    "payments": (
        "payments.csv",
        "Pay,Cust,On,Amt\nP1,C1,2024-02-01,100\n",
        {"payment_id": "Pay", "customer_id": "Cust", "paid_on": "On", "amount": "Amt"},
    ),
    "credit_events": (
        "events.csv",
        "Cust,Date,Type\nC1,2024-02-20,reminder\n",
        {"customer_id": "Cust", "event_date": "Date", "event_type": "Type"},
    ),
    "customer_attributes": (
        "ratings.csv",
        "Cust,From,Attr\nC1,2024-01-01,rating\n",
        {"customer_id": "Cust", "valid_from": "From", "attribute": "Attr"},
    ),
}


def mapping_for(folder: Path, tables: dict[str, dict[str, object]]) -> LedgerMapping:
    return parse_mapping({"tables": tables}, base_dir=folder)


@pytest.mark.parametrize("table", list(MINIMAL))
def test_every_optional_column_can_be_left_unmapped(
    table: str, tmp_path: Path, migrated_engine: Engine
) -> None:
    """Each table mapped with its required columns only (invoices too, for the tables that
    refer to one) imports; invoices also with --skip-bad-rows (both once crashed with
    KeyError 'disputed')."""
    skip_bad_rows = table == "invoices"
    tables: dict[str, dict[str, object]] = {}
    for name in ("invoices", table):
        file, text, columns = MINIMAL[name]
        (tmp_path / file).write_text(text)
        assert set(columns) == set(REQUIRED_COLUMNS[name]) | (
            {"invoice_id"} if name == "invoices" else set()
        )
        tables[name] = {"file": file, "columns": columns}
    result = import_ledger(
        mapping_for(tmp_path, tables), engine=migrated_engine, skip_bad_rows=skip_bad_rows
    )
    assert result.n_rejected == 0
    rows = count_rows(migrated_engine)
    assert rows["invoices"] == 2
    assert rows[table] >= 1
    invoices = stored(migrated_engine).invoices
    assert not invoices["disputed"].any()  # the database default, not a crash


def invoices_mapping(folder: Path, text: str, **extra: object) -> LedgerMapping:
    (folder / "inv.csv").write_text(text)
    columns: dict[str, object] = {
        "invoice_id": "Doc",
        "customer_id": "Cust",
        "issue_date": "Issued",
        "due_date": "Due",
        "amount": "Amount",
    }
    columns.update(extra.pop("columns", {}))  # type: ignore[call-overload]
    return mapping_for(folder, {"invoices": {"file": "inv.csv", "columns": columns, **extra}})


def test_row_number_ids_are_stable_and_filters_count_what_they_drop(
    tmp_path: Path, migrated_engine: Engine
) -> None:
    text = (
        "Cust,Issued,Due,Amount,Kind\n"
        "C1,2024-01-05,2024-02-04,100,RV\n"
        "C1,2024-01-06,2024-02-05,50,ZP\n"
        "C1,2024-01-07,2024-02-06,70,RV\n"
    )
    mapping = invoices_mapping(
        tmp_path,
        text,
        columns={"invoice_id": {"row_number": True, "prefix": "inv-"}},
        filters=[{"column": "Kind", "not_in": ["ZP"]}],
    )
    first = import_ledger(mapping, engine=migrated_engine)
    assert first.report.rule_rows == {"invoices": {"filtered_out": 1}}
    assert sorted(stored(migrated_engine).invoices["invoice_id"]) == [
        "inv-2",
        "inv-4",
    ]  # line numbers
    again = import_ledger(mapping, engine=migrated_engine)
    assert again.counts["invoices"].written == 0


def test_quality_rules_reject_by_default_and_name_the_option(
    tmp_path: Path, migrated_engine: Engine
) -> None:
    text = (
        "Doc,Cust,Issued,Due,Amount\n"
        "I1,C1,2024-01-05,2024-01-01,100\n"
        "I2,C1,2024-01-05,2024-02-04,0\n"
    )
    with pytest.raises(ImportRejected) as caught:
        import_ledger(invoices_mapping(tmp_path, text), engine=migrated_engine)
    report = caught.value.report
    assert report.rule_rows == {
        "invoices": {"zero_amount_rejected": 1, "due_before_issue_rejected": 1}
    }
    problems = " ".join(report.problems["problem"])
    assert "quality.due_before_issue: repair" in problems
    assert "quality.zero_amount: flag" in problems
    assert count_rows(migrated_engine)["invoices"] == 0


def test_keep_with_a_flag_is_refused_where_the_ledger_cannot_hold_the_row(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"quality\.due_before_issue: 'flag' is not possible"):
        invoices_mapping(tmp_path, INVOICES, quality={"due_before_issue": "flag"})


def test_ambiguous_thousands_separator_is_refused_naming_the_option(
    tmp_path: Path, migrated_engine: Engine
) -> None:
    text = (
        "Doc;Cust;Issued;Due;Amount\n"
        "I1;C1;2024-01-05;2024-02-04;1.234\n"
        "I2;C1;2024-01-05;2024-02-04;12,5\n"
    )
    mapping = invoices_mapping(tmp_path, text, delimiter=";", decimal=",")
    with pytest.raises(ImportRejected) as caught:
        import_ledger(mapping, engine=migrated_engine)
    problems = caught.value.report.problems
    assert problems["row"].tolist() == [2]
    assert "set thousands: '.'" in problems["problem"].iloc[0]
    declared = invoices_mapping(tmp_path, text, delimiter=";", decimal=",", thousands=".")
    import_ledger(declared, engine=migrated_engine)
    amounts = sorted(stored(migrated_engine).invoices["amount"])
    assert amounts == [12.5, 1234.0]


def test_epoch_us_sign_by_posting_type_and_terms_default(
    tmp_path: Path, migrated_engine: Engine
) -> None:
    text = (
        "Doc,Cust,Issued,Due,Amount,Type,Terms\n"
        "I1,C1,1704412800000000,1707004800000000,100,Invoice,Z030\n"
        "I2,C1,1704412800000000,1704412800000000,40,Credit memo,\n"
    )
    (tmp_path / "inv.csv").write_text(text)
    tables: dict[str, dict[str, object]] = {
        "invoices": {
            "file": "inv.csv",
            "amount_sign": {"column": "Type", "values": {"Invoice": 1, "Credit memo": -1}},
            "columns": {
                "invoice_id": "Doc",
                "customer_id": "Cust",
                "issue_date": {"column": "Issued", "format": "epoch_us"},
                "due_date": {"column": "Due", "format": "epoch_us"},
                "amount": "Amount",
                "terms_code": "Terms",
            },
        },
        "customers": {
            "from": "invoices",
            "columns": {
                "customer_id": "Cust",
                "payment_terms_days": {"column": "Terms", "values": {"Z030": 30}, "default": 45},
            },
        },
    }
    import_ledger(mapping_for(tmp_path, tables), engine=migrated_engine)
    ledger = stored(migrated_engine)
    invoices = ledger.invoices.set_index("invoice_id")
    assert str(invoices.loc["I1", "issue_date"].date()) == "2024-01-05"
    assert invoices["amount"].to_dict() == {"I1": 100.0, "I2": -40.0}
    assert ledger.customers["payment_terms_days"].tolist() == [30.0]
    text_blank_first = text.replace("Z030\n", "\n", 1)
    (tmp_path / "inv.csv").write_text(text_blank_first)
    import_ledger(mapping_for(tmp_path, tables), engine=migrated_engine)
    assert stored(migrated_engine).customers["payment_terms_days"].tolist() == [45.0]


def test_generated_ids_only_for_the_table_key(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="only the table's id"):
        invoices_mapping(tmp_path, INVOICES, columns={"customer_id": {"key": ["Cust", "Doc"]}})
