"""Scoring benchmark: discrimination on ground-truth data, training speed, `score run` speed.

    python benchmarks/bench_scoring.py [--quick] [--skip quality,train,run]

quality  ten random 70/30 splits of a generated book with a known latent risk (1,000 rows, the
         size of the public credit data set, and 20,000 rows): mean and spread of test AUC and
         KS of the scorecard beside a plain one-hot logistic regression (numeric factors
         standardised with median fill and a missing flag, categories one-hot), the true
         model's AUC as the ceiling, and the count of bins that break a monotonic constraint.
train    200,000 rows x 20 factors: the scorecard fit alone, and the full `score train` work
         (30% holdout validation + 5-fold cross-validation); median of 3 runs; peak memory.
run      `score run` on 1,000,000 customers of an encrypted store (factors from the store,
         score, PD, grade, 4 reason codes, limits, written with executemany in one
         transaction); median of 3 runs, peak memory of the run in its own process, and the
         ratio to the factor reading alone (what the run reads, in the same two processes,
         without scoring and writing: the floor of any scorer reading this store).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from own_process import in_own_process

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support: the sample book

from tests.support.credit_sample import credit_frame

from riskcli.services.scoring.fit import fit_scorecard
from riskcli.services.scoring.params import BinningParams, ScorecardParams
from riskcli.services.scoring.points import score_frame
from riskcli.services.scoring.validation import auc, develop, factor_is_monotonic, ks

PARAMS = ScorecardParams(binning=BinningParams(special_codes_by_factor={"bureau_score": [-1]}))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_hot_baseline(train: pd.DataFrame, y: np.ndarray, test: pd.DataFrame) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    def design(frame: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for c in ref.columns:
            if pd.api.types.is_numeric_dtype(ref[c]):
                x = frame[c].replace(-1, np.nan) if c == "bureau_score" else frame[c]
                r = ref[c].replace(-1, np.nan) if c == "bureau_score" else ref[c]
                med, sd = r.median(), r.std() or 1.0
                out[c] = (x.fillna(med) - med) / sd
                out[c + "_missing"] = x.isna().astype(float)
            else:
                for level in sorted(ref[c].dropna().unique())[1:]:
                    out[f"{c}={level}"] = (frame[c] == level).astype(float)
        return pd.DataFrame(out)

    model = LogisticRegression(max_iter=2000)
    model.fit(design(train, train).to_numpy(), y)
    p: np.ndarray = model.predict_proba(design(test, train).to_numpy())[:, 1]
    return p


def quality(splits: int, sizes: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in sizes:
        frame, y, logit = credit_frame(n, seed=2024)
        rows: dict[str, list[float]] = {k: [] for k in ("sc_auc", "sc_ks", "lr_auc", "lr_ks",
                                                         "true_auc")}  # fmt: skip
        violations = 0
        factors = 0
        for split in range(splits):
            rng = np.random.default_rng(split)
            test = np.zeros(n, dtype=bool)
            test[rng.permutation(n)[: round(0.3 * n)]] = True
            card = fit_scorecard(frame[~test], y[~test], PARAMS).scorecard
            s = score_frame(card, frame[test])
            rows["sc_auc"].append(auc(y[test], s.pd))
            rows["sc_ks"].append(ks(y[test], s.pd))
            p = one_hot_baseline(frame[~test], y[~test], frame[test])
            rows["lr_auc"].append(auc(y[test], p))
            rows["lr_ks"].append(ks(y[test], p))
            rows["true_auc"].append(auc(y[test], logit[test]))
            for f in card.factors:
                if f.type == "numeric" and f.monotonic != "none":
                    factors += 1
                    violations += not factor_is_monotonic(f)
        out[str(n)] = {
            k: {"mean": round(statistics.mean(v), 4), "sd": round(statistics.stdev(v), 4)}
            for k, v in rows.items()
        } | {"bad_rate": round(float(y.mean()), 4), "monotonic_factors": factors,
             "monotonic_violations": violations}  # fmt: skip
    return out


def train_speed(n: int, repeats: int) -> dict[str, Any]:
    frame, y, _ = credit_frame(n, seed=7)
    fit_s, full_s, fit_cpu, full_cpu = [], [], [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fit_scorecard(frame, y, PARAMS)
        fit_s.append(time.perf_counter() - t)
        fit_cpu.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        develop(frame, y, PARAMS, folds=5)
        full_s.append(time.perf_counter() - t)
        full_cpu.append(time.process_time() - c)
    return {
        "rows": n,
        "factors": frame.shape[1],
        "fit_median_s": round(statistics.median(fit_s), 2),
        "fit_median_cpu_s": round(statistics.median(fit_cpu), 2),
        "train_with_validation_and_5fold_median_s": round(statistics.median(full_s), 2),
        "train_with_validation_and_5fold_median_cpu_s": round(statistics.median(full_cpu), 2),
        "runs": repeats,
        "peak_rss_mb": round(peak_mb()),
    }


def _run_child(db: str, phase: str, src: str | None = None) -> dict[str, Any]:
    """One timed step in a fresh process, so its peak memory is its own."""
    code = f"""
