"""Import throughput and memory: riskcli's validated import vs raw executemany.

Generates 200,000 customers and ~1,000,000 transactions with the synthetic generator, then for
each of 3 runs imports them into a fresh encrypted store (customers, then transactions), each
phase in its own child process so its peak memory (ru_maxrss) is its own. The baseline, run in
the same go, inserts the same CSV rows with a plain `executemany` into the same SQLCipher engine
in one transaction (no parsing beyond csv.reader, no validation; the table has the same unique
key and index as riskcli's but no foreign key, because raw rows hold the customer's text id).
Imports of a quarter of the file (~250k rows) and of the file twice over (~2M rows, the copy's
ids prefixed) show whether peak memory stays flat as the file grows. `--date-order` also imports
the transactions sorted by date (customers in random order, as a ledger export comes), riskcli
and raw, in the same go.

    python benchmarks/bench_import.py                 # full size (~4-6 minutes)
    python benchmarks/bench_import.py --quick         # 20k customers, ~100k transactions
    python benchmarks/bench_import.py --date-order    # plus the date-ordered file
    python benchmarks/bench_import.py --book          # plus `import book` of a whole generated
                                                      # book beside its seven single imports
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PASS = "bench-passphrase-123"

CHILD = r"""
import csv, json, os, sys, time
from pathlib import Path
from riskcli.storage.keyslots import KdfParams
from riskcli.storage.store import create_store, open_store
mode, db, path = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
secret = sys.argv[4].encode()
CHEAP = KdfParams(iterations=1, memory_kib=1024, lanes=1)  # measure the import, not Argon2id
if db.exists():
    store = open_store(db, "bench", secret)
else:
    store = create_store(db, "bench", secret, kdf=CHEAP)
rows = 0
if mode == "book":
    from riskcli.services.importing import resolve_source
    from riskcli.services.importing.folder import book_files
    from riskcli.services.importing.service import import_plan
    c0, t0 = time.process_time(), time.perf_counter()
    plan, _ = book_files(path)
    resolved = [(k, [resolve_source(p, p.name) for p in paths]) for k, paths in plan]
    result = import_plan(store, resolved)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    totals = result.totals()
    rows = totals["rows"]
    assert totals["rejected"] == 0 and totals["inserted"] == rows, totals
elif not mode.startswith("raw-"):
    from riskcli.services.importing import import_files, resolve_source
    kind = mode.removesuffix("-again")
    c0, t0 = time.process_time(), time.perf_counter()
    result = import_files(store, kind, [resolve_source(path, path.name)])
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    f = result.files[0]
    rows = f.rows
    done = f.unchanged if mode.endswith("-again") else f.inserted
    assert f.rejected == 0 and f.rows == done, f.summary()
