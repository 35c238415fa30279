"""A seeded synthetic receivables ledger that models can learn from, with its truth."""

from creditrisk.synthetic.errors import SyntheticLedgerError
from creditrisk.synthetic.generator import (
    SyntheticLedger,
    concat_partitions,
    count_partitions,
    generate_ledger,
    iter_synthetic_partitions,
)
from creditrisk.synthetic.storage import LEDGER_FILES, TRUTH_FILES, SyntheticWriter, write_synthetic
from creditrisk.synthetic.summary import SyntheticSummary, summarize
from creditrisk.synthetic.world import WorldParameters

__all__ = [
    "LEDGER_FILES",
    "TRUTH_FILES",
    "SyntheticLedger",
    "SyntheticLedgerError",
    "SyntheticSummary",
    "SyntheticWriter",
    "WorldParameters",
    "concat_partitions",
    "count_partitions",
    "generate_ledger",
    "iter_synthetic_partitions",
    "summarize",
    "write_synthetic",
]
