"""The canonical tables as Parquet files, one per table, for engines beyond one machine.

Columns carry the canonical names of `riskcli import` (customers.customer_id is the customer's
own id, every other table names its customer the same way), so the files load back with
`riskcli import` and feed the query of `riskcli score export --format sql --full`. Money is
DECIMAL(18,2) in currency units (exact), dates are DATE, the credit-report flags BOOLEAN.

Personal data: phone, email, national id and name are masked as `customers list` masks them,
and free-text notes are left out (NULL), unless the export is a reveal (`--reveal`, which the
role must allow and the audit trail records). Files are written with mode 0600.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskcli.domain.errors import InputError
from riskcli.domain.models import MODELS
from riskcli.domain.money import from_cents
from riskcli.domain.pii import PII_COLUMNS, PiiKind, mask

if TYPE_CHECKING:
    import pyarrow as pa

    from riskcli.storage.store import Store

TABLES: tuple[str, ...] = tuple(MODELS)
MONEY = {
    "credit_limit", "amount", "paid_amount", "value", "revenue", "net_income", "total_assets",
    "total_liabilities", "current_assets", "current_liabilities",
}  # fmt: skip
DATES = {
    "registered_date", "date", "issue_date", "due_date", "paid_date", "report_date",
    "signed_date", "start_date", "end_date", "written_off_date",
}  # fmt: skip
FLAGS = {"lawsuit", "bankruptcy", "tax_violation", "dishonest_debtor", "other_flag"}
#: masked unless revealed (name as a name: its first character kept)
MASKED: dict[str, PiiKind] = {**PII_COLUMNS, "name": PiiKind.NAME}
#: left out (NULL) unless revealed: free text that may hold anything personal
LEFT_OUT = {"note"}
#: rows read and written at a time (one Parquet row group each)
CHUNK = 200_000
#: the store column behind a canonical one, where the names differ
_SOURCE = {"txn_id": "external_id", "interaction_id": "external_id"}


def parse_tables(values: list[str] | None) -> list[str]:
    if not values:
        return list(TABLES)
    names = [v.strip().replace("-", "_") for item in values for v in item.split(",") if v.strip()]
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise InputError(f"--tables: unknown table {unknown[0]!r} (known: {', '.join(TABLES)})")
    return list(dict.fromkeys(names))


def _select(store: Store, table: str) -> tuple[str, list[str]]:
    """The query giving a table's canonical columns (the ones its store table has)."""
    have = {r[1] for r in store.execute(f'PRAGMA table_info("{table}")').fetchall()}
    cols: list[str] = []
    items: list[str] = []
    for name in MODELS[table].model_fields:
        if table == "customers" and name == "customer_id":
            items.append("t.external_id AS customer_id")
        elif name == "customer_id":
            items.append("c.external_id AS customer_id")
        elif _SOURCE.get(name, name) in have:
            items.append(f"t.{_SOURCE.get(name, name)} AS {name}")
        else:
            continue
        cols.append(name)
    join = "" if table == "customers" else " JOIN customers c ON c.id = t.customer_id"
    return f"SELECT {', '.join(items)} FROM {table} t{join} ORDER BY t.id", cols


def _arrow(table: str, rows: list[tuple[Any, ...]], cols: list[str], reveal: bool) -> pa.Table:
    import datetime as dt

    import pyarrow as pa

    arrays = []
    fields = []
    for j, name in enumerate(cols):
        values = [r[j] for r in rows]
        if name in MONEY:
            typ: pa.DataType = pa.decimal128(18, 2)
            values = [None if v is None else from_cents(v) for v in values]
        elif name in DATES:
            typ = pa.date32()
            values = [None if not v else dt.date.fromisoformat(str(v)) for v in values]
        elif name in FLAGS:
            typ = pa.bool_()
            values = [None if v is None else bool(v) for v in values]
        elif name == "score" and table == "credit_reports":
            typ = pa.float64()
        elif name == "satisfaction":
            typ = pa.int64()
        else:
            typ = pa.string()
            if not reveal and name in LEFT_OUT:
                values = [None] * len(values)
            elif not reveal and name in MASKED:
                values = [mask(v, MASKED[name]) for v in values]
            values = [None if v is None else str(v) for v in values]
        arrays.append(pa.array(values, type=typ))
        fields.append(pa.field(name, typ))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def export_parquet(
    store: Store, out: Path, tables: list[str], *, reveal: bool = False, force: bool = False
) -> list[dict[str, Any]]:
    """Write each table as `out/<table>.parquet` (mode 0600); one summary row per file.

    Every file is written beside its target first and put in place only when all are written,
    so a failed export leaves the folder as it was. A file that exists needs `force`, and is
    then kept as `<table>.parquet.bak`.
    """
    import pyarrow.parquet as pq

    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a directory")
    targets = [out / f"{table}.parquet" for table in tables]
    there = [path for path in targets if path.exists()]
    if there and not force:
        if len(there) == 1:
            raise InputError(f"{there[0]} exists; use --force to replace it (a .bak copy is kept)")
        raise InputError(
            f"{there[0]} and {len(there) - 1} more exist; use --force to replace them "
            "(a .bak copy of each is kept)"
        )
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    summary = []
    written: list[tuple[Path, Path]] = []
    try:
        for table, path in zip(tables, targets, strict=True):
            sql, cols = _select(store, table)
            schema = _arrow(table, [], cols, reveal).schema
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=out)
            written.append((Path(name), path))
            os.fchmod(fd, 0o600)
            count = 0
            cursor = store.execute(sql)
            # a row group per chunk: memory stays flat however large the table
            with os.fdopen(fd, "wb") as fh, pq.ParquetWriter(fh, schema, compression="zstd") as w:
                while rows := cursor.fetchmany(CHUNK):
                    w.write_table(_arrow(table, rows, cols, reveal))
                    count += len(rows)
            summary.append({"table": table, "rows": count, "file": str(path)})
    except BaseException:
        for part, _ in written:
            part.unlink(missing_ok=True)
        raise
    for part, path in written:
        if path.exists():
            os.replace(path, path.with_name(path.name + ".bak"))
        os.replace(part, path)
    return summary
