"""Benchmark `monitor run` (all rules) against a bare pandas groupby over the same data, on
two books of the same size:

    python benchmarks/bench_monitoring.py            # 1,000,000 customers, ~10,000,000 txns
    python benchmarks/bench_monitoring.py --quick    # 20,000 customers, ~200,000 txns
    python benchmarks/bench_monitoring.py --book generator   # only the generator's book

- `bench`: `riskcli.services.synthetic` writes a consistent customer book as CSV, loaded into
  a fresh encrypted store with executemany (the importer is bypassed): core tables only, so
  the tier and score rules are skipped;
- `generator`: the book a new user builds, through the CLI: `riskcli generate -n N --seed 7`,
  the seven imports, `tier run`, `score expert` and `score run`, so every rule runs and the
  default state, scores and priorities are part of the run.

Both are built once per size and kept in --workdir (the generator's CSV files too).

Each measured run is its own subprocess, so its peak RSS (ru_maxrss from wait4) is its own.
Rounds alternate:

- `baseline`: read the transactions of the same store with `Store.query_df` and run one pandas
  groupby (sum and count per customer and kind) — the bare pass over the same data;
- `monitor (first scan)`: `run_monitor` with every rule on, after emptying the alert tables, so
  every alert is new (the worst case for the write phase);
- `monitor (re-scan)`: the same run again on top of the previous one: dedup, refresh, no new.

Medians of --rounds (default 3) are printed and, with --json, written as JSON: wall time, CPU
time (user + sys of the process: the fairer figure on a shared, loaded machine) and peak RSS.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

USER = "bench"
SECRET = b"bench-passphrase"
AS_OF = date(2026, 9, 30)
CHUNK = 500_000


def _cents(series: Any) -> Any:
    import numpy as np

    return (series.astype("float64") * 100).round().astype(np.int64)


def _rows(frame: Any) -> Any:
    """Plain Python tuples (None for missing) for executemany."""
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.itertuples(index=False, name=None)


def load_csvs(store: Any, data: Path) -> dict[str, int]:
    """Load the synthetic CSV files into the store's core tables with executemany."""
    import pandas as pd

    counts: dict[str, int] = {}
    conn = store.conn
    conn.execute("PRAGMA synchronous = OFF")  # setup only: a crash means building again
    cust = pd.read_csv(data / "customers.csv", dtype=str, keep_default_na=False)
    ids = pd.Series(range(1, len(cust) + 1), index=cust["customer_id"])
    done = {t for t, n in store.row_counts().items() if n}  # resume an interrupted build
    frame = pd.DataFrame(
        {
            "id": ids.to_numpy(),
            "external_id": cust["customer_id"],
            "name": cust["name"],
            "kind": cust["kind"],
            "industry": cust["industry"],
            "region": cust["region"],
            "credit_limit": _cents(cust["credit_limit"].replace("", "0")),
            "status": cust["status"],
        }
    )
    if "customers" not in done:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO customers (id, external_id, name, kind, industry, region, credit_limit, "
            "status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            _rows(frame),
        )
        conn.execute("COMMIT")
    counts["customers"] = len(frame)
    specs = {
        "transactions": (
            "INSERT INTO transactions (external_id, customer_id, kind, date, amount) "
            "VALUES (?, ?, ?, ?, ?)",
            ["txn_id", "customer_id", "kind", "date", "amount"],
            ["amount"],
        ),
        "receivables": (
            "INSERT INTO receivables (invoice_number, customer_id, issue_date, due_date, "
            "amount, paid_amount, paid_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ["invoice_number", "customer_id", "issue_date", "due_date", "amount",
             "paid_amount", "paid_date"],
            ["amount", "paid_amount"],
        ),
        "credit_reports": (
            "INSERT OR IGNORE INTO credit_reports (customer_id, provider, report_date, score, "
            "rating, lawsuit, bankruptcy, tax_violation, dishonest_debtor, other_flag) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ["customer_id", "provider", "report_date", "score", "rating", "lawsuit",
             "bankruptcy", "tax_violation", "dishonest_debtor", "other_flag"],
            [],
        ),
        "contracts": (
            "INSERT INTO contracts (contract_number, customer_id, signed_date, start_date, "
            "end_date, value, status) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ["contract_number", "customer_id", "signed_date", "start_date", "end_date",
             "value", "status"],
            ["value"],
        ),
        "interactions": (
            "INSERT INTO interactions (external_id, customer_id, kind, date, satisfaction, "
            "note) VALUES (?, ?, ?, ?, ?, ?)",
            ["interaction_id", "customer_id", "kind", "date", "satisfaction", "note"],
            [],
        ),
    }  # fmt: skip
    for table, (sql, columns, money) in specs.items():
        counts[table] = 0
        if table in done:
            continue
        conn.execute("BEGIN")
        for chunk in pd.read_csv(data / f"{table}.csv", dtype=str, chunksize=CHUNK):
            chunk = chunk[columns].copy()
            chunk["customer_id"] = chunk["customer_id"].map(ids)
            for col in money:
                chunk[col] = _cents(chunk[col].fillna("0"))
            if table == "credit_reports":
                chunk["score"] = chunk["score"].astype("float64")
                for flag in columns[5:]:
                    chunk[flag] = chunk[flag].fillna("0").astype(int)
            if table == "interactions":
                chunk["satisfaction"] = chunk["satisfaction"].astype("float64").astype("Int64")
            conn.executemany(sql, _rows(chunk))
            counts[table] += len(chunk)
        conn.execute("COMMIT")
    return counts


