"""`riskcli generate`: write a synthetic customer book as import-ready CSV files (no store)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

from riskcli.cli import lazy, output
from riskcli.cli.options import dated_option
from riskcli.domain.errors import UsageError

if TYPE_CHECKING:
    from riskcli.services import synthetic
else:
    synthetic = lazy.module("riskcli.services.synthetic")  # numpy: on use


class _OneCommand(TyperGroup):
    """A group that is really one command: its callback takes OUT_DIR and the options.

    Registered with add_typer like every sub-app; interspersed args let OUT_DIR come anywhere.
    """

    allow_interspersed_args = True


app = typer.Typer(
    name="generate",
    cls=_OneCommand,
    subcommand_metavar="",
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
)


@app.callback(invoke_without_command=True)
def generate(
    out_dir: Annotated[
        Path, typer.Argument(metavar="OUT_DIR", help="Folder to write the seven CSV files into.")
    ],
    customers: Annotated[
        int, typer.Option("--customers", "-n", help="How many customers (1 to 10,000,000).")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same bytes.")] = 42,
    as_of: Annotated[
        date | None,
        dated_option(
            "--as-of",
            "Last day of the history: YYYY-MM-DD, or 'today'. Default: a fixed day, so the same "
            "seed writes the same bytes.",
        ),
    ] = None,
    transactions_per_customer: Annotated[
        float,
        typer.Option(
            "--transactions-per-customer",
            "-k",
            help="Average transaction rows (orders, payments, refunds) per customer, 0-100.",
        ),
    ] = 10.0,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Processes to use. Default: up to 4 for large runs."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the files if the folder already has them.")
    ] = False,
) -> None:
    """Write customers, transactions, receivables, credit_reports, contracts, interactions and
    financials CSV files with the canonical import columns, consistent and reproducible by seed.

    Late payments and defaults follow each customer's (partly hidden) risk, which shows in the
    financial ratios, industry, region, years in business, bureau score, flags and order trend.
    Opens no store.

    Example: riskcli generate ./data --customers 100000 --seed 7 --as-of 2026-09-30
    """
    config = synthetic.SyntheticConfig(
        customers=customers,
        seed=seed,
        as_of=as_of or synthetic.DEFAULT_AS_OF,
        transactions_per_customer=transactions_per_customer,
    )
    config.check()
    if workers is not None and not 1 <= workers <= 64:
        raise UsageError("--workers must be between 1 and 64")
    with output.progress(customers, "generating") as advance:
        done = 0

        def step(total_done: int) -> None:
            nonlocal done
            if advance is not None:
                advance(total_done - done)
            done = total_done

        summary = synthetic.generate(out_dir, config, force=force, workers=workers, progress=step)
    rows = sum(summary.rows.values())
    output.info(
        f"Wrote {rows:,} rows into {out_dir} in {summary.seconds:.1f} s "
        f"(seed {seed}, as of {config.as_of.isoformat()})."
    )
    for row in summary.as_rows():
        value = row["value"]
        shown = f"{value:,}" if isinstance(value, int) else str(value)
        output.info(f"  {row['item']:<34} {shown:>12}")
