"""Read CSV, TSV, JSON Lines, JSON arrays and XLSX in chunks of text cells.

Every reader yields `Chunk`s: a DataFrame of the file's own headers with every cell as text
(blank cells are ""), the line number of each row (the header is line 1; for XLSX the sheet row;
for a JSON array the record number), and the bytes consumed so far for progress. Cells are kept as
text so ids keep their leading zeros; the domain parsers do all conversions.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from riskcli.domain.errors import InputError
from riskcli.services.importing.encoding import SAMPLE_BYTES, detect_encoding, normalise_name

FORMATS = ("csv", "tsv", "jsonl", "json", "xlsx")
# arrow's CSV reader reads about 35 blocks ahead of the consumer: small blocks keep that read-ahead
# (and so memory) flat however large the file is; blocks are gathered into chunks of rows
CSV_BLOCK = 1 << 20
EXTENSIONS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".json": "json", ".xlsx": "xlsx", ".xlsm": "xlsx",
}  # fmt: skip


@dataclass
class Source:
    """One input file, resolved: display name, readable path, digest, format and encoding."""

    name: str
    path: Path
    sha256: str
    size: int
    fmt: str
    encoding: str | None
    blank_lines: bool = False
    sheet: str | None = None  # XLSX: the sheet named by --sheet (else the first visible one)


@dataclass
class Chunk:
    table: pa.Table  # every column arrow string, blanks ""
    lines: np.ndarray
    bytes_read: int
    #: whether a cell holds a line break (None: not looked at)
    line_breaks: bool | None = None


def _digest(path: Path) -> tuple[str, bool]:
    """SHA-256 of the file, and whether it has blank lines (they change line numbering)."""
    h = hashlib.sha256()
    blank = False
    tail = b""
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            if not blank:
                window = (tail + block).rstrip(b"\r\n\0")
                blank = b"\n\n" in window or b"\n\r\n" in window or b"\n\0\n\0" in window
                tail = block[-4:]
    return h.hexdigest(), blank


def spool_stdin(stream: BinaryIO, directory: Path) -> Path:
    """Copy standard input to a private temporary file so it can be read twice."""
    fd, name = tempfile.mkstemp(prefix="riskcli-stdin-", dir=directory)
    with open(fd, "wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    return Path(name)


def _sniff_format(head: bytes, encoding: str | None) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    try:
        text = head.decode(encoding or "utf-8", errors="ignore").lstrip("\ufeff \r\n\t")
    except LookupError:
        text = head.decode("latin-1")
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        return "jsonl"
    first = text.split("\n", 1)[0]
    return "tsv" if first.count("\t") > first.count(",") else "csv"


def resolve_source(
    path: Path,
    display: str,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
) -> Source:
    """Identify a file's format (extension, else content) and encoding (given, else detected)."""
    if not path.exists():
        raise InputError(f"{display}: no such file")
    if path.is_dir():
        raise InputError(f"{display}: is a directory")
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
    if fmt is None:
        fmt = EXTENSIONS.get(path.suffix.lower())
        if fmt is None or (fmt in ("csv", "tsv") and head.startswith(b"PK\x03\x04")):
            fmt = _sniff_format(head, encoding)
    if fmt not in FORMATS:
        raise InputError(f"{display}: unknown format {fmt!r} (use one of {', '.join(FORMATS)})")
    enc: str | None = None
    if fmt != "xlsx":
        if encoding:
            enc = normalise_name(encoding)
        else:
            try:
                enc = detect_encoding(head)
            except InputError as exc:
                raise InputError(f"{display}: {exc}") from None
        if fmt == "csv" and path.suffix.lower() in (".csv", ".txt"):
            first = head.decode(enc, errors="ignore").split("\n", 1)[0]
            if first.count("\t") > 0 and first.count(",") == 0:
                fmt = "tsv"
    digest, blank = _digest(path)
    if sheet is not None and fmt != "xlsx":
        raise InputError(f"{display}: --sheet applies to XLSX files only")
    return Source(display, path, digest, path.stat().st_size, fmt, enc, blank, sheet)


#: how many rows from the top of a sheet or CSV the header is looked for in (a title block, a
#: report date and blank rows above it are common in exports from ERPs and Excel)
HEADER_SEARCH_ROWS = 20
#: the longest field riskcli reads (the CSV block size: a longer one cannot be parsed in blocks)
MAX_FIELD = CSV_BLOCK

