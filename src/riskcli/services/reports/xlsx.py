"""A report as an Excel workbook: an index sheet, then one sheet per section.

Each section sheet is a plain table starting at A1 (header row, then data) so that scripts and
pivot tables can read it. Numbers are stored as numbers (money with a ``#,##0.00`` format,
shares as percentages), dates as dates, and every text cell is neutralised against formula
injection (:mod:`riskcli.domain.safety`). Sections without data get a sheet holding the note.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from riskcli.domain.safety import neutralise_cell
from riskcli.services.reports.labels import label
from riskcli.services.reports.model import Report, Section

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE4F0")
MONEY_FORMAT = "#,##0.00"
SHARE_FORMAT = "0.0%"
PD_FORMAT = "0.00%"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def sheet_name(key: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name (<= 31 chars, none of []:*?/\\)."""
    base = _BAD_SHEET_CHARS.sub("_", key)[:31] or "sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f"_{n}"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


def excel_value(value: Any) -> tuple[Any, str | None]:
    """The value to store and its number format (None: leave the default)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, Decimal):
        return value, MONEY_FORMAT
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None), DATETIME_FORMAT
    if isinstance(value, dt.date):
        return value, DATE_FORMAT
    if isinstance(value, float):
        return (None, None) if math.isnan(value) or math.isinf(value) else (value, None)
    if isinstance(value, int):
        return value, None
    if isinstance(value, str):
        if _ISO_DATE.fullmatch(value):
            try:
                return dt.date.fromisoformat(value), DATE_FORMAT
            except ValueError:
                pass
        elif _ISO_DATETIME.fullmatch(value):
            try:
                return dt.datetime.fromisoformat(value), DATETIME_FORMAT
            except ValueError:
                pass
        return neutralise_cell(value), None
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return excel_value(item())
    return neutralise_cell(str(value)), None


def _write_table(ws: Any, frame: pd.DataFrame) -> None:
    cols = [str(c) for c in frame.columns]
    ws.append([neutralise_cell(c) for c in cols])
    for cell in ws[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    share_cols = {i for i, c in enumerate(cols) if c.endswith("share") or c.endswith("_rate")}
    pd_cols = {i for i, c in enumerate(cols) if c == "pd" or c.endswith("_pd")}
    widths = [len(c) for c in cols]
    for r, row in enumerate(frame.itertuples(index=False, name=None), start=2):
        for i, raw in enumerate(row):
            value, fmt = excel_value(raw)
            cell = ws.cell(row=r, column=i + 1, value=value)
            if fmt is None and i in share_cols and isinstance(value, float):
                fmt = SHARE_FORMAT
            if fmt is None and i in pd_cols and isinstance(value, float):
                fmt = PD_FORMAT
            if fmt:
                cell.number_format = fmt
            widths[i] = max(widths[i], min(len(str(value)) if value is not None else 0, 60))
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(8, w + 2)
    ws.freeze_panes = "A2"


def _index_rows(report: Report, names: dict[str, str]) -> list[list[Any]]:
    lang, cur = report.language, report.currency
    rows: list[list[Any]] = [
        [label("report", lang), report.title],
        [label("generated_at", lang), report.generated_at.replace(tzinfo=None)],
    ]
    rows += [[label(str(k), lang), v] for k, v in report.params.items()]
    rows.append([])
    rows.append(["sheet", "section", "available", "note"])
    rows += [[names[s.key], s.title, s.available, s.note] for s in report.sections]
    facts = [(s, k, v) for s in report.sections for k, v in s.facts.items()]
    if facts:
        rows.append([])
        rows.append(["section", "fact", "value"])
        rows += [[names[s.key], label(k, lang, cur), v] for s, k, v in facts]
    return rows


def build_workbook(report: Report) -> Workbook:
    wb = Workbook()
    index = wb.active
    used: set[str] = set()
    index.title = sheet_name("index", used)
    names = {s.key: sheet_name(s.key, used) for s in report.sections}
    for row in _index_rows(report, names):
        converted = []
        for raw in row:
            value, _ = excel_value(raw)
            converted.append(value)
        index.append(converted)
    for cell in index["A"]:
        cell.font = HEADER_FONT
    index.column_dimensions["A"].width = 28
    index.column_dimensions["B"].width = 40
    index.column_dimensions["D"].width = 60
    for section in report.sections:
        ws = wb.create_sheet(names[section.key])
        _write_section(ws, section)
    return wb


def _write_section(ws: Any, section: Section) -> None:
    if not section.available:
        ws.append(["note"])
        ws["A1"].font = HEADER_FONT
        ws.append([neutralise_cell(section.note or "No data.")])
        ws.column_dimensions["A"].width = 80
        return
    _write_table(ws, section.table)


def write_xlsx(report: Report, path: Path) -> Path:
    """Write the workbook to *path* (parent folders must exist) and return the path."""
    build_workbook(report).save(path)
    return path
