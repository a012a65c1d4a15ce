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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv

from riskcli.domain.errors import InputError
from riskcli.services.importing.encoding import SAMPLE_BYTES, detect_encoding, normalise_name

FORMATS = ("csv", "tsv", "jsonl", "json", "xlsx")
# arrow's CSV reader reads about 35 blocks ahead of the consumer: small blocks keep that read-ahead
# (and so memory) flat however large the file is; blocks are gathered into chunks of rows
CSV_BLOCK = 1 << 20
_EXTENSIONS = {
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


@dataclass
class Chunk:
    table: pa.Table  # every column arrow string, blanks ""
    lines: np.ndarray
    bytes_read: int


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
    path: Path, display: str, *, fmt: str | None = None, encoding: str | None = None
) -> Source:
    """Identify a file's format (extension, else content) and encoding (given, else detected)."""
    if not path.exists():
        raise InputError(f"{display}: no such file")
    if path.is_dir():
        raise InputError(f"{display}: is a directory")
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
    if fmt is None:
        fmt = _EXTENSIONS.get(path.suffix.lower())
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
    return Source(display, path, digest, path.stat().st_size, fmt, enc, blank)


def iter_chunks(src: Source, chunk_size: int = 100_000) -> Iterator[Chunk]:
    """The rows of `src` in chunks of at most `chunk_size`."""
    readers = {"csv": _csv, "tsv": _csv, "jsonl": _jsonl, "json": _json, "xlsx": _xlsx}
    try:
        yield from readers[src.fmt](src, chunk_size)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{src.name}: not valid {src.encoding} near byte {exc.start}; pass --encoding"
        ) from None


def _frame_table(frame: pd.DataFrame) -> pa.Table:
    return pa.table(
        {str(c): pa.array(frame[c].astype(object).tolist(), type=pa.string()) for c in frame}
    )


def _csv_header(src: Source) -> list[str]:
    with src.path.open("r", encoding=src.encoding or "utf-8", newline="") as f:
        first = f.readline()
    if not first.strip():
        return []
    return next(csv.reader([first], delimiter="\t" if src.fmt == "tsv" else ","))


def _csv(src: Source, chunk_size: int) -> Iterator[Chunk]:
    header = _csv_header(src)
    if not header:
        return
    if src.blank_lines or len(set(header)) != len(header):
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
            parse_options=pcsv.ParseOptions(
                delimiter="\t" if src.fmt == "tsv" else ",", newlines_in_values=True
            ),
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
                n = part.num_rows
                lines = np.arange(start, start + n)
                start += n
                yield Chunk(part, lines, min(src.size, (start - 1) * avg))
    except pa.ArrowInvalid as exc:
        raise InputError(f"{src.name}: malformed {src.fmt.upper()}: {_safe_arrow(exc)}") from None


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
                lines = np.arange(start, start + len(frame))
                start += len(frame)
                blank = (frame == "").all(axis=1).to_numpy()
                yield Chunk(_frame_table(frame[~blank]), lines[~blank], 0)
        except pd.errors.EmptyDataError:
            return
        except pd.errors.ParserError as exc:
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


def _xlsx(src: Source, chunk_size: int) -> Iterator[Chunk]:
    import openpyxl  # heavy; only when a spreadsheet is read

    try:
        book = openpyxl.load_workbook(src.path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputError(f"{src.name}: not a readable XLSX file ({type(exc).__name__})") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header: list[str] | None = None
        buffer: list[list[str]] = []
        lines: list[int] = []
        for number, row in enumerate(rows, start=1):
            cells = [cell_text(v) for v in row]
            if header is None:
                if any(cells):
                    header = [c.strip() for c in cells]
                    while header and not header[-1]:
                        header.pop()
                continue
            cells = (cells + [""] * len(header))[: len(header)]
            buffer.append(cells)
            lines.append(number)
            if len(buffer) >= chunk_size:
                yield Chunk(_rows_table(header, buffer), np.array(lines), 0)
                buffer, lines = [], []
        if header is not None and (buffer or not lines):
            yield Chunk(_rows_table(header, buffer), np.array(lines, dtype=int), src.size)
    finally:
        book.close()