import json, os, resource, time
from pathlib import Path
from riskcli.storage.store import open_store
from riskcli.services.scoring import service as svc, factors as F
from riskcli.services.scoring.config import ScoringConfig
s = open_store(Path({db!r}), "bench", b"bench")
t = time.perf_counter()
c = time.process_time()
if {phase!r} == "run":
    r = svc.run(s, ScoringConfig())
    n = r["customers"]
else:  # what the run reads, the same way (two processes), without scoring and writing
    from riskcli.storage.activity import latest_activity  # this tree's code only
    needed = svc.needed_columns(svc.get_model(s, None).card)
    with F.factor_parts(s, latest_activity(s), needed=needed) as parts:
        n = sum(len(p) for p in parts)
dt = time.perf_counter() - t
cpu = time.process_time() - c
s.close()
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({{"seconds": dt, "cpu_seconds": cpu, "customers": n,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "second_process_cpu_seconds": kids.ru_utime + kids.ru_stime,
                  "second_process_peak_rss_mb": kids.ru_maxrss / 1024,
                  "load_average": os.getloadavg()}}))
"""
    env = dict(os.environ)
    if src:  # another riskcli source tree (e.g. the previous commit's `src`) comes first
        env["PYTHONPATH"] = src
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    if res.returncode != 0:
        raise SystemExit(f"the {phase} step failed:\n{res.stderr}")
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


BENCH_DIR = Path(os.environ.get("RISKCLI_BENCH_SCORING_DIR", "/tmp/riskcli-bench-scoring"))


def bench_store(n: int) -> tuple[str, float | None]:
    """The store of n customers in BENCH_DIR, built (populate + train) only when missing."""
    from tests.support.credit_sample import populate_store

    from riskcli.services.scoring import service as svc
    from riskcli.services.scoring.config import ScoringConfig
    from riskcli.storage.keyslots import KdfParams
    from riskcli.storage.store import create_store

    db = BENCH_DIR / f"n{n}" / "bench.db"
    if (db.parent / "ready").exists():
        return str(db), None
    db.parent.mkdir(parents=True, exist_ok=True)
    for old in db.parent.iterdir():  # a build killed half-way: start again
        old.unlink()
    t = time.perf_counter()
    cheap = KdfParams(iterations=1, memory_kib=1024, lanes=1)  # measure the work, not Argon2id
    store = create_store(db, "bench", b"bench", kdf=cheap)
    populate_store(store, n, seed=1, invoices_per_customer=4, orders_per_customer=4)
    svc.train_from_store(store, ScoringConfig(folds=0), as_of=pd.Timestamp("2025-09-30").date())
    store.close()
    (db.parent / "ready").write_text("populate_store(n, seed=1, 4 invoices, 4 orders) + train\n")
    return str(db), time.perf_counter() - t


def _forget_runs(db: str) -> None:
    """Drop earlier score runs so every timed run writes into the same store state."""
    from riskcli.storage.store import open_store

    store = open_store(Path(db), "bench", b"bench")
    with store.transaction():
        store.execute("DELETE FROM scores")
        store.execute("DELETE FROM score_runs")
    store.close()


def run_speed(n: int, repeats: int, baseline_src: str | None = None) -> dict[str, Any]:
    from riskcli.services.scoring.registry import get_model
    from riskcli.storage.store import open_store

    db, setup = in_own_process(bench_store, n)
    store = open_store(Path(db), "bench", b"bench")
    model_factors = len(get_model(store, None).card.factors)
    store.close()

    def cpu_both(r: dict[str, Any]) -> float:
        return float(r["cpu_seconds"] + r["second_process_cpu_seconds"])

    runs, floor, before = [], [], []
    for _ in range(repeats):  # alternate, so all see the same load
        _forget_runs(db)
        runs.append(_run_child(db, "run"))
        floor.append(_run_child(db, "factors"))
        if baseline_src:
            _forget_runs(db)
            before.append(_run_child(db, "run", baseline_src))
    _forget_runs(db)
    baseline: dict[str, Any] = {}
    if before:
        old = statistics.median(r["seconds"] for r in before)
        old_cpu = statistics.median(map(cpu_both, before))
        baseline = {
            "baseline_src": baseline_src,
            "baseline_run_median_s": round(old, 2),
            "baseline_runs": [round(r["seconds"], 2) for r in before],
            "baseline_run_median_cpu_s": round(old_cpu, 2),
            "baseline_peak_rss_mb": round(max(r["peak_rss_mb"] for r in before)),
            "ratio_run_to_baseline": round(statistics.median(r["seconds"] for r in runs) / old, 2),
            "ratio_run_cpu_both_to_baseline_cpu": round(
                statistics.median(map(cpu_both, runs)) / old_cpu, 2
            ),
        }
    med = statistics.median(r["seconds"] for r in runs)
    base = statistics.median(r["seconds"] for r in floor)
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    base_cpu = statistics.median(map(cpu_both, floor))

    return {
        "customers": n,
        "store": db,
        "model_factors": model_factors,
        "setup_s (populate + train, not timed)": None if setup is None else round(setup, 1),
        "score_run_median_s": round(med, 2),
        "runs": [round(r["seconds"], 2) for r in runs],
        "score_run_median_cpu_s": round(cpu, 2),
        "runs_cpu": [round(r["cpu_seconds"], 2) for r in runs],
        "second_process_cpu_s": [round(r["second_process_cpu_seconds"], 2) for r in runs],
        "score_run_median_cpu_both_processes_s": round(statistics.median(map(cpu_both, runs)), 2),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs)),
        "second_process_peak_rss_mb": round(max(r["second_process_peak_rss_mb"] for r in runs)),
        "load_average_per_run": [[round(x, 1) for x in r["load_average"]] for r in runs],
        "factor_reading_only_median_s": round(base, 2),
        "factor_reading_only_median_cpu_both_processes_s": round(base_cpu, 2),
        "ratio_run_to_factor_reading": round(med / base, 2),
        "ratio_run_to_factor_reading_cpu_both": round(
            statistics.median(map(cpu_both, runs)) / base_cpu, 2
        ),
        **baseline,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--skip", default="", help="comma list of quality,train,run")
    ap.add_argument(
        "--customers", type=int, default=None, help="store size for `run` (default 1,000,000)"
    )
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each kind")
    ap.add_argument(
        "--baseline-src",
        default=None,
        help="a riskcli `src` folder (e.g. from `git archive`) whose `score run` is timed "
        "alternately with this one's, as the baseline",
    )
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    q = args.quick
    result: dict[str, Any] = {"quick": q, "load_average_at_start": os.getloadavg()}
    print(json.dumps({"load_average_at_start": os.getloadavg(), "cpus": os.cpu_count()}))
    if "quality" not in skip:
        result["quality"] = quality(3 if q else 10, [1000] if q else [1000, 20000])
        print(json.dumps({"quality": result["quality"]}, indent=1), flush=True)
    if "train" not in skip:
        result["train"] = train_speed(20_000 if q else 200_000, 3)
        print(json.dumps({"train": result["train"]}, indent=1), flush=True)
    if "run" not in skip:
        size = args.customers or (20_000 if q else 1_000_000)
        result["run"] = run_speed(size, args.repeats, args.baseline_src)
        print(json.dumps({"run": result["run"]}, indent=1), flush=True)
    print(json.dumps({"load_average_at_end": os.getloadavg()}))


if __name__ == "__main__":
    main()
