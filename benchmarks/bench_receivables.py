"""Benchmark `report receivables --months 12` and `report provisions` on a big book.

    python benchmarks/bench_receivables.py --db /tmp/h16big/book.db --user bench \
        --passphrase-env RISKCLI_PASSPHRASE [--as-of 2026-09-30] [--rounds 3]
    python benchmarks/bench_receivables.py --quick      # builds a 20,000-customer store

Each measured command is the real CLI in its own process (`python -m riskcli report ...` with
stdout to /dev/null, csv, every section), so wall time, CPU time (user + sys) and peak RSS
(ru_maxrss from wait4) are that command's own. The baseline, in the same go, is one bare pass
over the receivables of the same store (`SELECT customer_id, amount, paid_amount FROM
receivables` into numpy and one bincount): the floor of anything that reads every invoice.
Medians of --rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from own_process import in_own_process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

BASELINE = """
import sys, time
import numpy as np
sys.path.insert(0, {src!r})
from pathlib import Path
from riskcli.storage.store import open_store
store = open_store(Path({db!r}), {user!r}, {secret!r}.encode())
cur = store.execute("SELECT customer_id, amount, paid_amount FROM receivables")
parts = []
while rows := cur.fetchmany(500_000):
    parts.append(np.array(rows, dtype=np.int64))
data = np.concatenate(parts)
per = np.bincount(data[:, 0], weights=data[:, 1] - data[:, 2])
print(len(data), round(float(per.sum()) / 100, 2))
"""


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MiB) of one process."""
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.PIPE, env=env)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err.decode()[-3000:]}")
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--user", default="bench")
    parser.add_argument("--passphrase-env", default=None, help="env var holding the passphrase")
    parser.add_argument("--quick", action="store_true", help="build and use 20,000 customers")
    parser.add_argument("--as-of", default="2026-09-30")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    secret = os.environ[args.passphrase_env] if args.passphrase_env else "bench-passphrase"
    db = args.db
    if db is None:
        from bench_monitoring import build  # the synthetic book loaded with executemany

        db = Path("/tmp/riskcli-bench-receivables") / "book-20000.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        if not db.exists():
            print(f"setup: {in_own_process(build, db, 20_000, db.parent)}", file=sys.stderr)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "RISKCLI_DB": str(db),
        "RISKCLI_USER": args.user,
        "RISKCLI_PASSPHRASE": secret,
    }
    cli = [sys.executable, "-m", "riskcli", "-q", "report"]
    phases = {
        "baseline (one pass over the receivables)": [
            sys.executable,
            "-c",
            BASELINE.format(src=str(ROOT / "src"), db=str(db), user=args.user, secret=secret),
        ],
        "report receivables --months 12": [
            *cli, "receivables", "--as-of", args.as_of, "--months", "12", "-f", "csv"
        ],
        "report provisions (24m lookback)": [
            *cli, "provisions", "--as-of", args.as_of, "-f", "csv"
        ],
    }  # fmt: skip
    results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in phases}
    for _ in range(args.rounds):
        for name, cmd in phases.items():
            results[name].append(run(cmd, env))
    summary: dict[str, Any] = {}
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        rss = max(r[2] for r in runs)
        summary[name] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mib": round(rss)}
        print(f"{name:45s} wall {wall:7.2f} s  cpu {cpu:7.2f} s  peak {rss:7.0f} MiB")
    if args.json:
        args.json.write_text(json.dumps({"db": str(db), "results": summary}, indent=2))


if __name__ == "__main__":
    main()
