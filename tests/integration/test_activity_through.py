"""The latest activity date (m061): remembered in meta, new rows read by row id, triggers and
one scan cover updates and deletes."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from tests.conftest import PASSPHRASE, USER, create_store_at
from tests.support.credit_sample import populate_store

from riskcli.storage import activity, migrations
from riskcli.storage.store import Store, open_store


def _scanned(store: Store) -> date | None:
    value = store.scalar(activity.SCAN_SQL, {"t": 0, "r": 0})
    return date.fromisoformat(value[:10]) if value else None


def _customer(store: Store, n: int) -> int:
    return int(
        store.execute(
            "INSERT INTO customers (external_id, credit_limit) VALUES (?, 0)", (f"K{n}",)
        ).lastrowid
    )


def test_a_new_store_has_no_activity_and_inserts_move_it_forward(store: Store) -> None:
    assert store.meta(activity.KEY) == ""
    assert activity.latest_activity(store) is None
    cid = _customer(store, 1)
    store.execute(
        "INSERT INTO transactions (external_id, customer_id, kind, date, amount) "
        "VALUES ('T1', ?, 'order', '2026-03-01', 100)",
        (cid,),
    )
    assert store.meta(activity.KEY) == ""  # an insert costs nothing: the reader sees it
    assert activity.latest_activity(store) == date(2026, 3, 1)
    assert (store.meta(activity.KEY), store.meta(activity.MARKS)) == ("2026-03-01", "1,0")
    store.execute(
        "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, amount, "
        "paid_amount, paid_date) VALUES ('I1', ?, '2026-02-01', '2026-03-01', 100, 100, "
        "'2026-04-02')",
        (cid,),
    )
    assert activity.latest_activity(store) == date(2026, 4, 2) == _scanned(store)
    store.execute("UPDATE receivables SET paid_date = '2026-05-05' WHERE invoice_number = 'I1'")
    assert store.meta(activity.KEY) == "2026-05-05"  # an update to a later date: the trigger
    assert activity.latest_activity(store) == date(2026, 5, 5)


def test_moving_or_deleting_the_latest_row_is_found_by_one_scan(store: Store) -> None:
    cid = _customer(store, 1)
    store.executemany(
        "INSERT INTO transactions (external_id, customer_id, kind, date, amount) "
        "VALUES (?, ?, 'order', ?, 1)",
        [("T1", cid, "2026-01-10"), ("T2", cid, "2026-06-30"), ("T3", cid, "2026-03-03")],
    )
    assert activity.latest_activity(store) == date(2026, 6, 30)
    store.execute("UPDATE transactions SET date = '2026-02-01' WHERE external_id = 'T2'")
    assert store.meta(activity.KEY) is None  # removed, not guessed
    assert activity.latest_activity(store) == date(2026, 3, 3)
    assert store.meta(activity.KEY) == "2026-03-03"  # stored again by the scan
    store.execute("DELETE FROM transactions WHERE external_id = 'T1'")  # any delete
    assert store.meta(activity.KEY) is None
    with store.transaction():  # inside a caller's transaction too
        assert activity.latest_activity(store) == date(2026, 3, 3)
    assert store.meta(activity.KEY) == "2026-03-03"
    # a deleted last row id is given to the next row: the delete made the reader scan again
    store.execute("DELETE FROM transactions WHERE external_id = 'T3'")
    store.execute(
        "INSERT INTO transactions (external_id, customer_id, kind, date, amount) "
        "VALUES ('T4', ?, 'order', '2025-12-01', 1)",
        (cid,),
    )
    assert activity.latest_activity(store) == date(2026, 2, 1)


def test_random_writes_keep_it_equal_to_a_scan(store: Store) -> None:
    rnd = random.Random(5)
    cid = _customer(store, 1)
    day = date(2025, 1, 1)

    def some_day() -> str:
        return (day + timedelta(days=rnd.randrange(400))).isoformat()

    for step in range(300):
        what = rnd.randrange(6)
        if what == 0:
            store.execute(
                "INSERT INTO transactions (external_id, customer_id, kind, date, amount) "
                "VALUES (?, ?, 'order', ?, 1)",
                (f"T{step}", cid, some_day()),
            )
        elif what == 1:
            paid = some_day() if rnd.random() < 0.6 else None
            store.execute(
                "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, "
                "amount, paid_amount, paid_date) VALUES (?, ?, ?, ?, 10, 10, ?)",
                (f"I{step}", cid, some_day(), some_day(), paid),
            )
        elif what == 2:
            store.execute(
                "UPDATE transactions SET date = ? WHERE id IN "
                "(SELECT id FROM transactions ORDER BY random() LIMIT 1)",
                (some_day(),),
            )
        elif what == 3:
            column = rnd.choice(["issue_date", "paid_date"])
            store.execute(
                f"UPDATE receivables SET {column} = ? WHERE id IN "
                "(SELECT id FROM receivables ORDER BY random() LIMIT 1)",
                (some_day() if column == "issue_date" or rnd.random() < 0.7 else None,),
            )
        elif what == 4:
            table = rnd.choice(["transactions", "receivables"])
            store.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} "
                "ORDER BY date_key DESC LIMIT 1)".replace(
                    "date_key",
                    "date" if table == "transactions" else "IFNULL(paid_date, issue_date)",
                )
            )
        else:
            assert activity.latest_activity(store) == _scanned(store), step
    assert activity.latest_activity(store) == _scanned(store)


def test_the_migration_fills_it_on_a_store_of_the_previous_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = create_store_at(path, "m060_score_reason_codes")
    assert old.meta(activity.KEY) is None
    populate_store(old, 50, seed=2)
    expected = _scanned(old)
    assert expected is not None
    old.close()
    with open_store(path, USER, PASSPHRASE.encode()) as store:
        assert "m061_activity_through" in migrations.applied(store.conn)
        assert store.meta(activity.KEY) == expected.isoformat()
        assert store.meta(activity.MARKS) == ",".join(
            str(store.scalar(f"SELECT MAX(id) FROM {t}")) for t in ("transactions", "receivables")
        )
        assert activity.latest_activity(store) == expected
