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
        _dumps(dict(zip(names, row, strict=True)))
        for row in frame.itertuples(index=False, name=None)
    ]
    return pd.Series(texts, index=index, dtype="string")


def _dumps(values: Mapping[str, object]) -> str | None:
    """The canonical text: names sorted, empty values left out, compact (None: nothing)."""
    kept = {name: values[name] for name in sorted(values) if isinstance(values[name], str)}
    return json.dumps(kept, separators=(",", ":"), ensure_ascii=False) if kept else None


def decode_dimensions(texts: pd.Series | pd.api.extensions.ExtensionArray) -> pd.DataFrame:
    """The JSON texts as one ``string`` column per dimension name (sorted), rows aligned."""
    series = pd.Series(texts, dtype="string").reset_index(drop=True)
    present = series.dropna()
    if present.empty:
        return pd.DataFrame(index=series.index)
    parsed = [json.loads(text) for text in present.to_numpy(dtype=object)]
    decoded = pd.DataFrame(parsed, index=present.index).reindex(series.index)
    return decoded[sorted(decoded.columns)].astype("string")


def canonical_dimensions(texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dimensions given as JSON text (the canonical Parquet files carry the column as it is
    stored): the canonical text of each, and per row the problem (missing when fine)."""
    canonical: list[str | None] = []
    problems: list[str | None] = []
    for text in pd.Series(texts, dtype="string").to_numpy(dtype=object, na_value=None):
        if text is None:
            canonical.append(None)
            problems.append(None)
            continue
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        problem = _object_problem(value)
        problems.append(problem)
        canonical.append(None if problem else _dumps(value))
    index = texts.index
    return (pd.Series(canonical, index=index, dtype="string"),
            pd.Series(problems, index=index, dtype="string"))


def _object_problem(value: object) -> str | None:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        return "not a JSON object of dimension names and texts"
    if len(value) > MAX_EXTRA_DIMENSIONS:
        return f"more than {MAX_EXTRA_DIMENSIONS} dimensions"
    for name, text in value.items():
        problem = dimension_name_problem(name)
        if problem is not None:
            return f"{name!r}: {problem}"
        if len(text) > MAX_DIMENSION_VALUE_LENGTH:
            return f"{name!r}: longer than {MAX_DIMENSION_VALUE_LENGTH} characters"
    return None
