"""Files shaped like real exports: keyless and signed transactions, ERP header names, Excel
title blocks and totals rows, broken quoting, and a whole book in one command."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import PASSPHRASE, USER

from riskcli.domain.models import CREDIT_NOTE, NEGATIVE_ORDER, NEGATIVE_PAYMENT, RULES
from riskcli.services.importing import import_files, resolve_source
from riskcli.storage.store import Store, open_store

Cli = Callable[..., Any]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def customers(tmp_path: Path) -> Path:
    return write(tmp_path / "customers.csv", "customer_id,name\nC1,Acme\nC2,Beta\n")


def counts(store_path: Path) -> dict[str, int]:
    with open_store(store_path, USER, PASSPHRASE.encode()) as store:
        return {k: v for k, v in store.row_counts().items() if k not in ("audit_events",)}


def rows(store_path: Path, sql: str) -> list[dict[str, Any]]:
    with open_store(store_path, USER, PASSPHRASE.encode()) as store:
        return store.query(sql)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files are named relative to the test's folder, as a user in it would type them."""
    monkeypatch.chdir(tmp_path)


def _rel(args: tuple[str, ...]) -> list[str]:
    here = f"{Path.cwd()}/"
    return [a.removeprefix(here) for a in args]


def ok(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli("import", *_rel(args), "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def fails(cli: Cli, store_env: Path, *args: str) -> str:
    """Run an import that must fail: exit 1, one error line, the store unchanged."""
    before = counts(store_env)
    result = cli("import", *_rel(args))
    assert result.exit_code == 1, result.stdout
    assert result.stdout == ""
    assert counts(store_env) == {
        **before,
        "import_batches": before.get("import_batches", 0),
    }
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1
    return str(result.stderr)


# ---- 1. transactions without a document number ------------------------------------------------

GBK_TXNS = (
    "客户编号,交易日期,金额,类型\n"
    'C1,2026-01-02,"1,000.00",order\n'
    'C1,2026-01-02,"1,000.00",order\n'  # the same order twice on one day: two rows
    "C2,2026-01-03,250,payment\n"
)


def test_keyless_gbk_transactions_get_stable_keys(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    ok(cli, "customers", str(customers(tmp_path)))
    path = write(tmp_path / "t.csv", GBK_TXNS, "gbk")
    first = ok(cli, "transactions", str(path))
    assert (first[0]["inserted"], first[0]["rejected"]) == (3, 0)
    keys = [r["external_id"] for r in rows(store_env, "SELECT external_id FROM transactions")]
    assert len(set(keys)) == 3 and all(k.startswith("T-") and len(k) == 18 for k in keys)
    again = ok(cli, "transactions", str(path))
    assert (again[0]["inserted"], again[0]["unchanged"]) == (0, 3)
    # the twins in the other order are the same set
    swapped = GBK_TXNS.splitlines()
    swapped = [swapped[0], swapped[3], swapped[1], swapped[2]]
    write(path, "\n".join(swapped) + "\n", "gbk")
    third = ok(cli, "transactions", str(path))
    assert (third[0]["inserted"], third[0]["unchanged"]) == (0, 3)


# ---- 2. signed amounts ----------------------------------------------------------------------


def test_signed_amounts_become_refunds_and_orders(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    ok(cli, "customers", str(customers(tmp_path)))
    path = write(
        tmp_path / "t.csv",
        "txn_id,customer_id,kind,date,amount\n"
        'R1,C1,refund,2026-01-03,"(1,000.00)"\n'
        "R2,C1,refund,2026-01-03,-20\n"
        "R3,C1,refund,2026-01-03,30\n",
    )
    ok(cli, "transactions", str(path))
    nokind = write(
        tmp_path / "n.csv",
        "txn_id,customer_id,date,amount\nN1,C2,2026-01-04,-5\nN2,C2,2026-01-04,7\n",
    )
    ok(cli, "transactions", str(nokind))
    got = rows(store_env, "SELECT external_id, kind, amount FROM transactions ORDER BY external_id")
    assert [(r["external_id"], r["kind"], r["amount"]) for r in got] == [
        ("N1", "refund", 500), ("N2", "order", 700),
        ("R1", "refund", 100000), ("R2", "refund", 2000), ("R3", "refund", 3000),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "reason"), [("order", NEGATIVE_ORDER), ("payment", NEGATIVE_PAYMENT)]
)
def test_a_negative_order_or_payment_says_what_to_do(
    store_env: Path, tmp_path: Path, cli: Cli, kind: str, reason: str
) -> None:
    ok(cli, "customers", str(customers(tmp_path)))
    path = write(
        tmp_path / "t.csv", f"txn_id,customer_id,kind,date,amount\nX1,C1,{kind},2026-01-03,-1\n"
    )
    stderr = fails(cli, store_env, "transactions", str(path))
    assert f"t.csv: 1 × amount: {reason} (line 2)" in stderr


def test_a_credit_note_on_receivables_is_refused_with_its_reason(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    ok(cli, "customers", str(customers(tmp_path)))
    path = write(
        tmp_path / "r.csv",
        "invoice_number,customer_id,issue_date,due_date,amount\nCN1,C1,2026-01-03,2026-02-03,-80\n",
    )
    stderr = fails(cli, store_env, "receivables", str(path))
    assert f"r.csv: 1 × amount: {CREDIT_NOTE} (line 2)" in stderr


# ---- 3. header names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["external_id", "customer_no", "account", "客户代码", "客户ID", "往来单位编码", "KUNNR"]
)
def test_erp_customer_key_names_map(store_env: Path, tmp_path: Path, cli: Cli, key: str) -> None:
    path = write(tmp_path / "c.csv", f"{key},往来单位,registered_on\nC9,Acme,2020-01-02\n")
    out = ok(cli, "customers", str(path))
    assert out[0]["inserted"] == 1
    got = rows(store_env, "SELECT external_id, name, registered_date FROM customers")
    assert got == [{"external_id": "C9", "name": "Acme", "registered_date": "2020-01-02"}]


@pytest.mark.parametrize(
    ("doc", "day", "money"),
    [("单据编号", "业务日期", "价税合计"), ("凭证号", "记账日期", "本币金额")],
)
def test_erp_transaction_names_map(
    store_env: Path, tmp_path: Path, cli: Cli, doc: str, day: str, money: str
) -> None:
    ok(cli, "customers", str(customers(tmp_path)))
    path = write(
        tmp_path / "t.csv", f"{doc},往来单位编码,{day},{money}\nD1,C1,2026-03-01,12.50\n", "gbk"
    )
    ok(cli, "transactions", str(path))
    got = rows(store_env, "SELECT external_id, kind, amount FROM transactions")
    assert got == [{"external_id": "D1", "kind": "order", "amount": 1250}]


def test_a_missing_key_column_names_the_closest_one(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    path = write(tmp_path / "c.csv", "cust_number,name\nC1,Acme\n")
    stderr = fails(cli, store_env, "customers", str(path))
    assert stderr.strip() == (
        "Error: missing required column(s) for customers: customer_id (found: cust_number, name); "
        "did you mean 'cust_number'? use --map cust_number=customer_id"
    )


# ---- 4. Excel as it is ----------------------------------------------------------------------


def report_sheet(ws: Any) -> None:
    """A report as exported: merged title, report date, a blank row, a header whose first cell
    is merged down over two rows, data, a totals row."""
    ws.append(["客户档案"])
    ws.merge_cells("A1:C1")
    ws.append(["报表日期：2026-09-30"])
    ws.append([])
    ws.append(["客户编号", "客户名称", "信用额度"])
    ws.append([None, None, None])
    ws.merge_cells("A4:A5")
    ws["B5"] = None
    ws.append(["C1", "Acme", 1000])
    ws.append(["C2", "Beta", 2000])
    ws.append(["合计", None, 3000])


def test_xlsx_title_block_totals_row_and_hidden_sheet(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    book = openpyxl.Workbook()
    hidden = book.active
    hidden.title = "lookup"
    hidden.append(["customer_id", "name"])
    hidden.append(["H1", "Hidden"])
    hidden.sheet_state = "hidden"
    report_sheet(book.create_sheet("客户"))
    path = tmp_path / "c.xlsx"
    book.save(path)
    result = cli("import", "customers", "c.xlsx", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["inserted"] == 2
    assert "c.xlsx: header on line 4; the lines above it skipped" in result.stderr
    assert "c.xlsx: skipped 1 totals row(s) (line 8)" in result.stderr
    got = rows(store_env, "SELECT external_id, credit_limit FROM customers ORDER BY 1")
    assert got == [
        {"external_id": "C1", "credit_limit": 100000},
        {"external_id": "C2", "credit_limit": 200000},
    ]
    named = cli("import", "customers", str(path), "--sheet", "lookup", "--format", "json")
    assert named.exit_code == 0 and json.loads(named.stdout)[0]["inserted"] == 1
    missing = fails(cli, store_env, "customers", str(path), "--sheet", "nope")
    assert "Error: c.xlsx: no sheet 'nope' (sheets: lookup, 客户)" in missing


def test_a_merged_header_cell_keeps_its_column(store_env: Path, tmp_path: Path, cli: Cli) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["客户编号", "基本信息", None])
    ws.merge_cells("B1:C1")
    ws.append([None, "客户名称", "信用额度"])
    ws.merge_cells("A1:A2")
    ws.append(["C7", "Gamma", 70])
    path = tmp_path / "m.xlsx"
    book.save(path)
    ok(cli, "customers", str(path))
    assert rows(store_env, "SELECT external_id, name, credit_limit FROM customers") == [
        {"external_id": "C7", "name": "Gamma", "credit_limit": 7000}
    ]


def test_csv_title_block_and_totals(store_env: Path, tmp_path: Path, cli: Cli) -> None:
    title = "应收账款明细表,,\n制表日期:2026-09-30,,\n,,\n"
    write(tmp_path / "c.csv", title + "客户编号,客户名称,信用额度\nC1,Acme,10\n总计,,10\n", "gbk")
    result = cli("import", "customers", "c.csv", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["inserted"] == 1
    assert "c.csv: skipped 1 totals row(s) (line 6)" in result.stderr


# ---- 5. never merge rows silently -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'customer_id,name\nX3,a\nX4,"unbalanced\nX5,ok\n',
            "name: unbalanced quote (line 3 swallowed line 4) (line 3)",
        ),
        (
            'customer_id,name\nX4,"unbalanced\nX5,ok\nX6,ok\n',
            "name: unbalanced quote (line 2 swallowed lines 3-4) (line 2)",
        ),
        (
            'customer_id,name\nX1,"two\nlines"\nX2,b\n',
            "name: line break in a one-line field (line 2)",
        ),
    ],
)
def test_broken_quoting_is_rejected_never_merged(
    store_env: Path, tmp_path: Path, cli: Cli, text: str, message: str
) -> None:
    path = write(tmp_path / "c.csv", text)
    stderr = fails(cli, store_env, "customers", str(path))
    assert f"c.csv: 1 × {message}" in stderr


def test_line_numbers_after_a_quoted_line_break(store_env: Path, tmp_path: Path, cli: Cli) -> None:
    ok(cli, "customers", str(customers(tmp_path)))
    text = (
        "interaction_id,customer_id,kind,date,note\n"
        'I1,C1,call,2026-01-02,"first line\nsecond line"\n'
        "I2,C1,call,2026-13-02,x\n"
    )
    stderr = fails(cli, store_env, "interactions", str(write(tmp_path / "i.csv", text)))
    assert "i.csv: 1 × date: not a calendar date (line 4)" in stderr


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "Error: c.csv: no rows (the file is empty or holds a header only)"),
        ("customer_id,name\n", "Error: c.csv: no rows (the file is empty or holds a header only)"),
        (
            "customer_id,name,name\nC1,a,b\n",
            "Error: c.csv: duplicate column name(s): name; "
            "rename one so each column has its own name",
        ),
        (
            "customer_id,name\nC1," + "a" * 4_000_000 + "\nC2,b\n",
            "Error: c.csv: field on line 2 is longer than 1 MiB; riskcli reads fields up to 1 MiB",
        ),
    ],
)
def test_files_that_cannot_be_read_whole_exit_1(
    store_env: Path, tmp_path: Path, cli: Cli, text: str, error: str
) -> None:
    stderr = fails(cli, store_env, "customers", str(write(tmp_path / "c.csv", text)))
    assert stderr.strip().splitlines()[-1] == error


