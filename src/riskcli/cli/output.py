"""Shared output options and the one renderer every command uses.

Data goes to stdout; messages and progress go to stderr. The default format is `table` on a
terminal and `csv` when stdout is piped. PII columns are masked unless `--reveal`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from riskcli.domain.pii import PII_COLUMNS, mask
from riskcli.domain.safety import neutralise_frame

if TYPE_CHECKING:
    import pandas as pd


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    TSV = "tsv"
    JSON = "json"
    JSONL = "jsonl"


class _State:
    quiet = False


STATE = _State()

FormatOpt = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format",
        "-f",
        help="Output format. Default: table on a terminal, csv when piped.",
        case_sensitive=False,
    ),
]
RevealOpt = Annotated[
    bool, typer.Option("--reveal", help="Show phone, email and national id unmasked (recorded).")
]
PeriodOpt = Annotated[
    str,
    typer.Option(
        "--period", help="YYYY, YYYY-Qn, YYYY-MM, YYYY-MM-DD, today, or the last 30d / 12h."
    ),
]


def stdout_console() -> Console:
    return Console(file=sys.stdout, soft_wrap=False)


def stderr_console() -> Console:
    return Console(file=sys.stderr, soft_wrap=True)


def resolve_format(fmt: OutputFormat | str | None) -> OutputFormat:
    if fmt is not None:
        return OutputFormat(fmt)
    return OutputFormat.TABLE if sys.stdout.isatty() else OutputFormat.CSV


# ---- messages ---------------------------------------------------------------------------------
def info(message: str) -> None:
    """A message for people, on stderr; silenced by --quiet."""
    if not STATE.quiet:
        stderr_console().print(message, highlight=False, markup=False)


def warn(message: str) -> None:
    if not STATE.quiet:
        stderr_console().print(f"Warning: {message}", highlight=False, markup=False)


def error(message: str) -> None:
    """Errors are never silenced."""
    print(f"Error: {message}", file=sys.stderr)


@contextmanager
def progress(total: int | None, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when stderr is a terminal and not --quiet; else no callback."""
    if STATE.quiet or not sys.stderr.isatty():
        yield None
        return
    columns = (TextColumn(label), BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr_console(), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


# ---- data -------------------------------------------------------------------------------------
def to_frame(data: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Mapping):
        return pd.DataFrame([dict(data)])
    return pd.DataFrame([dict(r) for r in data])


def mask_frame(frame: pd.DataFrame, reveal: bool) -> pd.DataFrame:
    if reveal:
        return frame
    cols = [c for c in frame.columns if c in PII_COLUMNS]
    if not cols:
        return frame
    out = frame.copy()
    for col in cols:
        kind = PII_COLUMNS[col]
        out[col] = out[col].map(lambda v, k=kind: mask(v, k)).astype(object)
    return out


def _plain(value: Any) -> Any:
    """A JSON-friendly value: Decimal -> number, dates -> ISO text, NaN -> null."""
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _plain(value.item())  # numpy scalars
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [str(c) for c in frame.columns]
    return [
        {c: _plain(v) for c, v in zip(cols, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _cell_text(value: Any) -> str:
    if isinstance(value, Decimal):  # money: always two decimals, thousands grouped
        return f"{value:,.2f}"
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def format_text(
    data: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any],
    fmt: OutputFormat | str,
    *,
    reveal: bool = False,
    bom: bool = False,
) -> str:
    """The text of `data` in a machine format (csv, tsv, json, jsonl)."""
    fmt = OutputFormat(fmt)
    frame = mask_frame(to_frame(data), reveal)
    if fmt in (OutputFormat.CSV, OutputFormat.TSV):
        buf = io.StringIO()
        writer = csv.writer(
            buf, delimiter="," if fmt is OutputFormat.CSV else "\t", lineterminator="\n"
        )
        safe = neutralise_frame(frame)
        writer.writerow([str(c) for c in safe.columns])
        for row in records(safe):
            writer.writerow(["" if v is None else _csv_value(v) for v in row.values()])
        return ("\ufeff" if bom else "") + buf.getvalue()
    if fmt is OutputFormat.JSON:
        payload: Any = records(frame) if not isinstance(data, Mapping) else records(frame)[0]
        return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
    if fmt is OutputFormat.JSONL:
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records(frame))
    raise ValueError(fmt)


def _csv_value(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


def render(
    data: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any],
    fmt: OutputFormat | str | None = None,
    *,
    reveal: bool = False,
    title: str | None = None,
    empty_message: str | None = None,
) -> None:
    """Write `data` to stdout in the chosen format.

    A mapping is one record: shown as field/value rows in a table, as one object in JSON.
    """
    import pandas as pd

    resolved = resolve_format(fmt)
    if resolved is not OutputFormat.TABLE:
        sys.stdout.write(format_text(data, resolved, reveal=reveal))
        sys.stdout.flush()
        return
    frame = mask_frame(to_frame(data), reveal)
    if isinstance(data, Mapping):
        frame = pd.DataFrame({"field": list(frame.columns), "value": list(frame.iloc[0])})
    if frame.empty and empty_message:
        info(empty_message)
        return
    table = Table(title=title, show_lines=False, header_style="bold")
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(
            frame[col]
        )
        table.add_column(str(col), justify="right" if numeric else "left", overflow="fold")
    for row in frame.itertuples(index=False, name=None):
        table.add_row(*[Text(_cell_text(v)) for v in row])  # data is never markup
    stdout_console().print(table)


def render_sections(
    sections: Mapping[str, pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any]],
    fmt: OutputFormat | str | None = None,
    *,
    reveal: bool = False,
) -> None:
    """Several named tables: titled tables on a terminal, one JSON object, or CSV blocks."""
    resolved = resolve_format(fmt)
    if resolved is OutputFormat.JSON:
        payload = {}
        for name, data in sections.items():
            frame = mask_frame(to_frame(data), reveal)
            rows = records(frame)
            payload[name] = (rows[0] if rows else {}) if isinstance(data, Mapping) else rows
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    if resolved is OutputFormat.JSONL:
        for name, data in sections.items():
            for row in records(mask_frame(to_frame(data), reveal)):
                sys.stdout.write(json.dumps({"section": name, **row}, ensure_ascii=False) + "\n")
        return
    for i, (name, data) in enumerate(sections.items()):
        if resolved is OutputFormat.TABLE:
            if to_frame(data).empty:
                stdout_console().print(f"[bold]{name}[/bold]: none")
                continue
            render(data, resolved, reveal=reveal, title=name)
        else:
            if i:
                sys.stdout.write("\n")
            sys.stdout.write(f"# {name}\n")
            sys.stdout.write(format_text(data, resolved, reveal=reveal))
