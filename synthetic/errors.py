"""The one domain error of the synthetic generator."""

from __future__ import annotations


class SyntheticLedgerError(ValueError):
    """A generator argument is out of range; the message names the argument and value."""
