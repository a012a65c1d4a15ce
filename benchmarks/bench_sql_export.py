"""Benchmark the exported scoring query: DuckDB over the Parquet export, beside `score run`.

    python benchmarks/bench_sql_export.py [--quick] [--customers N] [--spark] [--no-check]

The book is bench_scoring.py's store of N customers (1,000,000 by default, 20,000 with --quick;
built when missing and cached in /tmp/riskcli-bench-scoring). Each step runs in its own process,
so its wall time, CPU time and peak RSS are its own (wait4):

export     `riskcli export parquet` of the canonical tables (rows and bytes written)
query      `riskcli score export champion --format sql --full` (duckdb, and spark with --spark),
           as of the store's latest activity, the date `score run` takes
duckdb     DuckDB (its default threads: every core) reading the Parquet files and writing the
           query's result to a Parquet file
score run  `score run` on the same store (bench_scoring's child: factors, score, PD, grade,
           reasons, limits, written to the store; its second process's peak beside)
spark      with --spark: Spark SQL in local mode on 2 cores over the same files, the result
           written to Parquet; wall time only (the JVM is not this process's child to measure)
check      the DuckDB result equals the run's scores row for row (scores to 1e-9, PD, grade,
           recommended limit, exposure, EL): the figure is for the same job
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from own_process import in_own_process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

TABLES = ("customers", "receivables", "transactions", "financials", "credit_reports")

DUCKDB = """
import duckdb, json, sys
lake, query, out = sys.argv[1:4]
con = duckdb.connect()
for t in {tables!r}:
    con.execute(f"CREATE VIEW {{t}} AS SELECT * FROM read_parquet('{{lake}}/{{t}}.parquet')")
con.execute(f"COPY ({{open(query).read()}}) TO '{{out}}' (FORMAT parquet)")
rows = con.execute(f"SELECT count(*) FROM read_parquet('{{out}}')").fetchone()[0]
print(json.dumps({{"rows": rows, "threads": con.execute("SELECT current_setting('threads')")
                  .fetchone()[0], "duckdb": duckdb.__version__}}))
"""

SPARK = """
import json, sys, time
from pyspark.sql import SparkSession
lake, query, out = sys.argv[1:4]
t = time.perf_counter()
spark = (SparkSession.builder.master("local[2]").appName("riskcli-bench")
         .config("spark.ui.enabled", "false").config("spark.driver.memory", "8g")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
started = time.perf_counter() - t
for table in {tables!r}:
    spark.read.parquet(f"{{lake}}/{{table}}.parquet").createOrReplaceTempView(table)
spark.sql(open(query).read()).write.mode("overwrite").parquet(out)
rows = spark.read.parquet(out).count()
print(json.dumps({{"rows": rows, "session_start_s": round(started, 1),
                  "spark": spark.version}}))
spark.stop()
"""


def measured(
    cmd: list[str], env: dict[str, str], stdout: Any = subprocess.DEVNULL
) -> dict[str, Any]:
    """Wall s, CPU s (user + sys) and peak RSS MiB of one process, and its last stdout line
    when it prints JSON."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, env=env)
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd[:6])}\n{err.decode()[-3000:]}")
    result: dict[str, Any] = {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
    }
    lines = out.decode().strip().splitlines()
    if lines and lines[-1].startswith("{"):
        result.update(json.loads(lines[-1]))
    return result


