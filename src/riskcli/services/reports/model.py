"""The shape every report has: an ordered list of sections, each a plain DataFrame.

A section whose data is absent from the store (no tier run yet, no score run, no monitoring)
is kept with ``available=False`` and a ``note`` that says why, so every output format can say
so instead of silently dropping it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import pandas as pd

ChartKind = Literal["histogram", "bars", "heatmap", "shares", "hbars", "stacked", "lines"]


@dataclass
class Chart:
    """What to draw for a section (the HTML report draws it as inline SVG).

    ``label`` names the category column, ``values`` the numeric columns to plot (one series
    each). For a heatmap the section's table is the matrix: the first column holds the row
    labels and ``values`` the column labels.
    """

    kind: ChartKind
    label: str
    values: list[str]
    title: str = ""
    unit: str = ""
    diagonal: bool = False  # heatmap: outline the cells where row label == column label
    colors: dict[str, str] = field(default_factory=dict)  # one-series bars: colour per category


@dataclass
class Section:
    key: str
    title: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    available: bool = True
    note: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    chart: Chart | None = None

    @classmethod
    def missing(cls, key: str, title: str, note: str) -> Section:
        return cls(key=key, title=title, available=False, note=note)


@dataclass
class Report:
    kind: str
    title: str
    generated_at: dt.datetime
    params: dict[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    #: what a person reads is labelled in this language ("en" or "zh"), amounts in this currency
    language: str = "en"
    currency: str = "CNY"

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    @property
    def keys(self) -> list[str]:
        return [s.key for s in self.sections]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: stable keys, money as numbers, dates as ISO text."""
        return {
            "report": self.kind,
            "title": self.title,
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "params": {k: jsonable(v) for k, v in self.params.items()},
            "sections": [
                {
                    "key": s.key,
                    "title": s.title,
                    "available": s.available,
                    "note": s.note,
                    "facts": {k: jsonable(v) for k, v in s.facts.items()},
                    "columns": [str(c) for c in s.table.columns],
                    "rows": frame_records(s.table),
                }
                for s in self.sections
            ],
        }


def jsonable(value: Any) -> Any:
    """Convert one cell to a JSON-native value."""
    if value is None:
        return None
    if isinstance(value, Decimal):  # money: a JSON number, as every riskcli JSON output has it
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return jsonable(item())
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [str(c) for c in frame.columns]
    return [
        {c: jsonable(v) for c, v in zip(cols, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]
