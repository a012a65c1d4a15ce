"""`riskcli contracts`: contracts, with the open monitoring alerts of their customers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from riskcli.cli import lazy, output
from riskcli.cli.context import session
from riskcli.cli.options import AsOfOpt, as_of_header, resolve_as_of
from riskcli.cli.output import FormatOpt

if TYPE_CHECKING:
    from riskcli.services.monitoring import contracts as service
else:
    service = lazy.module("riskcli.services.monitoring.contracts")  # pandas: on use

app = typer.Typer(
    help="Contracts and their renewal dates, with the customers' open alerts.",
    no_args_is_help=True,
)


@app.callback()
def contracts() -> None:
    """Contracts and their renewal dates, with the customers' open alerts."""
    # a callback keeps `contracts` a group (Typer folds a one-command app into the command)


@app.command("list")
def list_command(
    ctx: typer.Context,
    expiring: Annotated[
        str | None,
        typer.Option("--expiring", help="Only live contracts ending within this span: 30d, 4w."),
    ] = None,
    as_of: AsOfOpt = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer (its customer_id).")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="draft, active, amended, terminated or expired."),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many.")] = None,
    fmt: FormatOpt = None,
) -> None:
    """List contracts, soonest end first, with each customer's open alerts.

    Example: riskcli contracts list --expiring 30d --format csv
    """
    days = service.parse_days(expiring) if expiring else None
    with session(ctx, "customers.read") as s:
        day = resolve_as_of(s.store, as_of)
        rows = service.list_contracts(
            s.store, expiring_days=days, as_of=day, customer=customer, status=status,
            limit=limit + 1 if limit else None,
        )  # fmt: skip
        rows = output.cut(rows, limit)  # one more than asked: a cut listing says so
        s.audit_affected(count=len(rows))
    output.info(as_of_header(day, as_of))
    output.render(rows, fmt, empty_message="no contracts match")