HeaderFinder = Callable[[list[list[str]]], int]


def first_nonblank(rows: list[list[str]]) -> int:
    """The default header finder: the first row with any cell."""
    return next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), 0)


def iter_chunks(
    src: Source, chunk_size: int = 100_000, find_header: HeaderFinder = first_nonblank
) -> Iterator[Chunk]:
    """The rows of `src` in chunks of at most `chunk_size`. `find_header` picks the header among
    the first HEADER_SEARCH_ROWS rows of a CSV, TSV or XLSX file (rows above it are skipped)."""
    try:
        if src.fmt in ("csv", "tsv"):
            yield from _csv(src, chunk_size, find_header)
        elif src.fmt == "xlsx":
            yield from _xlsx(src, chunk_size, find_header)
        elif src.fmt == "jsonl":
            yield from _jsonl(src, chunk_size)
        else:
            yield from _json(src, chunk_size)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{src.name}: not valid {src.encoding} near byte {exc.start}; pass --encoding"
        ) from None


def _frame_table(frame: pd.DataFrame) -> pa.Table:
    return pa.table(
        {str(c): pa.array(frame[c].astype(object).tolist(), type=pa.string()) for c in frame}
    )


def _delimiter(src: Source) -> str:
    return "\t" if src.fmt == "tsv" else ","


def _csv_preview(src: Source) -> list[list[str]]:
    """The first HEADER_SEARCH_ROWS records of a CSV (fewer when a field is over MAX_FIELD)."""
    rows: list[list[str]] = []
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD)
    try:
        with src.path.open("r", encoding=src.encoding or "utf-8", newline="") as f:
            for row in csv.reader(f, delimiter=_delimiter(src)):
                rows.append(row)
                if len(rows) >= HEADER_SEARCH_ROWS:
                    break
    except csv.Error:
        pass  # a field too long: found and named by the reader proper
    finally:
        csv.field_size_limit(limit)
    return rows


def check_header(src: Source, header: list[str]) -> None:
    """Two columns of one name: which one is meant cannot be told; say so (exit 1)."""
    names = [h.strip() for h in header if h.strip()]
    twice = sorted({h for h in names if names.count(h) > 1})
    if twice:
        raise InputError(
            f"{src.name}: duplicate column name(s): {', '.join(twice)}; "
            "rename one so each column has its own name"
        )


def physical_lines(table: pa.Table, start: int) -> np.ndarray:
    """The line each row of a CSV chunk starts on, counting the line breaks inside quoted
    fields (so a reject names the line an editor shows). Rows start on consecutive lines
    exactly when the returned array ends at start + rows - 1."""
    n = table.num_rows
    extra = np.zeros(n, dtype=np.int64)
    for column in table.columns:
        cells = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if n and pc.any(pc.match_substring(cells, "\n")).as_py():
            counts = pc.count_substring(cells, "\n").to_numpy(zero_copy_only=False)
            extra += np.nan_to_num(counts.astype(np.float64)).astype(np.int64)
    if not extra.any():
        return np.arange(start, start + n)
    shift = np.concatenate([[0], np.cumsum(extra)[:-1]])
    return np.asarray(start + np.arange(n) + shift, dtype=np.int64)


def _long_line(src: Source) -> int | None:
    """The number of the first line longer than MAX_FIELD bytes (None when there is none)."""
    with src.path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            if len(line) > MAX_FIELD:
                return number
    return None


def _too_long(src: Source) -> InputError:
    line = _long_line(src)
    where = f"on line {line} " if line is not None else ""
    return InputError(
        f"{src.name}: field {where}is longer than 1 MiB; riskcli reads fields up to 1 MiB"
    )


