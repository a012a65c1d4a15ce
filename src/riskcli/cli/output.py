"""Shared output options and the one renderer every command uses.

Data goes to stdout; messages and progress go to stderr. The default format is `table` on a
terminal and `csv` when stdout is piped. PII columns are masked unless `--reveal`.

Tables are for people: money with two decimals and thousands separators, PD and shares as
percentages, and on a terminal they fit its width (ids, codes, dates and amounts never wrap;
long text is cut with an ellipsis; columns that still do not fit are left out, with a note).
csv/tsv/json/jsonl are for scripts: plain numbers, every column. Nothing here imports pandas
unless it is handed a DataFrame, so a lookup pays for no analytics library.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from riskcli.domain.pii import PII_COLUMNS, mask
from riskcli.domain.safety import neutralise_rows

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    TSV = "tsv"
    JSON = "json"
    JSONL = "jsonl"


#: rows a table shows on a terminal when --limit is not given (a script gets every row)
SCREEN_ROWS = 1000


class _State:
    quiet = False
    sandbox: str | None = None  # the banner when the open store is a sandbox
    sandbox_shown = False
    verbose = False


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
LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        min=0,
        help=f"At most this many rows; 0 for all. Default: {SCREEN_ROWS:,} on a terminal, "
        "all when piped.",
    ),
]
PeriodOpt = Annotated[
    str,
    typer.Option(
        "--period", help="YYYY, YYYY-Qn, YYYY-MM, YYYY-MM-DD, today, or the last 30d / 12h."
    ),
]


def _styled() -> bool:
    """NO_COLOR (set and not empty, as no-color.org says) removes all styling, bold too."""
    return not os.environ.get("NO_COLOR")


def stdout_console(width: int | None = None) -> Console:
    from rich.console import Console

    return Console(
        file=sys.stdout,
        soft_wrap=False,
        width=width,
        color_system="auto" if _styled() else None,
    )


def stderr_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr, soft_wrap=True, color_system="auto" if _styled() else None)


def resolve_format(fmt: OutputFormat | str | None) -> OutputFormat:
    if fmt is not None:
        return OutputFormat(fmt)
    return OutputFormat.TABLE if sys.stdout.isatty() else OutputFormat.CSV


# ---- messages ---------------------------------------------------------------------------------
def info(message: str) -> None:
    """A message for people, on stderr; silenced by --quiet."""
    if not STATE.quiet:
        print(message, file=sys.stderr)


def step(message: str) -> None:
    """A phase of long work ("reading customers"): on a terminal's stderr, or with --verbose."""
    if not STATE.quiet and (STATE.verbose or sys.stderr.isatty()):
        print(message, file=sys.stderr)


def warn(message: str) -> None:
    if not STATE.quiet:
        print(f"Warning: {message}", file=sys.stderr)


