"""Does writing a score run get slower as runs are kept? With and without an index by customer.

    python benchmarks/bench_score_history.py [--quick] [--customers 100000] [--runs 120]
                                             [--every 20]

Two fresh encrypted stores with the real `scores` table: one as it is (primary key
(run_id, customer_id) only, m062), one with the index by customer that m062 dropped put back.
Into each, run after run, the rows of one score run are written as `score run` writes them
(executemany in one transaction, the same columns and value types) and committed; every
`--every` runs the CPU and wall time of that run's write and commit are printed. Nothing but
the writes is timed: the point is how the cost of one run moves with the history kept.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from riskcli.storage.keyslots import KdfParams
from riskcli.storage.store import Store, create_store

#: benchmark stores measure the work, not Argon2id: cheap keyslots, given explicitly
CHEAP_KDF = KdfParams(iterations=1, memory_kib=1024, lanes=1)

INSERT = (
    "INSERT INTO scores (run_id, customer_id, score, pd, grade, bins, reasons, "
    "recommended_limit, current_limit, over_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _prepare(path: Path, customers: int, with_index: bool) -> Store:
    store = create_store(path, "bench", b"bench", kdf=CHEAP_KDF)
    with store.transaction(), store.references_checked():
        store.executemany(
            "INSERT INTO customers (id, external_id) VALUES (?, ?)",
            ((i, f"C{i:08d}") for i in range(1, customers + 1)),
        )
        store.execute(
            "INSERT INTO score_models (id, name, version, kind, source, created_by, created_at, "
            "params, fingerprint, metrics, report, model) VALUES "
            "(1, 'bench', 1, 'expert', 'bench', 'bench', 'now', '{}', '', '{}', '{}', '{}')"
        )
    if with_index:
        store.execute("CREATE INDEX scores_customer ON scores(customer_id)")
    return store


def _one_run(store: Store, run_id: int, customers: int, rng: np.random.Generator) -> None:
    ids = list(range(1, customers + 1))
    score = np.round(rng.normal(600, 50, customers), 0).tolist()
    pd_ = np.round(rng.random(customers), 6).tolist()
    grade = rng.choice(np.array(list("ABCDE"), dtype=object), customers).tolist()
    bins = [bytearray(r) for r in rng.integers(0, 6, (customers, 8), dtype=np.uint8)]
    reasons = [bytearray(r) for r in rng.integers(0, 8, (customers, 4), dtype=np.uint8)]
    limits = (rng.integers(0, 500, customers) * 100_000).tolist()
    rows = zip(
        [run_id] * customers, ids, score, pd_, grade, bins, reasons, limits, limits,
        [0] * customers, strict=True,
    )  # fmt: skip
    with store.transaction(), store.references_checked():
        store.execute(
            "INSERT INTO score_runs (id, model_id, created_at, created_by, as_of, customers, "
            "params, stats) VALUES (?, 1, 'now', 'bench', '2026-09-30', ?, '{}', '{}')",
            (run_id, customers),
        )
        store.executemany(INSERT, rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 customers, 30 runs")
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=120)
    ap.add_argument("--every", type=int, default=20)
    args = ap.parse_args()
    if args.quick:
        args.customers, args.runs, args.every = 20_000, 30, 10
    rng = np.random.default_rng(1)
    out: dict[str, Any] = {"customers": args.customers, "runs": args.runs}
    with tempfile.TemporaryDirectory(prefix="riskcli-bench-history-") as tmp:
        stores = {
            "primary key only (m062)": _prepare(Path(tmp) / "a.db", args.customers, False),
            "with the index by customer": _prepare(Path(tmp) / "b.db", args.customers, True),
        }
        timings: dict[str, list[dict[str, float]]] = {k: [] for k in stores}
        for run in range(1, args.runs + 1):
            for name, store in stores.items():  # alternate, so both see the same machine
                wall, cpu = time.perf_counter(), time.process_time()
                _one_run(store, run, args.customers, rng)
                if run == 1 or run % args.every == 0:
                    timings[name].append(
                        {
                            "runs_kept_before": run - 1,
                            "write_and_commit_s": round(time.perf_counter() - wall, 3),
                            "cpu_s": round(time.process_time() - cpu, 3),
                        }
                    )
            if run == 1 or run % args.every == 0:
                print(
                    f"run {run:4d}: "
                    + ", ".join(f"{k}: {v[-1]['cpu_s']:.2f} s CPU" for k, v in timings.items()),
                    flush=True,
                )
        for name, store in stores.items():
            size = store.path.stat().st_size
            store.close()
            out[name] = {"timings": timings[name], "file_mb": round(size / 1e6)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
