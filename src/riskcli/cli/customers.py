"""`riskcli customers list` and `riskcli customers show ID`."""

from __future__ import annotations

from typing import Annotated

import typer

from riskcli.cli import output
from riskcli.cli.context import session
from riskcli.cli.options import AsOfOpt, as_of_header, resolve_as_of
from riskcli.cli.output import FormatOpt, LimitOpt, RevealOpt
from riskcli.cli.privacy import register as register_privacy
from riskcli.services import customers as service

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
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
    reveal: RevealOpt = False,
) -> None:
    """List customers; phone, email and national id are masked unless --reveal.

    Example: riskcli customers list --industry 制造业 --status active --search 贸易
    """
    most = output.row_limit(limit)
    filters = {"industry": industry, "region": region, "status": status, "search": search}
    with session(ctx, "customers.read", reveal=reveal) as s:
        rows = service.list_customers(s.store, **filters, limit=None if most is None else most + 1)
        total = service.count_customers(s.store, **filters) if most and len(rows) > most else None
        rows = output.cut(rows, most, total)
        s.audit_affected(count=len(rows))
        if reveal:  # `audit exposure` lists whose personal data was shown
            s.audit_revealed([r["customer_id"] for r in rows], rows[0] if rows else {})
    output.render(rows, fmt, reveal=reveal, empty_message="no customers match")


@app.command("show")
def show_command(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(help="The customer's external id.")],
    as_of: AsOfOpt = None,
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
    from riskcli.services.book import load_credit_config  # settings models: on use
    from riskcli.services.tiering.lookup import service_policy

    with session(ctx, "customers.read", reveal=reveal) as s:
        day = resolve_as_of(s.store, as_of)
        policy = load_credit_config(s.config).default
        data = service.show_customer(s.store, customer_id, as_of=day, recent=recent, policy=policy)
        data["customer"].update(service_policy(s.store, customer_id, s.config))  # tier, policy
        s.audit_affected(ids=[customer_id])
        if reveal:
            s.audit_revealed([customer_id], data["customer"])
    output.info(as_of_header(day, as_of))
    output.render_sections(data, fmt, reveal=reveal)


@app.command("groups")
def groups_command(
    ctx: typer.Context,
    group: Annotated[
        str | None, typer.Argument(metavar="[GROUP]", help="One group: list its members.")
    ] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Customer groups (group_id / parent_id): members, total exposure, the members' limits,
    the group's own limit, worst grade and overdue; with GROUP, that group's members.

    Example: riskcli customers groups --as-of 2026-06-30
    """
    from riskcli.services.book import load_credit_config
    from riskcli.services.limits import groups as groups_service

    with session(ctx, "limits.read") as s:
        day = resolve_as_of(s.store, as_of)
        policy = load_credit_config(s.config).default
        if group is None:
            rows = groups_service.groups_table(s.store, day, policy)
        else:
            rows = groups_service.group_members(s.store, group, day, policy)
        s.audit_affected(count=len(rows))
    output.render(rows, fmt, empty_message="no customer groups (import group_id or parent_id)")


# erase, hold, unhold, holds, retention: data protection (riskcli.cli.privacy)
register_privacy(app)


@app.command("review")
def review_command(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(help="The customer's external id.")],
    note: Annotated[str, typer.Option("--note", "-n", help="What the review found and decided.")],
) -> None:
    """Record a credit review of one customer today; `monitor reviews` counts the next one
    from it (audited).

    Example: riskcli customers review C0000042 --note "financials 2025 in, limit kept at 50,000"
    """
    from datetime import date

    from riskcli.services.monitoring import reviews

    with session(ctx, "customers.review") as s:
        row = reviews.record_review(
            s.store, customer_id, note=note, user=s.user, today=date.today()
        )
        s.audit_affected(review=row["review"])
    output.info(f"review {row['review']} of {customer_id} recorded ({row['reviewed_on']})")
