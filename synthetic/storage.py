"""Writing a synthetic ledger and its truth as Parquet files, streamed partition by partition.

Ledger files carry exactly the columns of :mod:`creditrisk.ledger.frame` (ready for
``creditrisk ledger import``); the truth lives apart in ``truth_*.parquet`` so it never
leaks into the ledger a model learns from.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from creditrisk.synthetic.generator import SyntheticLedger

LEDGER_FILES: dict[str, str] = {
    "customers": "customers.parquet",
    "invoices": "invoices.parquet",
    "payments": "payments.parquet",
    "credit_events": "credit_events.parquet",
    "customer_attributes": "customer_attributes.parquet",
}
TRUTH_FILES: dict[str, str] = {
    "customer_month_truth": "truth_customer_month.parquet",
    "invoice_truth": "truth_invoice.parquet",
}


def _frames(part: SyntheticLedger) -> dict[str, pd.DataFrame]:
    return {
        **part.ledger.tables(),
        "customer_month_truth": part.customer_month_truth,
        "invoice_truth": part.invoice_truth,
    }


class SyntheticWriter:
    """Appends partitions to one Parquet file per table (a context manager)."""

    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self._paths = {
            name: out_dir / file for name, file in {**LEDGER_FILES, **TRUTH_FILES}.items()
        }
        self._writers: dict[str, pq.ParquetWriter] = {}

    def write(self, part: SyntheticLedger) -> None:
        for name, frame in _frames(part).items():
            table = pa.Table.from_pandas(frame, preserve_index=False)
            writer = self._writers.get(name)
            if writer is None:
                writer = pq.ParquetWriter(self._paths[name], table.schema, compression="zstd")
                self._writers[name] = writer
            writer.write_table(table.cast(writer.schema))

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def __enter__(self) -> SyntheticWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def write_synthetic(result: SyntheticLedger, out_dir: Path) -> None:
    """Write the four ledger tables and the two truth tables to ``out_dir`` as Parquet."""
    with SyntheticWriter(out_dir) as writer:
        writer.write(result)
