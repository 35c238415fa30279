"""Which rows of a source file a mapping reads, and the sign of their amounts: row filters
(``filters``), a posting-type route to invoices or credit notes (``route``) and a sign by
posting type (``amount_sign``). Part of the mapping's model (:mod:`.spec`); applied when the
file is read (ledger/sources.py) and when amounts are parsed (ledger/validation/rows.py).
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class RowFilter(BaseModel):
    """Keep only rows whose source ``column`` equals a value, is in a list, or is not in it.

    Values compare as trimmed text (``"0001"`` and ``1`` differ; quote codes in YAML).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    column: str
    equals: str | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    not_in: tuple[str, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _values_as_text(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError(f"a filter is a mapping with 'column' and one of equals/in/not_in, "
                             f"got {data!r}")
        out = dict(data)
        for name in ("equals", "in", "in_", "not_in"):
            value = out.get(name)
            if isinstance(value, list | tuple):
                out[name] = [_as_text(v, name) for v in value]
            elif value is not None:
                out[name] = _as_text(value, name)
        return out

    @model_validator(mode="after")
    def _one_test(self) -> RowFilter:
        if sum(v is not None for v in (self.equals, self.in_, self.not_in)) != 1:
            raise ValueError("give exactly one of 'equals', 'in' or 'not_in'")
        return self

    def keeps(self, text: pd.Series) -> pd.Series:
        """Which rows pass, given the column as trimmed text (missing never equals or is in)."""
        values = text.astype(object).where(text.notna(), None)
        if self.equals is not None:
            return values.eq(self.equals).fillna(False).astype(bool)
        if self.in_ is not None:
            return values.isin(self.in_).astype(bool)
        assert self.not_in is not None
        return ~values.isin(self.not_in).astype(bool)

    def describe(self) -> str:
        if self.equals is not None:
            return f"{self.column} = {self.equals!r}"
        if self.in_ is not None:
            return f"{self.column} in {list(self.in_)}"
        return f"{self.column} not in {list(self.not_in or ())}"


def _as_text(value: Any, where: str) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise ValueError(f"{where}: {value!r} is not a text or number value (quote it in YAML)")
    return str(value)


class AmountSign(BaseModel):
    """The sign of an invoice's amount from a source column (a posting type): ``values`` maps
    each source value to ``1`` (invoice) or ``-1`` (credit note); the amount is then
    ``sign x |amount|``. A value not in the map rejects the row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    values: dict[str, Literal[1, -1]]

    @field_validator("values", mode="before")
    @classmethod
    def _keys_as_text(cls, values: Any) -> Any:
        if isinstance(values, dict):
            return {_as_text(k, "amount_sign.values"): v for k, v in values.items()}
        return values


RouteTarget = Literal["invoice", "credit_note"]

ROUTE_SIGNS: dict[str, Literal[1, -1]] = {"invoice": 1, "credit_note": -1}
"""The ledger keeps credit notes in the invoices table with a negative amount (the features
count them as credit notes, the labels and invoice features leave them out): routing a row
to ``credit_note`` writes ``-|amount|``, to ``invoice`` ``|amount|``."""


class TableRoute(BaseModel):
    """Route the rows of the invoice file by a source column (a posting type): ``values`` maps
    each source value to ``invoice`` or ``credit_note``; rows with any other value are left
    out, not rejected, and counted (``not_routed``), like filtered rows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    values: dict[str, RouteTarget]

    @field_validator("values", mode="before")
    @classmethod
    def _keys_as_text(cls, values: Any) -> Any:
        if isinstance(values, dict):
            if not values:
                raise ValueError("route.values: map at least one source value")
            return {_as_text(k, "route.values"): v for k, v in values.items()}
        return values

    def signs(self) -> dict[str, Literal[1, -1]]:
        return {value: ROUTE_SIGNS[target] for value, target in self.values.items()}
