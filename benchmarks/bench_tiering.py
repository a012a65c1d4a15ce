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

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from own_process import in_own_process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

USER = "bench"
SECRET = b"bench-passphrase"
AS_OF = date(2024, 12, 31)
START = date(2022, 1, 1)


def build(path: Path, customers: int, transactions: int, seed: int = 7) -> None:
    """A store with `customers` customers and `transactions` orders/payments/refunds."""
    from riskcli.storage.keyslots import KdfParams
    from riskcli.storage.store import create_store

    rng = np.random.default_rng(seed)
    cheap = KdfParams(iterations=1, memory_kib=1024, lanes=1)  # measure the work, not Argon2id
    store = create_store(path, USER, SECRET, kdf=cheap)
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


# ---- the measured commands (each in its own process) ------------------------------------------
def baseline(path: Path) -> dict[str, float]:
    """pd.read_sql of the transactions, then one groupby computing R, F and M."""
    import warnings

    import pandas as pd

    from riskcli.storage.store import open_store

    store = open_store(path, USER, SECRET)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns about non-SQLAlchemy DBAPI connections
        frame = pd.read_sql(
            "SELECT customer_id, kind, date, amount FROM transactions WHERE kind <> 'payment'",
            store.conn,
        )
    t1 = time.perf_counter()
    rfm = groupby_rfm(frame)
    t2 = time.perf_counter()
    store.close()
    return {"read": t1 - t0, "groupby": t2 - t1, "customers": float(len(rfm))}


def groupby_rfm(frame: Any) -> Any:
    import pandas as pd

    as_of = pd.Timestamp(AS_OF)
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    order = frame["kind"] == "order"
    frame["signed"] = frame["amount"].where(order, -frame["amount"])
    frame["in_window"] = frame["date"] > as_of - pd.Timedelta(days=365)
    frame["order_in_window"] = order & frame["in_window"]
    frame["value_in_window"] = frame["signed"].where(frame["in_window"], 0)
    frame["order_date"] = frame["date"].where(order)
    rfm = frame.groupby("customer_id").agg(
        last=("order_date", "max"),
        frequency=("order_in_window", "sum"),
        monetary=("value_in_window", "sum"),
    )
    rfm["recency"] = (as_of - rfm["last"]).dt.days
    return rfm


def child(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run one command; its wall time, CPU time and peak RSS (from wait4, so its own)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    result = {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
    }
    text = out.decode().strip()
    if text.startswith("{"):
        result.update({k: v for k, v in json.loads(text).items() if isinstance(v, float)})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20k customers, 200k transactions")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/riskcli-bench-tiering"))
    parser.add_argument("--kmeans", action="store_true", help="also time --method kmeans")
    parser.add_argument("--baseline-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_child:
        print(json.dumps(baseline(args.baseline_child)))
        return
    customers, transactions = (20_000, 200_000) if args.quick else (1_000_000, 10_000_000)
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = args.workdir / f"tier-{customers}-{transactions}.db"
    if not db.exists():
        in_own_process(build, db, customers, transactions)
    env = dict(
        os.environ,
        RISKCLI_DB=str(db),
        RISKCLI_USER=USER,
        RISKCLI_PASSPHRASE=SECRET.decode(),
    )
    env.pop("RISKCLI_CONFIG", None)
    riskcli = str(Path(sys.executable).with_name("riskcli"))
    commands = {
        "baseline": [sys.executable, __file__, "--baseline-child", str(db)],
        "tier run": [riskcli, "--quiet", "tier", "run", "--as-of", AS_OF.isoformat(), "-f", "json"],
    }
    if args.kmeans:
        commands["tier run --method kmeans"] = [*commands["tier run"], "--method", "kmeans"]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
    for r in range(args.rounds):
        for name, argv in commands.items():
            runs[name].append(child(argv, env))
            print(f"round {r + 1} {name}: {runs[name][-1]['wall']:.1f} s", file=sys.stderr)
    med = {
        name: {k: statistics.median(x[k] for x in rs) for k in rs[0]} for name, rs in runs.items()
    }
    base = med["baseline"]["wall"]
    print(
        f"\n{customers:,} customers, {transactions:,} transactions, {args.rounds} rounds, "
        f"medians (load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    print(f"{'command':28} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'x baseline':>10}")
    for name, m in med.items():
        print(
            f"{name:28} {m['wall']:8.1f} {m['cpu']:8.1f} {m['rss_mb']:8.0f} "
            f"{m['wall'] / base:10.2f}"
        )
    b = med["baseline"]
    print(f"baseline split: read_sql {b['read']:.1f} s, groupby only {b['groupby']:.1f} s")
    print(f"tier run / groupby-only: {med['tier run']['wall'] / b['groupby']:.2f}")


if __name__ == "__main__":
    main()
