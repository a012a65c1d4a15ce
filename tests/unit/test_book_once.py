"""The rules of the book as of a date live in `services/book.py` only.

What was paid by a day, what is outstanding and which invoices are on the book are written
once there (as SQL fragments and their in-memory twin `paid_by_frame`); a module that spells
one of them out again is how `monitor run --as-of` once counted invoices issued after the date.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from riskcli.services import book

SRC = Path(__file__).resolve().parents[2] / "src" / "riskcli"

# The rule spelled out: a payment counts when undated or dated by the day; an invoice counts
# once issued by the day; a write-off takes it off the book.
RULES = {
    "paid by a day (SQL)": re.compile(r"paid_date\s+IS\s+NULL\s+OR\s+paid_date\s*<=", re.I),
    "paid by a day (pandas)": re.compile(r"paid_(?:date|day)\w*\.isna\(\)\s*\|"),
    "on the book (SQL)": re.compile(r"written_off_date\s+IS\s+NULL\s+OR\s+written_off_date\s*>"),
    "outstanding (SQL)": re.compile(
        r"amount\s*-\s*(?:\(?\s*CASE\s+WHEN\s+paid_date|\{paid_by\()", re.I
    ),
}


def test_no_module_but_book_spells_out_the_as_of_rules() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "book.py" and path.parent.name == "services":
            continue
        text = path.read_text(encoding="utf-8")
        for name, rule in RULES.items():
            if rule.search(text):
                offenders.append(f"{path.relative_to(SRC)}: {name}")
    assert offenders == []


def test_each_rule_is_written_in_book() -> None:
    text = (SRC / "services" / "book.py").read_text(encoding="utf-8")
    missing = [name for name, rule in RULES.items() if not rule.search(text)]
    assert missing == []


def test_paid_by_frame_matches_the_sql_rule() -> None:
    """A payment dated after the day is unpaid then; one on the day or undated is paid."""
    paid = pd.Series([100, 100, 100, None], dtype="Float64").astype("float64")
    day = pd.Series([9.0, 10.0, np.nan, np.nan])
    got = book.paid_by_frame(paid, day, 9.5)
    assert got.tolist() == [100, 0, 100, 0]
