"""Data-protection commands mounted under `riskcli customers`: erase, hold, unhold, holds,
retention.

`register(customers_app)` adds them to the customers sub-app; `app` holds them on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from riskcli.cli import output
from riskcli.cli.context import session
from riskcli.cli.output import FormatOpt
from riskcli.services import privacy

app = typer.Typer(help="Data protection: erasure, legal holds, retention.", no_args_is_help=True)

ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the record).")]


def erase(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(metavar="ID", help="The customer id.")],
    reason: ReasonOpt,
    force: Annotated[
        bool,
        typer.Option("--force", help="Erase despite open receivables or a legal hold."),
    ] = False,
    fmt: FormatOpt = None,
) -> None:
    """Erase a customer's personal data (name, phone, email, national id, notes).

    Amounts, dates and scores stay, and so does the audit trail, which names the customer
    by id only. Refused while a receivable is open or a legal hold exists, unless --force.
    Admins only.

    Example: riskcli customers erase C0042 --reason "erasure request 2026-11-03"
    """
    with session(ctx, "customers.erase") as s:
        result = privacy.erase(s.store, customer_id, reason=reason, user=s.user, force=force)
        s.audit_affected(ids=[customer_id], count=1, forced=result.forced)
    output.render(result.summary(), fmt)
    if not result.wal_cleared:
        output.warn(
            "another process holds the store open, so its write-ahead log could not be emptied; "
            "older copies of the erased values stay there until the next checkpoint"
        )


def hold(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(metavar="ID", help="The customer id.")],
    reason: ReasonOpt,
    lift: Annotated[bool, typer.Option("--lift", help="Lift the hold instead.")] = False,
    fmt: FormatOpt = None,
) -> None:
    """Place (or with --lift, lift) a legal hold: no erasure while it is open.

    Example: riskcli customers hold C0042 --reason "litigation 2026-117"
    """
    with session(ctx, "customers.hold") as s:
        fn = privacy.unhold if lift else privacy.hold
        row = fn(s.store, customer_id, reason=reason, user=s.user)
        s.audit_affected(ids=[customer_id], count=1)
    output.render(row, fmt)


def unhold(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(metavar="ID", help="The customer id.")],
    reason: ReasonOpt,
    fmt: FormatOpt = None,
) -> None:
    """Lift a legal hold (same as `hold ID --lift`).

    Example: riskcli customers unhold C0042 --reason "case closed"
    """
    with session(ctx, "customers.hold") as s:
        row = privacy.unhold(s.store, customer_id, reason=reason, user=s.user)
        s.audit_affected(ids=[customer_id], count=1)
    output.render(row, fmt)


def holds(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include lifted holds.")] = False,
    fmt: FormatOpt = None,
) -> None:
    """List legal holds (open ones unless --all).

    Example: riskcli customers holds --all
    """
    with session(ctx, "customers.retention") as s:
        rows = privacy.holds(s.store, include_lifted=all_)
        s.audit_affected(count=len(rows))
    output.render(rows, fmt, empty_message="no legal holds")


def retention(
    ctx: typer.Context,
    inactive_years: Annotated[
        int, typer.Option("--inactive-years", min=1, help="No activity for this many years.")
    ],
    fmt: FormatOpt = None,
) -> None:
    """List candidates for erasure under a retention rule, with what blocks each.

    Example: riskcli customers retention --inactive-years 5
    """
    with session(ctx, "customers.retention") as s:
        rows = privacy.retention(s.store, inactive_years)
        s.audit_affected(count=len(rows))
    output.render(rows, fmt, empty_message="no customer inactive that long")


COMMANDS: dict[str, Callable[..., None]] = {
    "erase": erase,
    "hold": hold,
    "unhold": unhold,
    "holds": holds,
    "retention": retention,
}


def register(customers_app: typer.Typer) -> None:
    """Mount the commands on the `customers` sub-app."""
    for name, fn in COMMANDS.items():
        customers_app.command(name)(fn)


register(app)
