"""Receivables analytics, provisions, write-offs and recoveries on a hand-made book.

The book (amounts in currency units), report as of 2026-03-31 over 2 months (month-ends
2026-01-31 opening, 2026-02-28, 2026-03-31):

  customer C1 (制造业): A issued 2026-01-10 due 02-09  3,000 paid in full 2026-03-15
                        B issued 2026-02-05 due 03-07  6,000 unpaid
                        C issued 2026-03-20 due 04-19  9,000 unpaid
  customer C2 (建筑业): D issued 2025-12-01 due 12-31  2,000 paid in full 2026-02-10
                        E issued 2026-03-01 due 03-31  1,500 unpaid (due today: current)

Sales by month: Dec 2,000 (D), Jan 3,000 (A), Feb 6,000 (B), Mar 10,500 (C + E).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.conftest import PASSPHRASE, USER

from riskcli.services import book
from riskcli.services.receivables.provisions import roll_rate_losses
from riskcli.services.reports.receivables import build_provisions, build_receivables
from riskcli.storage.store import Store, open_store

AS_OF = date(2026, 3, 31)
INVOICES = [
    ("A", 1, "2026-01-10", "2026-02-09", 300_000, 300_000, "2026-03-15"),
    ("B", 1, "2026-02-05", "2026-03-07", 600_000, 0, None),
    ("C", 1, "2026-03-20", "2026-04-19", 900_000, 0, None),
    ("D", 2, "2025-12-01", "2025-12-31", 200_000, 200_000, "2026-02-10"),
    ("E", 2, "2026-03-01", "2026-03-31", 150_000, 0, None),
]


def seed(store: Store, invoices: list[tuple[Any, ...]] = INVOICES) -> None:
    with store.transaction():
        store.executemany(
            "INSERT INTO customers (id, external_id, name, industry, region) VALUES (?,?,?,?,?)",
            [(1, "C1", "One", "制造业", "华东"), (2, "C2", "Two", "建筑业", "华南")],
        )
        store.executemany(
            "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount, "
            "paid_amount, paid_date) VALUES (?,?,?,?,?,?,?)",
            invoices,
        )


@pytest.fixture
def hand(store_path: Path) -> Path:
    s = open_store(store_path, USER, PASSPHRASE.encode())
    try:
        seed(s)
    finally:
        s.close()
    return store_path


def rows(report: Any, key: str) -> list[dict[str, Any]]:
    section = next(s for s in report.to_dict()["sections"] if s["key"] == key)
    return list(section["rows"])


def test_dso_bpdso_add_and_cei_equal_the_hand_computation(store: Store) -> None:
    seed(store)
    report = build_receivables(store, as_of=AS_OF, months=2)
    feb, mar = rows(report, "summary")
    # 2026-03-31: receivables B 6,000 (24 days past due) + C 9,000 + E 1,500 = 16,500;
    # current (not yet due) C + E = 10,500; A was paid on 03-15.
    assert (mar["receivables"], mar["current"], mar["sales"]) == (16_500, 10_500, 10_500)
    # countback: March's sales 10,500 are covered in full (31 days), the 6,000 left use up all
    # of February's 6,000 (28 days x 6,000 / 6,000): 31 + 28 = 59 days
    assert mar["dso"] == 59.0
    assert mar["dso_simple"] == round(16_500 / 10_500 * 31, 1)  # 48.7
    # best-possible: current 10,500 against March's sales 10,500 -> 31 days
    assert (mar["bpdso"], mar["bpdso_simple"]) == (31.0, 31.0)
    assert mar["add"] == 59.0 - 31.0
    # CEI March: (opening 9,000 + sales 10,500 - closing 16,500) /
    #            (opening 9,000 + sales 10,500 - closing current 10,500) x 100 = 3,000 / 9,000
    assert mar["cei"] == round(3_000 / 9_000 * 100, 1)
    # 2026-02-28: A 3,000 (19 days past due) + B 6,000 (current) = 9,000; D paid on 02-10.
    # countback: Feb 6,000 in full (28 days) + Jan 3,000 / 3,000 x 31 = 59; BPDSO 6,000 / 6,000
    # of Feb = 28; CEI (5,000 + 6,000 - 9,000) / (5,000 + 6,000 - 6,000) = 40%
    assert (feb["receivables"], feb["dso"], feb["bpdso"], feb["add"]) == (9_000, 59.0, 28.0, 31.0)
    assert feb["cei"] == 40.0
    aging = rows(report, "aging")[-1]
    assert (aging["current"], aging["1-30"], aging["31-60"], aging["total"]) == (
        10_500,
        6_000,
        0,
        16_500,
    )
    industries = {(r["industry"], r["month_end"]): r for r in rows(report, "by_industry")}
    assert industries[("建筑业", "2026-03-31")]["receivables"] == 1_500
    assert industries[("制造业", "2026-03-31")]["receivables"] == 15_000


def test_roll_rate_rows_sum_to_one_and_follow_the_invoices(store: Store) -> None:
    seed(store)
    report = build_receivables(store, as_of=AS_OF, months=2)
    matrix = {r["from_bucket"]: r for r in rows(report, "roll_rates")}
    cols = ["current", "1-30", "31-60", "61-90", "91-180", "181-365", ">365"]
    cols += ["collected", "written_off"]
    for r in matrix.values():
        if r["balance"]:
            assert sum(r[c] for c in cols) == pytest.approx(1.0)
    # 01-31 -> 02-28: A current -> 1-30, D (31 days past due) collected;
    # 02-28 -> 03-31: A 1-30 -> collected, B current -> 1-30
    assert matrix["current"]["balance"] == 9_000 and matrix["current"]["1-30"] == 1.0
    assert matrix["1-30"]["collected"] == 1.0 and matrix["31-60"]["collected"] == 1.0


def test_roll_rates_chain_to_the_loss_bucket() -> None:
    # buckets current, 1-30, >30 (the loss bucket). current: half rolls to 1-30, half is
    # collected; 1-30: 20% rolls to >30. Loss rates: 1-30 = 0.2; current = 0.5 x 0.2 = 0.1.
    flows = np.array(
        [[0.0, 50.0, 0.0, 50.0, 0.0], [0.0, 0.0, 20.0, 80.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]]
    )
    assert roll_rate_losses(flows) == pytest.approx([0.1, 0.2, 1.0])
    # a bucket that stays half the time loses the same in the end: 0.5 stay, 0.1 on, 0.4 paid
    flows[1] = [0.0, 50.0, 10.0, 40.0, 0.0]
    assert roll_rate_losses(flows)[1] == pytest.approx(0.1 / 0.5)


def test_write_off_leaves_the_book_and_recovery_round_trips(
    hand: Path, store_env: Path, cli: Callable[..., Any]
) -> None:
    out = cli(
        "receivables", "write-off", "B", "--reason", "debtor liquidated", "--date", "2026-03-20"
    )
    assert out.exit_code == 0, out.output
    assert "6,000.00" in out.output
    s = open_store(hand, USER, PASSPHRASE.encode())
    try:
        pos = book.positions(s, AS_OF)
        assert pos.set_index("customer_id").loc[1, "exposure"] == 900_000  # C only
        before = book.positions(s, date(2026, 3, 19)).set_index("customer_id")
        assert before.loc[1, "exposure"] == 600_000  # the day before: B still on the book
        march = build_provisions(s, as_of=AS_OF, lookback=2)
        moves = {r["line"]: r["amount"] for r in rows(march, "movement")}
        assert moves["amounts written off (used)"] == -6_000
        report = build_receivables(s, as_of=AS_OF, months=2)
        mar = rows(report, "summary")[-1]
        # off the book: 10,500 left; CEI: (9,000 + 10,500 - 10,500 - 6,000 written off) / 9,000
        assert (mar["receivables"], mar["written_off"]) == (10_500, 6_000)
        assert mar["cei"] == round(3_000 / 9_000 * 100, 1)
    finally:
        s.close()
    out = cli("receivables", "recover", "B", "--amount", "6000", "--date", "2026-04-10")
    assert out.exit_code == 0, out.output
    s = open_store(hand, USER, PASSPHRASE.encode())
    try:
        april = build_provisions(s, as_of=date(2026, 4, 30), lookback=2)
        moves = {r["line"]: r["amount"] for r in rows(april, "movement")}
        assert moves["recoveries of amounts written off (credited to profit or loss)"] == 6_000
        assert moves["amounts written off (used)"] == 0
        # opening + charge - written off = closing in each month
        for report in (march, april):
            m = {r["line"]: r["amount"] for r in rows(report, "movement")}
            assert m["opening allowance"] + m["charge for the period"] + m[
                "amounts written off (used)"
            ] == pytest.approx(m["closing allowance"])
    finally:
        s.close()
    listed = cli(
        "receivables", "list", "--written-off", "--as-of", "2026-04-30", "--format", "json"
    )
    assert listed.exit_code == 0, listed.output
    (entry,) = json.loads(listed.stdout)
    assert (entry["invoice_number"], entry["written_off"], entry["recovered"]) == ("B", 6000, 6000)
    assert entry["net_loss"] == 0 and entry["reason"] == "debtor liquidated"


def _state(path: Path) -> tuple[Any, ...]:
    s = open_store(path, USER, PASSPHRASE.encode())
    try:
        return (
            s.query("SELECT invoice_number, written_off_date FROM receivables ORDER BY id"),
            s.scalar("SELECT count(*) FROM recoveries"),
        )
    finally:
        s.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("report", "provisions", "--as-of", "2026-03-31", "--overlay", "-0.5"),
            "Error: --overlay must be 0 or more (got -0.5)",
        ),
        (
            ("report", "provisions", "--as-of", "2026-03-31", "--lookback", "24m"),
            "Error: --lookback 24m is longer than the history held: 3 months of invoices "
            "(the first issued 2025-12-01)",
        ),
        (
            ("report", "receivables", "--as-of", "2025-06-30"),
            "Error: --as-of 2025-06-30 is before the first invoice (2025-12-01)",
        ),
        (
            (
                "report",
                "provisions",
                "--as-of",
                "2026-03-31",
                "--lookback",
                "2m",
                "--method",
                "guess",
            ),
            "Error: --method must be roll-rate or write-off (got 'guess')",
        ),
        (
            ("receivables", "write-off", "A", "--reason", "x", "--date", "2026-03-31"),
            "Error: invoice A is paid in full by 2026-03-31: nothing to write off",
        ),
        (
            ("receivables", "write-off", "NOPE", "--reason", "x"),
            "Error: no invoice 'NOPE'",
        ),
        (
            ("report", "receivables", "--as-of", "2026-03-31", "--months", "0"),
            "Error: --months must be between 1 and 120",
        ),
        (
            ("receivables", "recover", "B", "--amount", "abc"),
            "Error: --amount: cannot read 'abc' as an amount",
        ),
        (
            ("receivables", "recover", "C", "--amount", "10", "--date", "2026-04-01"),
            "Error: invoice C is not written off; record payments by import",
        ),
    ],
)
def test_bad_input_is_one_line_exit_1_and_changes_nothing(
    hand: Path, store_env: Path, cli: Callable[..., Any], args: tuple[str, ...], message: str
) -> None:
    before = _state(hand)
    out = cli(*args)
    assert out.exit_code == 1
    assert out.stderr.strip().splitlines() == [message]
    assert _state(hand) == before


def test_second_write_off_and_too_large_recovery_are_refused(
    hand: Path, store_env: Path, cli: Callable[..., Any]
) -> None:
    assert (
        cli("receivables", "write-off", "B", "--reason", "gone", "--date", "2026-03-20").exit_code
        == 0
    )
    before = _state(hand)
    again = cli("receivables", "write-off", "B", "--reason", "twice", "--date", "2026-03-25")
    assert again.exit_code == 1
    assert again.stderr.strip() == "Error: invoice B was already written off on 2026-03-20"
    assert (
        cli("receivables", "recover", "B", "--amount", "5999.99", "--date", "2026-04-01").exit_code
        == 0
    )
    too_much = cli("receivables", "recover", "B", "--amount", "0.02", "--date", "2026-04-02")
    assert too_much.exit_code == 1
    assert too_much.stderr.strip() == (
        "Error: a recovery of 0.02 is more than what is left to recover on B "
        "(0.01 of 6000.00 written off)"
    )
    assert _state(hand)[0] == before[0] and _state(hand)[1] == 1


def test_write_off_needs_the_permission_and_is_audited(
    hand: Path,
    store_env: Path,
    cli: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pw = tmp_path / "bob.pw"
    pw.write_text("bob's long passphrase\n")
    assert (
        cli("user", "add", "bob", "--role", "analyst", "--new-passphrase-file", str(pw)).exit_code
        == 0
    )
    monkeypatch.setenv("RISKCLI_USER", "bob")
    monkeypatch.setenv("RISKCLI_PASSPHRASE", "bob's long passphrase")
    denied = cli("receivables", "write-off", "B", "--reason", "gone")
    assert denied.exit_code == 3
    assert denied.stderr.strip() == ("Error: user bob (role analyst) may not receivables.write_off")
    monkeypatch.setenv("RISKCLI_USER", USER)
    monkeypatch.setenv("RISKCLI_PASSPHRASE", PASSPHRASE)
    assert (
        cli("receivables", "write-off", "B", "--reason", "gone", "--date", "2026-03-20").exit_code
        == 0
    )
    s = open_store(hand, USER, PASSPHRASE.encode())
    try:
        events = s.query(
            "SELECT user, outcome, affected FROM audit_events WHERE action = "
            "'receivables.write_off' ORDER BY seq"
        )
    finally:
        s.close()
    assert [(e["user"], e["outcome"]) for e in events] == [("bob", "denied"), (USER, "ok")]
    assert json.loads(events[-1]["affected"])["amount"] == "6000.00"


@pytest.fixture
def generated(store_env: Path, tmp_path: Path, cli: Callable[..., Any]) -> Path:
    data = tmp_path / "data"
    out = cli("generate", str(data), "--customers", "600", "--seed", "5", "--as-of", "2026-09-30")
    assert out.exit_code == 0, out.output
    for kind in ("customers", "receivables"):
        assert cli("import", kind, str(data / f"{kind}.csv")).exit_code == 0
    return store_env


def _sections(report: Any) -> list[Any]:
    return [(s["key"], s["rows"], s["facts"]) for s in report.to_dict()["sections"]]


def test_provisions_reproduce_as_of_the_date_when_later_rows_arrive(generated: Path) -> None:
    from riskcli.services.receivables import ledger

    day = date(2026, 6, 30)
    s = open_store(generated, USER, PASSPHRASE.encode())
    try:
        first = build_provisions(s, as_of=day, lookback=12)
        ar = build_receivables(s, as_of=day, months=6)
        assert rows(first, "matrix")[-1]["provision"] > 0
        open_now = book.open_invoices(s, day)
        late = open_now["receivable_id"].head(20).tolist()
        with s.transaction():
            s.execute(  # paid after the date
                f"UPDATE receivables SET paid_amount = amount, paid_date = '2026-07-20' "
                f"WHERE id IN ({','.join(str(i) for i in late[:10])})"
            )
            s.execute(  # issued after the date
                "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, "
                "amount) VALUES ('LATE-1', 1, '2026-07-05', '2026-08-04', 123456)"
            )
        number = s.scalar("SELECT invoice_number FROM receivables WHERE id = ?", (late[15],))
        ledger.write_off(s, number, "after the date", date(2026, 8, 15))
        ledger.recover(s, number, ledger.Decimal("1.00"), date(2026, 9, 1), USER)
        again = build_provisions(s, as_of=day, lookback=12)
        assert _sections(again) == _sections(first)
        assert _sections(build_receivables(s, as_of=day, months=6)) == _sections(ar)
        # and the later date does see them
        later = build_provisions(s, as_of=date(2026, 8, 31), lookback=12)
        moves = {r["line"]: r["amount"] for r in rows(later, "movement")}
        assert moves["amounts written off (used)"] < 0
    finally:
        s.close()


def test_report_formats(
    hand: Path, store_env: Path, cli: Callable[..., Any], tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    out = cli(
        "report",
        "provisions",
        "--as-of",
        "2026-03-31",
        "--lookback",
        "3m",
        "-f",
        "xlsx",
        "-o",
        str(tmp_path / "p.xlsx"),
    )
    assert out.exit_code == 0, out.output
    wb = load_workbook(tmp_path / "p.xlsx")
    assert wb.sheetnames == [
        "index",
        "inputs",
        "rates",
        "matrix",
        "customers",
        "movement",
        "roll_flows",
    ]
    out = cli(
        "report",
        "receivables",
        "--as-of",
        "2026-03-31",
        "--months",
        "2",
        "-f",
        "html",
        "-o",
        str(tmp_path / "r.html"),
    )
    assert out.exit_code == 0, out.output
    page = (tmp_path / "r.html").read_text()
    for kind in ("lines", "stacked", "heatmap"):
        assert f'data-chart="{kind}"' in page
    out = cli(
        "report",
        "receivables",
        "--as-of",
        "2026-03-31",
        "--months",
        "2",
        "-f",
        "csv",
        "-s",
        "aging",
    )
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[0] == (
        "month_end,current,1-30,31-60,61-90,91-180,181-365,>365,total"
    )


def test_import_carries_written_off_date_and_a_later_file_keeps_it(
    store_env: Path, cli: Callable[..., Any], tmp_path: Path
) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text("customer_id,name\nC1,One\n")
    assert cli("import", "customers", str(customers)).exit_code == 0
    first = tmp_path / "r1.csv"
    first.write_text(
        "invoice_number,customer_id,issue_date,due_date,amount,paid_amount,written_off_date\n"
        "W1,C1,2025-01-05,2025-02-04,1000.00,200.00,2026-01-31\n"
        "W2,C1,2025-03-05,2025-04-04,500.00,0,\n"
    )
    out = cli("import", "receivables", str(first))
    assert out.exit_code == 0, out.output
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "invoice_number,customer_id,issue_date,due_date,amount,written_off_date\n"
        "W3,C1,2025-01-05,2025-02-04,1000.00,2024-12-31\n"
    )
    assert cli("import", "receivables", str(bad)).exit_code == 1  # before issue: rejected
    second = tmp_path / "r2.csv"  # the ERP's next export: a payment, no write-off column
    second.write_text(
        "invoice_number,customer_id,issue_date,due_date,amount,paid_amount,paid_date\n"
        "W1,C1,2025-01-05,2025-02-04,1000.00,300.00,2025-06-30\n"
    )
    assert cli("import", "receivables", str(second)).exit_code == 0
    listed = cli("receivables", "list", "--written-off", "--as-of", "2026-03-31", "-f", "json")
    (entry,) = json.loads(listed.stdout)
    assert (entry["invoice_number"], entry["written_off_date"], entry["written_off"]) == (
        "W1",
        "2026-01-31",
        700,
    )
    opened = cli("receivables", "list", "--as-of", "2026-03-31", "-f", "json")
    assert [r["invoice_number"] for r in json.loads(opened.stdout)] == ["W2"]


def test_m100_adds_the_write_off_columns_to_an_older_store(tmp_path: Path) -> None:
    from tests.conftest import create_store_at

    from riskcli.storage import migrations

    path = tmp_path / "old.db"
    old = create_store_at(path, "m070_expected_loss")
    seed(old)
    old.close()
    with open_store(path, USER, PASSPHRASE.encode()) as s:
        assert "m100_write_offs" in migrations.applied(s.conn)
        assert s.scalar("SELECT count(*) FROM receivables WHERE written_off_date IS NULL") == 5
        assert s.scalar("SELECT count(*) FROM recoveries") == 0
        assert len(book.open_invoices(s, AS_OF)) == 3


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[provisions]\nadjustments = { "90+" = 1.2 }\n',
            "Error: config [provisions] adjustments.90+: not an aging bucket "
            "(current, 1-30, 31-60, 61-90, 91-180, 181-365, >365)",
        ),
        (
            "[receivables]\naging = [0, 60, 30]\n",
            "Error: config [receivables] aging: Value error, must start at 0 and increase, "
            "e.g. [0, 30, 60, 90, 180, 365]",
        ),
    ],
)
def test_bad_config_is_one_line_naming_the_key(
    hand: Path, store_env: Path, cli: Callable[..., Any], tmp_path: Path, toml: str, message: str
) -> None:
    config = tmp_path / "riskcli.toml"
    config.write_text(toml)
    out = cli(
        "--config", str(config), "report", "provisions", "--as-of", "2026-03-31", "--lookback", "2m"
    )
    assert out.exit_code == 1
    assert out.stderr.strip().splitlines() == [message]