def build(path: Path, customers: int, work: Path) -> dict[str, Any]:
    from riskcli.services.synthetic import SyntheticConfig, generate
    from riskcli.storage.keyslots import KdfParams
    from riskcli.storage.store import create_store

    data = work / f"data-{customers}"
    t0 = time.perf_counter()
    if not (data / "customers.csv").exists():
        generate(data, SyntheticConfig(customers=customers, as_of=AS_OF), force=True)
    t1 = time.perf_counter()
    from riskcli.storage.store import open_store

    cheap = KdfParams(iterations=1, memory_kib=1024, lanes=1)  # measure the work, not Argon2id
    store = (
        open_store(path, USER, SECRET)
        if path.exists()
        else create_store(path, USER, SECRET, kdf=cheap)
    )
    try:
        counts = load_csvs(store, data)
    finally:
        store.close()
    t2 = time.perf_counter()
    return {"generate_s": round(t1 - t0, 1), "load_s": round(t2 - t1, 1), "rows": counts}


BASELINE = """
import sys, time
sys.path.insert(0, {src!r})
from riskcli.storage.store import open_store
store = open_store(__import__('pathlib').Path({db!r}), {user!r}, {secret!r})
t = time.perf_counter()
tx = store.query_df("SELECT customer_id, kind, date, amount FROM transactions")
per = tx.groupby(["customer_id", "kind"])["amount"].agg(["sum", "count"])
print(len(tx), len(per), round(time.perf_counter() - t, 3))
"""

MONITOR = """
import json, sys, time
sys.path.insert(0, {src!r})
from datetime import date
from riskcli.storage.store import open_store
from riskcli.services.monitoring.config import MonitoringConfig
from riskcli.services.monitoring.engine import run_monitor
store = open_store(__import__('pathlib').Path({db!r}), {user!r}, {secret!r})
t = time.perf_counter()
r = run_monitor(store, MonitoringConfig(), as_of=date.fromisoformat({as_of!r}))
print(json.dumps({{"seconds": round(time.perf_counter() - t, 3), "new": r.new,
                  "escalated": r.escalated, "resolved": r.resolved, "open": r.open_total,
                  "candidates": r.candidates, "rules_run": len(r.rules_run),
                  "skipped": r.rules_skipped,
                  "timings": {{k: round(v, 2) for k, v in r.timings.items()}}}}))
"""


