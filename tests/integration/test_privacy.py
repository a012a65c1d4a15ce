"""Erasure, legal holds, retention — and proof that erased values leave the file's bytes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from riskcli.domain.errors import InputError, UsageError
from riskcli.services import privacy
from riskcli.storage.store import Store

PHONE = "13812345678"
EMAIL = "wang.fang@example.cn"
NATIONAL_ID = "110101199003074514"
NAME = "Wang Fang Unique Name"
NOTE = "asked about the invoice of her sister Li Na"


def _customer(s: Store, ext: str, **extra: object) -> int:
    values = {
        "external_id": ext,
        "name": NAME if ext == "C1" else f"Name {ext}",
        "kind": "individual",
        "phone": PHONE if ext == "C1" else "13900000000",
        "email": EMAIL if ext == "C1" else f"{ext}@example.com",
        "national_id": NATIONAL_ID if ext == "C1" else None,
        "registered_date": "2015-01-01",
        "row_hash": "abc123",
        **extra,
    }
    cols = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cur = s.execute(f"INSERT INTO customers({cols}) VALUES ({marks})", tuple(values.values()))
    return int(cur.lastrowid)


@pytest.fixture
def book(store: Store) -> Store:
    c1 = _customer(store, "C1")
    c2 = _customer(store, "C2")
    store.execute(
        "INSERT INTO transactions(external_id, customer_id, kind, date, amount) "
        "VALUES ('T1', ?, 'order', '2016-03-01', 150000)",
        (c1,),
    )
    store.execute(
        "INSERT INTO interactions(external_id, customer_id, kind, date, satisfaction, note, "
        "row_hash) VALUES ('I1', ?, 'call', '2016-04-01', 4, ?, 'h1')",
        (c1, NOTE),
    )
    store.execute(
        "INSERT INTO receivables(invoice_number, customer_id, issue_date, due_date, amount, "
        "paid_amount) VALUES ('INV2', ?, '2024-01-01', '2024-02-01', 5000, 0)",
        (c2,),
    )
    return store


def test_erase_blanks_personal_data_and_keeps_aggregates(book: Store) -> None:
    result = privacy.erase(book, "C1", reason="request 2026-11-03", user="alice")
    row = book.query("SELECT * FROM customers WHERE external_id = 'C1'")[0]
    assert (row["name"], row["phone"], row["email"], row["national_id"], row["row_hash"]) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert row["kind"] == "individual" and row["registered_date"] == "2015-01-01"
    assert book.scalar("SELECT amount FROM transactions WHERE external_id = 'T1'") == 150000
    interaction = book.query("SELECT note, satisfaction FROM interactions")[0]
    assert interaction == {"note": None, "satisfaction": 4}
    assert result.rows["customers"] == 1 and result.rows["interactions"] == 1
    assert result.wal_cleared
    record = book.query("SELECT erased_by, reason, forced, fields FROM erasures")[0]
    assert record["erased_by"] == "alice" and record["forced"] == 0
    assert "phone" in json.loads(record["fields"])["customers"]
    # the other customer is untouched
    assert book.scalar("SELECT phone FROM customers WHERE external_id = 'C2'") == "13900000000"
    assert privacy.erased_ids(book) == {"C1"}
    with pytest.raises(InputError, match="customer C1 was already erased"):
        privacy.erase(book, "C1", reason="again", user="alice")


def test_erase_refuses_open_receivables_unless_forced(book: Store) -> None:
    with pytest.raises(InputError) as info:
        privacy.erase(book, "C2", reason="request", user="alice")
    assert str(info.value) == (
        "customer C2 cannot be erased: 1 open receivable (use --force with --reason to override)"
    )
    assert book.scalar("SELECT phone FROM customers WHERE external_id = 'C2'") == "13900000000"
    result = privacy.erase(book, "C2", reason="court order 17", user="alice", force=True)
    assert result.forced and result.overridden == ["1 open receivable"]
    assert book.scalar("SELECT forced FROM erasures") == 1


def test_erase_needs_a_reason_and_a_known_customer(book: Store) -> None:
    with pytest.raises(UsageError, match="needs --reason"):
        privacy.erase(book, "C1", reason="  ", user="alice")
    with pytest.raises(InputError, match="no customer C404"):
        privacy.erase(book, "C404", reason="x", user="alice")


def test_legal_hold_blocks_erasure_until_lifted(book: Store) -> None:
    privacy.hold(book, "C1", reason="litigation 117", user="alice")
    with pytest.raises(InputError, match="already on legal hold"):
        privacy.hold(book, "C1", reason="again", user="alice")
    with pytest.raises(InputError, match="cannot be erased: a legal hold"):
        privacy.erase(book, "C1", reason="request", user="alice")
    assert [h["customer_id"] for h in privacy.holds(book)] == ["C1"]
    privacy.unhold(book, "C1", reason="case closed", user="alice")
    assert privacy.holds(book) == []
    assert len(privacy.holds(book, include_lifted=True)) == 1
    with pytest.raises(InputError, match="not on legal hold"):
        privacy.unhold(book, "C1", reason="x", user="alice")
    privacy.erase(book, "C1", reason="request", user="alice")


def test_retention_lists_inactive_customers_with_blockers(book: Store) -> None:
    c3 = _customer(book, "C3", registered_date="2026-06-01")
    assert c3
    privacy.hold(book, "C1", reason="litigation", user="alice")
    rows = privacy.retention(book, 5, today=date(2026, 11, 29))
    by_id = {r["customer_id"]: r for r in rows}
    # C1: last activity 2016 (on hold); C2: receivable issued 2024 -> active; C3: new
    assert set(by_id) == {"C1"}
    assert by_id["C1"]["last_activity"] == "2016-04-01"
    assert by_id["C1"]["eligible"] is False and by_id["C1"]["blockers"] == "legal hold"
    rows = privacy.retention(book, 1, today=date(2026, 11, 29))
    assert {r["customer_id"] for r in rows} == {"C1", "C2"}
    c2 = next(r for r in rows if r["customer_id"] == "C2")
    assert c2["blockers"] == "open receivables"
    privacy.unhold(book, "C1", reason="closed", user="alice")
    privacy.erase(book, "C1", reason="retention rule", user="alice")
    assert "C1" not in {r["customer_id"] for r in privacy.retention(book, 1)}
    with pytest.raises(UsageError):
        privacy.retention(book, 0)


# ---- the bytes on disk --------------------------------------------------------------------------
def _decrypt_page(page: bytes, key: bytes, first: bool, size: int, reserve: int) -> bytes:
    iv = page[size - reserve : size - reserve + 16]
    body = page[16 if first else 0 : size - reserve]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(body) + decryptor.finalize()


def plaintext_of(db: Path, key: bytes) -> tuple[bytes, bytes]:
    """Decrypt every page of the SQLCipher file and of its WAL (SQLCipher 4 page format)."""
    data = db.read_bytes()
    size, reserve = 4096, 80  # SQLCipher 4 defaults; checked against the decrypted header
    head = _decrypt_page(data[:size], key, True, size, reserve)
    assert int.from_bytes(head[0:2], "big") == size and head[4] == reserve
    pages = [head] + [
        _decrypt_page(data[i : i + size], key, False, size, reserve)
        for i in range(size, len(data) - size + 1, size)
    ]
    wal_path = Path(f"{db}-wal")
    frames: list[bytes] = []
    if wal_path.exists():
        wal = wal_path.read_bytes()
        offset = 32
        while offset + 24 + size <= len(wal):
            number = int.from_bytes(wal[offset : offset + 4], "big")
            frame = wal[offset + 24 : offset + 24 + size]
            frames.append(_decrypt_page(frame, key, number == 1, size, reserve))
            offset += 24 + size
    return b"".join(pages), b"".join(frames)


SECRETS = (PHONE, EMAIL, NATIONAL_ID, NAME, NOTE)


def _found(blob: bytes) -> set[str]:
    return {v for v in SECRETS if v.encode() in blob}


def test_erased_values_are_gone_from_the_file_and_its_wal(book: Store, store_path: Path) -> None:
    key = book.master_key
    # first a checkpointed copy in the main file, then a newer one waiting in the WAL
    book.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    book.execute("UPDATE customers SET status = 'suspended' WHERE external_id = 'C1'")
    main, wal = plaintext_of(store_path, key)
    assert _found(main) == set(SECRETS)  # the test can see them: it would catch a leak
    assert {PHONE, EMAIL, NATIONAL_ID, NAME} <= _found(wal)
    assert _found(store_path.read_bytes()) == set()  # encrypted at rest all along

    privacy.erase(book, "C1", reason="request", user="alice")
    book.execute("INSERT INTO customers(external_id) VALUES ('C9')")  # later writes

    main, wal = plaintext_of(store_path, key)
    assert _found(main) == set()
    assert _found(wal) == set()
    assert b"13900000000" in main + wal  # C2 is still there, so decryption worked


def test_erased_data_stays_erased_when_written_again(book: Store) -> None:
    privacy.erase(book, "C1", reason="request", user="alice")
    book.execute("UPDATE customers SET name = ?, phone = ? WHERE external_id = 'C1'", (NAME, PHONE))
    row = book.query("SELECT name, phone, status FROM customers WHERE external_id = 'C1'")[0]
    assert row == {"name": None, "phone": None, "status": "active"}
    pk = book.scalar("SELECT id FROM customers WHERE external_id = 'C1'")
    book.execute(
        "INSERT INTO interactions(external_id, customer_id, kind, date, note) "
        "VALUES ('I2', ?, 'call', '2026-01-01', ?)",
        (pk, NOTE),
    )
    book.execute("UPDATE interactions SET note = ? WHERE external_id = 'I1'", (NOTE,))
    assert book.query("SELECT note FROM interactions WHERE customer_id = ?", (pk,)) == [
        {"note": None},
        {"note": None},
    ]
    # others are untouched by the guard
    book.execute("UPDATE customers SET phone = '13911111111' WHERE external_id = 'C2'")
    assert book.scalar("SELECT phone FROM customers WHERE external_id = 'C2'") == "13911111111"


def test_a_reimport_does_not_bring_erased_data_back(
    store_env: Path, cli: Callable[..., Any], tmp_path: Path
) -> None:
    source = tmp_path / "customers.csv"
    source.write_text(
        "customer_id,name,kind,phone,email\n"
        f"C1,{NAME},individual,{PHONE},{EMAIL}\n"
        "C2,Other Person,individual,13900000000,c2@example.com\n",
        encoding="utf-8",
    )
    assert cli("import", "customers", str(source)).exit_code == 0
    result = cli("customers", "erase", "C1", "--reason", "request", "--format", "json")
    assert result.exit_code == 0, result.output
    again = cli("import", "customers", str(source), "--format", "json")
    assert again.exit_code == 0
    counts = json.loads(again.stdout)[0]
    assert (counts["updated"], counts["unchanged"]) == (0, 2)  # the erased row is left alone
    shown = json.loads(cli("customers", "list", "--reveal", "--format", "json").stdout)
    by_id = {r["customer_id"]: r for r in shown}
    assert (by_id["C1"]["name"], by_id["C1"]["phone"], by_id["C1"]["email"]) == (None, None, None)
    assert by_id["C2"]["phone"] == "13900000000"
