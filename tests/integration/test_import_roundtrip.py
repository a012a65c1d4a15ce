"""Hypothesis round-trips: a valid record written to a file, imported, and read back from the
encrypted store equals the original domain model."""

from __future__ import annotations

import csv
import itertools
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskcli.domain.ids import national_id_check_char, uscc_check_char
from riskcli.domain.models import Customer, Transaction
from riskcli.domain.values import from_cents
from riskcli.services.importing import import_files, resolve_source
from riskcli.storage.store import Store

_ids = itertools.count(1)

text = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), max_codepoint=0x9FFF),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
days = st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 31))
nid = st.from_regex(r"[1-9][0-9]{5}19[5-9][0-9](0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}",
                    fullmatch=True).map(lambda s: s + national_id_check_char(s))  # fmt: skip
uscc = st.from_regex(r"9[1-3][0-9]{6}[0-9A-HJ-NPQRTUWXY]{9}", fullmatch=True).map(
    lambda s: s + uscc_check_char(s)
)


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    kind = draw(st.sampled_from(["individual", "company"]))
    return Customer(
        customer_id=f"0{next(_ids):06d}",
        name=draw(text),
        kind=kind,
        industry=draw(st.none() | text),
        region=draw(st.none() | text),
        phone=draw(st.none() | st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)),
        email=draw(st.none() | st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(com|cn)", fullmatch=True)),
        national_id=draw(st.none() | (nid if kind == "individual" else uscc)),
        registered_date=draw(st.none() | days),
        credit_limit=draw(money),
        account_owner=draw(st.none() | text),
        status=draw(st.sampled_from(["active", "suspended", "closed"])),
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write(path: Path, records: list[Any]) -> Path:
    fields = list(type(records[0]).model_fields)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(fields)
        for r in records:
            w.writerow([_cell(getattr(r, name)) for name in fields])
    return path


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(customers(), min_size=1, max_size=5))
def test_customers_round_trip_through_the_store(
    store: Store, tmp_path: Path, batch: list[Customer]
) -> None:
    path = _write(tmp_path / "c.csv", batch)
    result = import_files(store, "customers", [resolve_source(path, "c.csv")])
    assert result.files[0].rejected == 0
    for original in batch:
        row = store.query(
            "SELECT external_id AS customer_id, name, kind, industry, region, phone, email, "
            "national_id, registered_date, credit_limit, account_owner, status FROM customers "
            "WHERE external_id = ?",
            (original.customer_id,),
        )[0]
        row["credit_limit"] = from_cents(row["credit_limit"])
        assert Customer.model_validate(row) == original


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["order", "payment", "refund"]),
            days,
            st.decimals(min_value=Decimal("0.01"), max_value=10**9, places=2),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_transactions_round_trip(store: Store, tmp_path: Path, rows: list[Any]) -> None:
    owner = Customer(customer_id=f"C{next(_ids)}", name="x")
    import_files(store, "customers", [resolve_source(_write(tmp_path / "o.csv", [owner]), "o")])
    batch = [
        Transaction(txn_id=f"T{next(_ids)}", customer_id=owner.customer_id, kind=k, date=d,
                    amount=a)
        for k, d, a in rows
    ]  # fmt: skip
    path = _write(tmp_path / "t.csv", batch)
    assert import_files(store, "transactions", [resolve_source(path, "t")]).files[
        0
    ].inserted == len(batch)
    for original in batch:
        row = store.query(
            "SELECT t.external_id AS txn_id, c.external_id AS customer_id, t.kind, t.date, "
            "t.amount FROM transactions t JOIN customers c ON c.id = t.customer_id "
            "WHERE t.external_id = ?",
            (original.txn_id,),
        )[0]
        row["amount"] = from_cents(row["amount"])
        assert Transaction.model_validate(row) == original
