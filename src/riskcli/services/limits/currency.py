"""Foreign amounts at import: found in money cells or a `currency` column, converted with a
rates file or rejected.

The rates file is CSV with `date,currency,rate`: one unit of `currency` is worth `rate` of the
book currency from `date` on. A foreign amount takes the rate on or before its row's date (the
transaction date, invoice issue date, contract signing or start date; the latest rate for rows
without a date: customers' limits, financials). The stored amount is in the book currency,
rounded half up to the cent; the original amount, its currency and the rate are kept in
`foreign_amounts`.
"""

from __future__ import annotations

import bisect
import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskcli.domain.currency import SYMBOLS, foreign_message, split_currency
from riskcli.domain.errors import InputError
from riskcli.domain.models import KEYS, RULES
from riskcli.domain.money import round_cent, to_cents
from riskcli.domain.values import halfwidth, parse_date, parse_money
from riskcli.storage.store import Store

#: the column whose value says which currency a row's money cells are in
CURRENCY_HEADERS = ("currency", "币种", "货币", "币别", "ccy")

#: the date a row's amounts are converted at, per kind (first present wins)
ROW_DATES: dict[str, tuple[str, ...]] = {
    "transactions": ("date",),
    "receivables": ("issue_date",),
    "contracts": ("signed_date", "start_date"),
}

_PLAIN = r"^-?[0-9][0-9,]*(\.[0-9]*)?$"


@dataclass
class Rates:
    path: str
    by_code: dict[str, tuple[list[date], list[Decimal]]]

    def rate(self, code: str, day: date | None) -> tuple[Decimal, date]:
        """The rate on or before `day` (the latest when day is None)."""
        dates, values = self.by_code.get(code, ([], []))
        i = len(dates) if day is None else bisect.bisect_right(dates, day)
        if i == 0:
            when = f" on or before {day}" if day is not None else ""
            raise InputError(f"rates file {self.path} has no {code} rate{when}")
        return values[i - 1], dates[i - 1]


def load_rates(path: Path) -> Rates:
    """Read `date,currency,rate` rows; a row without a valid date, code or rate is an error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read rates file {path}: {exc.strerror}") from None
    rows = list(csv.reader(text.splitlines()))
    header = [h.strip().lower() for h in rows[0]] if rows else []
    if header[:3] != ["date", "currency", "rate"]:
        raise InputError(f"rates file {path} needs the columns date,currency,rate")
    table: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = [*row, "", "", ""][:3]
        try:
            day = parse_date(cells[0])
        except ValueError:
            day = None
        if day is None:
            raise InputError(f"rates file {path} line {line}: date is missing or invalid")
        code = cells[1].strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise InputError(f"rates file {path} line {line}: currency must be a 3-letter code")
        try:
            rate = Decimal(cells[2].strip())
        except InvalidOperation:
            rate = Decimal(0)
        if not rate.is_finite() or rate <= 0:
            raise InputError(f"rates file {path} line {line}: rate must be a number above 0")
        table[code].append((day, rate))
    by_code: dict[str, tuple[list[date], list[Decimal]]] = {}
    for code, pairs in table.items():
        pairs.sort()
        by_code[code] = ([d for d, _ in pairs], [r for _, r in pairs])
    return Rates(str(path), by_code)


@dataclass
class Conversion:
    """What one chunk's currency step found: rows to reject, and originals to keep."""

    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (pos, field, reason)
    originals: list[tuple[int, str, str, int, str, str]] = field(default_factory=list)
    # (pos, field, currency, original cents, rate, rate date)


def currency_column(raw: pa.Table, keep: np.ndarray) -> tuple[str | None, pa.Array | None]:
    """The raw table's currency column (by header), taken at the kept rows."""
    from riskcli.services.importing.headers import normalise_header

    wanted = {normalise_header(h) for h in CURRENCY_HEADERS}
    for name in raw.column_names:
        if normalise_header(str(name)) in wanted:
            col = raw.column(name).take(pa.array(keep))
            cells = pc.fill_null(pc.cast(col, pa.string()), "")
            if isinstance(cells, pa.ChunkedArray):
                cells = cells.combine_chunks()
            return str(name), cells
    return None, None


