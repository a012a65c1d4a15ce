"""Benchmark `riskcli generate` against writing one of its files the obvious way with pandas.

    python benchmarks/bench_generate.py            # 1,000,000 customers, ~10,000,000 transactions
    python benchmarks/bench_generate.py --quick    # 100,000 customers, ~1,000,000 transactions

Each measured run is a fresh subprocess, so its peak RSS (ru_maxrss of it and its workers) is
its own. Rounds alternate baseline and generate; medians of the rounds are reported, with the
ratio generate/baseline. The baseline is a lower bound for a naive generator: it builds nothing
realistic, it only formats and writes a transactions-shaped frame (txn_id, customer_id, kind,
date, amount) with as many rows as the generated transactions.csv, using DataFrame.to_csv in
chunks of 1,000,000 rows. `generate` writes all seven files, realistic and consistent.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def run_generate(out: Path, customers: int, workers: int | None) -> dict[str, float]:
    from riskcli.services.synthetic import SyntheticConfig, generate

    t0 = time.perf_counter()
    summary = generate(
        out, SyntheticConfig(customers=customers, seed=7), force=True, workers=workers
    )
    seconds = time.perf_counter() - t0
    size = sum((out / f"{name}.csv").stat().st_size for name in summary.rows)
    return {
        "seconds": seconds,
        "transactions": summary.rows["transactions"],
        "rows": sum(summary.rows.values()),
        "bytes": size,
    }


def run_baseline(out: Path, rows: int) -> dict[str, float]:
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    rng = np.random.default_rng(7)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "transactions_pandas.csv"
    step = 1_000_000
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for lo in range(0, rows, step):
            n = min(step, rows - lo)
            frame = pd.DataFrame(
                {
                    "txn_id": [f"T{i:012d}" for i in range(lo, lo + n)],
                    "customer_id": [f"C{i:08d}" for i in rng.integers(1, 1_000_000, n)],
                    "kind": np.array(["order", "payment", "refund"])[rng.integers(0, 3, n)],
                    "date": (rng.integers(19_000, 20_500, n)).astype("datetime64[D]"),
                    "amount": rng.integers(100, 10_000_000, n) / 100,
                }
            )
            frame.to_csv(fh, index=False, header=lo == 0, float_format="%.2f")
    return {"seconds": time.perf_counter() - t0, "rows": rows, "bytes": path.stat().st_size}


def child(args: argparse.Namespace) -> None:
    out = Path(args.out)
    if args.child == "generate":
        result = run_generate(out, args.customers, args.workers)
    else:
        result = run_baseline(out, args.rows)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["peak_rss_mb"] = max(own, kids) / 1024
    print(json.dumps(result))


def measure(
    kind: str, out: Path, customers: int, rows: int, workers: int | None
) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", kind, "--out", str(out)]
    cmd += ["--customers", str(customers), "--rows", str(rows)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 customers instead of 1M")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--child", choices=["generate", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--customers", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    customers = 100_000 if args.quick else 1_000_000
    gen: list[dict[str, float]] = []
    base: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="riskcli-bench-generate-") as tmp:
        for i in range(args.rounds):
            gen.append(measure("generate", Path(tmp) / "gen", customers, 0, args.workers))
            rows = int(gen[-1]["transactions"])
            base.append(measure("baseline", Path(tmp) / "base", customers, rows, None))
            print(
                f"round {i + 1}: generate {gen[-1]['seconds']:.1f} s "
                f"({gen[-1]['peak_rss_mb']:.0f} MB), baseline {base[-1]['seconds']:.1f} s "
                f"({base[-1]['peak_rss_mb']:.0f} MB)",
                flush=True,
            )
    g = statistics.median(r["seconds"] for r in gen)
    b = statistics.median(r["seconds"] for r in base)
    rows = int(gen[0]["rows"])
    print(f"customers: {customers:,}; rows in 7 files: {rows:,} ({gen[0]['bytes'] / 1e6:.0f} MB)")
    print(f"transactions: {int(gen[0]['transactions']):,}")
    print(
        f"generate (7 files): median {g:.1f} s, {rows / g:,.0f} rows/s, "
        f"peak RSS {max(r['peak_rss_mb'] for r in gen):.0f} MB"
    )
    print(
        f"baseline (pandas to_csv of transactions only): median {b:.1f} s, "
        f"peak RSS {max(r['peak_rss_mb'] for r in base):.0f} MB"
    )
    print(f"ratio generate/baseline: {g / b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
