"""``creditrisk ledger ...``: migrate, import, generate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from creditrisk.cli import settings
from creditrisk.cli.import_report import report_table

if TYPE_CHECKING:  # heavy: imported inside the functions (rule in creditrisk/cli/__init__.py)
    from creditrisk.ledger.importer import ImportResult

app = typer.Typer(
    help="The receivables ledger: schema, import, synthetic data.", no_args_is_help=True
)

EXIT_REJECTED = 1
"""Rows or files were rejected (nothing written), or the database refused the import."""
EXIT_USAGE = 2
"""The mapping or the command line is wrong."""
DEFAULT_REJECT_FILE = Path("rejects.csv")

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="SQLAlchemy URL (default $CREDITRISK_DATABASE_URL or SQLite)."
    ),
]


def _stderr() -> Console:
    return Console(stderr=True)


@app.command("migrate")
def migrate(database_url: DatabaseOption = None) -> None:
    """Create or upgrade the ledger schema (Alembic migrations)."""
    from creditrisk.ledger.database import upgrade_database

    url = settings.database_url(database_url)
    upgrade_database(url)
    _stderr().print("[green]database schema is up to date[/green]")


def _file_overrides(values: list[str]) -> dict[str, Path]:
    from creditrisk.ledger.errors import MappingError
    from creditrisk.ledger.frame import TABLE_COLUMNS

    overrides: dict[str, Path] = {}
    for value in values:
        table, sep, path = value.partition("=")
        if not sep or not path or table not in TABLE_COLUMNS:
            raise MappingError(
                f"--file {value!r}: expected TABLE=PATH, TABLE one of {', '.join(TABLE_COLUMNS)}"
            )
        overrides[table] = Path(path)
    return overrides


class _TableProgress:
    """One rich progress line per ledger table: reading, validating, writing."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, table: str, stage: str, done: int, total: int) -> None:
        if table not in self._tasks:
            self._tasks[table] = self._progress.add_task(table, total=None)
        self._progress.update(
            self._tasks[table],
            description=f"{table:<13} {stage}",
            completed=done,
            total=max(total, 1),
        )


