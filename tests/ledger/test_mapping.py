"""The import mapping format: shipped mappings, clear errors naming the key, column parsing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from creditrisk.ledger.frame import TABLE_COLUMNS
from creditrisk.ledger.mapping import (
    ColumnSpec,
    LedgerMapping,
    MappingError,
    load_mapping,
    parse_column,
    parse_mapping,
    resolve_mapping_path,
    shipped_mappings,
)


def minimal(**invoice_overrides: Any) -> dict[str, Any]:
    """A valid mapping with only an invoices table; overrides replace invoice settings."""
    invoices: dict[str, Any] = {
        "file": "invoices.csv",
        "columns": {
            "invoice_id": "No",
            "customer_id": "Customer",
            "issue_date": {"column": "Date", "format": "%d.%m.%Y"},
            "due_date": {"column": "Due", "format": "%d.%m.%Y"},
            "amount": "Amount",
        },
    }
    invoices.update(invoice_overrides)
    return {"name": "test", "tables": {"invoices": invoices}}


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(MappingError) as caught:
        parse_mapping(data, base_dir=Path("/data"), source="m.yaml")
    return str(caught.value)


def test_shipped_mappings_are_found_by_name() -> None:
    names = shipped_mappings()
    assert {"canonical", "ibm_accounts_receivable"} <= set(names)
    assert resolve_mapping_path("canonical") == names["canonical"]


def test_ibm_mapping_leaves_outcomes_out() -> None:
    """DaysLate / DaysToSettle are outcomes and must never be imported as ledger data."""
    mapping = load_mapping("ibm_accounts_receivable")
    sources = {spec.column for table in mapping.tables.values() for spec in table.columns.values()}
    assert not {"DaysLate", "DaysToSettle"} & sources
    invoices = mapping.tables["invoices"]
    assert invoices.columns["issue_date"].format == "%m/%d/%Y"
    assert invoices.columns["disputed"].values == {"Yes": True, "No": False}
    assert mapping.tables["customers"].from_ == "invoices"
    assert mapping.tables["customers"].columns["country"].column == "countryCode"


def test_canonical_mapping_is_the_identity_of_the_ledger_contract() -> None:
    mapping = load_mapping("canonical")
    for table, columns in TABLE_COLUMNS.items():
        spec = mapping.tables[table]
        assert spec.file == f"{table}.parquet"
        assert {k: v.column for k, v in spec.columns.items()} == {c: c for c in columns}
        assert mapping.source_format(table, Path(spec.file)) == "parquet"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"columns": {**minimal()["tables"]["invoices"]["columns"], "amout": "X"}},
            "tables.invoices.columns.amout: not a column of the invoices table "
            "(did you mean 'amount'?)",
        ),
        (
            {"columns": {"invoice_id": "No", "customer_id": "C", "amount": "A"}},
            "tables.invoices.columns: due_date, issue_date must be mapped",
        ),
        (
            {
                "columns": {
                    **minimal()["tables"]["invoices"]["columns"],
                    "amount": {"column": "A", "format": "%Y"},
                }
            },
            "tables.invoices.columns.amount.format: only date columns take a format",
        ),
        (
            {
                "columns": {
                    **minimal()["tables"]["invoices"]["columns"],
                    "due_date": {"column": "Due", "format": "dd/mm/yyyy"},
                }
            },
            "unknown date format 'dd/mm/yyyy'",
        ),
        (
            {
                "columns": {
                    **minimal()["tables"]["invoices"]["columns"],
                    "disputed": {"column": "D", "values": {True: True, False: False}},
                }
            },
            "quote source values",
        ),
        (
            {
                "columns": {
                    **minimal()["tables"]["invoices"]["columns"],
                    "currency": {"column": "C", "constant": "EUR"},
                }
            },
            "give exactly one of 'column' (a source column), 'constant', 'row_number: true' or "
            "'key: [columns]'",
        ),
        (
            {
                "columns": {
                    **minimal()["tables"]["invoices"]["columns"],
                    "amount": {"column": "A", "required": False},
                }
            },
            "tables.invoices.columns.amount.required: the ledger always needs it",
        ),
        (
            {
                "columns": {
                    **minimal()["tables"]["invoices"]["columns"],
                    "disputed": {"constant": "maybe"},
                }
            },
            "tables.invoices.columns.disputed.constant: 'maybe' is not true or false",
        ),
        ({"encoding": "utf-99"}, "tables.invoices.encoding: Value error, unknown encoding"),
        ({"delimiter": ";;"}, "tables.invoices.delimiter"),
        ({"file": None}, "tables.invoices: give exactly one of 'file'"),
        ({"frm": "x"}, "tables.invoices.frm: Extra inputs are not permitted"),
    ],
)
def test_mapping_errors_name_the_key(change: dict[str, Any], expected: str) -> None:
    message = error_of(minimal(**change))
    assert message.startswith("mapping m.yaml is invalid:")
    assert expected.replace("Value error, ", "") in message


def test_unknown_table_and_from_rules() -> None:
    data = minimal()
    data["tables"]["payment"] = {"file": "p.csv", "columns": {}}
    assert "unknown ledger table 'payment' (did you mean 'payments'?)" in error_of(data)
    data = minimal()
    data["tables"]["payments"] = {
        "from": "invoices",
        "columns": {"payment_id": "a", "customer_id": "b", "paid_on": "c", "amount": "d"},
    }
    assert "only customers can be taken from the invoice file" in error_of(data)
    data = {"tables": {"customers": {"from": "invoices", "columns": {"customer_id": "C"}}}}
    assert "needs an invoices table with a file" in error_of(data)
    data = minimal()
    data["tables"]["payments"] = {
        "file": "p.csv",
        "allow_negative_amounts": True,
        "columns": {"payment_id": "a", "customer_id": "b", "paid_on": "c", "amount": "d"},
    }
    assert "only invoices may be negative" in error_of(data)


def test_yaml_unquoted_yes_no_keys_are_caught(tmp_path: Path) -> None:
    """YAML reads an unquoted Yes as true; the error must say to quote it."""
    text = (
        "tables:\n  invoices:\n    file: i.csv\n    columns:\n      invoice_id: a\n"
        "      customer_id: b\n      issue_date: c\n      due_date: d\n      amount: e\n"
        "      disputed: {column: f, values: {Yes: true, No: false}}\n"
    )
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(MappingError, match=r"tables\.invoices\.columns\.disputed\.values"):
        load_mapping(path)


def test_missing_or_broken_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"mapping file not found: 'nope\.yaml'"):
        load_mapping("nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("tables: [\n")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(broken)


def test_source_paths_resolve_against_the_mapping_or_the_data_dir(tmp_path: Path) -> None:
    mapping = parse_mapping(minimal(), base_dir=tmp_path)
    assert mapping.source_path("invoices") == tmp_path / "invoices.csv"
    assert mapping.source_path("invoices", Path("/elsewhere")) == Path("/elsewhere/invoices.csv")
    moved = mapping.with_files({"invoices": tmp_path / "other.csv"})
    assert moved.source_path("invoices", Path("/elsewhere")) == tmp_path / "other.csv"
    assert mapping.source_format("invoices", Path("x.csv.gz")) == "csv"
    with pytest.raises(MappingError, match="set format: csv or format: parquet"):
        mapping.source_format("invoices", Path("x.xlsx"))
    with pytest.raises(MappingError, match="the mapping has no 'payments' table"):
        mapping.with_files({"payments": tmp_path / "p.csv"})


def _parse(
    values: list[Any], kind: str, spec: dict[str, Any] | str
) -> tuple[list[Any], list[bool]]:
    table = LedgerMapping.model_validate(
        {"tables": minimal()["tables"], "base_dir": Path(".")}
    ).tables["invoices"]
    parsed = parse_column(pd.Series(values), kind, ColumnSpec.model_validate(spec), table)
    out = [None if pd.isna(v) else v for v in parsed.values.tolist()]
    return out, parsed.invalid.tolist()


@pytest.mark.parametrize(
    ("values", "fmt", "expected"),
    [
        (["1/2/2013", "12/31/2013"], "%m/%d/%Y", ["2013-01-02", "2013-12-31"]),
        ([20190102.0, "20190103"], "yyyymmdd_number", ["2019-01-02", "2019-01-03"]),
        ([1546387200, "1546473600"], "epoch_s", ["2019-01-02", "2019-01-03"]),
        ([1546387200000], "epoch_ms", ["2019-01-02"]),
        ([17898], "epoch_days", ["2019-01-02"]),
        ([43467], "excel_days", ["2019-01-02"]),
        (["2019-01-02", "2019-01-02T23:59:00"], None, ["2019-01-02", "2019-01-02"]),
        (
            ["2019-01-02T23:30:00+02:00", "2019-01-03T01:00:00-05:00", "2019-01-04T10:00Z"],
            "iso",
            ["2019-01-02", "2019-01-03", "2019-01-04"],  # the local calendar day is kept
        ),
    ],
)
def test_date_formats(values: list[Any], fmt: str | None, expected: list[str]) -> None:
    spec: dict[str, Any] = {"column": "d"} if fmt is None else {"column": "d", "format": fmt}
    out, invalid = _parse(values, "date", spec)
    assert out == [pd.Timestamp(e) for e in expected]
    assert not any(invalid)


def test_unreadable_and_implausible_dates_are_flagged_blank_is_not() -> None:
    out, invalid = _parse(
        ["13/45/2013", "", None, "12/31/9999", "1/2/2013"],
        "date",
        {"column": "d", "format": "%m/%d/%Y"},
    )
    assert invalid == [True, False, False, True, False]
    assert out[-1] == pd.Timestamp("2013-01-02")
    _, invalid = _parse([20190102.5, 1e30], "date", {"column": "d", "format": "yyyymmdd_number"})
    assert invalid == [True, True]


def test_value_maps_and_yes_no_words() -> None:
    out, invalid = _parse(
        ["Yes", "No", "Maybe", None], "bool", {"column": "d", "values": {"Yes": True, "No": False}}
    )
    assert out[:2] == [True, False]
    assert invalid == [False, False, True, False]
    out, invalid = _parse(["TRUE", "n", "1", "perhaps"], "bool", "d")
    assert out[:3] == [True, False, True]
    assert invalid == [False, False, False, True]


def test_numbers_and_ids() -> None:
    out, invalid = _parse(["12.50", " 3 ", "abc", "inf", None], "float", "a")
    assert out[:2] == [12.5, 3.0]
    assert invalid == [False, False, True, True, False]
    ids, _ = _parse([611365.0, 7900770.0, np.nan], "id", "i")
    assert ids == ["611365", "7900770", None], "whole-number ids must not get a '.0'"
    ids, _ = _parse(["007", " A-1 "], "id", "i")
    assert ids == ["007", "A-1"], "leading zeros kept, spaces trimmed"
