"""Writing the book: chunks made in one process or several, appended in order to the seven
files, which replace any old ones only once all are complete."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

from riskcli.domain.errors import InputError
from riskcli.services.synthetic.chunk import Chunk, generate_chunk
from riskcli.services.synthetic.config import CHUNK, FILES, SyntheticConfig
from riskcli.services.synthetic.csvbytes import header


@dataclass
class GenerateSummary:
    """Counts of what was written, plus the shares a credit analyst would check first."""

    out_dir: Path
    as_of: date
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    prospects: int = 0
    late_payers: int = 0  # at least one invoice paid or still open 31+ days past due
    defaulters: int = 0  # at least one invoice 91+ days past due (paid that late or still open)
    seconds: float = 0.0

    def as_rows(self) -> list[dict[str, object]]:
        n = max(self.rows.get("customers", 0), 1)
        out: list[dict[str, object]] = [
            {"item": f"{name}.csv", "value": count} for name, count in self.rows.items()
        ]
        out += [
            {"item": "prospects (no transactions)", "value": f"{self.prospects / n:.1%}"},
            {"item": "late payers (31+ days past due)", "value": f"{self.late_payers / n:.1%}"},
            {"item": "defaulters (91+ days past due)", "value": f"{self.defaulters / n:.1%}"},
        ]
        return out


def existing_outputs(out_dir: Path) -> list[str]:
    return [f"{name}.csv" for name in FILES if (out_dir / f"{name}.csv").exists()]


def generate(
    out_dir: Path,
    config: SyntheticConfig,
    *,
    force: bool = False,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> GenerateSummary:
    """Write the seven CSV files into out_dir; progress(customers_done) after each chunk."""
    config.check()
    started = time.perf_counter()
    _prepare(out_dir, force=force)
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if config.customers > 2 * CHUNK else 1
    summary = GenerateSummary(out_dir=out_dir, as_of=config.as_of, seed=config.seed)
    summary.rows = dict.fromkeys(FILES, 0)
    tmp = {name: out_dir / f".{name}.csv.partial" for name in FILES}
    handles: dict[str, BinaryIO] = {}
    try:
        for name in FILES:
            handles[name] = open(tmp[name], "wb")  # noqa: SIM115 - closed in finally
            handles[name].write(header(name))
        for part in _chunks(config, workers):
            _append(part, handles, summary)
            if progress is not None:
                progress(summary.rows["customers"])
        for fh in handles.values():
            fh.close()
        for name in FILES:
            os.replace(tmp[name], out_dir / f"{name}.csv")
    except OSError as exc:
        raise InputError(f"cannot write into {out_dir}: {exc.strerror}") from None
    finally:
        for fh in handles.values():
            fh.close()
        for path in tmp.values():
            path.unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - started
    return summary


def _prepare(out_dir: Path, *, force: bool) -> None:
    """The folder exists and holds none of the files, unless forced to replace them."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir} exists and is not a folder")
    clash = existing_outputs(out_dir) if out_dir.exists() else []
    if clash and not force:
        raise InputError(f"{out_dir} already holds {', '.join(clash)} (use --force to replace)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out_dir}: {exc.strerror}") from None


def _append(part: Chunk, handles: dict[str, BinaryIO], summary: GenerateSummary) -> None:
    for name in FILES:
        handles[name].write(part.data[name])
        summary.rows[name] += part.rows[name]
    summary.prospects += part.prospects
    summary.late_payers += part.late_payers
    summary.defaulters += part.defaulters


def _chunks(config: SyntheticConfig, workers: int) -> Iterator[Chunk]:
    total = (config.customers + CHUNK - 1) // CHUNK
    if workers <= 1 or total == 1:
        for i in range(total):
            yield generate_chunk(config, i)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending = []
        for i in range(total):
            pending.append(pool.submit(generate_chunk, config, i))
            if len(pending) > workers:  # keep at most workers+1 chunks in flight: flat memory
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()
