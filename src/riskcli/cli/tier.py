"""`riskcli tier`: RFM segments, value tiers, lifecycle stages, their history and changes."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from riskcli.cli import lazy, output
from riskcli.cli.context import session
from riskcli.cli.options import AsOfOpt, as_of_header, checked, resolve_as_of
from riskcli.cli.output import FormatOpt, OutputFormat
from riskcli.domain.errors import InputError

if TYPE_CHECKING:
    from riskcli.services.tiering import lookup
    from riskcli.services.tiering import service as tiering
    from riskcli.services.tiering.config import load_tiering_config, parse_window
else:  # numpy, pandas and the settings models: on use, not for --help
    lookup = lazy.module("riskcli.services.tiering.lookup")
    tiering = lazy.module("riskcli.services.tiering.service")
    load_tiering_config = lazy.function("riskcli.services.tiering.config", "load_tiering_config")
    parse_window = lazy.function("riskcli.services.tiering.config", "parse_window")

app = typer.Typer(
    help="Tier customers by value: RFM segments, tiers A-D, lifecycle stages, history.",
    no_args_is_help=True,
)

RunOpt = Annotated[int | None, typer.Option("--run", help="Tier run id (default: the latest).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only data and errors.")]
BAR_WIDTH = 30


class Method(StrEnum):
    RFM = "rfm"
    KMEANS = "kmeans"


def _quiet(quiet: bool) -> None:
    if quiet:
        output.STATE.quiet = True


def _is_chart(fmt: OutputFormat | None) -> bool:
    return output.resolve_format(fmt) is OutputFormat.TABLE and sys.stdout.isatty()


@app.command("run")
def run(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    window: Annotated[
        str | None,
        typer.Option(
            "--window",
            parser=checked(parse_window),
            help="Look-back window for F and M: 90d, 26w, 12m, 2y.",
        ),
    ] = None,
    method: Annotated[
        Method | None, typer.Option("--method", help="rfm (default: quantile tiers) or kmeans.")
    ] = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Tier every customer and keep the run as history.

    Example: riskcli tier run --as-of 2026-09-30 --window 12m --method rfm
    """
    _quiet(quiet)
    with session(ctx, "tier.run") as s:
        cfg = load_tiering_config(s.config)
        day = resolve_as_of(s.store, as_of)
        steps = tiering.read_chunks(s.store) + 4  # read chunks, 3 compute steps, the write
        with output.progress(steps, "tiering") as step:
            outcome = tiering.run_tiering(
                s.store,
                config=cfg,
                as_of=day,
                window=window,
                method=method.value if method else None,
                progress=step,
            )
        stats = outcome.result.stats
        s.audit_affected(run=outcome.run_id, customers=stats["customers"])
    output.info(as_of_header(day, as_of))
    for message in stats.get("warnings", []):
        output.warn(message)
    record: dict[str, Any] = {
        "run": outcome.run_id,
        "as_of": stats["as_of"],
        "method": stats["method"],
        "window_days": stats["window_days"],
        "customers": stats["customers"],
        "with_orders": stats["with_orders"],
        "active_in_window": stats["active"],
        **{f"tier_{k}": v for k, v in stats["tiers"].items()},
        "future_excluded": stats["future_excluded"],
    }
    if stats["method"] == "kmeans":
        record["silhouette"] = stats.get("silhouette")
        for c in stats.get("clusters", []):
            output.info(
                f"cluster {c['cluster']} -> tier {c['tier']}: {c['customers']} customers, "
                f"{c.get('label', '')}"
            )
    output.render(record, fmt)


