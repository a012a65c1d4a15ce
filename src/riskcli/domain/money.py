"""Money between storage and the domain: integer cents in the store, ``Decimal`` with two places
everywhere else, and the one rounding rule (half up, to the cent) between them.

Scalars only, so importing this never pulls in pandas; the column forms of the same conversions
live in ``riskcli.services.money_columns``.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, SupportsInt, TypeVar

#: one cent: the places every amount in the domain carries
CENT = Decimal("0.01")

Row = TypeVar("Row", bound=MutableMapping[str, Any])


def from_cents(cents: SupportsInt) -> Decimal:
    """Integer cents -> Decimal with exactly two places: 1250 -> Decimal('12.50')."""
    return Decimal(int(cents)).scaleb(-2)


def round_cent(amount: Decimal) -> Decimal:
    """An amount rounded to the cent by the one rule: half up (away from zero on a tie)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(amount: Decimal | int | str) -> int:
    """Decimal (or its text) -> integer cents, rounded half up to the cent; exact amounts, as
    every parsed amount is, convert without rounding."""
    return int(round_cent(Decimal(amount)).scaleb(2))


def exact_cents(amount: Decimal) -> int | None:
    """The cents of an amount with at most two places, or None when it has more."""
    cents = amount.scaleb(2)
    return int(cents) if cents == cents.to_integral_value() else None


def cents_text(cents: SupportsInt) -> str:
    """Integer cents -> exact plain text: 123456 -> '1234.56', -5 -> '-0.05'."""
    value = int(cents)
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


def grouped_text(cents: float) -> str:
    """Cents, possibly fractional (a step of a computation, not a booked amount), shown as units
    with thousands grouped: 123456.7 -> '1,234.57'."""
    return f"{cents / 100:,.2f}"


def optional_cents_text(cents: SupportsInt | float | None) -> str | None:
    """`cents_text`, or None for a missing amount (None or NaN, as SQL NULL reads back)."""
    return None if cents is None or cents != cents else cents_text(cents)


def money_fields(row: Row, *names: str) -> Row:
    """The named cent fields of a row read from the store, as Decimal, in place (None stays
    None, absent names are skipped); returns the row."""
    for name in names:
        if row.get(name) is not None:
            row[name] = from_cents(row[name])
    return row
