"""Import into a real encrypted store: formats, encodings, bad input, upserts, atomicity."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from riskcli.domain.errors import InputError, UsageError
from riskcli.domain.models import NEGATIVE_ORDER
from riskcli.services.importing import (
    ImportAborted,
    history,
    import_files,
    probable_duplicates,
    resolve_source,
)
from riskcli.storage.store import Store

CUSTOMERS = [
    {"customer_id": "007", "name": "上海某某贸易有限公司", "kind": "company",
     "industry": "批发零售", "region": "华东", "phone": "+86 138-0013-8000",
     "email": "Info@Example.com",
     "national_id": "91350100M000100Y43", "registered_date": "2020/3/5",
     "credit_limit": "￥50,000",
     "account_owner": "王芳", "status": "正常"},
    {"customer_id": "C2", "name": "张三", "kind": "个人", "industry": "制造业", "region": "华北",
     "phone": "13900139000", "email": "", "national_id": "11010519491231002X",
     "registered_date": "2021年6月1日", "credit_limit": "1000", "account_owner": "", "status": ""},
]  # fmt: skip
CN_HEADERS = {
    "customer_id": "客户编号", "name": "客户名称", "kind": "客户类型", "industry": "行业",
    "region": "地区", "phone": "联系电话", "email": "邮箱", "national_id": "统一社会信用代码",
    "registered_date": "注册日期", "credit_limit": "信用额度", "account_owner": "客户经理",
    "status": "状态",
}  # fmt: skip


def write_csv(path: Path, rows: list[dict[str, Any]], *, encoding: str = "utf-8",
              sep: str = ",", headers: dict[str, str] | None = None) -> Path:  # fmt: skip
    buf = io.StringIO()
    names = list(rows[0])
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n")
    writer.writerow([(headers or {}).get(n, n) for n in names])
    for row in rows:
        writer.writerow([row[n] for n in names])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def run(store: Store, kind: str, *paths: Path, **kw: Any) -> Any:
    enc = kw.pop("encoding", None)
    sources = [resolve_source(p, p.name, encoding=enc) for p in paths]
    return import_files(store, kind, sources, **kw)


def counts(store: Store) -> dict[str, int]:
    return store.row_counts()


def customers_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "customers.csv", CUSTOMERS)


def test_customers_csv_normalised_into_storage(store: Store, tmp_path: Path) -> None:
    result = run(store, "customers", customers_csv(tmp_path))
    f = result.files[0]
    assert (f.rows, f.inserted, f.updated, f.unchanged, f.rejected) == (2, 2, 0, 0, 0)
    row = store.query("SELECT * FROM customers WHERE external_id = '007'")[0]
    assert row["phone"] == "13800138000"
    assert row["email"] == "info@example.com"
    assert row["registered_date"] == "2020-03-05"
    assert row["credit_limit"] == 5_000_000
    assert row["status"] == "active"
    c2 = store.query("SELECT kind, status, registered_date FROM customers WHERE external_id='C2'")
    assert c2 == [{"kind": "individual", "status": "active", "registered_date": "2021-06-01"}]
    batch = history(store)[0]
    assert (batch["kind"], batch["inserted"], batch["user"]) == ("customers", 2, "alice")
    assert len(batch["sha256"]) == 12


def test_reimport_is_a_noop_and_a_change_is_an_update(store: Store, tmp_path: Path) -> None:
    path = customers_csv(tmp_path)
    run(store, "customers", path)
    before = store.query("SELECT * FROM customers ORDER BY id")
    again = run(store, "customers", path).files[0]
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert store.query("SELECT * FROM customers ORDER BY id") == before
    changed = [dict(CUSTOMERS[0], region="华南"), CUSTOMERS[1]]
    f = run(store, "customers", write_csv(tmp_path / "c2.csv", changed)).files[0]
    assert (f.inserted, f.updated, f.unchanged) == (0, 1, 1)
    assert store.scalar("SELECT region FROM customers WHERE external_id='007'") == "华南"


@pytest.mark.parametrize("fmt", ["tsv", "jsonl", "json", "xlsx"])
def test_every_format_imports_the_same_rows(store: Store, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"customers.{fmt}"
    if fmt == "tsv":
        write_csv(path, CUSTOMERS, sep="\t")
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in CUSTOMERS) + "\n")
    elif fmt == "json":
        path.write_text(json.dumps(CUSTOMERS, ensure_ascii=False))
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(list(CUSTOMERS[0]))
        for r in CUSTOMERS:
            sheet.append(list(r.values()))
        book.save(path)
    f = run(store, "customers", path).files[0]
    assert (f.fmt, f.inserted, f.rejected) == (fmt, 2, 0)
    assert store.scalar("SELECT phone FROM customers WHERE external_id='007'") == "13800138000"
    # the same content as CSV is then unchanged: the row hash does not depend on the format
    again = run(store, "customers", customers_csv(tmp_path)).files[0]
    assert again.unchanged == 2


def test_xlsx_numbers_and_dates(store: Store, tmp_path: Path) -> None:
    from datetime import datetime

    run(store, "customers", customers_csv(tmp_path))
    path = tmp_path / "tx.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["交易编号", "客户编号", "类型", "日期", "金额"])
    sheet.append(["T1", "007", "订单", datetime(2024, 3, 5), 1234.5])
    sheet.append(["T2", "007", "付款", 45356, "￥1,000"])
    book.save(path)
    f = run(store, "transactions", path).files[0]
    assert (f.inserted, f.rejected) == (2, 0)
    rows = store.query("SELECT external_id, kind, date, amount FROM transactions ORDER BY 1")
    assert rows == [
        {"external_id": "T1", "kind": "order", "date": "2024-03-05", "amount": 123450},
        {"external_id": "T2", "kind": "payment", "date": "2024-03-05", "amount": 100000},
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_encodings_detected(store: Store, tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "c.csv", CUSTOMERS, encoding=encoding, headers=CN_HEADERS)
    f = run(store, "customers", path).files[0]
    assert f.inserted == 2, f.problems
    assert f.unknown_columns == []
    assert (
        store.scalar("SELECT name FROM customers WHERE external_id='007'") == CUSTOMERS[0]["name"]
    )


def test_unsure_encoding_is_an_error_naming_candidates(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(b"customer_id,name\nC1," + bytes(range(0x80, 0xFF)) + b"\n")
    with pytest.raises(InputError, match=r"encoding.*likely: .*--encoding"):
        resolve_source(path, "odd.csv")
    assert counts_zero(store)


def counts_zero(store: Store) -> bool:
    return store.scalar("SELECT count(*) FROM customers") == 0


def test_encoding_override(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", CUSTOMERS, encoding="gbk", headers=CN_HEADERS)
    f = run(store, "customers", path, encoding="GBK").files[0]
    assert f.encoding == "gb18030" and f.inserted == 2


def test_map_override_and_unknown_columns(store: Store, tmp_path: Path) -> None:
    rows = [{"Kunden": "K1", "Firma": "ACME", "extra": "x"}]
    path = write_csv(tmp_path / "c.csv", rows)
    f = run(store, "customers", path, mapping={"Kunden": "customer_id", "Firma": "name"}).files[0]
    assert f.inserted == 1
    assert f.unknown_columns == ["extra"]


def test_missing_required_column_is_an_error(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [{"name": "x"}])
    with pytest.raises(InputError, match="missing required column.*customer_id"):
        run(store, "customers", path)
    with pytest.raises(UsageError, match="not a customers field"):
        run(store, "customers", path, mapping={"name": "nonsense"})
    assert counts_zero(store)


BAD_TXNS = [
    ("date", "2024-02-30", "not a calendar date"),
    ("amount", "12.345", "more than 2 decimal places"),
    ("amount", "abc", "not an amount"),
    ("kind", "gift", "must be one of order|payment|refund"),
    ("customer_id", "NOPE", "unknown customer"),
    ("amount", "0", "must not be 0"),
    ("amount", "-10", NEGATIVE_ORDER),  # a blank txn_id is derived, a negative order is not
]


@pytest.mark.parametrize(("column", "value", "reason"), BAD_TXNS)
def test_each_bad_input_class_is_rejected_and_nothing_written(
    store: Store, tmp_path: Path, column: str, value: str, reason: str
) -> None:
    run(store, "customers", customers_csv(tmp_path))
    before = counts(store)
    good = {"txn_id": "T1", "customer_id": "007", "kind": "order", "date": "2024-03-05",
            "amount": "10"}  # fmt: skip
    bad = {**good, "txn_id": "T2", column: value}
    rejects = tmp_path / "rejects.csv"
    path = write_csv(tmp_path / "t.csv", [good, bad])
    with pytest.raises(ImportAborted, match="1 rejected row.*--max-rejects 0.*nothing was written"):
        run(store, "transactions", path, rejects_path=rejects)
    assert counts(store) == before
    lines = list(csv.DictReader(rejects.open(encoding="utf-8")))
    assert [(r["line"], r["column"], r["reason"]) for r in lines] == [("3", column, reason)]
    assert json.loads(lines[0]["raw"])[column] == value
    assert oct(rejects.stat().st_mode & 0o777) == "0o600"


def test_max_rejects_allows_partial_import(store: Store, tmp_path: Path) -> None:
    run(store, "customers", customers_csv(tmp_path))
    rows = [{"txn_id": f"T{i}", "customer_id": "007", "kind": "order", "date": "2024-03-05",
             "amount": "x" if i == 2 else "5"} for i in range(4)]  # fmt: skip
    result = run(store, "transactions", write_csv(tmp_path / "t.csv", rows), max_rejects=1)
    f = result.files[0]
    assert (f.rows, f.inserted, f.rejected) == (4, 3, 1)
    assert f.problems[0].column == "amount" and f.problems[0].lines == [4]
    assert history(store)[0]["rejected"] == 1


def test_duplicate_keys_inside_a_file_across_chunks(store: Store, tmp_path: Path) -> None:
    run(store, "customers", customers_csv(tmp_path))
    rows = [{"txn_id": f"T{i % 7}", "customer_id": "007", "kind": "order", "date": "2024-03-05",
             "amount": "5"} for i in range(10)]  # fmt: skip
    path = write_csv(tmp_path / "t.csv", rows)
    result = run(store, "transactions", path, max_rejects=100, chunk_rows=4)
    f = result.files[0]
    assert (f.inserted, f.rejected, f.duplicate_keys) == (7, 3, 3)
    reasons = {(p.reason, tuple(p.lines)) for p in f.problems}
    assert ("duplicate key (first on line 2)", (9,)) in reasons
    assert ("duplicate key (first on line 4)", (11,)) in reasons


def test_duplicate_keys_across_chunks_on_an_upsert(store: Store, tmp_path: Path) -> None:
    """A table that is not empty takes the upsert path: the same reasons, nothing left behind."""
    run(store, "customers", customers_csv(tmp_path))
    first = [{"txn_id": "T0", "customer_id": "007", "kind": "order", "date": "2024-03-05",
              "amount": "5"}]  # fmt: skip
    run(store, "transactions", write_csv(tmp_path / "t0.csv", first))
    rows = [{"txn_id": f"T{i % 7}", "customer_id": "007", "kind": "order", "date": "2024-03-05",
             "amount": str(10 + i)} for i in range(10)]  # fmt: skip
    path = write_csv(tmp_path / "t.csv", rows)
    before = store.tables()
    f = run(store, "transactions", path, max_rejects=100, chunk_rows=3).files[0]
    assert (f.inserted, f.updated, f.rejected, f.duplicate_keys) == (6, 1, 3, 3)
    reasons = {(p.reason, tuple(p.lines)) for p in f.problems}
    assert ("duplicate key (first on line 2)", (9,)) in reasons
    assert ("duplicate key (first on line 4)", (11,)) in reasons
    # the first occurrence won: T0 holds line 2's amount, not line 9's
    assert store.scalar("SELECT amount FROM transactions WHERE external_id = 'T0'") == 1000
    assert store.tables() == before


def test_foreign_keys_stay_enforced_after_an_import(store: Store, tmp_path: Path) -> None:
    run(store, "customers", customers_csv(tmp_path))
    rows = [{"txn_id": "T1", "customer_id": "ZZ", "kind": "order", "date": "2024-03-05",
             "amount": "5"}]  # fmt: skip
    with pytest.raises(ImportAborted):
        run(store, "transactions", write_csv(tmp_path / "t.csv", rows))
    assert store.scalar("PRAGMA foreign_keys") == 1
    run(store, "transactions", write_csv(tmp_path / "t.csv", rows), max_rejects=1)
    assert store.scalar("PRAGMA foreign_keys") == 1


def test_probable_duplicate_customers_reported(store: Store, tmp_path: Path) -> None:
    rows = [dict(CUSTOMERS[0]), dict(CUSTOMERS[0], customer_id="C9", national_id="")]
    result = run(store, "customers", write_csv(tmp_path / "c.csv", rows))
    fields = {(d["field"], tuple(d["customer_ids"])) for d in result.probable_duplicates}
    assert ("phone", ("007", "C9")) in fields and ("email", ("007", "C9")) in fields
    assert probable_duplicates(store) == result.probable_duplicates


def test_progress_and_empty_rejects_file(store: Store, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    rejects.write_text("stale content from another run\n")
    seen: list[int] = []
    path = customers_csv(tmp_path)
    run(store, "customers", path, progress=seen.append, rejects_path=rejects)
    assert seen and all(n >= 0 for n in seen)
    assert 0 < sum(seen) <= path.stat().st_size
    assert rejects.read_text(encoding="utf-8") == "file,line,column,reason,raw\n"


def test_dry_run_writes_only_a_dry_run_batch(store: Store, tmp_path: Path) -> None:
    result = run(store, "customers", customers_csv(tmp_path), dry_run=True)
    assert result.files[0].inserted == 2
    assert counts_zero(store)
    assert history(store)[0]["dry_run"] == 1


def test_multiple_files_one_transaction(store: Store, tmp_path: Path) -> None:
    good = customers_csv(tmp_path)
    bad = write_csv(tmp_path / "bad.csv", [dict(CUSTOMERS[0], customer_id="C3", phone="1")])
    with pytest.raises(ImportAborted):
        run(store, "customers", good, bad)
    assert counts_zero(store)
    assert store.scalar("SELECT count(*) FROM import_batches") == 0


def test_all_kinds_from_generated_files(store: Store, tmp_path: Path) -> None:
    from riskcli.services.synthetic import SyntheticConfig, generate

    out = tmp_path / "gen"
    summary = generate(out, SyntheticConfig(customers=300, seed=7), workers=1)
    for kind in ("customers", "transactions", "receivables", "credit_reports", "contracts",
                 "interactions", "financials"):  # fmt: skip
        f = run(store, kind, out / f"{kind}.csv").files[0]
        assert f.rejected == 0, (kind, f.problems)
        assert f.inserted == summary.rows[kind], kind
    again = run(store, "receivables", out / "receivables.csv").files[0]
    assert again.unchanged == summary.rows["receivables"]


def test_interactions_without_id_get_a_stable_key(store: Store, tmp_path: Path) -> None:
    run(store, "customers", customers_csv(tmp_path))
    rows = [{"customer_id": "007", "kind": "电话", "date": "2024-03-05", "satisfaction": "4",
             "note": "催款"}, {"customer_id": "007", "kind": "visit", "date": "2024-03-06",
             "satisfaction": "", "note": ""}]  # fmt: skip
    path = write_csv(tmp_path / "i.csv", rows)
    assert run(store, "interactions", path).files[0].inserted == 2
    assert run(store, "interactions", path).files[0].unchanged == 2
    keys = [r["external_id"] for r in store.query("SELECT external_id FROM interactions")]
    assert all(k.startswith("auto-") for k in keys)


def test_blank_lines_keep_line_numbers(store: Store, tmp_path: Path) -> None:
    run(store, "customers", customers_csv(tmp_path))
    path = tmp_path / "t.csv"
    path.write_text(
        "txn_id,customer_id,kind,date,amount\n\nT1,007,order,2024-03-05,1\n\nT2,007,order,x,1\n"
    )
    result = run(store, "transactions", path, max_rejects=5)
    f = result.files[0]
    assert (f.rows, f.inserted, f.rejected) == (2, 1, 1)
    assert f.problems[0].lines == [5]


def test_malformed_csv_message_has_no_row_content(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("customer_id,name\nC1,Alice\nC2,Secret Name,13800138000\n")
    with pytest.raises(InputError) as err:
        run(store, "customers", path)
    assert "malformed CSV" in str(err.value)
    assert "Secret" not in str(err.value) and "13800138000" not in str(err.value)
    assert counts_zero(store)


def test_store_file_holds_no_plaintext(store: Store, tmp_path: Path, store_path: Path) -> None:
    run(store, "customers", customers_csv(tmp_path))
    for suffix in ("", "-wal", "-shm"):
        f = Path(str(store_path) + suffix)
        if f.exists():
            data = f.read_bytes()
            assert b"SQLite format 3" not in data
            assert "上海某某贸易".encode() not in data
            assert b"13800138000" not in data


KILL_SCRIPT = """
import os, sys, time
from pathlib import Path
from riskcli.storage.store import open_store
from riskcli.services.importing import import_files, resolve_source
store = open_store(Path(sys.argv[1]), "alice", sys.argv[2].encode())
marker = Path(sys.argv[4])
def progress(n):
    marker.write_text("started")
    time.sleep(60)
