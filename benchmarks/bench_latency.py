"""Benchmark the latency of help and lookups, with `riskcli --version` as the floor.

    python benchmarks/bench_latency.py            # a 200,000-customer store
    python benchmarks/bench_latency.py --quick    # a 2,000-customer store (`make bench`)

The store is built once per size (kept in --workdir, default /tmp/riskcli-bench-latency) with
the product's own commands: `generate`, `init`, `import` of every kind, `tier run`, the expert
scorecard and `score run`, `monitor run`. Its keyslot uses the shipped Argon2id cost, so each
lookup pays the unlock a user pays. Each measured command is a fresh `python -m riskcli` process,
run `--runs` times (default 5) in rounds that alternate the commands; the median wall time, the
ratio to the floor, the median CPU time (user + system) and the peak RSS (ru_maxrss of the
process) are printed, with the imports of pandas, numpy, scikit-learn and openpyxl each command
made (from `-X importtime`). Python's
bytecode cache is on (kept in the workdir), as it is for an installed riskcli.

With `--unlocked`, the lookups are measured a second time after one `riskcli unlock` (which
prints `RISKCLI_SESSION=...` for the commands that follow), when the riskcli measured has it.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
USER = "bench"
PASSPHRASE = "bench latency passphrase"
HEAVY = ("pandas", "numpy", "sklearn", "openpyxl")
TARGET = 0.3


def riskcli(
    *args: str, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "riskcli", *args], env=env, capture_output=True, text=True
    )
    if check and done.returncode not in (0, 10):
        raise SystemExit(f"riskcli {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done


def environment(workdir: Path, customers: int) -> dict[str, str]:
    """riskcli's settings for the store, and Python's bytecode cache on (in the workdir): an
    installed riskcli runs from compiled bytecode (pip compiles it), so a lookup never pays for
    compiling its modules, however PYTHONDONTWRITEBYTECODE is set where the benchmark runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKCLI_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        PYTHONPYCACHEPREFIX=str(workdir / "pycache"),
        RISKCLI_DB=str(workdir / f"latency-{customers}.db"),
        RISKCLI_USER=USER,
        RISKCLI_PASSPHRASE=PASSPHRASE,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")])),
    )
    return env


