"""One file's raw chunks mapped to the canonical fields of its kind: the header found and mapped,
blank and totals rows dropped, line breaks that do not belong in a field caught."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskcli.services.importing.headers import HeaderMap, find_header_row, map_headers
from riskcli.services.importing.results import FileResult
from riskcli.services.importing.validate import Checked, as_cells

#: a totals row's first filled cell: 合计, 总计, 小计 (with 本页 / 本月 / 累计 ...), Total(s),
#: Grand total, Subtotal, Sum; a trailing colon allowed
TOTALS_LABEL = (
    r"^\s*(?:(?:本页|本月|本期|本年|累计|全部)?(?:合\s*计|总\s*计|小\s*计)"
    r"|(?i:grand\s+total|sub\s*-?total|totals?|sum))\s*[:：]?\s*$"
)
#: fields where a line break belongs to the text
MULTILINE_FIELDS = frozenset({"note"})


class ChunkMapper:
    """Maps the chunks of one file; what it finds (columns, header line, totals rows) goes in
    the file's result."""

    def __init__(self, kind: str, mapping: dict[str, str], res: FileResult, fmt: str) -> None:
        self.kind, self.mapping, self.res, self.fmt = kind, mapping, res, fmt
        self.header: HeaderMap | None = None

    def mapped(self, table: pa.Table, lines: np.ndarray) -> tuple[pa.Table, np.ndarray, np.ndarray]:
        """Canonical columns only, fully blank rows dropped; `keep` indexes the raw table."""
        names = [str(c) for c in table.column_names]
        if self.header is None or list(self.header.columns) + self.header.unknown != names:
            self.header = map_headers(self.kind, names, self.mapping)
            self.res.columns = dict(self.header.columns)
            for u in self.header.unknown:
                if u not in self.res.unknown_columns:
                    self.res.unknown_columns.append(u)
        keep = np.arange(table.num_rows)
        nonblank = np.zeros(table.num_rows, dtype=bool)
        for name in table.column_names:
            cells = as_cells(table.column(name))
            nonblank |= pc.not_equal(cells, "").to_numpy(zero_copy_only=False)
        totals = totals_rows(table)
        if totals.any():
            self.res.totals_lines.extend(int(n) for n in lines[totals])
            nonblank &= ~totals
        if not nonblank.all():
            keep = np.flatnonzero(nonblank)
            table = table.take(pa.array(keep))
        cols = {field: as_cells(table.column(src)) for src, field in self.header.columns.items()}
        return pa.table(cols), lines[keep], keep

    def find_header(self, rows: list[list[str]]) -> int:
        """The header among a file's first rows: the row naming most of this kind's fields
        (a title, a report date and blank rows above it are skipped)."""
        at = find_header_row(self.kind, rows, self.mapping)
        self.res.header_line = at + 1
        return at

    def line_breaks(self, frame: pa.Table, c: Checked, lines: np.ndarray, width: int) -> None:
        """Reject a row with a line break in a one-line field, or a quoted field that swallowed
        the records after it (an unbalanced quote): never two records merged in silence."""
        delimiter = {"csv": ",", "tsv": "\t"}.get(self.fmt)
        for name in frame.column_names:
            cells = as_cells(frame.column(name))
            if not pc.any(pc.match_substring(cells, "\n")).as_py():
                continue
            broken = np.flatnonzero(
                np.asarray(pc.match_substring(cells, "\n").to_numpy(zero_copy_only=False))
            )
            texts = cells.take(pa.array(broken)).to_pylist()
            for pos, text in zip(broken.tolist(), texts, strict=True):
                body = str(text).rstrip("\r\n")
                tail = body.split("\n")[1:]
                line = int(lines[pos])
                if (
                    delimiter
                    and width > 1
                    and any(len(part.split(delimiter)) >= width for part in tail)
                ):
                    span = (
                        f"line {line + 1}"
                        if len(tail) == 1
                        else f"lines {line + 1}-{line + len(tail)}"
                    )
                    c.reject(
                        np.array([pos]), name, f"unbalanced quote (line {line} swallowed {span})"
                    )
                elif name not in MULTILINE_FIELDS and tail:
                    c.reject(np.array([pos]), name, "line break in a one-line field")


def totals_rows(table: pa.Table) -> np.ndarray:
    """Rows whose first filled cell is a totals label: a sum under the data, not a record."""
    first: pa.Array | None = None
    for name in table.column_names:
        cells = as_cells(table.column(name))
        first = cells if first is None else pc.if_else(pc.equal(first, ""), cells, first)
        if not pc.any(pc.equal(first, "")).as_py():
            break
    if first is None:
        return np.zeros(table.num_rows, dtype=bool)
    labels = pc.match_substring_regex(first, TOTALS_LABEL)
    return np.asarray(labels.to_numpy(zero_copy_only=False), dtype=bool)