src = resolve_source(Path(sys.argv[3]), "t.csv")
import_files(store, "transactions", [src], progress=progress, chunk_rows=50)
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_import_leaves_the_store_as_it_was(
    store: Store, store_path: Path, tmp_path: Path, sig: int
) -> None:
    from tests.conftest import PASSPHRASE

    run(store, "customers", customers_csv(tmp_path))
    before = counts(store)
    rows = [{"txn_id": f"T{i}", "customer_id": "007", "kind": "order", "date": "2024-03-05",
             "amount": "5"} for i in range(500)]  # fmt: skip
    path = write_csv(tmp_path / "t.csv", rows)
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(store_path), PASSPHRASE, str(path), str(marker)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the import never reached its first chunk"
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    assert counts(store) == before
    assert store.scalar("SELECT count(*) FROM transactions") == 0


def test_bulk_customer_lookup_path(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a chunk references much of the book, ids come from one scan; same results."""
    import riskcli.services.importing.customer_ids as service

    monkeypatch.setattr(service, "BULK_CUSTOMER_LOOKUP", 0)
    run(store, "customers", customers_csv(tmp_path))
    rows = [{"txn_id": f"T{i}", "customer_id": cid, "kind": "order", "date": "2024-03-05",
             "amount": "5"} for i, cid in enumerate(["007", "C2", "ZZ", "C2"])]  # fmt: skip
    f = run(store, "transactions", write_csv(tmp_path / "t.csv", rows), max_rejects=1).files[0]
    assert (f.inserted, f.rejected) == (3, 1)
    assert f.problems[0].lines == [4] and f.problems[0].reason == "unknown customer"
    got = store.query(
        "SELECT t.external_id, c.external_id AS customer FROM transactions t "
        "JOIN customers c ON c.id = t.customer_id ORDER BY t.external_id"
    )
    assert got == [
        {"external_id": "T0", "customer": "007"},
        {"external_id": "T1", "customer": "C2"},
        {"external_id": "T3", "customer": "C2"},
    ]
