"""Extra named invoice dimensions: any string columns of an export the mapping names.

Besides the four fixed dimensions (``company_code``, ``gl_account``, ``terms_code``,
``segment``), a mapping may declare extra ones under ``dimensions:`` on the invoices table
(a sales organisation, a profit center). They are kept on the invoice in one text column,
``invoices.dimensions``: a JSON object of name -> value, sorted by name, with empty values
left out (missing when every value is empty). The same values give the same text, so a
re-import changes nothing. Bounded so the column and the feature set stay small:
:data:`MAX_EXTRA_DIMENSIONS` names, each an identifier of at most
:data:`MAX_DIMENSION_NAME_LENGTH` characters, values of at most
:data:`MAX_DIMENSION_VALUE_LENGTH`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import pandas as pd

MAX_EXTRA_DIMENSIONS = 8
MAX_DIMENSION_NAME_LENGTH = 32
MAX_DIMENSION_VALUE_LENGTH = 64
DIMENSIONS_COLUMN_LENGTH = 1024
"""``invoices.dimensions`` holds at most 8 x (32 + 64 + 6 JSON characters) + 2 < 1024."""

DIMENSION_NAME = re.compile(r"[a-z][a-z0-9_]*")
"""A dimension name: lower-case letters, digits and ``_``, starting with a letter (it becomes
the feature ``dim_<name>`` and a key of the JSON object)."""


def dimension_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a dimension (None: it can)."""
    if not DIMENSION_NAME.fullmatch(name):
        return "a dimension name is lower-case letters, digits and _, starting with a letter"
    if len(name) > MAX_DIMENSION_NAME_LENGTH:
        return f"a dimension name has at most {MAX_DIMENSION_NAME_LENGTH} characters"
    return None


def encode_dimensions(values: Mapping[str, pd.Series], index: pd.Index) -> pd.Series:
    """Per row, the JSON text of the named values (``string`` dtype; missing when all are)."""
    names = sorted(values)
    frame = pd.DataFrame({n: values[n].astype("string") for n in names}, index=index)
    texts = [
        json.dumps({n: v for n, v in zip(names, row, strict=True) if isinstance(v, str)},
                   separators=(",", ":"), ensure_ascii=False)
        for row in frame.itertuples(index=False, name=None)
    ]
    out = pd.Series(texts, index=index, dtype="string")
    return out.where(out != "{}")


def decode_dimensions(texts: pd.Series | pd.api.extensions.ExtensionArray) -> pd.DataFrame:
    """The JSON texts as one ``string`` column per dimension name (sorted), rows aligned."""
    series = pd.Series(texts, dtype="string").reset_index(drop=True)
    present = series.dropna()
    if present.empty:
        return pd.DataFrame(index=series.index)
    parsed = [json.loads(text) for text in present.to_numpy(dtype=object)]
    decoded = pd.DataFrame(parsed, index=present.index).reindex(series.index)
    return decoded[sorted(decoded.columns)].astype("string")