def convert(
    kind: str,
    frame: pa.Table,
    currencies: pa.Array | None,
    *,
    book: str,
    rates: Rates | None,
) -> tuple[pa.Table, Conversion]:
    """Strip book-currency marks, convert foreign amounts (or mark their rows for rejection).

    Only cells that are not plain numbers, and rows whose currency column names another
    currency, are looked at one by one."""
    out = Conversion()
    money = [f for f, r in RULES[kind].items() if r.kind == "money" and f in frame.column_names]
    if not money:
        return frame, out
    row_code: list[str | None] = [None] * frame.num_rows
    if currencies is not None:
        for i, cell in enumerate(currencies.to_pylist()):
            code = halfwidth(cell or "").strip().upper()
            row_code[i] = SYMBOLS.get(code, code) or None
    flagged = np.array([c is not None and c != book for c in row_code], dtype=bool)
    for name in money:
        cells = frame.column(name)
        if isinstance(cells, pa.ChunkedArray):
            cells = cells.combine_chunks()
        plain = pc.match_substring_regex(pc.utf8_trim_whitespace(cells), _PLAIN)
        blank = pc.equal(pc.utf8_trim_whitespace(cells), "")
        odd = ~(plain.to_numpy(zero_copy_only=False) | blank.to_numpy(zero_copy_only=False))
        todo = np.flatnonzero(odd | flagged)
        if not len(todo):
            continue
        values = cells.to_pylist()
        for pos in todo.tolist():
            values[pos] = _one(kind, frame, name, pos, values[pos], row_code[pos], book, rates, out)
        frame = frame.set_column(
            frame.column_names.index(name), name, pa.array(values, type=pa.string())
        )
    return frame, out


def _one(
    kind: str,
    frame: pa.Table,
    name: str,
    pos: int,
    cell: str,
    row_code: str | None,
    book: str,
    rates: Rates | None,
    out: Conversion,
) -> str:
    text = halfwidth(cell or "").replace(" ", "").strip()
    sign = ""
    if text[:1] in "+-":
        sign, text = text[0], text[1:]
    mark, rest = split_currency(text)
    code = mark or row_code
    if code is None or not rest:
        return cell  # no currency: the money rule judges it as before
    if mark is not None and row_code is not None and mark != row_code:
        out.rejects.append((pos, name, f"amount in {mark} but the currency column says {row_code}"))
        return cell
    if len(code) != 3 or not code.isalpha():
        out.rejects.append((pos, name, f"unknown currency {code!r}"))
        return cell
    if code == book:
        return sign + rest
    if rates is None:
        out.rejects.append((pos, name, foreign_message(code)))
        return cell
    try:
        amount = parse_money(sign + rest)
    except ValueError as exc:
        out.rejects.append((pos, name, str(exc)))
        return cell
    if amount is None:
        return cell
    rate, rate_day = rates.rate(code, _row_date(kind, frame, pos))
    converted = round_cent(amount * rate)
    out.originals.append((pos, name, code, to_cents(amount), str(rate), rate_day.isoformat()))
    return str(converted)


def _row_date(kind: str, frame: pa.Table, pos: int) -> date | None:
    for name in ROW_DATES.get(kind, ()):
        if name in frame.column_names:
            try:
                day = parse_date(frame.column(name)[pos].as_py())
            except ValueError:
                day = None
            if day is not None:
                return day
    return None


def row_key(kind: str, values: dict[str, np.ndarray], pos: int) -> str:
    """The row's natural key as text (the customer's external id for customer-keyed kinds)."""
    parts = []
    for k in KEYS[kind]:
        name = "customer_ext" if k == "customer_id" and "customer_ext" in values else k
        parts.append(str(values[name][pos]))
    return "|".join(parts)


def keep_originals(store: Store, kind: str, values: dict[str, np.ndarray], ok: np.ndarray,
                   conv: Conversion) -> int:  # fmt: skip
    """Store the original amount and currency of each converted cell of a written row."""
    rows = [
        (kind, row_key(kind, values, pos), name, code, cents, rate, day)
        for pos, name, code, cents, rate, day in conv.originals
        if ok[pos]
    ]
    store.executemany(
        "INSERT OR REPLACE INTO foreign_amounts (kind, row_key, field, currency, amount, rate, "
        "rate_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)