def measure_rss(code: str) -> tuple[float, float, float, str]:
    """(wall s, CPU s = user + sys, peak RSS MiB, stdout) of `code` in a fresh interpreter."""
    env = dict(os.environ)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{err.decode()[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, out.decode().strip()


RESET = """
import sys
sys.path.insert(0, {src!r})
from riskcli.storage.store import open_store
store = open_store(__import__('pathlib').Path({db!r}), {user!r}, {secret!r})
with store.transaction():
    for table in ("alert_events", "alerts", "monitor_runs"):
        store.execute(f"DELETE FROM {{table}}")
store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
"""


GENERATOR_IMPORTS = ("customers", "transactions", "receivables", "contracts", "interactions",
                     "financials")  # fmt: skip


def build_generator(path: Path, customers: int, work: Path) -> dict[str, Any]:
    """The generator's book through the CLI, as a new user builds it (see the docstring)."""
    data = work / f"generator-data-{customers}"
    env = {**os.environ, "RISKCLI_DB": str(path), "RISKCLI_USER": USER,
           "RISKCLI_PASSPHRASE": SECRET.decode(),
           "PYTHONPATH": str(ROOT / "src")}  # fmt: skip
    env.pop("RISKCLI_CONFIG", None)

    def cli(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "riskcli", "-q", *args], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip

    t0 = time.perf_counter()
    if not (data / "customers.csv").exists():
        cli("generate", str(data), "-n", str(customers), "--seed", "7", "--as-of",
            AS_OF.isoformat(), "--force")  # fmt: skip
    t1 = time.perf_counter()
    cli("init")
    for kind in GENERATOR_IMPORTS:
        cli("import", kind, str(data / f"{kind}.csv"))
    # the generator's credit reports hold one duplicate row: rejected, the rest imported
    cli("import", "credit-reports", str(data / "credit_reports.csv"), "--rejects",
        str(work / "credit_report_rejects.csv"), "--max-rejects", "10")  # fmt: skip
    t2 = time.perf_counter()
    cli("tier", "run", "--as-of", AS_OF.isoformat())
    cli("score", "expert")
    cli("score", "run", "--as-of", AS_OF.isoformat())
    t3 = time.perf_counter()
    return {"generate_s": round(t1 - t0, 1), "import_s": round(t2 - t1, 1),
            "tier_score_s": round(t3 - t2, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 customers")
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--book", choices=("both", "bench", "generator"), default="both")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/riskcli-bench-monitoring"))
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    customers = args.customers or (20_000 if args.quick else 1_000_000)
    args.workdir.mkdir(parents=True, exist_ok=True)
    books = ("bench", "generator") if args.book == "both" else (args.book,)
    out: dict[str, Any] = {}
    for book in books:
        out[book] = measure_book(book, customers, args.rounds, args.workdir)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


def measure_book(book: str, customers: int, rounds: int, workdir: Path) -> dict[str, Any]:
    """Build the book if needed, then `rounds` rounds of baseline, first scan and re-scan."""
    db = workdir / f"{'book' if book == 'bench' else 'generator'}-{customers}.db"
    setup: dict[str, Any] = {}
    if not db.exists():
        print(f"building {db} ...", file=sys.stderr)
        make = build if book == "bench" else build_generator
        from own_process import in_own_process  # beside this file (tests load it by path)

        setup = in_own_process(make, db, customers, workdir)
        print(f"setup: {setup}", file=sys.stderr)
    print(f"== {book} book, {customers:,} customers ==", file=sys.stderr)
    params = {"src": str(ROOT / "src"), "db": str(db), "user": USER, "secret": SECRET,
              "as_of": AS_OF.isoformat()}  # fmt: skip
    results: dict[str, list[tuple[float, float, float]]] = {
        "baseline": [],
        "first": [],
        "rescan": [],
    }
    details: dict[str, Any] = {}
    for i in range(rounds):
        wall, cpu, rss, out = measure_rss(BASELINE.format(**params))
        results["baseline"].append((wall, cpu, rss))
        details["baseline"] = out
        measure_rss(RESET.format(**params))  # not measured: empty the alert tables
        wall, cpu, rss, out = measure_rss(MONITOR.format(**params))
        results["first"].append((wall, cpu, rss))
        details["first"] = json.loads(out)
        wall, cpu, rss, out = measure_rss(MONITOR.format(**params))
        results["rescan"].append((wall, cpu, rss))
        details["rescan"] = json.loads(out)
        print(
            f"round {i + 1}: "
            + ", ".join(
                f"{k} {v[-1][0]:.1f}s wall {v[-1][1]:.1f}s cpu {v[-1][2]:.0f} MiB"
                for k, v in results.items()
            )
            + f" (load average {os.getloadavg()[0]:.1f})",
            file=sys.stderr,
            flush=True,
        )
    summary: dict[str, Any] = {"book": book, "customers": customers, "rounds": rounds,
                               "setup": setup}  # fmt: skip
    base = statistics.median(w for w, _, _ in results["baseline"])
    base_cpu = statistics.median(c for _, c, _ in results["baseline"])
    print(f"{'':34s} {'wall':>9s} {'cpu':>9s} {'peak RSS':>9s}  ratio wall / cpu")
    labels = (("baseline", "baseline (query_df + groupby)"),
              ("first", "monitor run, first scan"), ("rescan", "monitor run, re-scan"))  # fmt: skip
    for name, label in labels:
        wall = statistics.median(w for w, _, _ in results[name])
        cpu = statistics.median(c for _, c, _ in results[name])
        rss = statistics.median(r for _, _, r in results[name])
        summary[name] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                         "peak_rss_mib": round(rss), "ratio_wall": round(wall / base, 2),
                         "ratio_cpu": round(cpu / base_cpu, 2)}  # fmt: skip
        print(f"{label:34s} {wall:8.1f}s {cpu:8.1f}s {rss:6.0f} MiB  "
              f"x{wall / base:.2f} / x{cpu / base_cpu:.2f}")  # fmt: skip
    summary["load_average"] = os.getloadavg()
    summary["details"] = details
    print(json.dumps(details, indent=1))
    return summary


if __name__ == "__main__":
    main()