def test_a_long_field_under_the_limit_is_read_and_judged(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    path = write(tmp_path / "c.csv", "customer_id,name\nC1," + "a" * 1_000_000 + "\n")
    stderr = fails(cli, store_env, "customers", str(path))
    assert "c.csv: 1 × name: longer than 200 characters (line 2)" in stderr


# ---- the csv module's own output imports back to the same rows ------------------------------

TEXT = st.text(
    alphabet=st.sampled_from(list("ab Z09,\"'\n;:-") + list("客户公司备注，。")), max_size=40
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    notes=st.lists(TEXT, min_size=1, max_size=12),
    kinds=st.lists(st.sampled_from(["call", "email", "visit"]), min_size=12, max_size=12),
)
def test_what_the_csv_module_writes_imports_back(
    store: Store, tmp_path: Path, notes: list[str], kinds: list[str]
) -> None:
    store.execute("DELETE FROM interactions")
    if not store.scalar("SELECT count(*) FROM customers"):
        import_files(store, "customers", [resolve_source(customers(tmp_path), "c.csv")])
    # a line inside a note with as many fields as the header reads as a swallowed record
    assume_no_record_lines = all(
        len(line.split(",")) < 6 for note in notes for line in note.split("\n")[1:]
    )
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["interaction_id", "customer_id", "kind", "date", "note"])
    for i, note in enumerate(notes):
        writer.writerow([f"I{i}", "C1" if i % 2 else "C2", kinds[i], "2026-01-02", note])
    path = write(tmp_path / "i.csv", buf.getvalue())
    result = import_files(store, "interactions", [resolve_source(path, "i.csv")], max_rejects=99)
    if not assume_no_record_lines:
        return
    assert result.rejected == 0
    got = {
        r["external_id"]: r["note"]
        for r in store.query("SELECT external_id, note FROM interactions")
    }
    assert got == {f"I{i}": RULES["interactions"]["note"](note) for i, note in enumerate(notes)}