def _csv(src: Source, chunk_size: int, find_header: HeaderFinder) -> Iterator[Chunk]:
    preview = _csv_preview(src)
    if not preview:
        return
    at = find_header(preview)
    header = list(preview[at])
    if at > 0:  # a title block above the header: fill a vertically merged header cell
        header = _merged_header(preview, at)
    check_header(src, header)
    if not any(h.strip() for h in header):
        return
    if at > 0:
        yield from _csv_python(src, chunk_size, at, header)
        return
    if src.blank_lines or len(set(header)) != len(header):  # blank names twice: pandas
        yield from _csv_pandas(src, chunk_size)
        return
    with src.path.open("rb") as f:
        head = f.read(1 << 16)
    avg = max(8, len(head) // max(1, head.count(b"\n")))
    start = 2
    try:
        reader = pcsv.open_csv(
            src.path,
            read_options=pcsv.ReadOptions(encoding=src.encoding or "utf8", block_size=CSV_BLOCK),
            parse_options=pcsv.ParseOptions(delimiter=_delimiter(src), newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        batches: list[pa.RecordBatch] = []
        held = 0
        for batch in itertools.chain(reader, [None]):
            if batch is not None:
                batches.append(batch)
                held += batch.num_rows
            while held and (held >= chunk_size or batch is None):
                table = pa.Table.from_batches(batches, schema=reader.schema)
                part, rest = table.slice(0, chunk_size), table.slice(chunk_size)
                batches, held = rest.to_batches(), rest.num_rows
                lines = physical_lines(part, start)
                breaks = bool(lines[-1] != start + len(lines) - 1) or _breaks_in_last(part) > 0
                start = int(lines[-1]) + 1 + _breaks_in_last(part)
                yield Chunk(part, lines, min(src.size, (start - 1) * avg), breaks)
    except pa.ArrowInvalid as exc:
        if "straddl" in str(exc):
            raise _too_long(src) from None
        raise InputError(f"{src.name}: malformed {src.fmt.upper()}: {_safe_arrow(exc)}") from None


def _breaks_in_last(table: pa.Table) -> int:
    """Line breaks inside the last row's quoted fields."""
    last = table.slice(table.num_rows - 1).to_pylist()[0]
    return sum(str(v).count("\n") for v in last.values() if v)


def _merged_header(rows: list[list[str]], at: int) -> list[str]:
    """The header row, each blank cell taking the text above it (a header cell merged down
    over two rows keeps its text in the upper one)."""
    header = [c.strip() for c in rows[at]]
    for i, cell in enumerate(header):
        if cell:
            continue
        for above in range(at - 1, -1, -1):
            text = rows[above][i].strip() if i < len(rows[above]) else ""
            if text:
                header[i] = text
                break
    return header


def _csv_python(src: Source, chunk_size: int, skip: int, header: list[str]) -> Iterator[Chunk]:
    """The standard library's reader, for a CSV with a title block above its header: it counts
    records and lines exactly. Small files, as such reports are."""
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD)
    width = len(header)
    buffer: list[list[str]] = []
    lines: list[int] = []
    try:
        with src.path.open("r", encoding=src.encoding or "utf-8", newline="") as f:
            reader = csv.reader(f, delimiter=_delimiter(src))
            line = 1
            for number, row in enumerate(reader):
                begins, line = line, reader.line_num + 1
                if number <= skip or not any(c.strip() for c in row):
                    continue
                buffer.append((row + [""] * width)[:width])
                lines.append(begins)
                if len(buffer) >= chunk_size:
                    yield Chunk(_rows_table(header, buffer), np.array(lines), 0)
                    buffer, lines = [], []
    except csv.Error as exc:
        if "field larger" in str(exc):
            raise _too_long(src) from None
        raise InputError(f"{src.name}: malformed {src.fmt.upper()}: {exc}") from None
    finally:
        csv.field_size_limit(limit)
    if buffer:
        yield Chunk(_rows_table(header, buffer), np.array(lines), src.size)


def _safe_arrow(exc: Exception) -> str:
    """Arrow quotes the offending row after the last colon; keep only the description."""
    text = _first_line(exc).removeprefix("CSV parse error: ")
    head, sep, _ = text.partition(": ")
    return head if sep else text


def _csv_pandas(src: Source, chunk_size: int) -> Iterator[Chunk]:
    """pandas' reader keeps blank lines, so line numbers stay exact when a file has them."""
    with src.path.open("r", encoding=src.encoding or "utf-8", newline="") as text:
        try:
            reader = pd.read_csv(
                text,
                sep="\t" if src.fmt == "tsv" else ",",
                dtype=object,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                chunksize=chunk_size,
                engine="c",
            )
            start = 2
            for frame in reader:
                table = _frame_table(frame)
                lines = physical_lines(table, start)
                start = int(lines[-1]) + 1 + _breaks_in_last(table) if len(frame) else start
                blank = (frame == "").all(axis=1).to_numpy()
                yield Chunk(table.filter(pa.array(~blank)), lines[~blank], 0)
        except pd.errors.EmptyDataError:
            return
        except pd.errors.ParserError as exc:
            if "buffer overflow" in str(exc) or _long_line(src) is not None:
                raise _too_long(src) from None
            raise InputError(
                f"{src.name}: malformed {src.fmt.upper()}: {_first_line(exc)}"
            ) from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def cell_text(value: Any) -> str:
    """One JSON or spreadsheet value as the text a CSV would have held."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _records_table(records: list[dict[str, Any]]) -> pa.Table:
    columns: dict[str, None] = {}
    for rec in records:
        for key in rec:
            columns.setdefault(str(key), None)
    data = {c: pa.array([cell_text(r.get(c)) for r in records], pa.string()) for c in columns}
    return pa.table(data)


def _jsonl(src: Source, chunk_size: int) -> Iterator[Chunk]:
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    consumed = 0
    with src.path.open("r", encoding=src.encoding or "utf-8", newline=None) as f:
        for number, line in enumerate(f, start=1):
            consumed += len(line)
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{src.name}: line {number}: invalid JSON ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise InputError(f"{src.name}: line {number}: expected a JSON object")
            records.append(rec)
            lines.append(number)
            if len(records) >= chunk_size:
                yield Chunk(_records_table(records), np.array(lines), consumed)
                records, lines = [], []
    if records:
        yield Chunk(_records_table(records), np.array(lines), src.size)


def _json(src: Source, chunk_size: int) -> Iterator[Chunk]:
    # A JSON array has no streaming reader in the standard library; it is read whole.
    with src.path.open("r", encoding=src.encoding or "utf-8") as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as exc:
            raise InputError(f"{src.name}: invalid JSON at line {exc.lineno} ({exc.msg})") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError(f"{src.name}: expected a JSON array of objects")
    for start in range(0, len(data), chunk_size):
        part = data[start : start + chunk_size]
        done = src.size if start + chunk_size >= len(data) else 0
        yield Chunk(_records_table(part), np.arange(start + 1, start + 1 + len(part)), done)


def _rows_table(header: list[str], rows: list[list[str]]) -> pa.Table:
    names = [h or f"column_{i + 1}" for i, h in enumerate(header)]
    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})


def _sheet(book: Any, src: Source) -> Any:
    """The sheet named by --sheet, else the first visible one (hidden sheets hold lookups and
    workings, not the data)."""
    if src.sheet is not None:
        if src.sheet not in book.sheetnames:
            raise InputError(
                f"{src.name}: no sheet {src.sheet!r} (sheets: {', '.join(book.sheetnames)})"
            )
        return book[src.sheet]
    for sheet in book.worksheets:
        if getattr(sheet, "sheet_state", "visible") == "visible":
            return sheet
    raise InputError(f"{src.name}: every sheet is hidden; name one with --sheet")


def _xlsx(src: Source, chunk_size: int, find_header: HeaderFinder) -> Iterator[Chunk]:
    import openpyxl  # heavy; only when a spreadsheet is read

    try:
        book = openpyxl.load_workbook(src.path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputError(f"{src.name}: not a readable XLSX file ({type(exc).__name__})") from None
    try:
        rows = enumerate(_sheet(book, src).iter_rows(values_only=True), start=1)
        preview = [
            [cell_text(v) for v in row] for _, row in itertools.islice(rows, HEADER_SEARCH_ROWS)
        ]
        if not any(any(c.strip() for c in row) for row in preview):
            return
        at = find_header(preview)
        header = _merged_header(preview, at)
        while header and not header[-1]:
            header.pop()
        check_header(src, header)
        buffer: list[list[str]] = []
        lines: list[int] = []
        below = ((at + 2 + i, row) for i, row in enumerate(preview[at + 1 :]))
        body = itertools.chain(below, ((n, [cell_text(v) for v in row]) for n, row in rows))
        for number, cells in body:
            cells = (list(cells) + [""] * len(header))[: len(header)]
            buffer.append(cells)
            lines.append(number)
            if len(buffer) >= chunk_size:
                yield Chunk(_rows_table(header, buffer), np.array(lines), 0)
                buffer, lines = [], []
        if buffer:
            yield Chunk(_rows_table(header, buffer), np.array(lines, dtype=int), src.size)
    finally:
        book.close()