def error(message: str) -> None:
    """Errors are never silenced."""
    print(f"Error: {message}", file=sys.stderr)


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 customer`, `3,000 customers`."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


@contextmanager
def progress(
    total: int | None, label: str, *, unit: str = ""
) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when stderr is a terminal and not --quiet; else no callback.

    The bar shows done/total (`unit="bytes"`: as kB/MB; else as counts of rows or steps) and
    advances by what the callback is given.
    """
    if STATE.quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn(label),
        BarColumn(),
        DownloadColumn() if unit == "bytes" else MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr_console(), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


# ---- row limits -------------------------------------------------------------------------------
def row_limit(limit: int | None, screen: int = SCREEN_ROWS) -> int | None:
    """The rows to list: `--limit N`; `--limit 0` or a script (stdout not a terminal) gets
    every row; a person at a terminal gets `screen` rows unless they ask for more."""
    if limit == 0:
        return None
    if limit is not None:
        return limit
    return screen if sys.stdout.isatty() else None


Rows = TypeVar("Rows", list[Any], "pd.DataFrame")


def cut(rows: Rows, limit: int | None, total: int | None = None) -> Rows:
    """Keep `limit` rows of `rows` (fetched with one row more than the limit) and say on stderr
    when rows were left out: a listing is never cut silently."""
    if limit is None or len(rows) <= limit:
        return rows
    of = f" of {total:,}" if total is not None else ""
    # said even with --quiet: the data on stdout is incomplete
    print(f"showing {limit:,}{of} rows; --limit 0 for all", file=sys.stderr)
    return rows[:limit]


# ---- data -------------------------------------------------------------------------------------
def _is_frame(data: Any) -> bool:
    return hasattr(data, "itertuples") and hasattr(data, "columns")


def to_frame(data: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Mapping):
        return pd.DataFrame([dict(data)])
    return pd.DataFrame([dict(r) for r in data])


def table_of(
    data: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any], reveal: bool = False
) -> tuple[list[str], list[list[Any]]]:
    """Column names and rows of `data`, PII masked unless `reveal`."""
    if _is_frame(data):
        frame: Any = data
        columns = [str(c) for c in frame.columns]
        rows = [list(r) for r in frame.itertuples(index=False, name=None)]
    elif isinstance(data, Mapping):
        columns = [str(k) for k in data]
        rows = [list(data.values())]
    else:
        listed: Sequence[Mapping[str, Any]] = data  # type: ignore[assignment]
        seen: dict[str, None] = {}
        for record in listed:
            seen.update(dict.fromkeys(str(k) for k in record))
        columns = list(seen)
        rows = [[record.get(c) for c in columns] for record in listed]
    if not reveal:
        for i, name in enumerate(columns):
            kind = PII_COLUMNS.get(name)
            if kind is not None:
                for row in rows:
                    row[i] = mask(row[i], kind)
    return columns, rows


def _plain(value: Any) -> Any:
    """A JSON-friendly value: Decimal -> number, dates -> ISO text, NaN/NA/NaT -> null."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (datetime, date)):  # pandas' Timestamp is a datetime
        return None if type(value).__name__ == "NaTType" else value.isoformat()
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _plain(value.item())  # numpy scalars
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def mask_frame(frame: pd.DataFrame, reveal: bool) -> pd.DataFrame:
    """A DataFrame with its PII columns masked unless `reveal` (for renderers of their own)."""
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


def records(
    data: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any], reveal: bool = True
) -> list[dict[str, Any]]:
    columns, rows = table_of(data, reveal)
    return [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows]


def format_text(
    data: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any],
    fmt: OutputFormat | str,
    *,
    reveal: bool = False,
    bom: bool = False,
) -> str:
    """The text of `data` in a machine format (csv, tsv, json, jsonl): plain numbers."""
    fmt = OutputFormat(fmt)
    columns, rows = table_of(data, reveal)
    plain = [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows]
    if fmt in (OutputFormat.CSV, OutputFormat.TSV):
        buf = io.StringIO()
        writer = csv.writer(
            buf, delimiter="," if fmt is OutputFormat.CSV else "\t", lineterminator="\n"
        )
        body = [["" if v is None else _csv_value(v) for v in r.values()] for r in plain]
        writer.writerows(neutralise_rows([columns, *body]))
        return ("\ufeff" if bom else "") + buf.getvalue()
    if fmt is OutputFormat.JSON:
        payload: Any = plain[0] if isinstance(data, Mapping) else plain
        return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
    if fmt is OutputFormat.JSONL:
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in plain)
    raise ValueError(fmt)


def _csv_value(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


# ---- tables for people ------------------------------------------------------------------------
#: name parts of columns holding money (shown with two decimals and separators)
MONEY_WORDS = frozenset(
    {"amount", "limit", "exposure", "outstanding", "balance", "revenue", "monetary", "loss",
     "paid", "ead", "el", "value", "overdue", "sales", "due", "cost", "price", "total_value",
     "priority"}
)  # fmt: skip
#: money kept as exact text (`1471323.35`) so CSV and JSON carry it to the cent: a table shows
#: it like money held as a number
EXACT_MONEY = re.compile(r"-?\d+\.\d{2}")
#: name parts of columns holding a count, days or another unit that is not money
NOT_MONEY_WORDS = frozenset(
    {"count", "days", "day", "dpd", "customers", "invoices", "rows", "share", "pct", "ratio",
     "id", "run", "score", "points", "rank", "months", "years", "n", "number", "requests",
     "alerts", "events", "changes", "over_limit"}
)  # fmt: skip
#: a numeric column holds a share of one (0.0765 -> 7.65%) when its name or a part of it is one
#: of these, or it ends in `_rate`
PERCENT_NAMES = frozenset({"pd", "share", "psi_share", "utilisation", "utilization", "rate"})
#: name parts of columns that never wrap: ids, codes, dates, grades
KEY_WORDS = frozenset(
    {"id", "code", "date", "as_of", "at", "grade", "tier", "severity", "status", "kind", "rule",
     "run", "segment", "stage", "bucket", "invoice", "number", "model", "user", "role", "phone",
     "email", "national"}
)  # fmt: skip
#: columns of free text, shortened with an ellipsis to fit
TEXT_NAMES = frozenset(
    {"name", "title", "message", "action", "reasons", "policy", "service_policy", "note",
     "evidence", "address", "detail", "description", "summary", "file", "path", "why", "fix"}
)  # fmt: skip
#: text columns are never narrowed below this many cells
MIN_TEXT = 12


def _words(name: str) -> set[str]:
    lowered = name.lower()
    return {*lowered.split("_"), lowered}


def column_kind(name: str, values: Sequence[Any]) -> str:
    """How a table shows a column: percent, money, number, key (never wraps) or text."""
    present = [v for v in values if v is not None and _plain(v) is not None]
    numeric = bool(present) and all(
        isinstance(_plain(v), (int, float)) and not isinstance(_plain(v), bool) for v in present
    )
    words = _words(name)
    exact = bool(present) and all(isinstance(v, str) and EXACT_MONEY.fullmatch(v) for v in present)
    if exact and words & MONEY_WORDS and not words & NOT_MONEY_WORDS:
        return "money"
    if numeric:
        if words & {"id", "run", "year", "version"} or name.lower().endswith("_id"):
            return "key"
        if words & PERCENT_NAMES or name.lower().endswith("_rate"):
            return "percent"
        if any(isinstance(v, Decimal) for v in present) or (
            words & MONEY_WORDS and not words & NOT_MONEY_WORDS
        ):
            return "money"
        return "number"
    if name.lower() in TEXT_NAMES:
        return "text"
    if words & KEY_WORDS or name.lower().endswith(("_id", "_at", "_date", "_code")):
        return "key"
    texts = [str(_plain(v)) for v in present]
    if texts and max(len(t) for t in texts) > 24 and any(" " in t for t in texts):
        return "text"
    return "key"


def cell_text(value: Any, kind: str = "number") -> str:
    """The text of one table cell in business form."""
    if isinstance(value, Decimal) and kind != "percent":
        return f"{value:,.2f}"
    plain = _plain(value)
    if plain is None:
        return ""
    if isinstance(plain, bool):
        return "yes" if plain else "no"
    if kind == "percent" and isinstance(plain, (int, float)):
        return f"{plain * 100:.2f}%"
    if kind == "money" and isinstance(plain, (int, float)):
        return f"{plain:,.2f}"
    if kind == "money" and isinstance(plain, str) and EXACT_MONEY.fullmatch(plain):
        return f"{Decimal(plain):,.2f}"
    if isinstance(plain, int):
        return f"{plain:,}" if kind == "number" else str(plain)
    if isinstance(plain, float):
        return f"{plain:,.2f}" if abs(plain) >= 1000 else f"{plain:.4g}"
    if isinstance(plain, (list, dict)):
        return json.dumps(plain, ensure_ascii=False)
    return str(plain)


def _fit(widths: list[int], kinds: list[str], width: int) -> tuple[list[int], list[int]]:
    """Column widths that fit `width` cells and the columns to leave out (from the right)."""
    # rich's default box: per column one cell of border and two of padding, plus one border
    keep = list(range(len(widths)))
    floors = [min(w, MIN_TEXT) if k == "text" else w for w, k in zip(widths, kinds, strict=True)]

    def need(cols: list[int], sizes: list[int]) -> int:
        return sum(sizes[i] for i in cols) + 3 * len(cols) + 1

    dropped: list[int] = []
    while len(keep) > 1 and need(keep, floors) > width:
        dropped.insert(0, keep.pop())
    out = list(widths)
    spare = width - need(keep, floors)
    texts = [i for i in keep if kinds[i] == "text"]
    if need(keep, widths) > width and texts:
        wanted = sum(widths[i] - floors[i] for i in texts) or 1
        for i in texts:
            out[i] = floors[i] + (widths[i] - floors[i]) * spare // wanted
    return out, dropped


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
    resolved = resolve_format(fmt)
    if resolved is not OutputFormat.TABLE:
        sys.stdout.write(format_text(data, resolved, reveal=reveal))
        sys.stdout.flush()
        return
    sandbox_header()
    columns, rows = table_of(data, reveal)
    if isinstance(data, Mapping):
        kinds = [column_kind(c, [v]) for c, v in zip(columns, rows[0], strict=True)]
        shown = [[c, cell_text(v, k)] for c, v, k in zip(columns, rows[0], kinds, strict=True)]
        columns, rows = ["field", "value"], shown
        kinds = ["key", "text"]
        right = [False, False]
    else:
        kinds = [column_kind(c, [r[i] for r in rows]) for i, c in enumerate(columns)]
        right = [k in ("percent", "money", "number") for k in kinds]
        rows = [[cell_text(v, k) for v, k in zip(r, kinds, strict=True)] for r in rows]
    if not rows and empty_message:
        info(empty_message)
        return
    print_table(columns, rows, kinds, right, title=title)


def print_table(
    columns: list[str],
    rows: list[list[str]],
    kinds: list[str],
    right: list[bool],
    *,
    title: str | None = None,
) -> None:
    """Print cells as a table that fits the terminal (or, piped, is as wide as it needs)."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    widths = [
        max([cell_len(c), *(max((cell_len(x) for x in r[i].split("\n")), default=0) for r in rows)])
        for i, c in enumerate(columns)
    ]
    natural = sum(widths) + 3 * len(widths) + 1
    fitted = sys.stdout.isatty() or "COLUMNS" in os.environ
    console = stdout_console(None if fitted else max(natural, 80))
    sizes, dropped = _fit(widths, kinds, console.width) if fitted else (widths, [])
    keep = [i for i in range(len(columns)) if i not in dropped]
    table = Table(title=title, show_lines=False, header_style="bold" if _styled() else "")
    for i in keep:
        wraps = kinds[i] == "text"
        table.add_column(
            columns[i],
            justify="right" if right[i] else "left",
            no_wrap=True,
            overflow="ellipsis" if wraps else "fold",
            width=sizes[i] if wraps else None,
            min_width=None if wraps else widths[i],
        )
    for r in rows:
        table.add_row(*[Text(r[i]) for i in keep])  # data is never markup
    console.print(table)
    if dropped:
        names = ", ".join(columns[i] for i in dropped)
        info(
            f"left out to fit {console.width} columns: {names} "
            "(widen the terminal, or use --format csv/json for every column)"
        )


def sandbox_header() -> None:
    """Table output on a sandbox starts with the sandbox banner (once per command)."""
    if STATE.sandbox and not STATE.sandbox_shown:
        from rich.text import Text

        stdout_console().print(Text(f"[{STATE.sandbox}]", style="bold"))
        STATE.sandbox_shown = True


def render_sections(
    sections: Mapping[str, pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any]],
    fmt: OutputFormat | str | None = None,
    *,
    reveal: bool = False,
    single: bool = False,
) -> None:
    """Several named tables: titled tables on a terminal, one JSON object, CSV blocks.

    With `single`, csv/tsv is one table (a `section` column first) so a script can parse it.
    """
    resolved = resolve_format(fmt)
    if resolved is OutputFormat.JSON:
        payload = {}
        for name, data in sections.items():
            rows = records(data, reveal)
            payload[name] = (rows[0] if rows else {}) if isinstance(data, Mapping) else rows
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    if resolved is OutputFormat.JSONL:
        for name, data in sections.items():
            for row in records(data, reveal):
                sys.stdout.write(json.dumps({"section": name, **row}, ensure_ascii=False) + "\n")
        return
    if resolved is OutputFormat.TABLE:
        sandbox_header()
    if single and resolved in (OutputFormat.CSV, OutputFormat.TSV):
        merged: list[dict[str, Any]] = []
        for name, data in sections.items():
            for row in records(data, reveal):
                merged.append({"section": name, **row})
        sys.stdout.write(format_text(merged, resolved, reveal=True))
        return
    for i, (name, data) in enumerate(sections.items()):
        if resolved is OutputFormat.TABLE:
            if not table_of(data)[1]:
                print(f"{name}: none", file=sys.stdout)
                continue
            render(data, resolved, reveal=reveal, title=name)
        else:
            if i:
                sys.stdout.write("\n")
            sys.stdout.write(f"# {name}\n")
            sys.stdout.write(format_text(data, resolved, reveal=reveal))