def build(workdir: Path, customers: int, env: dict[str, str]) -> None:
    """The store, built with the product's commands unless it is there already."""
    db = Path(env["RISKCLI_DB"])
    if db.exists():
        return
    data = workdir / f"data-{customers}"
    t0 = time.perf_counter()
    riskcli("generate", str(data), "--customers", str(customers), "--seed", "11", "--force",
            env=env)  # fmt: skip
    riskcli("init", env=env)
    for kind in ("customers", "transactions", "receivables", "credit-reports", "contracts",
                 "interactions", "financials"):  # fmt: skip
        riskcli("-q", "import", kind, str(data / f"{kind.replace('-', '_')}.csv"), env=env)
    riskcli("-q", "tier", "run", env=env)
    riskcli("-q", "score", "expert", env=env)
    riskcli("-q", "score", "models", "promote", "1", env=env)
    riskcli("-q", "score", "run", env=env)
    riskcli("-q", "monitor", "run", env=env)
    print(f"built {db} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def commands(env: dict[str, str]) -> list[tuple[str, list[str]]]:
    customer = "C00000042"
    alerts = riskcli("monitor", "alerts", "--format", "csv", "--limit", "1", env=env).stdout
    alert = alerts.splitlines()[1].split(",")[0] if len(alerts.splitlines()) > 1 else "1"
    return [
        ("riskcli --version (floor)", ["--version"]),
        ("riskcli --help", ["--help"]),
        ("riskcli customers --help", ["customers", "--help"]),
        ("riskcli score show --help", ["score", "show", "--help"]),
        ("customers show", ["customers", "show", customer, "--format", "json"]),
        ("score show", ["score", "show", customer, "--format", "json"]),
        ("score explain", ["score", "explain", customer, "--format", "json"]),
        ("tier show", ["tier", "show", customer, "--format", "json"]),
        ("monitor alerts --customer", ["monitor", "alerts", "--customer", customer, "-f", "json"]),
        ("monitor alerts --limit 20", ["monitor", "alerts", "--limit", "20", "-f", "json"]),
        ("monitor show", ["monitor", "show", alert, "--format", "json"]),
        ("audit log --limit 20", ["audit", "log", "--limit", "20", "--format", "json"]),
    ]


def one_run(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MiB) and CPU seconds (user + system) of one fresh process.

    The CPU time moves less than the wall time on a shared machine: it leaves out the time the
    process waited for a core.

    The peak comes from GNU time (`/usr/bin/time -f %M`) when it is there: a child forked from
    this process would report at least this process's own peak (Linux keeps the high-water mark
    across exec), so `os.wait4` alone overstates it.
    """
    timer = ["/usr/bin/time", "-f", "%M %U %S"] if os.path.exists("/usr/bin/time") else []
    t0 = time.perf_counter()
    done = subprocess.run(
        [*timer, sys.executable, "-m", "riskcli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - t0
    if done.returncode not in (0, 10):
        raise SystemExit(f"riskcli {' '.join(args)} exited {done.returncode}: {done.stderr}")
    last = done.stderr.strip().splitlines()[-1].split() if done.stderr.strip() else []
    if not timer or len(last) != 3:
        return wall, 0.0, 0.0
    return wall, float(last[0]) / 1024, float(last[1]) + float(last[2])


def heavy_imports(args: list[str], env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "riskcli", *args],
        env=env,
        capture_output=True,
        text=True,
    )
    found = re.findall(r"\|\s+(\w+)$", done.stderr, flags=re.MULTILINE)
    return [m for m in HEAVY if m in found]


def measure(
    cases: list[tuple[str, list[str]]], env: dict[str, str], runs: int
) -> list[dict[str, Any]]:
    walls: dict[str, list[float]] = {name: [] for name, _ in cases}
    cpus: dict[str, list[float]] = {name: [] for name, _ in cases}
    peaks: dict[str, float] = dict.fromkeys(walls, 0.0)
    for args in (a for _n, a in cases):  # one warm-up round: the page cache, not the code
        one_run(args, env)
    for _ in range(runs):  # rounds alternate the commands, so load changes hit them alike
        for name, args in cases:
            wall, peak, cpu = one_run(args, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
            peaks[name] = max(peaks[name], peak)
    floor = statistics.median(walls[cases[0][0]])
    rows = []
    for name, args in cases:
        median = statistics.median(walls[name])
        rows.append(
            {
                "command": name,
                "median_s": median,
                "min_s": min(walls[name]),
                "ratio": median / floor,
                "cpu_s": statistics.median(cpus[name]),
                "peak_mib": peaks[name],
                "heavy": heavy_imports(args, env),
            }
        )
    return rows


def unlocked_env(env: dict[str, str]) -> dict[str, str] | None:
    """The environment after `riskcli unlock`, when the riskcli measured has that command."""
    if "unlock" not in riskcli("--help", env=env).stdout:
        return None
    done = riskcli("unlock", env=env, check=False)
    match = re.search(r"RISKCLI_SESSION=['\"]?([^'\"\s;]+)", done.stdout)
    if done.returncode != 0 or not match:
        print(f"riskcli unlock gave no RISKCLI_SESSION: {done.stderr.strip()}", file=sys.stderr)
        return None
    out = {k: v for k, v in env.items() if k != "RISKCLI_PASSPHRASE"}
    return {**out, "RISKCLI_SESSION": match.group(1)}


def show(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    print("| command | median s | min s | / floor | CPU s | peak MiB | heavy imports |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        mark = "" if r["median_s"] <= TARGET or "floor" in r["command"] else " (over 0.3 s)"
        print(
            f"| {r['command']} | {r['median_s']:.3f}{mark} | {r['min_s']:.3f} | "
            f"{r['ratio']:.2f} | {r['cpu_s']:.2f} | {r['peak_mib']:.0f} | "
            f"{', '.join(r['heavy']) or 'none'} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 2,000-customer store")
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--unlocked", action="store_true", help="also after `riskcli unlock`")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/riskcli-bench-latency"))
    opts = parser.parse_args()
    customers = opts.customers or (2_000 if opts.quick else 200_000)
    opts.workdir.mkdir(parents=True, exist_ok=True)
    env = environment(opts.workdir, customers)
    build(opts.workdir, customers, env)
    load = os.getloadavg()
    print(
        f"{customers:,} customers; {opts.runs} runs each; {os.cpu_count()} cores, load "
        f"{load[0]:.2f} at start; Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}"
    )
    cases = commands(env)
    show("passphrase per command (Argon2id unlock in every lookup)", measure(cases, env, opts.runs))
    if opts.unlocked:
        unlocked = unlocked_env(env)
        if unlocked is None:
            print("\nno `riskcli unlock` in this riskcli: measured with a passphrase only")
        else:
            show("after riskcli unlock (RISKCLI_SESSION)", measure(cases, unlocked, opts.runs))
            riskcli("lock", env=unlocked, check=False)
    print(f"load {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