def _summary(result: ImportResult, tables: list[str]) -> Table:
    table = Table(title="ledger import", header_style="bold")
    for column in ("table", "inserted", "updated", "unchanged", "rejected rows"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for name, counts in result.counts.items():
        if name not in tables:
            continue
        rejected = result.rejected_rows.get(name, 0)
        table.add_row(
            name,
            f"{counts.inserted:,}",
            f"{counts.updated:,}",
            f"{counts.unchanged:,}",
            f"{rejected:,}" if name in result.rejected_rows else "",
        )
    return table


@app.command("import")
def import_command(
    mapping: Annotated[
        str,
        typer.Option(
            "--mapping",
            "-m",
            help="Mapping file (YAML), or a shipped mapping: canonical, ibm_accounts_receivable.",
        ),
    ],
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Folder of the mapped files (default: the mapping's)."),
    ] = None,
    file: Annotated[
        list[str] | None,
        typer.Option(
            "--file",
            help="TABLE=PATH: read TABLE from PATH instead of the mapped file (repeatable).",
        ),
    ] = None,
    database_url: DatabaseOption = None,
    skip_bad_rows: Annotated[
        bool,
        typer.Option(
            "--skip-bad-rows",
            help="Write the good rows and put the rejected ones in a reject file.",
        ),
    ] = False,
    reject_file: Annotated[
        Path | None,
        typer.Option(
            "--reject-file",
            help="With --skip-bad-rows: where rejected rows go (default rejects.csv; "
            "rejects.<table>.csv per file when the mapping reads several files).",
        ),
    ] = None,
    show: Annotated[
        int, typer.Option("--show", min=1, help="How many problems to list (all are counted).")
    ] = 20,
) -> None:
    """Import an ERP export (CSV or Parquet) into the ledger, driven by a mapping file.

    All or nothing: if any row is rejected, nothing is written and the problems are listed.

    --skip-bad-rows writes the good rows and puts the bad ones in a reject file.

    Re-importing the same files changes nothing. Exit codes: 0 done, 1 rejected, 2 bad mapping.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from creditrisk.ledger.database import make_engine
    from creditrisk.ledger.errors import ImportRejected, LedgerError, MappingError
    from creditrisk.ledger.importer import import_ledger
    from creditrisk.ledger.mapping import load_mapping

    err = _stderr()
    out = Console()
    try:
        ledger_mapping = load_mapping(mapping)
        if file:
            ledger_mapping = ledger_mapping.with_files(_file_overrides(file))
    except MappingError as exc:
        err.print(f"[red]mapping error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_USAGE) from None
    url = settings.database_url(database_url)
    engine = make_engine(url)
    reject_path = (reject_file or DEFAULT_REJECT_FILE) if skip_bad_rows else None
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=False,
        ) as progress:
            result = import_ledger(
                ledger_mapping,
                engine=engine,
                data_dir=data_dir,
                skip_bad_rows=skip_bad_rows,
                reject_path=reject_path,
                progress=_TableProgress(progress),
            )
    except ImportRejected as exc:
        err.print(report_table(exc.report, limit=show))
        err.print(
            f"[red]import rejected:[/red] {escape(exc.report.summary())}; nothing was written."
        )
        if not exc.report.has_file_problems:
            err.print("Fix the rows above, or pass --skip-bad-rows to import the good rows.")
        raise typer.Exit(EXIT_REJECTED) from None
    except MappingError as exc:
        err.print(f"[red]mapping error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_USAGE) from None
    except (LedgerError, SQLAlchemyError, OSError) as exc:
        shown = engine.url.render_as_string(hide_password=True)
        err.print(
            f"[red]import failed, nothing was written[/red] ({escape(shown)}): "
            f"{escape(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)}"
        )
        raise typer.Exit(EXIT_REJECTED) from None
    finally:
        engine.dispose()
    out.print(_summary(result, list(ledger_mapping.tables)))
    rules = result.report.rules_summary()
    if rules:  # rows the mapping's filters, duplicate dropping and quality rules acted on
        out.print("mapping rules: " + escape(rules.replace("\n", "; ")))
    if result.n_rejected:
        err.print(report_table(result.report, limit=show))
        where = ", ".join(str(p) for p in result.reject_files)
        err.print(
            f"[yellow]skipped {result.n_rejected:,} bad row(s)[/yellow]; "
            f"written to {escape(where)} with a reject_reason column."
        )


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="Folder to create (one sub-folder per table).")],
    format_name: Annotated[
        str, typer.Option("--format", help="Output format (parquet: bucketed by customer).")
    ] = "parquet",
    buckets: Annotated[
        int | None,
        typer.Option("--buckets", min=1,
                     help="Customer buckets (Hive partitions; default: as rescoring)."),
    ] = None,
    database_url: DatabaseOption = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace OUT when it exists.")
    ] = False,
) -> None:
    """Export the ledger as Parquet, one folder per table partitioned by customer bucket.

    Spark (`creditrisk rescore --engine spark --ledger OUT`) and `--ledger OUT` options read
    it. The folder appears only when complete (its ledger.json is written last).
    """
    from functools import partial

    from sqlalchemy.exc import SQLAlchemyError

    from creditrisk.ledger.database import make_engine
    from creditrisk.ledger.errors import LedgerError
    from creditrisk.ledger.parquet import export_database_ledger
    from creditrisk.serving.rescoring.partitions import DEFAULT_BUCKETS, customer_bucket

    buckets = DEFAULT_BUCKETS if buckets is None else buckets
    err = _stderr()
    if format_name != "parquet":
        err.print(f"[red]--format {escape(format_name)}:[/red] only parquet is supported")
        raise typer.Exit(EXIT_USAGE)
    engine = make_engine(settings.database_url(database_url))
    try:
        with Progress(
            TextColumn("exporting customers"), BarColumn(), MofNCompleteColumn(),
            console=err, transient=False,
        ) as progress:
            task = progress.add_task("export", total=None)
            rows = export_database_ledger(
                engine, out, buckets=buckets,
                bucket_of=partial(customer_bucket, buckets=buckets),
                overwrite=overwrite,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except (LedgerError, SQLAlchemyError, OSError) as exc:
        err.print(
            "[red]export failed, nothing was written:[/red] "
            f"{escape(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)}"
        )
        raise typer.Exit(EXIT_REJECTED) from None
    finally:
        engine.dispose()
    counts = ", ".join(f"{table} {n:,}" for table, n in rows.items())
    Console().print(f"wrote {escape(str(out))} ({buckets} buckets): {counts}")
