"""`riskcli customers list` and `riskcli customers show ID`."""

from __future__ import annotations

from typing import Annotated

import typer

from riskcli.cli import output
from riskcli.cli.context import session
from riskcli.cli.output import FormatOpt, RevealOpt, option_date
from riskcli.cli.privacy import register as register_privacy
from riskcli.services import customers as service
from riskcli.services.book import load_credit_config
from riskcli.services.tiering.service import service_policy

app = typer.Typer(
    name="customers",
    help="Read the customer book: list with filters, or one customer in full.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("list")
def list_command(
    ctx: typer.Context,
    industry: Annotated[str | None, typer.Option("--industry", help="Exact industry.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Exact region.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="active, suspended or closed.")
    ] = None,
    search: Annotated[
        str | None,
        typer.Option("--search", "-s", help="Text in the id, name, email or phone."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many rows.")] = 1000,
    fmt: FormatOpt = None,
    reveal: RevealOpt = False,
) -> None:
    """List customers; phone, email and national id are masked unless --reveal.

    Example: riskcli customers list --industry 制造业 --status active --search 贸易
    """
    with session(ctx, "customers.read", reveal=reveal) as s:
        rows = service.list_customers(
            s.store, industry=industry, region=region, status=status, search=search, limit=limit
        )
        s.audit_affected(count=len(rows))
    output.render(rows, fmt, reveal=reveal, empty_message="no customers match")


@app.command("show")
def show_command(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(help="The customer's external id.")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date for receivables aging (YYYY-MM-DD); default today."),
    ] = None,
    recent: Annotated[
        int, typer.Option("--recent", min=1, help="How many transactions/interactions.")
    ] = 20,
    fmt: FormatOpt = None,
    reveal: RevealOpt = False,
) -> None:
    """Show one customer with receivables aging, open invoices, recent transactions, credit
    reports, contracts and interactions.

    Example: riskcli customers show C00000042 --as-of 2026-06-30
    """
    day = option_date(as_of)
    with session(ctx, "customers.read", reveal=reveal) as s:
        policy = load_credit_config(s.config).default
        data = service.show_customer(s.store, customer_id, as_of=day, recent=recent, policy=policy)
        data["customer"].update(service_policy(s.store, customer_id, s.config))  # tier, policy
        s.audit_affected(ids=[customer_id])
    output.render_sections(data, fmt, reveal=reveal)


# erase, hold, unhold, holds, retention: data protection (riskcli.cli.privacy)
register_privacy(app)
