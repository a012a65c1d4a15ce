"""Money: cents to Decimal and back, the one rounding rule, and the column forms agreeing with
the scalar ones."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskcli.domain.money import (
    cents_text,
    exact_cents,
    from_cents,
    money_fields,
    optional_cents_text,
    round_cent,
    to_cents,
)
from riskcli.domain.values import MAX_CENTS
from riskcli.services.money_columns import (
    decimal_column,
    decimal_list,
    text_column,
    units_column,
)

CENTS = st.integers(min_value=-MAX_CENTS, max_value=MAX_CENTS)


@given(CENTS)
def test_cents_to_decimal_and_back_is_the_identity(cents: int) -> None:
    amount = from_cents(cents)
    assert amount.as_tuple().exponent == -2
    assert to_cents(amount) == cents
    assert to_cents(str(amount)) == cents
    assert exact_cents(amount) == cents


@given(CENTS)
def test_from_cents_prints_as_the_quantized_quotient_did(cents: int) -> None:
    """Byte-identical to the helpers it replaced: (Decimal(c) / 100).quantize(0.01)."""
    assert str(from_cents(cents)) == str((Decimal(cents) / 100).quantize(Decimal("0.01")))


@given(CENTS)
def test_cents_text_is_the_decimal_text(cents: int) -> None:
    assert cents_text(cents) == str(from_cents(cents))


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("12.345", 1235),
        ("12.344", 1234),
        ("0.005", 1),
        ("0.015", 2),
        ("-0.005", -1),
        ("-12.345", -1235),
        ("1000", 100000),
        ("0", 0),
    ],
)
def test_to_cents_rounds_half_up_to_the_cent(amount: str, cents: int) -> None:
    assert to_cents(Decimal(amount)) == cents
    assert round_cent(Decimal(amount)) == from_cents(cents)


def test_exact_cents_refuses_a_third_decimal() -> None:
    assert exact_cents(Decimal("1.5")) == 150
    assert exact_cents(Decimal("1.505")) is None
    assert exact_cents(Decimal("-0.01")) == -1


def test_money_fields_converts_the_named_fields_in_place() -> None:
    row = {"amount": 1250, "limit": None, "count": 3}
    assert money_fields(row, "amount", "limit", "absent") is row
    assert row == {"amount": Decimal("12.50"), "limit": None, "count": 3}
    assert str(row["amount"]) == "12.50"


@given(st.lists(st.one_of(CENTS, st.none()), max_size=30))
def test_the_columns_agree_with_the_scalars(values: list[int | None]) -> None:
    series = pd.Series(values, dtype="Int64")
    zero_filled = [0 if v is None else v for v in values]
    assert list(decimal_column(series)) == [from_cents(v) for v in zero_filled]
    assert [str(d) for d in decimal_column(series)] == [str(from_cents(v)) for v in zero_filled]
    assert list(text_column(series)) == [cents_text(v) for v in zero_filled]


def test_text_column_keeps_the_index_and_signs() -> None:
    series = pd.Series([123456, -5, 0, None], index=[7, 8, 9, 10], dtype="Int64")
    out = text_column(series)
    assert list(out.index) == [7, 8, 9, 10]
    assert list(out) == ["1234.56", "-0.05", "0.00", "0.00"]


def test_decimal_list_rounds_fractional_cents_first() -> None:
    assert decimal_list([1249.6, 0.4, -5.5]) == [
        Decimal("12.50"),
        Decimal("0.00"),
        Decimal("-0.06"),
    ]


def test_units_column_is_numeric_with_two_places() -> None:
    out = units_column(pd.Series([1250, None, "x", 1]))
    assert out.iloc[0] == 12.5 and out.iloc[3] == 0.01
    assert out.isna().tolist() == [False, True, True, False]


def test_scalar_money_does_not_import_pandas() -> None:
    import subprocess
    import sys

    code = "import sys, riskcli.domain.money; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_optional_cents_text_keeps_a_missing_amount_missing() -> None:
    assert optional_cents_text(None) is None
    assert optional_cents_text(float("nan")) is None
    assert optional_cents_text(-5) == "-0.05"
    assert optional_cents_text(123456) == "1234.56"