def check(db: str, result: Path) -> dict[str, Any]:
    """The query's rows against the latest score run's, as the equality test compares them."""
    import numpy as np
    import pandas as pd

    from riskcli.storage.store import open_store

    store = open_store(Path(db), "bench", b"bench")
    run = store.query_df(
        "SELECT c.external_id AS customer_id, s.score, s.pd, s.grade, s.recommended_limit, "
        "s.exposure, s.expected_loss FROM scores s JOIN customers c ON c.id = s.customer_id "
        "WHERE s.run_id = (SELECT MAX(id) FROM score_runs) ORDER BY c.external_id"
    )
    store.close()
    got = pd.read_parquet(result).sort_values("customer_id").reset_index(drop=True)
    same_rows = got["customer_id"].tolist() == run["customer_id"].tolist()
    out: dict[str, Any] = {
        "rows": len(got),
        "score_run_rows": len(run),
        "same_customers": same_rows,
    }
    if same_rows:
        out |= {
            "max_score_diff": float(np.abs(got["score"] - run["score"]).max()),
            "pd_equal": bool((got["pd"] == run["pd"]).all()),
            "grade_equal": bool((got["grade"] == run["grade"]).all()),
            "limit_equal": bool((got["recommended_limit_cents"] == run["recommended_limit"]).all()),
            "exposure_equal": bool((got["exposure_cents"] == run["exposure"]).all()),
            "el_equal": bool((got["expected_loss_cents"] == run["expected_loss"]).all()),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 customers, for a smoke run")
    ap.add_argument("--customers", type=int, default=None, help="store size (default 1,000,000)")
    ap.add_argument("--spark", action="store_true", help="also Spark local[2] (needs Java)")
    ap.add_argument("--no-check", action="store_true", help="skip the row-for-row comparison")
    args = ap.parse_args()
    from bench_scoring import _forget_runs, _run_child, bench_store

    n = args.customers or (20_000 if args.quick else 1_000_000)
    db, _ = in_own_process(bench_store, n)
    work = Path(db).parent / "sql-export"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    lake = work / "lake"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "RISKCLI_DB": db,
        "RISKCLI_USER": "bench",
        "RISKCLI_PASSPHRASE": "bench",
    }
    cli = [sys.executable, "-m", "riskcli", "-q"]
    report: dict[str, Any] = {"customers": n, "cpus": os.cpu_count(), "load_at_start":
                              [round(x, 1) for x in os.getloadavg()]}  # fmt: skip
    print(json.dumps(report), flush=True)

    report["export_parquet"] = measured([*cli, "export", "parquet", str(lake), "--force"], env)
    report["export_parquet"]["rows"] = {
        t: int(__import__("pyarrow.parquet").parquet.read_metadata(lake / f"{t}.parquet").num_rows)
        for t in TABLES
    }
    report["export_parquet"]["mb"] = round(
        sum((lake / f"{t}.parquet").stat().st_size for t in TABLES) / 2**20, 1
    )
    print(json.dumps({"export_parquet": report["export_parquet"]}), flush=True)

    dialects = ["duckdb", "spark"] if args.spark else ["duckdb"]
    for dialect in dialects:
        with open(work / f"score_{dialect}.sql", "wb") as fh:
            measured([*cli, "score", "export", "champion", "--format", "sql", "--full",
                      "--dialect", dialect], env, stdout=fh)  # fmt: skip

    code = DUCKDB.format(tables=TABLES)
    out = work / "scores_duckdb.parquet"
    report["duckdb"] = measured(
        [sys.executable, "-c", code, str(lake), str(work / "score_duckdb.sql"), str(out)],
        env,
        stdout=subprocess.PIPE,
    )
    print(json.dumps({"duckdb": report["duckdb"]}), flush=True)

    _forget_runs(db)
    run = _run_child(db, "run")
    report["score_run"] = {
        "wall_s": round(run["seconds"], 2),
        "cpu_s": round(run["cpu_seconds"] + run["second_process_cpu_seconds"], 2),
        "peak_rss_mb": round(run["peak_rss_mb"]),
        "second_process_peak_rss_mb": round(run["second_process_peak_rss_mb"]),
        "rows": run["customers"],
    }
    print(json.dumps({"score_run": report["score_run"]}), flush=True)
    if not args.no_check:
        report["check"] = check(db, out)
        print(json.dumps({"check": report["check"]}), flush=True)
    _forget_runs(db)

    if args.spark:
        code = SPARK.format(tables=TABLES)
        report["spark"] = measured(
            [sys.executable, "-c", code, str(lake), str(work / "score_spark.sql"),
             str(work / "scores_spark")], env, stdout=subprocess.PIPE,
        )  # fmt: skip
        print(json.dumps({"spark": report["spark"]}), flush=True)
    report["ratio_duckdb_to_score_run"] = round(
        report["duckdb"]["wall_s"] / report["score_run"]["wall_s"], 2
    )
    report["load_at_end"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(report, indent=1))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
