"""Currency marks in money cells: which code each means, at either end, never silently lost."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskcli.domain.currency import split_currency
from riskcli.services.limits.requests import add_months


@pytest.mark.parametrize(
    ("cell", "code", "rest"),
    [
        ("US$1,000", "USD", "1,000"), ("USD2000", "USD", "2000"), ("2000USD", "USD", "2000"),
        ("€5", "EUR", "5"), ("5€", "EUR", "5"), ("HK$8", "HKD", "8"), ("¥9", "CNY", "9"),
        ("\uffe59", "CNY", "9"), ("RMB9", "CNY", "9"), ("9CNY", "CNY", "9"), ("$5", "USD", "5"),
        ("usd7", "USD", "7"), ("1,234.56", None, "1,234.56"), ("ABC5", None, "ABC5"),
        ("5元", None, "5元"),
    ],
)  # fmt: skip
def test_marks_and_codes(cell: str, code: str | None, rest: str) -> None:
    assert split_currency(cell) == (code, rest)


@given(st.decimals(min_value=0, max_value=10**9, places=2), st.sampled_from(["US$", "€", "HK$"]))
def test_a_foreign_mark_is_never_dropped(amount: object, mark: str) -> None:
    code, rest = split_currency(f"{mark}{amount}")
    assert code is not None and code != "CNY" and rest == str(amount)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2027, 12, 15), 12, date(2028, 12, 15)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
    ],
)
def test_review_dates_add_calendar_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected
