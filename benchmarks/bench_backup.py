"""Benchmark `backup create` and `backup verify` against a plain file copy of the same store.

    python benchmarks/bench_backup.py            # a store of about 1 GB
    python benchmarks/bench_backup.py --quick    # about 64 MB

Setup (once per size, kept in --workdir): a fresh encrypted store filled with random rows by
executemany until the file reaches the size. Rounds alternate, in the same go:

- `copy (baseline)`: `shutil.copyfile` of the store file plus fsync: the physical limit of
  reading and writing that many bytes here;
- `create`: `create_backup` — online snapshot (backup API, one step), both integrity checks on
  the snapshot, container written + fsynced, read back, renamed;
- `verify`: `verify_backup` — full read back: checksums, keyslot, manifest HMAC, snapshot
  extracted, cipher_integrity_check + integrity_check, counts;
- `create (age)` / `verify (age)`: the same with the file age-encrypted to one recipient.

MB/s is the store's size divided by the time (MB = 10^6 bytes). Medians of --rounds (default 3)
are printed with the ratio to the copy; --json writes them too. Page cache is warm for all
(the store was just written), so the copy is a memory-to-disk copy with fsync. The machine is
shared (2 cores): CPU seconds of each step are printed beside the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

USER = "bench"
SECRET = b"bench-passphrase"
BATCH = 50_000


def build_store(path: Path, size_mb: int) -> None:
    from riskcli.storage.store import create_store

    if path.exists():
        return
    tmp = path.with_name(path.name + ".building")
    for leftover in (tmp, Path(f"{tmp}.keys"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    store = create_store(tmp, USER, SECRET)
    started = time.monotonic()
    store.execute(
        "CREATE TABLE bulk (id INTEGER PRIMARY KEY, customer INTEGER, amount INTEGER, "
        "day TEXT, note TEXT, payload BLOB)"
    )
    target = size_mb * 1_000_000
    rng = __import__("random").Random(7)
    n = 0
    while tmp.stat().st_size + Path(f"{tmp}-wal").stat().st_size < target:
        rows = [
            (
                rng.randrange(1_000_000),
                rng.randrange(-(10**8), 10**8),
                f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                os.urandom(24).hex(),
                os.urandom(120),
            )
            for _ in range(BATCH)
        ]
        with store.transaction():
            store.executemany(
                "INSERT INTO bulk(customer, amount, day, note, payload) VALUES (?,?,?,?,?)", rows
            )
        n += BATCH
        store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    os.rename(f"{tmp}.keys", f"{path}.keys")
    os.rename(tmp, path)
    print(
        f"built {path} with {n:,} rows, {path.stat().st_size / 1e6:,.0f} MB "
        f"in {time.monotonic() - started:.0f} s",
        flush=True,
    )


def _cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, float, Any]:
    """Wall and CPU seconds of fn(...), and its result (CPU time is the steadier figure on a
    shared machine)."""
    cpu = _cpu()
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, _cpu() - cpu, result


def plain_copy(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_round(
    store: Any, out: Path, recipient: Any, identity: Any, no_age: bool
) -> list[tuple[str, float, float]]:
    from riskcli.services.backup import create_backup, verify_backup

    done: list[tuple[str, float, float]] = []
    variants = (
        [("", [], None)] if no_age else [("", [], None), (" (age)", [str(recipient)], [identity])]
    )
    for suffix, recipients, identities in variants:
        wall, cpu, made = timed(create_backup, store, SECRET, out, recipients=recipients)
        done.append(("create" + suffix, wall, cpu))
        wall, cpu, _ = timed(verify_backup, made.path, USER, SECRET, identities=identities)
        done.append(("verify" + suffix, wall, cpu))
        made.path.unlink()
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a store of about 64 MB")
    parser.add_argument("--size-mb", type=int, default=None, help="store size (default 1000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-out" / "backup")
    parser.add_argument("--no-age", action="store_true", help="skip the age-encrypted variant")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    size_mb = args.size_mb or (64 if args.quick else 1000)

    from riskcli.services.backup import agewrap
    from riskcli.storage.store import open_store

    args.workdir.mkdir(parents=True, exist_ok=True)
    db = args.workdir / f"store-{size_mb}mb.db"
    build_store(db, size_mb)
    size = db.stat().st_size
    identity, recipient = agewrap.new_ephemeral()
    out = args.workdir / "out"

    results: dict[str, list[float]] = {}

    cpu_used: dict[str, list[float]] = {}

    def record(name: str, seconds: float, cpu: float) -> None:
        results.setdefault(name, []).append(seconds)
        cpu_used.setdefault(name, []).append(cpu)

    for round_no in range(1, args.rounds + 1):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        record("copy (baseline)", *timed(plain_copy, db, out / "copy.db")[:2])
        (out / "copy.db").unlink()
        with open_store(db, USER, SECRET) as store:
            for name, seconds, cpu in backup_round(store, out, recipient, identity, args.no_age):
                record(name, seconds, cpu)
        line = ", ".join(f"{k} {v[-1]:.2f} s" for k, v in results.items())
        print(f"round {round_no}: {line}", flush=True)
    shutil.rmtree(out, ignore_errors=True)

    base = statistics.median(results["copy (baseline)"])
    summary = []
    print(f"\nstore {size / 1e6:,.0f} MB; medians of {args.rounds} rounds")
    print(f"{'step':<18}{'seconds':>10}{'MB/s':>10}{'copy time ×':>14}{'CPU s':>10}")
    for name, values in results.items():
        med = statistics.median(values)
        row = {
            "step": name,
            "median_s": round(med, 3),
            "mb_per_s": round(size / 1e6 / med, 1),
            "ratio_to_copy": round(med / base, 2),
            "cpu_s": round(statistics.median(cpu_used[name]), 3),
        }
        summary.append(row)
        print(
            f"{name:<18}{med:>10.2f}{row['mb_per_s']:>10.1f}{row['ratio_to_copy']:>14.2f}"
            f"{row['cpu_s']:>10.2f}"
        )
    if args.json:
        args.json.write_text(
            json.dumps({"store_bytes": size, "rounds": args.rounds, "results": summary}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
