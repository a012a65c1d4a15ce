"""`riskcli limits`: request, approve, reject, list, show, expire."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from riskcli.cli import lazy, output
from riskcli.cli.context import Session, session
from riskcli.cli.options import dated_option
from riskcli.cli.output import FormatOpt, OutputFormat
from riskcli.domain.errors import UsageError
from riskcli.domain.values import parse_money

if TYPE_CHECKING:
    from riskcli.services.limits import requests as service
else:  # pandas and pyarrow load when a limits command runs, not for its --help
    service = lazy.module("riskcli.services.limits.requests")
from riskcli.services.limits.config import approval_config, limits_config

app = typer.Typer(
    name="limits",
    help="Credit limits under control: requests, maker-checker approval, expiry, review.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ReqArg = Annotated[int, typer.Argument(metavar="REQ", help="The request number.")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="A note kept with the decision.")]


def _amount(text: str) -> Decimal:
    try:
        value = parse_money(text)
    except ValueError as exc:
        raise UsageError(f"--amount {text!r}: {exc}") from None
    if value is None:
        raise UsageError("--amount is required")
    return value


def _days(text: str) -> int:
    match = re.fullmatch(r"\s*(\d{1,4})\s*d?\s*", text)
    if not match:
        raise UsageError(f"--expiring takes a number of days like 30d, not {text!r}")
    return int(match.group(1))


def _expire(s: Session) -> None:
    """Temporary limits past their date fall back before any command looks at limits."""
    config = limits_config(s.config)
    if not service.expiry_due(s.store, config):
        return
    counts = service.expire(s.store, config, command="limits expire")
    if counts["limits_fell_back"]:
        output.info(f"{counts['limits_fell_back']} temporary limit(s) expired and fell back")
    s.audit_affected(**{k: v for k, v in counts.items() if v})


@app.command("request")
def request_command(
    ctx: typer.Context,
    customer: Annotated[
        str | None, typer.Argument(metavar="[ID]", help="The customer id (or use --group).")
    ] = None,
    amount: Annotated[str, typer.Option("--amount", help="The new limit, e.g. 800000.")] = "",
    reason: Annotated[
        str, typer.Option("--reason", help="A reason code from [credit.limits] reasons.")
    ] = "",
    group: Annotated[
        str | None, typer.Option("--group", help="A group's own limit instead of a customer's.")
    ] = None,
    expires: Annotated[
        date | None, dated_option("--expires", "Last day of a temporary limit (YYYY-MM-DD).")
    ] = None,
    review: Annotated[
        date | None,
        dated_option("--review", "Next review date; default by grade ([credit.limits])."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Free text kept with it.")] = None,
    fmt: FormatOpt = None,
) -> None:
    """Ask for a new credit limit; another user within the approval band decides.

    The request keeps the current limit and the latest recommended limit and grade.

    Example: riskcli limits request C00005383 --amount 800000 --reason seasonal --expires 2027-02-28
    """
    if (customer is None) == (group is None):
        raise UsageError("give a customer ID or --group G (one of them)")
    if not reason:
        raise UsageError("--reason CODE is required")
    value = _amount(amount)
    until, review_day = expires, review
    with session(ctx, "limits.request") as s, s.store.transaction():
        _expire(s)
        row = service.request(
            s.store, limits_config(s.config), customer=customer, group=group, amount=value,
            reason=reason, expires=until, review=review_day, note=note,
            command="limits request",
        )  # fmt: skip
        s.audit_affected(request=row["request"], ids=[customer or group], status=row["status"])
    if row["status"] == "pending":
        output.info(f"request {row['request']} is pending: another user approves it")
    else:
        output.info(f"request {row['request']}: a decrease, applied at once (recorded)")
    output.render(row, fmt)


def _decide(
    ctx: typer.Context, req: int, note: str | None, approve: bool, fmt: OutputFormat | None
) -> None:
    with session(ctx, "limits.approve") as s, s.store.transaction():
        _expire(s)
        row = service.decide(
            s.store, limits_config(s.config), approval_config(s.config), req,
            approve=approve, note=note,
            command="limits approve" if approve else "limits reject",
        )  # fmt: skip
        s.audit_affected(
            request=req, ids=[row["customer_id"] or row["group_id"]], status=row["status"]
        )
    output.render(row, fmt)


@app.command("approve")
def approve_command(
    ctx: typer.Context, req: ReqArg, note: NoteOpt = None, fmt: FormatOpt = None
) -> None:
    """Approve another user's pending request within your band: the limit, its expiry and
    its next review date take effect.

    Example: riskcli --user bob limits approve 12 --note "collateral checked"
    """
    _decide(ctx, req, note, True, fmt)


@app.command("reject")
def reject_command(
    ctx: typer.Context,
    req: ReqArg,
    note: Annotated[str, typer.Option("--note", help="Why (required).")] = "",
    fmt: FormatOpt = None,
) -> None:
    """Reject another user's pending request (within your band), with a note.

    Example: riskcli --user bob limits reject 12 --note "no collateral yet"
    """
    if not note.strip():
        raise UsageError("rejecting needs --note TEXT")
    _decide(ctx, req, note, False, fmt)


@app.command("list")
def list_command(
    ctx: typer.Context,
    pending: Annotated[bool, typer.Option("--pending", help="Only pending requests.")] = False,
    expiring: Annotated[
        str | None,
        typer.Option(
            "--expiring", help="Temporary limits ending within N days (and fallen back), e.g. 30d."
        ),
    ] = None,
    customer: Annotated[str | None, typer.Option("--customer", help="One customer.")] = None,
    group: Annotated[str | None, typer.Option("--group", help="One group's own limit.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many rows.")] = 1000,
    fmt: FormatOpt = None,
) -> None:
    """List limit requests (oldest first), or with --expiring the temporary limits.

    Example: riskcli limits list --pending
    """
    days = _days(expiring) if expiring is not None else None
    with session(ctx, "limits.read") as s:
        _expire(s)
        if days is not None:
            rows = service.expiring(s.store, days)
        else:
            rows = service.list_requests(
                s.store, pending=pending, customer=customer, group=group, limit=limit
            )
        s.audit_affected(count=len(rows))
    output.render(rows, fmt, empty_message="no limit requests match")


@app.command("show")
def show_command(ctx: typer.Context, req: ReqArg, fmt: FormatOpt = None) -> None:
    """Show one request in full.

    Example: riskcli limits show 12
    """
    with session(ctx, "limits.read") as s:
        row = service.show(s.store, req)
        s.audit_affected(request=req)
    output.render(row, fmt)


@app.command("expire")
def expire_command(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """Let temporary limits past their date fall back, and undecided requests lapse (every
    limits command and customer import does this first; run it from cron before
    `monitor run`, so that monitoring sees the limits in force).

    Example: riskcli limits expire
    """
    with session(ctx, "limits.expire") as s:
        counts = service.expire(s.store, limits_config(s.config), command="limits expire")
        s.audit_affected(**counts)
    output.render(counts, fmt)
