"""`riskcli export`: the canonical tables in formats other engines read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskcli.cli import output
from riskcli.cli.context import session
from riskcli.cli.output import FormatOpt, RevealOpt
from riskcli.services import export_parquet as svc

app = typer.Typer(help="Export the canonical tables (Parquet).", no_args_is_help=True)


@app.callback()
def main() -> None:
    """Export the canonical tables in formats other engines read (Parquet)."""


@app.command("parquet")
def parquet(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Directory for <table>.parquet files.")],
    tables: Annotated[
        list[str] | None,
        typer.Option("--tables", help="Tables to write (comma-separated; default all seven)."),
    ] = None,
    reveal: RevealOpt = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace existing files (each kept as a .bak copy).")
    ] = False,
    fmt: FormatOpt = None,
) -> None:
    """The canonical tables as Parquet, one file per table (mode 0600), personal data masked
    (notes left out) unless --reveal. Existing files need --force.

    Example: riskcli export parquet lake/ --tables customers,receivables
    """
    names = svc.parse_tables(tables)
    with session(ctx, "customers.export", reveal=reveal) as s:
        rows = svc.export_parquet(s.store, directory, names, reveal=reveal, force=force)
        s.affected.update({"tables": names, "rows": sum(r["rows"] for r in rows)})
        output.render(rows, fmt)