# ---- 6. a whole book in one command ---------------------------------------------------------


def test_import_book_all_or_nothing(store_env: Path, tmp_path: Path, cli: Cli) -> None:
    folder = tmp_path / "daily"
    folder.mkdir()
    write(
        folder / "客户.csv",
        "客户编号,客户名称\nC1,成都中联机械制造有限公司\nC2,西安恒达塑胶制品有限公司\n",
        "gbk",
    )
    write(
        folder / "transactions.csv", "customer_id,date,amount\nC1,2026-01-02,10\nC2,2026-01-03,-4\n"
    )
    book = openpyxl.Workbook()
    book.active.append(["发票号", "客户编号", "开票日期", "到期日", "金额"])
    book.active.append(["INV1", "C2", "2026-01-02", "2026-02-01", 99])
    book.save(folder / "应收账款.xlsx")
    write(folder / "notes.txt.bak", "ignored")
    dry = cli("import", "book", "daily", "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.stderr
    assert [(r["kind"], r["inserted"]) for r in json.loads(dry.stdout)] == [
        ("customers", 2), ("transactions", 2), ("receivables", 1),
    ]  # fmt: skip
    assert rows(store_env, "SELECT count(*) AS n FROM customers") == [{"n": 0}]
    assert "notes.txt.bak: not a file riskcli recognises; left out" in dry.stderr
    done = cli("import", "book", "daily", "--format", "json")
    assert done.exit_code == 0, done.stderr
    assert "book: 3 file(s), 5 rows in one transaction: 5 inserted" in done.stderr
    assert rows(store_env, "SELECT count(*) AS n FROM receivables") == [{"n": 1}]
    # one bad row in the last file: nothing of any file is written
    write(folder / "customers.csv", "customer_id,name\nC3,Gamma\n")
    write(folder / "financials.csv", "customer_id,period,revenue\nC3,2025,abc\n")
    rejects = tmp_path / "rejects.csv"
    stderr = fails(cli, store_env, "book", str(folder), "--rejects", str(rejects))
    assert "nothing was written" in stderr
    assert rows(store_env, "SELECT count(*) AS n FROM customers") == [{"n": 2}]
    assert "financials.csv,2,revenue" in rejects.read_text(encoding="utf-8")


def test_import_book_of_a_folder_without_book_files(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    (tmp_path / "x").mkdir()
    write(tmp_path / "x" / "readme.md", "hi")
    stderr = fails(cli, store_env, "book", str(tmp_path / "x"))
    assert stderr.strip().endswith(
        "x: no files to import (names such as customers.csv, transactions.xlsx, 客户.csv, "
        "应收账款.xlsx)"
    )


def test_keyless_signed_transactions_from_json(store_env: Path, tmp_path: Path, cli: Cli) -> None:
    ok(cli, "customers", str(customers(tmp_path)))
    records = [
        {"客户编号": "C1", "业务日期": "2026-02-01", "价税合计": "(30.00)"},
        {"客户编号": "C1", "业务日期": "2026-02-01", "价税合计": 45},
    ]
    path = tmp_path / "t.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    out = ok(cli, "transactions", str(path))
    assert (out[0]["inserted"], out[0]["rejected"]) == (2, 0)
    got = rows(store_env, "SELECT kind, amount FROM transactions ORDER BY amount")
    assert got == [{"kind": "refund", "amount": 3000}, {"kind": "order", "amount": 4500}]


def test_blank_column_names_are_not_duplicates(store_env: Path, tmp_path: Path, cli: Cli) -> None:
    """Trailing empty columns (as Excel saves them) have no name; they are not a clash."""
    write(tmp_path / "c.csv", "customer_id,name,,\nC1,a,,\n")
    result = cli("import", "customers", "c.csv")
    assert result.exit_code == 0, result.stderr
    assert rows(store_env, "SELECT external_id FROM customers") == [{"external_id": "C1"}]


def test_keyless_twins_across_chunks_stay_apart(store: Store, tmp_path: Path) -> None:
    """The occurrence count carries from chunk to chunk (a scratch table after the first)."""
    import_files(store, "customers", [resolve_source(customers(tmp_path), "c.csv")])
    body = "".join("C1,2026-01-02,10\n" for _ in range(5)) + "C2,2026-01-02,-3\n" * 3
    path = write(tmp_path / "t.csv", "customer_id,date,amount\n" + body)
    first = import_files(store, "transactions", [resolve_source(path, "t.csv")], chunk_rows=2)
    assert (first.files[0].inserted, first.files[0].rejected) == (8, 0)
    assert store.scalar("SELECT count(DISTINCT external_id) FROM transactions") == 8
    again = import_files(store, "transactions", [resolve_source(path, "t.csv")], chunk_rows=3)
    assert (again.files[0].inserted, again.files[0].unchanged) == (0, 8)
    assert "import_scratch_occurrences" not in store.tables()


def test_import_book_leaves_out_a_header_only_file(
    store_env: Path, tmp_path: Path, cli: Cli
) -> None:
    folder = tmp_path / "daily"
    folder.mkdir()
    write(folder / "customers.csv", "customer_id,name\nC1,Acme\n")
    write(folder / "contracts.csv", "contract_number,customer_id\n")
    result = cli("import", "book", "daily", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert [r["kind"] for r in json.loads(result.stdout)] == ["customers"]
    assert "Warning: daily/contracts.csv: no rows (empty, or a header alone); left out" in (
        result.stderr
    )
    write(folder / "customers.csv", "customer_id,name\n")
    stderr = fails(cli, store_env, "book", "daily")
    assert stderr.strip().splitlines()[-1] == (
        "Error: no rows in any file (every file is empty or holds a header only)"
    )
