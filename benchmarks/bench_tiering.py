"""Benchmark `tier run` against the bare pandas groupby that computes R, F and M alone.

    python benchmarks/bench_tiering.py            # 1,000,000 customers, 10,000,000 transactions
    python benchmarks/bench_tiering.py --quick    # 20,000 customers, 200,000 transactions

The store is built once per size (and kept in --workdir, default /tmp/riskcli-bench-tiering)
with executemany, bypassing the importer. Each measured run is a fresh subprocess so its peak
RSS (ru_maxrss) is its own. Rounds alternate baseline and tier run; medians of the rounds are
reported, with the ratio tier/baseline. Two baselines are measured in the same go:

- `baseline`: pd.read_sql of the same transactions from the same encrypted store, then one
  pandas groupby computing recency, frequency and monetary value (the obvious way to do it);
- `groupby only`: that groupby alone on an in-memory frame (the maths with no I/O at all).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

USER = "bench"
SECRET = b"bench-passphrase"
AS_OF = date(2024, 12, 31)
START = date(2022, 1, 1)


def build(path: Path, customers: int, transactions: int, seed: int = 7) -> None:
    """A store with `customers` customers and `transactions` orders/payments/refunds."""
    os.environ["RISKCLI_KDF_PROFILE"] = "fast"
    from riskcli.storage.store import create_store

    rng = np.random.default_rng(seed)
    store = create_store(path, USER, SECRET)
    conn = store.conn
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    chunk = 200_000
    for lo in range(0, customers, chunk):
        ids = range(lo + 1, min(customers, lo + chunk) + 1)
        conn.executemany(
            "INSERT INTO customers(id, external_id, name, credit_limit) VALUES (?, ?, ?, ?)",
            ((i, f"C{i:08d}", f"Customer {i}", 1_000_000) for i in ids),
        )
    conn.execute("COMMIT")
    # Heavy-tailed activity: a few customers buy often and big, most rarely.
    activity = rng.pareto(1.2, customers) + 0.05
    level = rng.lognormal(9.0, 1.0, customers)  # typical order size in cents
    first_day = (START - date(1970, 1, 1)).days
    span = (AS_OF - START).days
    start = first_day + (rng.random(customers) ** 2 * span * 0.9).astype(np.int64)
    stop = start + ((first_day + span - start) * rng.uniform(0.3, 1.0, customers)).astype(np.int64)
    stop[rng.random(customers) < 0.5] = first_day + span  # half still buying at the end
    cust = np.sort(rng.choice(customers, size=transactions, p=activity / activity.sum()))
    day = start[cust] + (rng.random(transactions) * (stop[cust] - start[cust] + 1)).astype(np.int64)
    kind = rng.choice(3, size=transactions, p=[0.85, 0.10, 0.05])
    amount = (level[cust] * rng.lognormal(0.0, 0.5, transactions)).astype(np.int64) + 100
    amount[kind == 2] //= 3
    order = np.lexsort((day, cust))
    cust, day, kind, amount = cust[order] + 1, day[order], kind[order], amount[order]
    iso = np.datetime_as_string(day.astype("datetime64[D]"))
    names = np.array(["order", "payment", "refund"])[kind]
    conn.execute("BEGIN")
    for lo in range(0, transactions, chunk):
        hi = min(transactions, lo + chunk)
        rows = zip(
            (f"T{i:09d}" for i in range(lo + 1, hi + 1)),
            cust[lo:hi].tolist(),
            names[lo:hi].tolist(),
            iso[lo:hi].tolist(),
            amount[lo:hi].tolist(),
            strict=True,
        )
        conn.executemany(
            "INSERT INTO transactions(external_id, customer_id, kind, date, amount) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    conn.execute("COMMIT")
    # a few receivables so `tier summary` has overdue amounts to show
    n_recv = min(customers, 50_000)
    who = rng.choice(customers, n_recv, replace=False) + 1
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO receivables(invoice_number, customer_id, issue_date, due_date, amount, "
        "paid_amount) VALUES (?, ?, ?, ?, ?, ?)",
        (
            (f"INV{i:08d}", int(c), "2024-09-01", "2024-10-01", 500_000, 100_000)
            for i, c in enumerate(who)
        ),
    )
    conn.execute("COMMIT")
    store.close()
    print(f"built {path} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
