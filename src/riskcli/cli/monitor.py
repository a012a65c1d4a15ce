"""`riskcli monitor`: scan the book for warning signs and handle the alerts they raise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from riskcli import config as settings
from riskcli.cli import lazy, output
from riskcli.cli.context import get_globals, session
from riskcli.cli.options import AsOfOpt, as_of_header, resolve_as_of
from riskcli.cli.output import FormatOpt
from riskcli.domain.errors import AlertsFound, UsageError
from riskcli.services import book
from riskcli.services.monitoring import alerts as alert_service
from riskcli.services.monitoring.lock import run_lock
from riskcli.services.monitoring.severity import SEVERITIES

if TYPE_CHECKING:
    from riskcli.services.monitoring.config import load_monitoring_config
    from riskcli.services.monitoring.engine import RunResult, parse_evidence, run_monitor
else:  # the rules, the scan (numpy, pandas) and the settings models: loaded on use
    load_monitoring_config = lazy.function(
        "riskcli.services.monitoring.config", "load_monitoring_config"
    )
    parse_evidence = lazy.function("riskcli.services.monitoring.engine", "parse_evidence")
    run_monitor = lazy.function("riskcli.services.monitoring.engine", "run_monitor")


def _severities() -> list[str]:
    return list(SEVERITIES)


def _rules() -> list[str]:
    """Rule ids for shell completion, from the settings (no rule code is loaded)."""
    from riskcli.services.monitoring.config import MonitoringConfig, RuleConfig

    fields = MonitoringConfig.model_fields.items()
    return [name for name, f in fields if isinstance(f.default, RuleConfig)]


app = typer.Typer(
    help="Watch customers for warning signs: rules, alerts with a lifecycle, cron-ready runs.",
    no_args_is_help=True,
)

AlertId = Annotated[int, typer.Argument(help="Alert id (see `riskcli monitor alerts`).")]
NoteOpt = Annotated[str | None, typer.Option("--note", "-n", help="Why; kept in the history.")]
TABLE_COLUMNS = ["id", "change", "priority", "severity", "rule", "customer", "title", "action"]


def _summary(result: RunResult) -> None:
    output.info(
        f"monitor run {result.run_id} as of {result.as_of}: {result.customers_scanned:,} "
        f"customers, {len(result.rules_run)} rules run, {len(result.rules_skipped)} skipped; "
        f"alerts {result.new:,} new, {result.escalated:,} escalated, {result.resolved:,} "
        f"auto-resolved, {result.open_total:,} open ({result.duration_s:.1f} s)"
    )
    for rule, why in result.rules_skipped.items():
        output.info(f"  skipped {rule}: {why}")
    if result.lock_note:
        output.warn(result.lock_note)


@app.command("run")
def run(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    rule: Annotated[
        list[str] | None,
        typer.Option(
            "--rule",
            "-r",
            autocompletion=_rules,
            help="Run only this rule (repeatable). Default: all enabled.",
        ),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            autocompletion=_severities,
            help=f"Exit 10 when a new or escalated alert is at or above this severity "
            f"({', '.join(SEVERITIES)}).",
        ),
    ] = None,
    fmt: FormatOpt = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No summary on stderr; only data and errors.")
    ] = False,
) -> None:
    """Scan every customer with the enabled rules; print new and escalated alerts.

    Non-interactive (give the passphrase by file or command), one transaction, and locked:
    a second run while one is going exits 1 at once. Summary on stderr, alerts on stdout.

    Example: riskcli monitor run --format json --fail-on high > alerts.json
    """
    if quiet:
        output.STATE.quiet = True
    threshold = alert_service.severity_rank(fail_on) if fail_on else None
    # the lock comes first: a refused run exits 1 at once, without waiting on the store
    with run_lock(get_globals(ctx).db) as lock, session(ctx, "monitor.run") as s:
        config = load_monitoring_config(s.config)
        day = resolve_as_of(s.store, as_of)
        credit = book.load_credit_config(s.config)
        from riskcli.services.monitoring.rules import RULES

        with output.progress(len(RULES), "rules") as advance:
            result = run_monitor(
                s.store, config, as_of=day, only=rule or None, progress=advance, lock=lock,
                credit=credit,
            )  # fmt: skip
        s.audit_affected(
            run_id=result.run_id, new=result.new, escalated=result.escalated,
            resolved=result.resolved,
        )  # fmt: skip
        output.info(as_of_header(day, as_of))
        _summary(result)
        data = result.alerts
        resolved = output.resolve_format(fmt)
        if resolved is output.OutputFormat.TABLE:
            data = data[TABLE_COLUMNS]
        elif resolved in (output.OutputFormat.JSON, output.OutputFormat.JSONL):
            data = parse_evidence(data)
        output.render(data, fmt, empty_message="no new or escalated alerts")
        if threshold is not None and result.max_severity_rank() >= threshold:
            hits = int((result.alerts["severity"].map(SEVERITIES.index) >= threshold).sum())
            found = output.plural(hits, "new or escalated alert")
            raise AlertsFound(f"{found} at or above {fail_on} (exit 10)")


@app.command("alerts")
def alerts(
    ctx: typer.Context,
    status: Annotated[
        str,
        typer.Option(
            "--status", help="open, acknowledged, resolved, active (open+acknowledged) or all."
        ),
    ] = "active",
    severity: Annotated[
        str | None,
        typer.Option("--severity", autocompletion=_severities, help="This severity and above."),
    ] = None,
    rule: Annotated[
        str | None, typer.Option("--rule", autocompletion=_rules, help="Only this rule.")
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer (its customer_id).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many.")] = None,
    sort: Annotated[
        str,
        typer.Option("--sort", help="priority (money at risk), severity, or age (oldest first)."),
    ] = "priority",
    assignee: Annotated[
        str | None, typer.Option("--assignee", help="Only the alerts assigned to this user.")
    ] = None,
    fmt: FormatOpt = None,
) -> None:
    """List alerts, highest money at risk first (default: open and acknowledged ones).

    Example: riskcli monitor alerts --severity high --sort age --assignee wang
    """
    with session(ctx, "monitor.read") as s:
        data = alert_service.alert_rows(
            s.store, status=status, severity=severity, rule=rule, customer=customer,
            limit=limit + 1 if limit else None, sort=sort, assignee=assignee,
        )  # fmt: skip
        data = output.cut(data, limit)  # one more than asked: a cut listing says so
    if output.resolve_format(fmt) is output.OutputFormat.TABLE:
        hidden = ("evidence", "resolution")
        data = [{k: v for k, v in row.items() if k not in hidden} for row in data]
    output.render(data, fmt, empty_message="no alerts match")


@app.command("queue")
def queue(
    ctx: typer.Context,
    user: Annotated[
        str | None,
        typer.Option("--user", help="Also the alerts assigned to this user. Default: you."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many alerts.")] = 50,
    fmt: FormatOpt = None,
) -> None:
    """Today's worklist: open alerts nobody has taken (and yours), highest money at risk
    first, with the customer's name, grade, exposure, overdue amount and the action.

    Example: riskcli monitor queue --limit 20
    """
    with session(ctx, "monitor.read") as s:
        data = alert_service.queue(s.store, user=user or s.user, limit=limit)
    output.render(data, fmt, empty_message="the queue is empty")


@app.command("assign")
def assign(
    ctx: typer.Context,
    alert_id: AlertId,
    to: Annotated[str | None, typer.Option("--to", help="The user who takes the alert.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Take the alert back.")] = False,
) -> None:
    """Give an alert to a user, or take it back with --clear (kept in its history).

    Example: riskcli monitor assign 42 --to wang
    """
    if (to is None) == (not clear):
        raise UsageError("give either --to USER or --clear")
    with session(ctx, "monitor.assign") as s:
        alert_service.assign(s.store, alert_id, to=to, user=s.user)
        s.audit_affected(alert_id=alert_id, assigned=bool(to))
    output.info(f"alert {alert_id} assigned to {to}" if to else f"alert {alert_id} unassigned")


@app.command("reviews")
def reviews(
    ctx: typer.Context,
    due: Annotated[
        str | None,
        typer.Option("--due", help="Only reviews due within this span (30d, 4w); overdue too."),
    ] = None,
    fmt: FormatOpt = None,
) -> None:
    """Customers due for a credit review by grade cadence ([monitoring.reviews]: D/E and DF
    monthly, C quarterly, A/B yearly, new customers after 3 months), from their last review.

    Example: riskcli monitor reviews --due 30d
    """
    from datetime import date

    from riskcli.services.monitoring import reviews as review_service
    from riskcli.services.monitoring.contracts import parse_days

    days = parse_days(due, "--due") if due is not None else None
    with session(ctx, "monitor.read") as s:
        cfg = load_monitoring_config(s.config).reviews
        data = review_service.due_reviews(s.store, cfg, within_days=days, today=date.today())
    output.render(data, fmt, empty_message="no reviews due")


@app.command("show")
def show(ctx: typer.Context, alert_id: AlertId, fmt: FormatOpt = None) -> None:
    """Show one alert with its evidence and the history of its status changes.

    Example: riskcli monitor show 42
    """
    with session(ctx, "monitor.read") as s:
        alert, history = alert_service.alert_history(s.store, alert_id)
    output.render_sections({"alert": alert, "history": history}, fmt)


@app.command("ack")
def ack(ctx: typer.Context, alert_id: AlertId, note: NoteOpt = None) -> None:
    """Acknowledge an open alert: someone is on it. An escalation opens it again.

    Example: riskcli monitor ack 42 --note "called the CFO, payment promised Friday"
    """
    with session(ctx, "monitor.handle") as s:
        alert_service.acknowledge(s.store, alert_id, note=note, user=s.user)
        s.audit_affected(alert_id=alert_id)
    output.info(f"alert {alert_id} acknowledged")


@app.command("resolve")
def resolve(ctx: typer.Context, alert_id: AlertId, note: NoteOpt = None) -> None:
    """Resolve an alert by hand. It stays quiet while the condition lasts, unless it worsens.

    Example: riskcli monitor resolve 42 --note "limit reduced to 50,000"
    """
    with session(ctx, "monitor.handle") as s:
        alert_service.resolve(s.store, alert_id, note=note, user=s.user)
        s.audit_affected(alert_id=alert_id)
    output.info(f"alert {alert_id} resolved")


@app.command("runs")
def runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", help="How many runs, newest first.")] = 20,
    fmt: FormatOpt = None,
) -> None:
    """Monitor run history: start, duration, customers scanned, alerts new/escalated/resolved.

    Example: riskcli monitor runs --limit 5
    """
    with session(ctx, "monitor.read") as s:
        data = output.cut(alert_service.list_runs(s.store, limit=limit + 1), limit)
    output.render(data, fmt, empty_message="no monitor runs yet")


@app.command("rules")
def rules(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """List the rules: group, on or off, auto-resolve, thresholds (from [monitoring] config).

    Example: riskcli monitor rules --format json
    """
    g = get_globals(ctx)
    config = load_monitoring_config(settings.load_config(g.config, g.db))
    rows = []
    from riskcli.services.monitoring.rules import RULES

    for r in RULES:
        cfg = config.rule(r.id).model_dump(mode="json")
        enabled = cfg.pop("enabled")
        rows.append(
            {
                "rule": r.id,
                "group": r.group,
                "enabled": enabled,
                "auto_resolve": r.auto_resolve,
                "needs": ", ".join(r.needs),
                "settings": cfg,
                "description": r.description,
            }
        )
    output.render(rows, fmt)
