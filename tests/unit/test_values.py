"""Value parsers: dates, amounts, ids, flags, enums, phones, emails, national ids, periods."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskcli.domain.values import (
    from_cents,
    halfwidth,
    parse_date,
    parse_email,
    parse_flag,
    parse_id,
    parse_int,
    parse_money,
    parse_national_id,
    parse_period,
    parse_phone,
    parse_text,
    to_cents,
)


@pytest.mark.parametrize(
    "raw",
    [
        "2024-03-05", "2024/3/5", "2024-3-5", "2024.3.5", "2024年3月5日", "2024 年 3 月 5 日",
        "20240305", "45356", "45356.0", "2024-03-05 00:00:00", "2024-03-05T13:45:00",
        "２０２４－０３－０５", date(2024, 3, 5),
    ],
)  # fmt: skip
def test_dates_in_every_accepted_shape(raw: object) -> None:
    assert parse_date(raw) == date(2024, 3, 5)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2024-02-30", "not a calendar date"),
        ("2024-13-01", "not a calendar date"),
        ("5/3/2024", "unrecognised date"),
        ("yesterday", "unrecognised date"),
        ("1850-01-01", "year outside"),
        ("60", "Excel serial date out of range"),
        ("9999999", "Excel serial date out of range"),
    ],
)
def test_bad_dates_give_a_reason_without_the_value(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as err:
        parse_date(raw)
    assert raw not in str(err.value)


def test_blank_is_none_everywhere() -> None:
    for parse in (parse_date, parse_money, parse_id, parse_int, parse_flag, parse_phone,
                  parse_email, parse_national_id, parse_period, parse_text):  # fmt: skip
        assert parse("") is None
        assert parse("   ") is None
        assert parse(None) is None


@pytest.mark.parametrize(
    ("raw", "cents"),
    [
        ("1234.56", 123456), ("1,234.56", 123456), ("¥1,234.56", 123456), ("￥1234.5", 123450),
        ("CNY 8", 800), ("１２３４.５６", 123456), ("(12.50)", -1250), ("-3", -300),
        ("(¥1,000)", -100000),
        ("¥-7", -700), ("1234.50元", 123450), ("RMB 100", 10000), (".5", 50), ("0", 0),
        (Decimal("2.1"), 210), (7, 700), (2.25, 225),
    ],
)  # fmt: skip
def test_amounts(raw: object, cents: int) -> None:
    value = parse_money(raw)
    assert value is not None
    assert to_cents(value) == cents


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12.345", "more than 2 decimal places"),
        ("1,23.00", "not an amount"),
        ("abc", "not an amount"),
        ("1e5", "not an amount"),
        ("--5", "not an amount"),
        ("1" * 20, "amount too large"),
        # a foreign currency is never dropped silently (domain/currency.py)
        ("$5", "amount in USD; give --rates or convert first"),
        ("US$1,000", "amount in USD; give"),
        ("USD 2000", "amount in USD; give"),
        ("2000 USD", "amount in USD; give"),
        ("€5", "amount in EUR; give"),
        ("HK$8", "amount in HKD; give"),
    ],
)
def test_bad_amounts(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_money(raw)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_cents_round_trip_through_text(cents: int) -> None:
    text = f"{from_cents(cents):,.2f}"
    value = parse_money(text)
    assert value is not None and to_cents(value) == cents


def test_ids_keep_leading_zeros_and_refuse_spaces() -> None:
    assert parse_id("007") == "007"
    assert parse_id(" 00123 ") == "00123"
    assert parse_id("ＡＢ０１") == "AB01"
    assert parse_id(7.0) == "7"
    with pytest.raises(ValueError, match="invalid identifier"):
        parse_id("A 1")
    with pytest.raises(ValueError):
        parse_id("x" * 65)


def test_flags() -> None:
    for word in ("1", "true", "TRUE", "yes", "Y", "是", "有"):
        assert parse_flag(word) is True
    for word in ("0", "false", "no", "N", "否", "无"):
        assert parse_flag(word) is False
    with pytest.raises(ValueError, match="yes/no"):
        parse_flag("maybe")


def test_int() -> None:
    assert parse_int("4") == 4
    assert parse_int("4.0") == 4
    assert parse_int("４") == 4
    with pytest.raises(ValueError):
        parse_int("4.5")


def test_phone_normalised() -> None:
    assert parse_phone("+86 138-0013-8000") == "13800138000"
    assert parse_phone("0086 13800138000") == "13800138000"
    assert parse_phone("8613800138000") == "13800138000"
    assert parse_phone("(010) 6552-1234") == "01065521234"
    with pytest.raises(ValueError, match="invalid phone"):
        parse_phone("12345")
    with pytest.raises(ValueError, match="invalid phone"):
        parse_phone("call me")


def test_email() -> None:
    assert parse_email(" Zhang.San@Example.COM ") == "zhang.san@example.com"
    for bad in ("no-at.example.com", "a@b", "a@@b.com", "a b@c.com"):
        with pytest.raises(ValueError, match="invalid email"):
            parse_email(bad)


def test_national_id_values() -> None:
    assert parse_national_id("11010519491231002x") == "11010519491231002X"
    assert parse_national_id(" 91350100M000100Y43 ") == "91350100M000100Y43"
    with pytest.raises(ValueError, match="check character should be X, found 1"):
        parse_national_id("110105194912310021")


@pytest.mark.parametrize(
    ("raw", "period"),
    [("2024", "2024"), (2024, "2024"), ("2024Q1", "2024Q1"), ("2024-q3", "2024Q3"),
     ("2024年第一季度", "2024Q1"), ("2024-3", "2024-03"), ("2024年3月", "2024-03"),
     ("2024年", "2024")],
)  # fmt: skip
def test_periods(raw: object, period: str) -> None:
    assert parse_period(raw) == period


def test_bad_periods() -> None:
    for bad in ("2024Q5", "2024-13", "last year"):
        with pytest.raises(ValueError):
            parse_period(bad)


def test_text_limits() -> None:
    assert parse_text("  hello ") == "hello"
    with pytest.raises(ValueError, match="longer than 5"):
        parse_text("abcdef", max_len=5)
    with pytest.raises(ValueError, match="control"):
        parse_text("a\x00b")


def test_halfwidth() -> None:
    assert halfwidth("ＡＢＣ１２３　（）") == "ABC123 ()"
