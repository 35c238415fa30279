"""The rescore command's light constants (it imports no heavy library at start) agree with
the library's definitions."""

from __future__ import annotations

from creditrisk.cli import rescore
from creditrisk.serving.rescoring.partitions import DEFAULT_BUCKETS
from creditrisk.serving.settings import MODEL_URI_ENV


def test_the_cli_constants_are_the_library_ones() -> None:
    assert rescore.DEFAULT_BUCKETS == DEFAULT_BUCKETS
    assert rescore.MODEL_URI_ENV == MODEL_URI_ENV
