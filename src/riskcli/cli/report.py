"""`riskcli report`: portfolio, customer and audit reports for people and for scripts."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from riskcli.cli import lazy
from riskcli.cli import output as ui
from riskcli.cli.context import session
from riskcli.cli.options import AsOfOpt, dated_option, resolve_as_of
from riskcli.cli.output import PeriodOpt, RevealOpt
from riskcli.domain.errors import InputError, UsageError

if TYPE_CHECKING:
    from riskcli.services.reports import audit as audit_report
    from riskcli.services.reports import customer as customer_report
    from riskcli.services.reports import html as html_report
    from riskcli.services.reports import labels
    from riskcli.services.reports import portfolio as portfolio_report
    from riskcli.services.reports import receivables as receivables_report
    from riskcli.services.reports import xlsx as xlsx_report
    from riskcli.services.reports.model import Report, Section
else:  # the reports (pandas; openpyxl for xlsx): loaded when a report is built
    audit_report = lazy.module("riskcli.services.reports.audit")
    customer_report = lazy.module("riskcli.services.reports.customer")
    html_report = lazy.module("riskcli.services.reports.html")
    labels = lazy.module("riskcli.services.reports.labels")
    portfolio_report = lazy.module("riskcli.services.reports.portfolio")
    receivables_report = lazy.module("riskcli.services.reports.receivables")
    xlsx_report = lazy.module("riskcli.services.reports.xlsx")

app = typer.Typer(
    name="report",
    help="Risk reports: portfolio, customer profile, audit — as table, CSV, JSON, XLSX or an "
    "offline HTML file with charts.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class ReportFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    TSV = "tsv"
    JSON = "json"
    JSONL = "jsonl"
    XLSX = "xlsx"
    HTML = "html"


FILE_FORMATS = (ReportFormat.XLSX, ReportFormat.HTML)
#: --output file suffix -> format, when --format is not given
SUFFIXES = {f".{f.value}": f for f in ReportFormat if f is not ReportFormat.TABLE} | {
    ".htm": ReportFormat.HTML
}
BAR_WIDTH = 20

ReportFormatOpt = Annotated[
    ReportFormat | None,
    typer.Option(
        "--format",
        "-f",
        help="table, csv, tsv, json, jsonl, xlsx or html. Default: table on a terminal, csv "
        "when piped. xlsx and html are written to a file (--output).",
        case_sensitive=False,
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to this file (mode 0600) and print its path. '-' is stdout. Default for "
        "xlsx/html: ./riskcli-<report>-<date>.<ext>.",
    ),
]
ExcelOpt = Annotated[
    bool,
    typer.Option("--excel", help="CSV/TSV: start with a UTF-8 BOM so Excel reads Chinese text."),
]
SectionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--section",
        "-s",
        help="Only these sections (repeatable); one section gives a plain table for scripts.",
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Overwrite an existing --output file (a .bak copy is kept)."),
]


# ---- commands ---------------------------------------------------------------------------------
@app.command("portfolio")
def portfolio(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    compare: Annotated[
        dt.date | None,
        dated_option(
            "--compare",
            "Earlier date for PSI and grade migration. Default: the score run before the "
            "as-of one.",
        ),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", min=1, help="How many customers by expected loss.")
    ] = 10,
    fmt: ReportFormatOpt = None,
    output: OutputOpt = None,
    excel: ExcelOpt = False,
    section: SectionOpt = None,
    force: ForceOpt = False,
) -> None:
    """Exposure and customers by grade and tier, the grade x tier matrix, receivables aging,
    concentration by industry and region (shares, Herfindahl index), the top customers by
    expected loss, open alerts, the score distribution with its PSI and the grade migration
    between the as-of and the compare date. Sections without data say so.

    Example: riskcli report portfolio --as-of 2026-06-30 --format html -o portfolio.html
    """
    resolved = _resolve(fmt, output)
    _check_sections(section, portfolio_report.SECTION_KEYS)
    with session(ctx, "report.read") as s:
        day = resolve_as_of(s.store, as_of)
        with ui.progress(None, "Building the portfolio report") as tick:
            report = portfolio_report.build_portfolio(
                s.store, as_of=day, compare=compare, top=top, progress=tick, config=s.config
            )
        customers = report.section("summary").facts.get("customers", 0)
        s.audit_affected(count=customers, format=resolved.value)
        report.language, report.currency = labels.book_settings(s.config)
        _emit(report, resolved, output, excel=excel, sections=section, force=force)


@app.command("customer")
def customer(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(help="The customer's id (customer_id).")],
    as_of: AsOfOpt = None,
    reveal: RevealOpt = False,
    fmt: ReportFormatOpt = None,
    output: OutputOpt = None,
    excel: ExcelOpt = False,
    section: SectionOpt = None,
    force: ForceOpt = False,
) -> None:
    """A one-page risk profile for a credit committee: identity (masked unless --reveal), tier
    and lifecycle, score, grade and reasons with history, limit and utilisation, aging, credit
    reports, contracts, interactions and complaints, open alerts.

    Example: riskcli report customer C0042 --format html -o C0042.html
    """
    resolved = _resolve(fmt, output)
    _check_sections(section, customer_report.SECTION_KEYS)
    with session(ctx, "report.customer", reveal=reveal) as s:
        day = resolve_as_of(s.store, as_of)
        report = customer_report.build_customer(
            s.store, customer_id, as_of=day, reveal=reveal, config=s.config
        )
        s.audit_affected(ids=[customer_id], format=resolved.value)
        if reveal:
            s.audit_revealed([customer_id], ("phone", "email", "national_id"))
        report.language, report.currency = labels.book_settings(s.config)
        _emit(report, resolved, output, excel=excel, sections=section, force=force, reveal=reveal)


@app.command("receivables")
def receivables(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    months: Annotated[
        int, typer.Option("--months", help="Month-ends to report, the as-of date the last.")
    ] = 12,
    fmt: ReportFormatOpt = None,
    output: OutputOpt = None,
    excel: ExcelOpt = False,
    section: SectionOpt = None,
    force: ForceOpt = False,
) -> None:
    """Per month-end for the book and per tier, grade, industry, region and group:
    receivables, credit sales, DSO (countback and simple), best-possible DSO, average days
    delinquent, CEI, aging buckets, the roll-rate matrix, and the invoices near the limitation
    period. Written-off invoices are off the book from their write-off date.

    Example: riskcli report receivables --as-of 2026-06-30 --months 12 --format xlsx -o ar.xlsx
    """
    resolved = _resolve(fmt, output)
    _check_sections(section, receivables_report.RECEIVABLES_SECTIONS)
    with session(ctx, "report.read") as s:
        day = resolve_as_of(s.store, as_of)
        with ui.progress(2, "Building the receivables report") as tick:
            report = receivables_report.build_receivables(
                s.store, as_of=day, months=months, config=s.config, progress=tick
            )
        s.audit_affected(format=resolved.value)
        _emit(report, resolved, output, excel=excel, sections=section, force=force)


@app.command("provisions")
def provisions(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    lookback: Annotated[
        str | None,
        typer.Option(
            "--lookback", help="History for the loss rates: 24m, 36m, 2y. Default: [provisions]."
        ),
    ] = None,
    overlay: Annotated[
        float | None,
        typer.Option(
            "--overlay", help="Forward-looking multiplier on the loss rates. Default: 1.0."
        ),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option("--method", help="roll-rate (default) or write-off."),
    ] = None,
    fmt: ReportFormatOpt = None,
    output: OutputOpt = None,
    excel: ExcelOpt = False,
    section: SectionOpt = None,
    force: ForceOpt = False,
) -> None:
    """The provision for expected credit losses (CAS 22 / IFRS 9 simplified approach): loss
    rates per aging bucket from the history, the overlay, the provision per bucket, per
    customer and in total, customers in default assessed individually, and the movement from
    the previous month-end. xlsx: one sheet each for inputs, rates, matrix, customers, movement.

    Example: riskcli report provisions --as-of 2026-06-30 --lookback 24m --format xlsx -o p.xlsx
    """
    months = receivables_report.parse_lookback(lookback)
    resolved = _resolve(fmt, output)
    _check_sections(section, receivables_report.PROVISIONS_SECTIONS)
    with session(ctx, "report.read") as s:
        day = resolve_as_of(s.store, as_of)
        with ui.progress(2, "Building the provision matrix") as tick:
            report = receivables_report.build_provisions(
                s.store,
                as_of=day,
                lookback=months,
                overlay=overlay,
                method=method,
                config=s.config,
                progress=tick,
            )
        s.audit_affected(format=resolved.value)
        _emit(report, resolved, output, excel=excel, sections=section, force=force)


@app.command("audit")
def audit(
    ctx: typer.Context,
    period: PeriodOpt = "30d",
    fmt: ReportFormatOpt = None,
    output: OutputOpt = None,
    excel: ExcelOpt = False,
    section: SectionOpt = None,
    force: ForceOpt = False,
) -> None:
    """The audit report (who accessed what, exports and reveals of personal data, imports and
    changes, denied attempts, backups and drills, alerts handled) in every report format.

    Example: riskcli report audit --period 2026-Q4 --format xlsx -o audit-q4.xlsx
    """
    resolved = _resolve(fmt, output)
    _check_sections(section, audit_report.SECTION_KEYS)
    with session(ctx, "audit.read") as s:
        report = audit_report.build_audit(s.store, period)
        s.audit_affected(count=int(report.section("overview").table["events"].sum()))
        report.language, report.currency = labels.book_settings(s.config)
        _emit(report, resolved, output, excel=excel, sections=section, force=force)


@app.command("stress")
def stress(
    ctx: typer.Context,
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="A stress scenario TOML file.")
    ] = None,
    default: Annotated[
        list[str] | None,
        typer.Option("--default", help="Put this customer in default (repeatable; 'largest')."),
    ] = None,
    pd_shift: Annotated[
        list[str] | None,
        typer.Option("--pd-shift", help="industry=NAME:+0.05 or region=NAME:+0.05 (repeatable)."),
    ] = None,
    pd_multiplier: Annotated[
        float | None, typer.Option("--pd-multiplier", min=0, help="Multiply every PD.")
    ] = None,
    lgd: Annotated[
        float | None, typer.Option("--lgd", min=0, max=1, help="LGD of the stressed case.")
    ] = None,
    as_of: AsOfOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many movers to list.")] = 10,
    fmt: ReportFormatOpt = None,
    output: OutputOpt = None,
    excel: ExcelOpt = False,
    section: SectionOpt = None,
    force: ForceOpt = False,
) -> None:
    """PD, expected loss (PD x LGD x EAD), grades, limit breaches and concentration under a
    scenario, beside the base case. PD from the latest score run, EAD the exposure as of the
    date, LGD from [credit.loss] lgd (0.40). Nothing is stored but the record of the run.

    Example: riskcli report stress --pd-shift industry=建筑业:+0.05 --pd-multiplier 1.5
    """
    from riskcli.services.reports import stress as stress_service

    resolved = _resolve(fmt, output)
    _check_sections(section, stress_service.SECTION_KEYS)
    spec = stress_service.read_scenario(scenario) if scenario else stress_service.Scenario()
    spec.shifts += [stress_service.parse_shift(t) for t in pd_shift or []]
    spec.defaults += list(default or [])
    if pd_multiplier is not None:
        spec.pd_multiplier = pd_multiplier
    if lgd is not None:
        spec.lgd = lgd
    with session(ctx, "report.read") as s:
        day = resolve_as_of(s.store, as_of)
        loss = stress_service.configured_loss(s.config)
        report = stress_service.build_stress(s.store, spec, as_of=day, loss=loss, top=top)
        s.audit_affected(scenario=spec.name, format=resolved.value, stored="nothing")
        _emit(report, resolved, output, excel=excel, sections=section, force=force)


@app.command("drills")
def drills_report(
    ctx: typer.Context,
    since: Annotated[
        dt.date | None, dated_option("--since", "Drills started on or after YYYY-MM-DD.")
    ] = None,
    fmt: ReportFormatOpt = None,
    output: OutputOpt = None,
    excel: ExcelOpt = False,
    force: ForceOpt = False,
) -> None:
    """The training record: each drill and tutorial (who, when, scenario, steps done, minutes
    per step, findings) and each scenario's last drill against its allowed age.

    Example: riskcli report drills --since 2026-01-01 --format xlsx -o drills-2026.xlsx
    """
    import pandas as pd

    from riskcli.services import drills as drills_service
    from riskcli.services.reports.model import Report, Section

    start = since
    moment = dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC) if start else None
    resolved = _resolve(fmt, output)
    with session(ctx, "drill.read") as s:
        cfg = drills_service.drills_config(s.config)
        record = drills_service.training_record(s.store, moment)
        report = Report(
            kind="drills",
            title="Drills and training" + (f" since {start.isoformat()}" if start else ""),
            generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
            params={"since": start} if start else {},
            sections=[
                Section("drills", "Drills and tutorials", pd.DataFrame(record),
                        note="no drill in the period"),
                Section("scenarios", "Last drill per scenario",
                        pd.DataFrame(drills_service.stale(s.store, cfg))),
            ],
        )  # fmt: skip
        s.audit_affected(count=len(record))
        _emit(report, resolved, output, excel=excel, sections=None, force=force)


# ---- rendering --------------------------------------------------------------------------------
def _resolve(fmt: ReportFormat | None, out: Path | None) -> ReportFormat:
    if fmt is not None:
        resolved = fmt
    elif out is not None and out.suffix.lower() in SUFFIXES:
        resolved = SUFFIXES[out.suffix.lower()]
    else:
        resolved = ReportFormat(ui.resolve_format(None).value)
    if resolved is ReportFormat.TABLE and out is not None and str(out) != "-":
        raise UsageError("--output needs --format csv, tsv, json, jsonl, xlsx or html")
    return resolved


def _check_sections(wanted: list[str] | None, known: tuple[str, ...]) -> None:
    unknown = [w for w in wanted or [] if w not in known]
    if unknown:
        raise UsageError(f"unknown section {unknown[0]!r}; choose from: {', '.join(known)}")


def _emit(
    report: Report,
    fmt: ReportFormat,
    out: Path | None,
    *,
    excel: bool,
    sections: list[str] | None,
    force: bool,
    reveal: bool = False,
) -> None:
    if sections:
        report.sections = [s for s in report.sections if s.key in sections]
    if ui.STATE.sandbox:  # a sandbox's report says so in its own header, in every format
        report.title = f"{ui.STATE.sandbox} — {report.title}"
    if excel and fmt not in (ReportFormat.CSV, ReportFormat.TSV):
        ui.warn("--excel only changes csv and tsv output; ignored")
    if fmt is ReportFormat.TABLE:
        _print_tables(report, reveal)
        return
    payload = _payload(report, fmt, excel=excel, reveal=reveal)
    if out is None and fmt in FILE_FORMATS:
        stamp = dt.date.today().strftime("%Y%m%d")
        out = Path(f"riskcli-{report.kind}-{stamp}.{fmt.value}")
    if out is None or str(out) == "-":
        if isinstance(payload, bytes):
            if sys.stdout.isatty():
                raise UsageError("xlsx is binary: give --output FILE (or pipe stdout)")
            sys.stdout.flush()
            sys.stdout.buffer.write(payload)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(payload)
            sys.stdout.flush()
        return
    path = write_private(out, payload, force=force)
    typer.echo(str(path))


def _payload(report: Report, fmt: ReportFormat, *, excel: bool, reveal: bool) -> str | bytes:
    if fmt is ReportFormat.HTML:
        return html_report.render_html(report)
    if fmt is ReportFormat.XLSX:
        import io

        buf = io.BytesIO()
        xlsx_report.build_workbook(report).save(buf)
        return buf.getvalue()
    if fmt is ReportFormat.JSON:
        import json

        return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    if fmt is ReportFormat.JSONL:
        import json

        lines = []
        for s in report.sections:
            if s.available:
                for row in ui.records(s.table):
                    lines.append(json.dumps({"section": s.key, **row}, ensure_ascii=False))
        return "".join(line + "\n" for line in lines)
    return _csv(report, ui.OutputFormat(fmt.value), excel=excel, reveal=reveal)


def _csv(report: Report, fmt: ui.OutputFormat, *, excel: bool, reveal: bool) -> str:
    """One section: a plain table. Several: blocks headed `# <section>`, a blank line between."""
    bom = "\ufeff" if excel else ""
    if len(report.sections) == 1:
        only = report.sections[0]
        if not only.available:
            raise InputError(f"section {only.key}: {only.note}")
        return bom + ui.format_text(only.table, fmt, reveal=reveal)
    blocks = []
    for s in report.sections:
        if not s.available:
            blocks.append(f"# {s.key}: no data ({s.note})\n")
        else:
            blocks.append(f"# {s.key}\n" + ui.format_text(s.table, fmt, reveal=reveal))
    return bom + "\n".join(blocks)


def write_private(path: Path, payload: str | bytes, *, force: bool) -> Path:
    """Write atomically with mode 0600; an existing file needs --force and is kept as .bak."""
    path = path.expanduser().absolute()
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise InputError(f"folder {path.parent} does not exist")
    if path.exists():
        if not force:
            raise InputError(f"{path} exists; use --force to replace it (a .bak copy is kept)")
        shutil.copy2(path, path.with_name(path.name + ".bak"))
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _bars(section: Section, width: int) -> list[str] | None:
    """For a terminal: a bar per row of sections that have a bar, histogram or share chart."""
    chart = section.chart
    table = section.table
    if chart is None or chart.kind == "heatmap" or table.empty or not chart.values or width < 4:
        return None
    col = chart.values[-1] if chart.kind == "shares" else chart.values[0]
    values = [float(v) if v is not None and v == v else 0.0 for v in table[col]]
    top = max(values, default=0.0)
    if top <= 0:
        return None
    return ["█" * max(1, round(width * v / top)) if v > 0 else "" for v in values]


def _fact_text(key: str, value: Any) -> str:
    text, _ = html_report.format_cell(key, value)
    return f"{key.replace('_', ' ')}: {text or '-'}"


#: columns a terminal table leaves out (the band label says them; reasons have their section)
TERMINAL_HIDDEN = ("lower", "upper", "reasons")


def _cropped(table: Table, width: int) -> bool:
    """Whether rich had to cut the table at *width* (its right border went missing)."""
    probe = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    with probe.capture() as captured:
        probe.print(table)
    lines = [ln.rstrip() for ln in captured.get().splitlines()[1:] if ln.strip()]  # no title
    return any(ln[-1:] not in "┓┃┫┩┤│┘┛" for ln in lines)


def _records(title: str, cols: list[str], cells: list[list[str]]) -> Group:
    """A table too wide for the terminal, as `column: value` lines, one block per row."""
    width = max(len(c) for c in cols)
    lines: list[Text] = [Text(title, style="italic")]
    for i, row in enumerate(cells):
        if i:
            lines.append(Text(""))
        lines += [Text(f"{c:<{width}}  {v}") for c, v in zip(cols, row, strict=True)]
    return Group(*lines)


def _rich_table(section: Section, reveal: bool, console: Console) -> Table | Group:
    """Numbers formatted as in the HTML report (money 1,234.56, shares 12.3%), right-aligned,
    never cut; a bar column when the terminal has room for it."""
    frame = ui.mask_frame(section.table, reveal)
    frame = frame[[c for c in frame.columns if str(c) not in TERMINAL_HIDDEN]]
    cols = [str(c) for c in frame.columns]
    metric_value = cols == ["metric", "value"]
    cells: list[list[str]] = []
    numeric = [False] * len(cols)
    dates = [False] * len(cols)
    for row in frame.itertuples(index=False, name=None):
        texts = []
        for k, (col, value) in enumerate(zip(cols, row, strict=True)):
            name = str(row[0]) if metric_value and col == "value" else col
            text, is_num = html_report.format_cell(name, value)
            numeric[k] = numeric[k] or is_num
            dates[k] = dates[k] or isinstance(value, dt.date)
            texts.append(text)
        cells.append(texts)

    def build(bars: list[str] | None, roomy: bool = True) -> Table:
        """roomy: keep labels, dates and short texts on one line (when the terminal allows)."""
        table = Table(title=section.title, header_style="bold", title_justify="left")
        for k, col in enumerate(cols):
            longest = max((len(r[k]) for r in cells), default=0)
            if numeric[k] or (roomy and (dates[k] or k == 0)):
                table.add_column(  # a number keeps its width; a long header folds when tight
                    col,
                    justify="right" if numeric[k] else "left",
                    no_wrap=roomy,
                    overflow="fold",
                    min_width=min(max(longest, 4), 28),
                )
            elif roomy:
                table.add_column(col, overflow="fold", min_width=min(max(longest, 4), 14))
            else:
                table.add_column(col, overflow="fold")
        if bars is not None:
            table.add_column("", no_wrap=True, min_width=max(len(b) for b in bars))
        for i, texts in enumerate(cells):
            table.add_row(*texts, *([bars[i]] if bars is not None else []))
        return table

    # the widest form that rich can draw without cutting anything off
    width = console.width
    plain = build(None)
    if not _cropped(plain, width):
        room = width - console.measure(plain).maximum - 3
        bars = _bars(section, min(BAR_WIDTH, room))
        with_bars = build(bars) if bars is not None else None
        return with_bars if with_bars is not None and not _cropped(with_bars, width) else plain
    compact = build(None, roomy=False)
    if not _cropped(compact, width):
        return compact
    return _records(section.title, cols, cells)  # too narrow for a table: lines per row


def _print_tables(report: Report, reveal: bool) -> None:
    console = ui.stdout_console()
    console.print(report.title, style="bold", highlight=False, markup=False)
    for s in report.sections:
        console.print("")
        if not s.available:
            console.print(f"{s.title}: no data — {s.note}", highlight=False, markup=False)
            continue
        if s.table.empty:
            console.print(f"{s.title}: {s.note or 'none'}", highlight=False, markup=False)
            continue
        console.print(_rich_table(s, reveal, console))
        if s.facts:
            facts = " · ".join(_fact_text(k, v) for k, v in s.facts.items())
            console.print(facts, highlight=False, markup=False, style="dim")
