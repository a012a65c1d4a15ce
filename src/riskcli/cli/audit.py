"""`riskcli audit`: log, verify, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskcli.cli import output
from riskcli.cli.context import Session, sandbox_anchor, session
from riskcli.cli.output import FormatOpt, OutputFormat, PeriodOpt, resolve_format
from riskcli.services import audit as audit_service

app = typer.Typer(
    help="The tamper-evident audit trail: who did what, when, to which records.",
    no_args_is_help=True,
)


UserOpt = Annotated[str | None, typer.Option("--user", help="Only this user's events.")]
SinceOpt = Annotated[
    str | None, typer.Option("--since", help="From: YYYY-MM-DD, ISO time, or 7d / 12h.")
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="To (inclusive day): YYYY-MM-DD or ISO time.")
]


def anchor_for(s: Session) -> Path:
    """The anchor file: --anchor / RISKCLI_ANCHOR, `[audit] anchor`, else `<db>.anchor`."""
    return sandbox_anchor(s.store) or audit_service.anchor_path(
        s.store.path, s.config, s.globals.anchor
    )


@app.command("log")
def log(
    ctx: typer.Context,
    user: UserOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Action, or a pattern like 'customers.*'.")
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Events that touched this customer id.")
    ] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="ok, denied or error.")] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=0, help="Only the newest N matching events.")
    ] = None,
    fmt: FormatOpt = None,
) -> None:
    """Show audit events, oldest first.

    Example: riskcli audit log --user bob --since 7d --action 'customers.*'
    """
    flt = audit_service.LogFilter(
        user=user,
        since=audit_service.parse_instant(since) if since else None,
        until=audit_service.parse_instant(until, end=True) if until else None,
        action=action,
        customer=customer,
        outcome=outcome,
        limit=limit,
    )
    with session(ctx, "audit.read") as s:
        rows = audit_service.log(s.store, flt)
        s.audit_affected(count=len(rows))
    output.render(rows, fmt, empty_message="no matching events")


@app.command("verify")
def verify(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """Check the hash chain link by link and against the anchor file outside the store.

    Names the first bad event: an edited event, deleted events, a truncated tail, a rewritten
    chain or a store rolled back to an older copy. Exits 4 on any problem.

    Example: riskcli --anchor /mnt/audit/book.anchor audit verify
    """
    with session(ctx, "audit.verify") as s:
        result = audit_service.verify(s.store, anchor_for(s))
        s.audit_affected(count=result.events, verified=result.ok)
        output.render(result.summary(), fmt)
        for warning in result.warnings:
            output.warn(warning)
        result.raise_if_failed()


@app.command("report")
def report(
    ctx: typer.Context,
    period: PeriodOpt = "30d",
    fmt: FormatOpt = None,
) -> None:
    """Summarise a period: who accessed what, exports and reveals of personal data, imports
    and changes, denied attempts, backups and drills, alerts handled.

    Example: riskcli audit report --period 2026-Q4 --format csv > q4-audit.csv
    """
    since, until = audit_service.parse_period(period)
    with session(ctx, "audit.read") as s:
        rows = audit_service.report(s.store, since, until)
        s.audit_affected(count=len(rows))
    resolved = resolve_format(fmt)
    if resolved in (OutputFormat.TABLE, OutputFormat.JSON):
        sections = {
            audit_service.SECTION_TITLES[name]: [
                {k: v for k, v in r.items() if k != "section"} for r in rows if r["section"] == name
            ]
            for name in audit_service.REPORT_SECTIONS
        }
        if resolved is OutputFormat.TABLE:
            output.info(f"Audit report {since:%Y-%m-%d %H:%M} .. {until:%Y-%m-%d %H:%M} UTC")
        output.render_sections(sections, resolved)
        return
    import pandas as pd

    output.render(pd.DataFrame(rows, columns=list(audit_service.REPORT_COLUMNS)), resolved)


@app.command("exposure")
def exposure(
    ctx: typer.Context,
    user: UserOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """The notification list after a leak: every customer whose personal data a user revealed
    (--reveal) or exported, with when, which fields and which command. An event that does not
    say which customers it covered is listed once with a note. Auditors and admins only.

    Example: riskcli audit exposure --user bob --since 2026-11-01
    """
    import pandas as pd

    from riskcli.services import pii_exposure

    start = audit_service.parse_instant(since) if since else None
    end = audit_service.parse_instant(until, end=True) if until else None
    with session(ctx, "audit.exposure") as s:
        rows = pii_exposure.exposure(s.store, user=user, since=start, until=end)
        found = pii_exposure.customers(rows)
        s.audit_affected(count=len(found), events=len({r["seq"] for r in rows}))
    output.info(f"{len(found)} customer(s) in {len({r['seq'] for r in rows})} event(s).")
    output.render(
        pd.DataFrame(rows, columns=list(pii_exposure.COLUMNS)),
        fmt,
        empty_message="no reveal or export of personal data matches",
    )