@app.command("show")
def show(
    ctx: typer.Context,
    customer: Annotated[
        str | None, typer.Argument(help="Customer id; without it, the run's details.")
    ] = None,
    run_id: RunOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """One customer's tier, segment and stage in every run; or a run's parameters and stats.

    Example: riskcli tier show C00000042
    """
    with session(ctx, "tier.read") as s:
        if customer is not None:
            history = lookup.customer_history(s.store, customer)
            policy = lookup.service_policy(s.store, customer, s.config)
            s.audit_affected(customer=customer)
        else:
            info = lookup.get_run(s.store, run_id)
    if customer is not None:
        output.info(f"service policy (tier {policy['tier']}): {policy['service_policy']}")
        output.render(history, fmt)
        return
    stats = info["stats"]
    record = {k: v for k, v in info.items() if k not in ("params", "stats")}
    record.update({f"tier_{k}": v for k, v in stats.get("tiers", {}).items()})
    for key in ("with_orders", "active", "future_excluded", "silhouette", "median_interval_days"):
        if key in stats:
            record[key] = stats[key]
    if stats.get("clusters"):
        record["clusters"] = stats["clusters"]
    record["timings"] = stats.get("timings")
    record["warnings"] = "; ".join(stats.get("warnings", [])) or None
    record["params"] = {k: v for k, v in info["params"].items() if k != "policies"}
    output.render(record, fmt)


@app.command("list")
def list_(
    ctx: typer.Context,
    tier: Annotated[str | None, typer.Option("--tier", help="Only this tier (A, B, C, D).")] = None,
    segment: Annotated[
        str | None, typer.Option("--segment", help='Only this segment, e.g. "At risk".')
    ] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="Only this stage.")] = None,
    run_id: RunOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N rows.")] = None,
    fmt: FormatOpt = None,
) -> None:
    """Customers of a run, best tier and highest value first, filtered.

    Example: riskcli tier list --tier A --segment "At risk"
    """
    with session(ctx, "tier.read") as s:
        rows = tiering.results(
            s.store, run_id, tier=tier, segment=segment, stage=stage,
            limit=limit + 1 if limit else None,
        )  # fmt: skip
        rows = output.cut(rows, limit)  # one more than asked: a cut listing says so
        s.audit_affected(rows=len(rows))
    output.render(rows, fmt, empty_message="no customers match")


@app.command("summary")
def summary(
    ctx: typer.Context,
    run_id: Annotated[int | None, typer.Argument(help="Tier run id (default: the latest).")] = None,
    fmt: FormatOpt = None,
) -> None:
    """Per tier, segment and stage: customers, shares of customers and value, overdue.

    On a terminal the value share is drawn as a bar; piped output is plain rows.

    Example: riskcli tier summary --format csv > tiers.csv
    """
    with session(ctx, "tier.read") as s:
        table = tiering.summary(s.store, run_id)
        info = tiering.get_run(s.store, run_id)
    output.info(f"tier run {info['id']} as of {info['as_of']} ({info['method']})")
    if _is_chart(fmt):
        table = table.copy()
        table["value_bar"] = [
            "█" * round(float(v) * BAR_WIDTH) for v in table["share_value"].tolist()
        ]
    output.render(table, fmt)


@app.command("changes")
def changes(
    ctx: typer.Context,
    from_run: Annotated[
        int | None, typer.Option("--from", help="Earlier run (default: the one before --to).")
    ] = None,
    to_run: Annotated[int | None, typer.Option("--to", help="Later run (default: latest).")] = None,
    matrix: Annotated[
        bool, typer.Option("--matrix", help="Show the tier transition matrix instead.")
    ] = False,
    fmt: FormatOpt = None,
) -> None:
    """Who moved up or down a tier between two runs, or the transition matrix.

    Example: riskcli tier changes --from 3 --to 4 --matrix
    """
    with session(ctx, "tier.read") as s:
        movers, grid, info = tiering.changes(s.store, from_run, to_run)
    counts = ", ".join(
        f"{info.get(k, 0)} {k}" for k in ("up", "down", "entered", "left") if info.get(k)
    )
    output.info(
        f"tier changes from run {info['from_run']} to run {info['to_run']}: {counts or 'none'}"
    )
    if matrix:
        output.render(grid, fmt)
    else:
        output.render(movers, fmt, empty_message="no customer changed tier")


@app.command("policy")
def policy(
    ctx: typer.Context,
    tier: Annotated[str | None, typer.Argument(help="Only this tier.")] = None,
    fmt: FormatOpt = None,
) -> None:
    """The recommended service policy of each tier (text set in [tiering.policies]).

    Example: riskcli tier policy --format csv > policies.csv
    """
    with session(ctx, "tier.read") as s:
        table = tiering.policies(s.config)
    if tier is not None:
        table = table[table["tier"] == tier.upper()]
        if table.empty:
            raise InputError(f"no tier {tier!r}: tiers are A, B, C and D")
    output.render(table, fmt)


@app.command("runs")
def runs(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """Every tier run kept in the store, newest first.

    Example: riskcli tier runs
    """
    with session(ctx, "tier.read") as s:
        table = tiering.list_runs(s.store)
    output.render(
        table if not table.empty else [],
        fmt,
        empty_message="no tier runs yet: run `riskcli tier run`",
    )
