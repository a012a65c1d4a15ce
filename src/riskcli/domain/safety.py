"""Formula-injection neutralisation for every CSV and XLSX cell riskcli writes.

Spreadsheet programs run a cell as a formula when its text starts with ``=``, ``+``, ``-`` or
``@``; a leading tab or carriage return can hide such a start. Following the OWASP "CSV
Injection" guidance, a *text* cell that starts with one of those characters is prefixed with a
single quote, which makes Excel, LibreOffice and Google Sheets treat it as plain text.

Numbers stay numbers: ints, floats, Decimals, bools, dates and ``None`` are returned unchanged,
and so is text that is nothing but a plain number (``-12.50``, ``+3``, ``-1e5``), because no
spreadsheet reads such text as a formula and scripts need it verbatim. ``-1+2`` is not a plain
number and is neutralised. The full-width forms (``＝ ＋ － ＠``) are neutralised as well, since
some spreadsheet locales fold them to their ASCII twins.

Pure functions, no I/O; pandas frames are handled by duck typing so that this domain module does
not import pandas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "DANGEROUS_PREFIXES",
    "QUOTE",
    "is_dangerous",
    "neutralise_cell",
    "neutralise_frame",
    "neutralise_records",
    "neutralise_rows",
]

#: Characters that start a formula (or hide one) when a cell begins with them.
DANGEROUS_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
#: What a dangerous text cell is prefixed with.
QUOTE = "'"

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

T = TypeVar("T")


def is_dangerous(text: str) -> bool:
    """True when *text* would be read as a formula by a spreadsheet."""
    if not text or not text.startswith(DANGEROUS_PREFIXES):
        return False
    return _PLAIN_NUMBER.fullmatch(text) is None


def neutralise_cell(value: T) -> T | str:
    """Return *value* made safe for a spreadsheet cell.

    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_cell(-5), neutralise_cell("-5.00"), neutralise_cell("Acme")
    (-5, '-5.00', 'Acme')
    """
    if isinstance(value, str) and is_dangerous(value):
        return QUOTE + value
    return value


def neutralise_rows(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Neutralise every cell of a row-oriented table (e.g. before ``csv.writer.writerows``)."""
    return [[neutralise_cell(cell) for cell in row] for row in rows]


def neutralise_records(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Neutralise every value of a list of dicts; the keys (headers) are neutralised too."""
    return [
        {str(neutralise_cell(str(k))): neutralise_cell(v) for k, v in record.items()}
        for record in records
    ]


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of *frame* with every text cell neutralised.

    Numeric, boolean and datetime columns are left untouched (same dtype); only object and
    string columns are scanned. Column labels that are text are neutralised as well, since a
    CSV header is a cell too.
    """
    out = frame.copy()
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if column.dtype.kind == "O" or str(column.dtype).startswith("string"):
            out.isetitem(position, column.map(neutralise_cell).array)
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out
