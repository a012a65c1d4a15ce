"""`riskcli import KIND FILE...` and `riskcli import history`."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from riskcli.cli import lazy, output
from riskcli.cli.context import Session, session
from riskcli.cli.output import FormatOpt
from riskcli.domain.errors import InputError, UsageError
from riskcli.services.importing.headers import parse_map_options
from riskcli.services.importing.kinds import KINDS

if TYPE_CHECKING:
    from riskcli.services.importing.folder import book_files
    from riskcli.services.importing.readers import resolve_source, spool_stdin
    from riskcli.services.importing.results import ImportResult, history
    from riskcli.services.importing.service import import_files, import_plan
    from riskcli.services.limits.currency import load_rates
    from riskcli.services.limits.importing import ImportHooks
    from riskcli.services.limits.requests import expire, expiry_due
else:  # the readers and the validation (pyarrow, numpy): loaded when a file is imported
    resolve_source = lazy.function("riskcli.services.importing.readers", "resolve_source")
    spool_stdin = lazy.function("riskcli.services.importing.readers", "spool_stdin")
    history = lazy.function("riskcli.services.importing.results", "history")
    import_files = lazy.function("riskcli.services.importing.service", "import_files")
    import_plan = lazy.function("riskcli.services.importing.service", "import_plan")
    book_files = lazy.function("riskcli.services.importing.folder", "book_files")
    load_rates = lazy.function("riskcli.services.limits.currency", "load_rates")
    expire = lazy.function("riskcli.services.limits.requests", "expire")
    expiry_due = lazy.function("riskcli.services.limits.requests", "expiry_due")

app = typer.Typer(
    name="import",
    help="Import customer data from CSV, TSV, JSON Lines, JSON or XLSX (UTF-8 or GBK).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

FilesArg = Annotated[
    list[Path], typer.Argument(help="Files to import; '-' reads standard input.", metavar="FILE...")
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", help="Text encoding (e.g. utf-8, gbk); default: detected."),
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option("--map", help="Map a column: 'source=field' (repeatable or comma-separated)."),
]
RejectsOpt = Annotated[
    Path | None,
    typer.Option(
        "--rejects",
        help="Write rejected rows here (CSV: file, line, column, reason, raw row; mode 0600).",
    ),
]
MaxRejectsOpt = Annotated[
    int,
    typer.Option(
        "--max-rejects", min=0, help="Abort with nothing written when more rows are rejected."
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Validate and count without writing anything.")
]
LimitsOpt = Annotated[
    str,
    typer.Option(
        "--limits",
        help="customers: 'request' (a changed credit_limit becomes a pending request) or "
        "'apply' (only for a role whose approval band covers every amount; recorded).",
    ),
]
RatesOpt = Annotated[
    Path | None,
    typer.Option(
        "--rates",
        help="CSV date,currency,rate: converts foreign amounts to the book currency "
        "(the originals are kept).",
    ),
]
SheetOpt = Annotated[
    str | None,
    typer.Option("--sheet", help="XLSX: the sheet to read (default: the first visible one)."),
]
InputFormatOpt = Annotated[
    str | None,
    typer.Option("--input-format", help="csv|tsv|jsonl|json|xlsx; default: from the file."),
]


SAMPLE = 5


def _report(result: ImportResult) -> None:
    """Counts, reasons and line numbers on stderr; never a value from a rejected row."""
    for fr in result.files:
        where = f"{fr.file} ({fr.fmt}" + (f", {fr.encoding})" if fr.encoding else ")")
        if fr.unknown_columns:
            output.warn(f"{where}: ignored unknown column(s): {', '.join(fr.unknown_columns)}")
        if fr.header_line > 1:
            output.info(f"{fr.file}: header on line {fr.header_line}; the lines above it skipped")
        if fr.totals_lines:
            lines = ", ".join(str(n) for n in fr.totals_lines[:SAMPLE])
            output.info(f"{fr.file}: skipped {len(fr.totals_lines)} totals row(s) (line {lines})")
        for p in sorted(fr.problems, key=lambda p: p.lines[0] if p.lines else 0):  # file order
            lines = ", ".join(str(n) for n in p.lines) + (", ..." if p.count > len(p.lines) else "")
            output.info(f"{fr.file}: {p.count} × {p.column}: {p.reason} (line {lines})")
        if fr.rows and fr.inserted == 0 and fr.updated == 0 and fr.rejected == 0:
            same = output.plural(fr.unchanged, "row")
            output.info(f"{fr.file}: nothing changed ({same} already up to date)")
    if result.probable_duplicates:
        groups = result.probable_duplicates
        sample = "; ".join(f"{g['field']}: {' '.join(g['customer_ids'])}" for g in groups[:5])
        more = f" (+{len(groups) - 5} more)" if len(groups) > 5 else ""
        found = output.plural(len(groups), "probable duplicate customer group")
        output.warn(f"{found}: {sample}{more}")
    if result.rejected and result.rejects_path is not None:
        output.info(f"rejected rows written to {result.rejects_path}")
    if result.dry_run and not result.aborted:
        output.info("dry run: nothing was written")


def _report_limits(counts: dict[str, int], dry_run: bool) -> None:
    would = "would become" if dry_run else "became"
    if counts["limit_requests"]:
        output.info(
            f"{counts['limit_requests']} credit limit change(s) {would} pending request(s): "
            "see `riskcli limits list --pending`"
        )
    if counts["limit_changes_skipped"]:
        output.warn(
            f"{counts['limit_changes_skipped']} credit limit change(s) left out: another request "
            "for the customer is pending (decide it, then import again)"
        )
    if counts["limits_applied"]:
        output.info(f"{counts['limits_applied']} credit limit change(s) applied (recorded)")
    if counts["amounts_converted"]:
        output.info(f"{counts['amounts_converted']} foreign amount(s) converted (originals kept)")


def _limit_hooks(
    s: Session,
    command: str,
    *,
    rates: Any = None,
    mode: str = "request",
    customers: bool = True,
) -> ImportHooks:
    """The credit-limit and currency controls of an import (riskcli.services.limits); with
    customers in it, temporary limits past their date fall back first."""
    from riskcli.services.limits.importing import ImportHooks

    hooks = ImportHooks.from_config(s.config, rates=rates, mode=mode, command=command)
    if customers and expiry_due(s.store, hooks.limits):
        expire(s.store, hooks.limits, command="limits expire")
    return hooks


@contextmanager
def _aborts_reported(s: Session) -> Iterator[None]:
    """An import aborted for its rejects: say why on stderr, and record it, before it fails."""
    from riskcli.services.importing.results import ImportAborted

    try:
        yield
    except ImportAborted as exc:
        _report(exc.result)
        s.audit_affected(aborted=True, rejected=exc.result.rejected)
        raise


def _audit_import(s: Session, result: ImportResult, hooks: ImportHooks) -> None:
    s.audit_affected(
        dry_run=result.dry_run, batches=[f.batch_id for f in result.files], **result.totals()
    )
    s.audit_affected(**{k: v for k, v in hooks.counts.items() if v})


def _run(
    ctx: typer.Context,
    kind: str,
    files: list[Path],
    encoding: str | None,
    mapping: list[str] | None,
    rejects: Path | None,
    max_rejects: int,
    dry_run: bool,
    input_format: str | None,
    fmt: output.OutputFormat | None,
    limits: str = "request",
    rates: Path | None = None,
    sheet: str | None = None,
) -> None:
    if limits != "request" and kind != "customers":
        raise UsageError("--limits applies to `import customers` only")
    columns = parse_map_options(mapping or [])
    rate_table = load_rates(rates) if rates is not None else None
    if sum(1 for f in files if str(f) == "-") > 1:
        raise InputError("standard input ('-') can be read only once")
    with tempfile.TemporaryDirectory(prefix="riskcli-import-") as tmp:
        sources = []
        for f in files:
            path = spool_stdin(typer.get_binary_stream("stdin"), Path(tmp)) if str(f) == "-" else f
            display = "<stdin>" if str(f) == "-" else str(f)
            sources.append(
                resolve_source(path, display, fmt=input_format, encoding=encoding, sheet=sheet)
            )
        total = sum(s.size for s in sources)
        with session(ctx, "import.write") as s:
            hooks = _limit_hooks(
                s, f"import {kind}", rates=rate_table, mode=limits, customers=kind == "customers"
            )
            with (
                _aborts_reported(s),
                output.progress(total, f"import {kind}", unit="bytes") as tick,
            ):
                result = import_files(
                    s.store, kind, sources, mapping=columns, max_rejects=max_rejects,
                    dry_run=dry_run, rejects_path=rejects, progress=tick, hooks=hooks,
                )  # fmt: skip
            _audit_import(s, result, hooks)
            if limits == "apply" and kind == "customers":
                s.audit_affected(limits="apply")
    _report(result)
    _report_limits(hooks.counts, dry_run)
    # the kind as the command names it (`credit-reports`), not as the table is called
    output.render([{**f.summary(), "kind": kind} for f in result.files], fmt)


def _command(cli_kind: str) -> None:
    def command(
        ctx: typer.Context,
        files: FilesArg,
        encoding: EncodingOpt = None,
        mapping: MapOpt = None,
        rejects: RejectsOpt = None,
        max_rejects: MaxRejectsOpt = 0,
        dry_run: DryRunOpt = False,
        input_format: InputFormatOpt = None,
        sheet: SheetOpt = None,
        fmt: FormatOpt = None,
        limits: LimitsOpt = "request",
        rates: RatesOpt = None,
    ) -> None:
        _run(
            ctx, cli_kind, files, encoding, mapping, rejects, max_rejects, dry_run,
            input_format, fmt, limits, rates, sheet,
        )  # fmt: skip

    command.__doc__ = (
        f"Import {cli_kind.replace('-', ' ')} (upsert on their key; one transaction).\n\n"
        "Headers in English snake_case or common Chinese map automatically; --map fixes the "
        "rest. Invalid rows are rejected with line, column and reason; more than --max-rejects "
        "(default 0) aborts with nothing written. Re-importing a file changes nothing.\n\n"
        f"Example: riskcli import {cli_kind} {cli_kind}.csv --rejects rejects.csv"
    )
    app.command(cli_kind)(command)


for _kind in KINDS:
    _command(_kind)


@app.command("book")
def book_command(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="Folder holding the book's files.", metavar="DIR")],
    encoding: EncodingOpt = None,
    rejects: RejectsOpt = None,
    max_rejects: MaxRejectsOpt = 0,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """Import every recognised file of a folder in one transaction: all of it, or nothing.

    Files are recognised by name in any supported format: customers, transactions,
    receivables, credit_reports, contracts, interactions, financials (or 客户, 交易明细,
    应收账款, 征信报告, 合同, 沟通记录, 财务报表 ...). Customers go first. One summary.

    Example: riskcli import book ./daily --rejects rejects.csv
    """
    plan, ignored = book_files(folder)
    for name in ignored:
        output.warn(f"{folder / name}: not a file riskcli recognises; left out")
    resolved = [
        (kind, [resolve_source(p, str(p), encoding=encoding) for p in paths])
        for kind, paths in plan
    ]
    total = sum(src.size for _, sources in resolved for src in sources)
    with session(ctx, "import.write") as s:
        # the book's customers follow the credit-limit controls as `import customers` does
        hooks = _limit_hooks(s, "import book")
        with _aborts_reported(s), output.progress(total, "import book") as tick:
            result = import_plan(
                s.store, resolved, max_rejects=max_rejects, dry_run=dry_run,
                rejects_path=rejects, progress=tick, skip_empty=True, hooks=hooks,
            )  # fmt: skip
        _audit_import(s, result, hooks)
    _report(result)
    _report_limits(hooks.counts, dry_run)
    for name in result.empty:
        output.warn(f"{name}: no rows (empty, or a header alone); left out")
    t = result.totals()
    how = "checked, nothing written" if dry_run else "in one transaction"
    output.info(
        f"book: {len(result.files)} file(s), {t['rows']} rows {how}: "
        f"{t['inserted']} inserted, {t['updated']} updated, {t['unchanged']} unchanged, "
        f"{t['rejected']} rejected"
    )
    output.render([f.summary() for f in result.files], fmt)


@app.command("history")
def history_command(
    ctx: typer.Context,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only batches of this kind, e.g. customers.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many batches.")] = 50,
    fmt: FormatOpt = None,
) -> None:
    """List import batches, newest first: file, SHA-256, counts, user and time.

    Example: riskcli import history --kind transactions --limit 10
    """
    with session(ctx, "import.read") as s:
        rows = output.cut(history(s.store, limit=limit + 1, kind=kind), limit)
    output.render(rows, fmt, empty_message="no imports yet")
