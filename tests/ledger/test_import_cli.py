"""``creditrisk ledger import``: counts printed, rejections as a table with exit 1, bad
mappings as exit 2 without a traceback, rejects written with --skip-bad-rows."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from creditrisk.cli import app
from creditrisk.ledger.database import make_engine
from creditrisk.ledger.store import count_rows, ensure_schema
from tests.ledger.erp_export import EMPTY, run_import, write_export

# ---------------------------------------------------------------- the command line

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["ledger", "import", *args], env={"COLUMNS": "250"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_cli_imports_and_prints_counts(tmp_path: Path, sqlite_url: str) -> None:
    write_export(tmp_path)
    code, output = invoke("--mapping", str(tmp_path / "mapping.yaml"), "--database-url", sqlite_url)
    assert code == 0, output
    assert "invoices" in output
    assert count_rows(make_engine(sqlite_url))["invoices"] == 4


def test_cli_rejection_exits_1_with_the_report(tmp_path: Path, sqlite_url: str) -> None:
    write_export(tmp_path, {"invoices.csv": ("05.02.2024", "5 Feb 2024")})
    code, output = invoke("--mapping", str(tmp_path / "mapping.yaml"), "--database-url", sqlite_url)
    assert code == 1
    assert "not a date in the format %d.%m.%Y (issue_date)" in output
    assert "5 Feb 2024" in output
    assert "nothing was written" in output
    assert count_rows(make_engine(sqlite_url)) == EMPTY


def test_cli_skip_bad_rows_exits_0_and_writes_rejects(tmp_path: Path, sqlite_url: str) -> None:
    write_export(tmp_path, {"invoices.csv": ("05.02.2024", "5 Feb 2024")})
    reject = tmp_path / "bad.csv"
    code, output = invoke(
        "--mapping",
        str(tmp_path / "mapping.yaml"),
        "--database-url",
        sqlite_url,
        "--skip-bad-rows",
        "--reject-file",
        str(reject),
    )
    assert code == 0, output
    assert "skipped 1 bad row" in output
    assert (tmp_path / "bad.invoices.csv").exists()


def test_cli_data_dir_and_file_override(tmp_path: Path, sqlite_url: str) -> None:
    write_export(tmp_path / "data")
    (tmp_path / "data" / "mapping.yaml").rename(tmp_path / "mapping.yaml")
    (tmp_path / "data" / "invoices.csv").rename(tmp_path / "other.csv")
    code, output = invoke(
        "-m",
        str(tmp_path / "mapping.yaml"),
        "--data-dir",
        str(tmp_path / "data"),
        "--file",
        f"invoices={tmp_path / 'other.csv'}",
        "--database-url",
        sqlite_url,
    )
    assert code == 0, output


def test_cli_bad_mapping_exits_2_without_traceback(tmp_path: Path, sqlite_url: str) -> None:
    (tmp_path / "m.yaml").write_text("tables:\n  invoice:\n    file: x.csv\n    columns: {}\n")
    code, output = invoke("--mapping", str(tmp_path / "m.yaml"), "--database-url", sqlite_url)
    assert code == 2
    assert "unknown ledger table 'invoice'" in output
    code, output = invoke("--mapping", "no-such-mapping", "--database-url", sqlite_url)
    assert code == 2
    assert "mapping file not found" in output
    code, output = invoke("--mapping", "canonical", "--file", "bills=x.csv")
    assert code == 2
    assert "expected TABLE=PATH" in output


def test_cli_shipped_ibm_mapping(ibm_csv: Path, sqlite_url: str) -> None:
    code, output = invoke(
        "--mapping",
        "ibm_accounts_receivable",
        "--data-dir",
        str(ibm_csv.parent),
        "--database-url",
        sqlite_url,
    )
    assert code == 0, output
    assert "2,466" in output


def test_schema_is_created_on_first_import(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    run_import(write_export(tmp_path), engine)
    ensure_schema(engine)  # idempotent
    assert count_rows(engine)["customers"] == 3