else:
    kind = mode.removeprefix("raw-")
    if kind == "transactions":
        store.execute(
            "CREATE TABLE IF NOT EXISTS raw_transactions (id INTEGER PRIMARY KEY, "
            "external_id TEXT NOT NULL UNIQUE, customer_id TEXT NOT NULL, kind TEXT NOT NULL, "
            "date TEXT NOT NULL, amount TEXT NOT NULL)"
        )
        store.execute("CREATE INDEX IF NOT EXISTS raw_tx_cd ON raw_transactions(customer_id, date)")
        sql = ("INSERT INTO raw_transactions (external_id, customer_id, kind, date, amount) "
               "VALUES (?,?,?,?,?)")
    else:
        sql = ("INSERT INTO customers (external_id, name, kind, industry, region, phone, email, "
               "national_id, registered_date, credit_limit, account_owner, status) "
               "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
    c0, t0 = time.process_time(), time.perf_counter()
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        with store.transaction():
            cur = store.executemany(sql, reader)
            rows = cur.rowcount
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
store.close()
print(json.dumps({"rows": rows, "seconds": seconds, "cpu": cpu}))
"""


def child(mode: str, db: Path, path: Path) -> dict[str, Any]:
    """Run one phase in a fresh interpreter; return rows, seconds and its peak RSS in MiB."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(db), str(path), PASS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed ({proc.returncode}):\n{err}")
    data: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    data["peak_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return data


GENERATE = r"""
import json, sys
from pathlib import Path
from riskcli.services.synthetic import SyntheticConfig, generate
customers, per_customer = int(sys.argv[2]), float(sys.argv[3])
config = SyntheticConfig(customers=customers, transactions_per_customer=per_customer, seed=1)
print(json.dumps(generate(Path(sys.argv[1]), config).rows))
"""


def generate(out: Path, customers: int, per_customer: float) -> dict[str, int]:
    """The synthetic files, made in a child process (see `double_file` on why)."""
    done = subprocess.run(
        [sys.executable, "-c", GENERATE, str(out), str(customers), str(per_customer)],
        check=True,
        capture_output=True,
        text=True,
    )
    rows: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return rows


def head_file(src: Path, dst: Path, rows: int) -> None:
    with src.open("rb") as f, dst.open("wb") as out:
        for i, line in enumerate(f):
            if i > rows:
                break
            out.write(line)


def double_file(src: Path, dst: Path) -> None:
    """The rows twice: the second copy's transaction ids get an "X" prefix (still unique).

    Streamed, so this process stays small: a child's ru_maxrss starts from its parent's size at
    fork, so a big parent would inflate every child's peak memory.
    """
    with dst.open("wb") as out:
        for prefix in (b"", b"X"):
            with src.open("rb") as f:
                header = f.readline()
                if not prefix:
                    out.write(header)
                for line in f:
                    out.write(prefix + line)


DATE_SORT = r"""
import sys
with open(sys.argv[1], "rb") as f:
    header, *body = f.readlines()
body.sort(key=lambda line: line.split(b",")[3])
with open(sys.argv[2], "wb") as out:
    out.write(header)
    out.writelines(body)
"""


def date_ordered_file(src: Path, dst: Path) -> None:
    """The rows sorted by date (stable), so customers come in random order; sorted in a child
    process (it holds the whole file) for the reason given in `double_file`."""
    subprocess.run([sys.executable, "-c", DATE_SORT, str(src), str(dst)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k customers, ~100k transactions")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--date-order", action="store_true", help="also import the file sorted by date"
    )
    parser.add_argument(
        "--book",
        action="store_true",
        help="also import a whole generated book (seven files) with `import book` and singly",
    )
    args = parser.parse_args()
    customers = 20_000 if args.quick else 200_000
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        counts = generate(work / "data", customers, 5.0)
        print(f"generated {counts['customers']:,} customers and {counts['transactions']:,} "
              f"transactions in {time.perf_counter() - t0:.1f}s", file=sys.stderr)  # fmt: skip
        cust, txn = work / "data" / "customers.csv", work / "data" / "transactions.csv"
        quarter = work / "data" / "transactions_quarter.csv"
        head_file(txn, quarter, counts["transactions"] // 4)
        double = work / "data" / "transactions_double.csv"
        double_file(txn, double)
        plan: list[tuple[str, list[tuple[str, Path]]]] = [
            ("riskcli", [("customers", cust), ("transactions", txn), ("transactions-again", txn)]),
            ("raw", [("raw-customers", cust), ("raw-transactions", txn)]),
            ("riskcli-quarter", [("customers", cust), ("transactions", quarter)]),
            ("riskcli-double", [("customers", cust), ("transactions", double)]),
        ]
        if args.date_order:
            by_date = work / "data" / "transactions_by_date.csv"
            date_ordered_file(txn, by_date)
            plan.append(("riskcli-by-date", [("customers", cust), ("transactions", by_date)]))
            plan.append(("raw-by-date", [("raw-customers", cust), ("raw-transactions", by_date)]))
        if args.book:
            t0 = time.perf_counter()
            book_rows = generate(work / "book", customers, 10.0)
            print(f"generated a book of {sum(book_rows.values()):,} rows in "
                  f"{time.perf_counter() - t0:.1f}s", file=sys.stderr)  # fmt: skip
            singles = [(kind, work / "book" / f"{kind}.csv") for kind in book_rows]
            plan.append(("singles", singles))
            plan.append(("book", [("book", work / "book")]))
        results: dict[str, list[dict[str, Any]]] = {}
        for run in range(args.runs):
            for label, steps in plan:
                db = work / f"{label}-{run}.db"
                for mode, path in steps:
                    data = child(mode, db, path)
                    key = f"{label}:{mode.removeprefix('raw-')}"
                    results.setdefault(key, []).append(data)
                    rate = data["rows"] / data["seconds"]
                    print(f"run {run + 1} {key}: {data['rows']:,} rows in {data['seconds']:.2f}s "
                          f"({rate:,.0f} rows/s; cpu {data['cpu']:.2f}s), "
                          f"peak {data['peak_mib']:.0f} MiB", file=sys.stderr)  # fmt: skip
                for suffix in ("", ".keys", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
    report(results, args)


def report(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> None:
    def med(key: str, field: str) -> float:
        return float(statistics.median(r[field] for r in results[key]))

    def phase(key: str) -> dict[str, float]:
        """One riskcli phase's medians: rows, seconds, CPU, rates and peak memory."""
        rows = results[key][0]["rows"]
        seconds, cpu = med(key, "seconds"), med(key, "cpu")
        return {
            "rows": rows,
            "seconds": seconds,
            "cpu": cpu,
            "rows_per_s": rows / seconds,
            "cpu_rows_per_s": rows / cpu,
            "peak_mib": med(key, "peak_mib"),
        }

    lines = [
        "| phase | rows | riskcli s | riskcli rows/s | raw s | raw rows/s | riskcli/raw "
        "| riskcli CPU rows/s | raw CPU rows/s | CPU ratio | riskcli peak MiB | raw peak MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    summary: dict[str, Any] = {}
    for kind in ("customers", "transactions"):
        ours, raw = f"riskcli:{kind}", f"raw:{kind}"
        rows = results[ours][0]["rows"]
        s_ours, s_raw = med(ours, "seconds"), med(raw, "seconds")
        c_ours, c_raw = med(ours, "cpu"), med(raw, "cpu")
        summary[kind] = {
            "rows": rows,
            "riskcli_seconds": s_ours,
            "riskcli_rows_per_s": rows / s_ours,
            "raw_seconds": s_raw,
            "raw_rows_per_s": rows / s_raw,
            "ratio": s_ours / s_raw,
            "riskcli_cpu_rows_per_s": rows / c_ours,
            "raw_cpu_rows_per_s": rows / c_raw,
            "cpu_ratio": c_ours / c_raw,
            "riskcli_peak_mib": med(ours, "peak_mib"),
            "raw_peak_mib": med(raw, "peak_mib"),
        }
        lines.append(
            f"| {kind} | {rows:,} | {s_ours:.2f} | {rows / s_ours:,.0f} | {s_raw:.2f} | "
            f"{rows / s_raw:,.0f} | {s_ours / s_raw:.2f}x | {rows / c_ours:,.0f} | "
            f"{rows / c_raw:,.0f} | {c_ours / c_raw:.2f}x | {med(ours, 'peak_mib'):.0f} | "
            f"{med(raw, 'peak_mib'):.0f} |"
        )
    again = summary["reimport_transactions"] = phase("riskcli:transactions-again")
    lines.append(
        f"| transactions re-import (all unchanged) | {again['rows']:,} | {again['seconds']:.2f} | "
        f"{again['rows_per_s']:,.0f} | | | | {again['cpu_rows_per_s']:,.0f} | | | "
        f"{again['peak_mib']:.0f} | |"
    )
    lines.append("")
    lines.append("| transactions file | rows | riskcli s | CPU s | CPU rows/s | peak MiB |")
    lines.append("|---|---|---|---|---|---|")
    for label, name in (
        ("riskcli-quarter", "first quarter"),
        ("riskcli", "whole"),
        ("riskcli-double", "twice over"),
    ):
        one = summary[f"{label}_transactions"] = phase(f"{label}:transactions")
        lines.append(
            f"| {name} | {one['rows']:,} | {one['seconds']:.2f} | {one['cpu']:.2f} | "
            f"{one['cpu_rows_per_s']:,.0f} | {one['peak_mib']:.0f} |"
        )
    if "riskcli-by-date:transactions" in results:
        ours, raw = "riskcli-by-date:transactions", "raw-by-date:transactions"
        rows = results[ours][0]["rows"]
        s_ours, s_raw = med(ours, "seconds"), med(raw, "seconds")
        c_ours, c_raw = med(ours, "cpu"), med(raw, "cpu")
        summary["by_date_transactions"] = {
            "rows": rows,
            "riskcli_seconds": s_ours,
            "raw_seconds": s_raw,
            "ratio": s_ours / s_raw,
            "riskcli_cpu_rows_per_s": rows / c_ours,
            "raw_cpu_rows_per_s": rows / c_raw,
            "cpu_ratio": c_ours / c_raw,
            "riskcli_peak_mib": med(ours, "peak_mib"),
        }
        lines.append(
            f"| date order (riskcli / raw) | {rows:,} | {s_ours:.2f} / {s_raw:.2f} | "
            f"{c_ours:.2f} / {c_raw:.2f} | {rows / c_ours:,.0f} / {rows / c_raw:,.0f} "
            f"(CPU ratio {c_ours / c_raw:.2f}x) | {med(ours, 'peak_mib'):.0f} |"
        )
    if "book:book" in results:
        kinds = [k.split(":", 1)[1] for k in results if k.startswith("singles:")]
        single_runs = [
            sum(results[f"singles:{k}"][run]["seconds"] for k in kinds)
            for run in range(len(results["book:book"]))
        ]
        single_cpus = [
            sum(results[f"singles:{k}"][run]["cpu"] for k in kinds)
            for run in range(len(results["book:book"]))
        ]
        single_s = float(statistics.median(single_runs))
        single_cpu = float(statistics.median(single_cpus))
        book = summary["book"] = phase("book:book")
        summary["book"]["seven_singles_seconds"] = single_s
        summary["book"]["seven_singles_cpu"] = single_cpu
        lines.append("")
        lines.append(
            "| whole book | rows | seven single imports s (CPU s) | import book s (CPU s) "
            "| book/singles (CPU) | book rows/s (CPU rows/s) | book peak MiB |"
        )
        lines.append("|---|---|---|---|---|---|---|")
        lines.append(
            f"| {len(kinds)} files | {book['rows']:,} | {single_s:.2f} ({single_cpu:.2f}) | "
            f"{book['seconds']:.2f} ({book['cpu']:.2f}) | {book['seconds'] / single_s:.2f}x "
            f"({book['cpu'] / single_cpu:.2f}x) | {book['rows_per_s']:,.0f} "
            f"({book['cpu_rows_per_s']:,.0f}) | {book['peak_mib']:.0f} |"
        )
    lines.append("")
    lines.append(f"Medians of {args.runs} runs.")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "runs": results}, indent=2))


if __name__ == "__main__":
    main()
