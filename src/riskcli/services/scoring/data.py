"""Reading a user's history file for `score train/apply/validate` (the import readers)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services.importing.readers import iter_chunks, resolve_source


def read_table(path: Path, *, encoding: str | None = None) -> tuple[pd.DataFrame, str]:
    """All rows of a CSV/TSV/JSON/JSONL/XLSX file as text cells, and the file's SHA-256."""
    src = resolve_source(path, str(path), encoding=encoding)
    parts = [chunk.table.to_pandas() for chunk in iter_chunks(src)]
    if not parts:
        raise InputError(f"{path}: no rows")
    frame = pd.concat(parts, ignore_index=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise InputError(f"{path}: no rows")
    if len(set(frame.columns)) != len(frame.columns):
        raise InputError(f"{path}: duplicate column names")
    return frame, src.sha256


def pick_factors(
    frame: pd.DataFrame,
    target: str | None,
    *,
    factors: list[str] | None = None,
    exclude: list[str] | None = None,
    date_column: str | None = None,
) -> list[str]:
    """The factor columns: --factors, else every column but target/date/--exclude."""
    columns = list(frame.columns)
    for name, what in ((target, "--target"), (date_column, "--date-column")):
        if name is not None and name not in columns:
            raise InputError(f"{what} column {name!r} is not in the file")
    skip = {c for c in (target, date_column) if c}
    unknown = [c for c in (factors or []) + (exclude or []) if c not in columns]
    if unknown:
        raise InputError(f"no such column(s): {', '.join(unknown)}")
    chosen = list(factors) if factors else [c for c in columns if c not in skip]
    chosen = [c for c in chosen if c not in set(exclude or []) and c not in skip]
    if not chosen:
        raise InputError("no factor columns left to use")
    return chosen
