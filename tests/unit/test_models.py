"""Domain models, and the proof that the vectorised import validation applies the same rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskcli.domain.ids import national_id_check_char, uscc_check_char
from riskcli.domain.models import (
    MODELS,
    RULES,
    SYNONYMS,
    Customer,
    CustomerKind,
    Receivable,
    Transaction,
    row_errors,
)
from riskcli.services.importing.validate import check_frame


def test_customer_defaults_and_kind_inferred_from_id() -> None:
    c = Customer.model_validate(
        {"customer_id": "007", "name": " 张三 ", "national_id": "11010519491231002x"}
    )
    assert c.customer_id == "007"
    assert c.name == "张三"
    assert c.kind is CustomerKind.INDIVIDUAL
    assert c.status == "active"
    assert c.credit_limit == Decimal("0.00")
    company = Customer.model_validate({"customer_id": "C1", "name": "X 公司"})
    assert company.kind is CustomerKind.COMPANY


def test_company_with_resident_id_is_rejected_on_national_id() -> None:
    raw = {"customer_id": "C1", "name": "X", "kind": "企业", "national_id": "11010519491231002X"}
    assert row_errors("customers", raw) == [
        (
            "national_id",
            "a company needs a unified social credit code: credit code check character should "
            "be B, found X",
        )
    ]


def test_transaction_storage_row_is_cents_and_iso() -> None:
    t = Transaction.model_validate(
        {
            "txn_id": "T1",
            "customer_id": "C1",
            "kind": "回款",
            "date": "2024/3/5",
            "amount": "¥1,234.5",
        }
    )
    assert t.storage_row() == {
        "txn_id": "T1", "customer_id": "C1", "kind": "payment", "date": "2024-03-05",
        "amount": 123450,
    }  # fmt: skip


def test_receivable_rules_and_days_past_due() -> None:
    r = Receivable.model_validate(
        {"invoice_number": "INV1", "customer_id": "C1", "issue_date": "2024-01-01",
         "due_date": "2024-01-31", "amount": "100", "paid_amount": "40"}
    )  # fmt: skip
    assert r.outstanding == Decimal("60.00")
    assert r.days_past_due(date(2024, 3, 1)) == 30
    assert r.days_past_due(date(2024, 1, 15)) == 0
    paid = r.model_copy(update={"paid_amount": Decimal("100")})
    assert paid.days_past_due(date(2025, 1, 1)) == 0
    bad = {"invoice_number": "INV1", "customer_id": "C1", "issue_date": "2024-02-01",
           "due_date": "2024-01-31", "amount": "100", "paid_amount": "400"}  # fmt: skip
    assert row_errors("receivables", bad) == [("due_date", "before issue_date")]


def test_missing_required_fields_say_required() -> None:
    # a transaction's id and kind may be blank: derived from the row and the amount's sign
    assert row_errors("transactions", {"txn_id": "T1"}) == [
        ("customer_id", "required"), ("date", "required"), ("amount", "required"),
    ]  # fmt: skip


def test_error_reasons_never_echo_the_value() -> None:
    secret = "13800138000x"
    errors = row_errors("customers", {"customer_id": "C1", "name": "n", "phone": secret})
    assert errors == [("phone", "invalid phone number")]
    assert all(secret not in reason for _, reason in errors)


# --- agreement between the pydantic models and the vectorised validator ----------------------

mobile = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
nid17 = st.from_regex(
    r"[1-9][0-9]{5}(19[5-9][0-9]|20[01][0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}",
    fullmatch=True,
)
uscc17 = st.from_regex(r"9[1-3][0-9]{6}[0-9A-HJ-NPQRTUWXY]{9}", fullmatch=True)
junk = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x4FFF), max_size=12
)


def _date_texts() -> st.SearchStrategy[str]:
    d = st.dates(min_value=date(1890, 1, 1), max_value=date(2230, 12, 31))
    return st.one_of(
        d.map(lambda x: x.isoformat()),
        d.map(lambda x: f"{x.year}/{x.month}/{x.day}"),
        d.map(lambda x: f"{x.year}年{x.month}月{x.day}日"),
        d.map(lambda x: x.strftime("%Y%m%d")),
        st.integers(0, 120_000).map(str),
        st.sampled_from(["2024-02-30", "2024-13-01", "", " ", "2024-03-05 10:00:00"]),
        junk,
    )


def _money_texts() -> st.SearchStrategy[str]:
    amounts = st.decimals(min_value=-(10**14), max_value=10**14, places=2, allow_nan=False)
    return st.one_of(
        amounts.map(str),
        amounts.map(lambda v: f"{v:,}"),
        amounts.map(lambda v: f"¥{v}"),
        amounts.map(lambda v: f"({abs(v)})"),
        st.integers(-5, 10**13).map(str),
        st.sampled_from(["0", "-0", "0.00", "12.345", "1,23", "１２.５", "$ 5", "", "1e3", "--1"]),
        st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False).map(str),
        junk,
    )


def _cells(kind: str, name: str) -> st.SearchStrategy[str]:
    rule = RULES[kind][name]
    k = rule.kind
    if k == "id":
        return st.one_of(
            st.from_regex(r"[A-Z]{0,2}0?[0-9]{1,4}", fullmatch=True),
            st.sampled_from(["", " 007 ", "A B", "ＡＢ1", "x" * 65, "C1", "C2"]),
            junk,
        )
    if k == "date":
        return _date_texts()
    if k == "money":
        return _money_texts()
    if k == "int":
        return st.one_of(st.integers(-3, 1100).map(str), st.sampled_from(["4.0", "x", "", "3.5"]))
    if k == "flag":
        return st.sampled_from(["", "0", "1", "yes", "NO", "是", "否", "maybe", "true"])
    if k == "enum":
        allowed = [s for s in ("individual", "company", "active", "suspended", "closed", "order",
                               "payment", "refund", "draft", "amended", "terminated", "expired",
                               "call", "email", "visit", "survey", "complaint")]  # fmt: skip
        words = allowed + [w for table in SYNONYMS.values() for w in table] + ["", "Order", "??"]
        return st.sampled_from(words)
    if k == "phone":
        return st.one_of(
            mobile, mobile.map(lambda m: f"+86 {m[:3]}-{m[3:7]}-{m[7:]}"),
            st.sampled_from(["", "12345", "010-65521234", "call me"]), junk,
        )  # fmt: skip
    if k == "email":
        return st.one_of(
            st.from_regex(r"[a-z]{1,5}\.?[a-z0-9]{0,3}@[a-z]{1,6}\.(com|cn)", fullmatch=True),
            st.sampled_from(["", "A@B.COM", "no-at", "a@b", "a b@c.com"]), junk,
        )  # fmt: skip
    if k == "national_id":
        return st.one_of(
            nid17.map(lambda s: s + national_id_check_char(s)),
            nid17.map(lambda s: (s + national_id_check_char(s)).lower()),
            uscc17.map(lambda s: s + uscc_check_char(s)),
            nid17.map(lambda s: s + "0"),
            st.sampled_from(["", "123"]), junk,
        )  # fmt: skip
    if k == "period":
        return st.sampled_from(["2024", "2024Q1", "2024-3", "2024年3月", "2024Q5", "", "x", "1850"])
    return st.one_of(junk, st.sampled_from(["", " a ", "x" * 2001, "a\x00b"]))


def _rows(kind: str) -> st.SearchStrategy[list[dict[str, str]]]:
    row = st.fixed_dictionaries({name: _cells(kind, name) for name in RULES[kind]})
    return st.lists(row, min_size=1, max_size=8)


def _agree(kind: str, rows: list[dict[str, str]]) -> None:
    table = pa.table({name: [r[name] for r in rows] for name in RULES[kind]})
    checked = check_frame(kind, table)
    vector_errors: dict[int, set[str]] = {}
    for pos, col in zip(checked.err_pos, checked.err_col, strict=True):
        vector_errors.setdefault(pos, set()).add(col)
    for i, raw in enumerate(rows):
        model_errors = {col for col, _ in row_errors(kind, raw)}
        assert model_errors == vector_errors.get(i, set()), (kind, raw)
        assert bool(checked.ok[i]) == (not model_errors)
        if not model_errors:
            expected: dict[str, Any] = MODELS[kind].model_validate(raw).storage_row()
            got = {name: checked.values[name][i] for name in RULES[kind]}
            assert got == expected, (kind, raw)


@pytest.mark.parametrize("kind", list(RULES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_vectorised_validation_agrees_with_models(kind: str, data: st.DataObject) -> None:
    _agree(kind, data.draw(_rows(kind)))


def test_agreement_on_reasons_for_field_errors() -> None:
    rows = [{"txn_id": "T 1", "customer_id": "", "kind": "x", "date": "2024-02-30",
             "amount": "12.345"}]  # fmt: skip
    checked = check_frame("transactions", pa.table({k: [v] for k, v in rows[0].items()}))
    vector = sorted(zip(checked.err_col, checked.err_reason, strict=True))
    assert vector == sorted(row_errors("transactions", rows[0]))
