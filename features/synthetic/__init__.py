"""A seeded synthetic receivables ledger that models can learn from, with its truth."""

from features.synthetic.errors import SyntheticLedgerError
from features.synthetic.generator import (
    SyntheticLedger,
    concat_partitions,
    count_partitions,
    generate_ledger,
    iter_synthetic_partitions,
)
from features.synthetic.storage import LEDGER_FILES, TRUTH_FILES, SyntheticWriter, write_synthetic
from features.synthetic.summary import SyntheticSummary, summarize
from features.synthetic.world import WorldParameters

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
