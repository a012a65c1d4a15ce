"""What credit control costs an import: the same files with and without the import hooks.

Generates customers and transactions with the synthetic generator, then per run, into fresh
encrypted stores: the customers' first load, the transactions (the currency step looks at
every money cell), and a re-import of the customers file with 10% of the limits and 1% of the
statuses changed (each changed limit becomes a pending request, each status change an audit
event). The baseline is the same import without hooks (the limits written as in the file).

    python benchmarks/bench_limits.py --quick    # 20k customers, ~100k transactions
    python benchmarks/bench_limits.py            # 200k customers, ~1M transactions
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from riskcli.services.importing import import_files, resolve_source
from riskcli.services.limits.importing import ImportHooks
from riskcli.services.synthetic import SyntheticConfig, generate
from riskcli.storage.keyslots import KdfParams
from riskcli.storage.store import create_store

PASS = b"bench-passphrase-123"

#: benchmark stores measure the work, not Argon2id: cheap keyslots, given explicitly
CHEAP_KDF = KdfParams(iterations=1, memory_kib=1024, lanes=1)


def changed_copy(src: Path, dst: Path) -> int:
    """Every 10th customer's limit +10%, every 100th suspended; returns rows written."""
    with src.open(newline="", encoding="utf-8") as f, dst.open("w", newline="") as out:
        reader = csv.DictReader(f)
        writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or []))
        writer.writeheader()
        n = 0
        for n, row in enumerate(reader, start=1):
            if n % 10 == 0:
                row["credit_limit"] = f"{float(row['credit_limit']) * 1.1:.2f}"
            if n % 100 == 0:
                row["status"] = "suspended"
            writer.writerow(row)
    return n


def timed(store: Any, kind: str, path: Path, hooks: ImportHooks | None) -> dict[str, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    result = import_files(store, kind, [resolve_source(path, path.name)], hooks=hooks)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert result.rejected == 0, result.files[0].summary()
    return {"seconds": wall, "cpu": cpu, "rows": result.files[0].rows}


def _hooks(label: str) -> ImportHooks | None:
    if label == "plain":
        return None
    return ImportHooks.from_config({}, rates=None, mode="request", command="bench")


def one_run(work: Path, run: int, files: dict[str, Path]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for label in ("plain", "hooks"):
        db = work / f"{label}-{run}.db"
        store = create_store(db, "bench", PASS, kdf=CHEAP_KDF)
        try:
            out[f"{label}:customers"] = timed(store, "customers", files["customers"], _hooks(label))
            out[f"{label}:transactions"] = timed(
                store, "transactions", files["transactions"], _hooks(label)
            )
            h = _hooks(label)
            out[f"{label}:customers-changed"] = timed(store, "customers", files["changed"], h)
            if h is not None:
                out[f"{label}:customers-changed"]["requests"] = h.counts["limit_requests"]
        finally:
            store.close()
            for suffix in ("", ".keys", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k customers, ~100k transactions")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    customers = 20_000 if args.quick else 200_000
    with tempfile.TemporaryDirectory(prefix="bench-limits-") as tmp:
        work = Path(tmp)
        config = SyntheticConfig(customers=customers, transactions_per_customer=5.0, seed=1)
        generate(work / "data", config)
        files = {
            "customers": work / "data" / "customers.csv",
            "transactions": work / "data" / "transactions.csv",
            "changed": work / "data" / "customers_changed.csv",
        }
        changed_copy(files["customers"], files["changed"])
        results: dict[str, list[dict[str, float]]] = {}
        for run in range(args.runs):
            for key, data in one_run(work, run, files).items():
                results.setdefault(key, []).append(data)
                print(f"run {run + 1} {key}: {data['rows']:,.0f} rows in {data['seconds']:.2f}s "
                      f"(cpu {data['cpu']:.2f}s)", file=sys.stderr)  # fmt: skip
    print(f"{'phase':<22} {'plain s':>8} {'hooks s':>8} {'ratio':>6}")
    for phase in ("customers", "transactions", "customers-changed"):
        plain = statistics.median(r["seconds"] for r in results[f"plain:{phase}"])
        hooked = statistics.median(r["seconds"] for r in results[f"hooks:{phase}"])
        print(f"{phase:<22} {plain:>8.2f} {hooked:>8.2f} {hooked / plain:>6.2f}")
    requests = results["hooks:customers-changed"][0].get("requests", 0)
    print(f"pending requests from the changed file: {requests:,.0f}")


if __name__ == "__main__":
    main()
