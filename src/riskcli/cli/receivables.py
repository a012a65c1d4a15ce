"""`riskcli receivables`: write an invoice off, record a recovery, list open or written-off
invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated

import typer

from riskcli.cli import lazy, output
from riskcli.cli.context import session
from riskcli.cli.options import AsOfOpt, dated_option, resolve_as_of
from riskcli.cli.output import FormatOpt
from riskcli.domain.errors import InputError
from riskcli.services import book
from riskcli.services.queries import customers

if TYPE_CHECKING:
    from riskcli.services.money_columns import decimal_column
    from riskcli.services.receivables import ledger
else:  # pandas: loaded when a receivables command runs, not for its --help
    ledger = lazy.module("riskcli.services.receivables.ledger")
    decimal_column = lazy.function("riskcli.services.money_columns", "decimal_column")

app = typer.Typer(
    name="receivables",
    help="Write invoices off, record recoveries, list open and written-off invoices.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

InvoiceArg = Annotated[str, typer.Argument(help="The invoice number.")]
DateOpt = Annotated[date | None, dated_option("--date", "YYYY-MM-DD. Default: today.")]


@app.command("write-off")
def write_off_command(
    ctx: typer.Context,
    invoice: InvoiceArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept with the invoice).")],
    day: DateOpt = None,
) -> None:
    """Write an invoice off: what is outstanding on the date leaves exposure and aging from
    then on; the invoice stays in the store for recovery and the loss history. Needs the
    `receivables.write_off` permission; the amount and reason are audited.

    Example: riskcli receivables write-off INV-2023-0042 --reason "debtor liquidated"
    """
    when = day or date.today()
    with session(ctx, "receivables.write_off") as s:
        entry = ledger.write_off(s.store, invoice, reason, when)
        s.audit_affected(ids=[invoice], amount=str(entry.amount), date=when.isoformat())
    output.info(f"wrote off {entry.amount:,.2f} of invoice {invoice} on {when.isoformat()}")


@app.command("recover")
def recover_command(
    ctx: typer.Context,
    invoice: InvoiceArg,
    amount: Annotated[str, typer.Option("--amount", help="Money recovered, e.g. 1200.50.")],
    day: DateOpt = None,
) -> None:
    """Record money recovered on a written-off invoice (never more than was written off).

    Example: riskcli receivables recover INV-2023-0042 --amount 5000 --date 2026-07-15
    """
    when = day or date.today()
    try:
        value = Decimal(amount.strip().replace(",", ""))
    except InvalidOperation:
        raise InputError(f"--amount: cannot read {amount!r} as an amount") from None
    with session(ctx, "receivables.recover") as s:
        entry = ledger.recover(s.store, invoice, value, when, s.user)
        s.audit_affected(ids=[invoice], amount=str(entry.amount), date=when.isoformat())
    output.info(f"recorded a recovery of {entry.amount:,.2f} on invoice {invoice}")


@app.command("list")
def list_command(
    ctx: typer.Context,
    written_off: Annotated[
        bool, typer.Option("--written-off", help="Written-off invoices, with recoveries.")
    ] = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Invoices open on the date (amounts in currency units), or with --written-off those
    written off by then with what was recovered.

    Example: riskcli receivables list --written-off --format csv
    """
    with session(ctx, "receivables.read") as s:
        day = resolve_as_of(s.store, as_of)
        if written_off:
            frame = ledger.written_off(s.store, day)
            money: tuple[str, ...] = ("amount", "written_off", "recovered", "net_loss")
        else:
            frame = book.open_invoices(s.store, day)
            ids = customers.external_ids(s.store)
            frame = frame.merge(ids, on="customer_id", how="left")
            frame["customer_id"] = frame.pop("external_id")
            frame = frame.drop(columns=["receivable_id"])
            money = ("amount", "paid", "outstanding")
        for col in money:
            frame[col] = decimal_column(frame[col]).to_numpy()
        s.audit_affected(count=len(frame))
    output.render(frame, fmt, empty_message="no invoices")
