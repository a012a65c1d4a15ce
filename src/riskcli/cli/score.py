"""`riskcli score`: explainable credit scorecards, grades, reason codes, limits, model registry."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from riskcli.cli import lazy, output
from riskcli.cli.context import session
from riskcli.cli.options import AsOfOpt, as_of_header, dated_option, resolve_as_of
from riskcli.cli.output import FormatOpt
from riskcli.domain.errors import UsageError

if TYPE_CHECKING:
    from riskcli.services.scoring import limit_lookup, lookup, registry
    from riskcli.services.scoring import service as svc
    from riskcli.services.scoring.config import load_scoring_config
else:  # the scorecard engine (numpy, pandas, scikit-learn): loaded when a command calls it
    lookup = lazy.module("riskcli.services.scoring.lookup")  # a stored score: no numpy, pandas
    limit_lookup = lazy.module("riskcli.services.scoring.limit_lookup")  # neither
    registry = lazy.module("riskcli.services.scoring.registry")
    svc = lazy.module("riskcli.services.scoring.service")
    load_scoring_config = lazy.function("riskcli.services.scoring.config", "load_scoring_config")

app = typer.Typer(
    help="Credit scoring: train or configure scorecards, score customers, explain, export.",
    no_args_is_help=True,
)
models_app = typer.Typer(
    help="The model registry: list, show, promote, retire.", no_args_is_help=True
)
app.add_typer(models_app, name="models")

ModelArg = Annotated[str, typer.Argument(help="Model id, or 'champion'.")]
CustomerArg = Annotated[str, typer.Argument(help="Customer id (its customer_id).")]
DataOpt = Annotated[
    Path | None, typer.Option("--data", help="A CSV/TSV/JSON/JSONL/XLSX file with one row a case.")
]
TargetOpt = Annotated[
    str | None, typer.Option("--target", help="The outcome column (1 = bad unless --bad).")
]
BadOpt = Annotated[str | None, typer.Option("--bad", help="The target value that means bad.")]
#: the observation date of a training or validation sample (outcomes follow over --horizon)
SampleDateOpt = Annotated[
    date | None,
    dated_option(
        "--as-of",
        "Observation date YYYY-MM-DD, or 'today'. Default: the latest activity less the horizon.",
    ),
]
HorizonOpt = Annotated[
    str | None, typer.Option("--horizon", help="Outcome window after --as-of, e.g. 12m.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only data and errors.")]


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _say(message: str) -> None:
    output.step(f"score: {message}")


def _quiet(quiet: bool) -> None:
    if quiet:
        output.STATE.quiet = True


def _model_summary(model: registry.ModelRecord) -> dict[str, Any]:
    out = model.summary()
    out.update({k: v for k, v in model.metrics.items() if k not in out})
    return out


@app.command("train")
def train(
    ctx: typer.Context,
    data: DataOpt = None,
    target: TargetOpt = None,
    bad: BadOpt = None,
    factors: Annotated[
        list[str] | None, typer.Option("--factors", help="Only these columns (comma list).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Leave out these columns (comma list).")
    ] = None,
    date_column: Annotated[
        str | None,
        typer.Option("--date-column", help="Dates for out-of-time validation (latest 30%)."),
    ] = None,
    from_store: Annotated[
        bool, typer.Option("--from-store", help="Build factors and outcome from the store.")
    ] = False,
    as_of: SampleDateOpt = None,
    horizon: HorizonOpt = None,
    name: Annotated[str | None, typer.Option("--name", help="Model name.")] = None,
    challenger: Annotated[
        bool, typer.Option("--challenger", help="Also fit a gradient-boosted challenger.")
    ] = False,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Train a scorecard on a history file or on the store, validate it and register it.

    Example: riskcli score train --data history.csv --target defaulted --exclude customer_id
    Example: riskcli score train --from-store --as-of 2025-09-30 --horizon 12m
    """
    _quiet(quiet)
    if from_store == (data is not None):
        raise UsageError("give either --data FILE --target COLUMN or --from-store")
    if data is not None and not target:
        raise UsageError("--target COLUMN is needed with --data")
    with session(ctx, "score.train") as s:
        cfg = load_scoring_config(s.config)
        if challenger:
            cfg = cfg.model_copy(update={"challenger": True})
        if data is not None:
            assert target is not None
            model = svc.train_from_file(
                s.store, data, target, cfg, bad=bad, factors=_split(factors),
                exclude=_split(exclude), date_column=date_column, name=name, progress=_say,
            )  # fmt: skip
        else:
            model = svc.train_from_store(
                s.store, cfg, as_of=as_of, horizon=horizon, name=name or "store",
                progress=_say,
            )  # fmt: skip
        s.audit_affected(model_id=model.id)
        for why in model.report.get("high_iv_warnings", []):
            output.warn(why)
        dropped = model.card.dropped
        if dropped:
            output.info("factors left out: " + "; ".join(f"{k} ({v})" for k, v in dropped.items()))
        output.info(f"registered {model.label} as {model.status}")
        output.render(_model_summary(model), fmt)


@app.command("expert")
def expert(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", help="Expert scorecard TOML (default: [scoring.expert] or built-in)."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Model name.")] = None,
    fmt: FormatOpt = None,
) -> None:
    """Register the expert scorecard for a book with no default history.

    Example: riskcli score expert --file examples/expert_scorecard.toml
    """
    with session(ctx, "score.train") as s:
        model = svc.setup_expert(s.store, load_scoring_config(s.config), path=file, name=name)
        s.audit_affected(model_id=model.id)
        for line in svc.category_warnings(s.store, model.card):
            output.warn(line)
        output.info(f"registered {model.label} as {model.status}")
        output.render(_model_summary(model), fmt)


@app.command("apply")
def apply(
    ctx: typer.Context,
    model: ModelArg,
    data: Annotated[Path, typer.Option("--data", help="The file to score.")],
    fmt: FormatOpt = None,
) -> None:
    """Score a file: its rows plus score, pd, grade and reasons (nothing is stored).

    Example: riskcli score apply champion --data applicants.csv > scored.csv
    """
    with session(ctx, "score.read") as s:
        record, frame = svc.apply_to_file(s.store, model, data)
        s.audit_affected(model_id=record.id, rows=len(frame))
        output.render(frame, fmt)


@app.command("validate")
def validate(
    ctx: typer.Context,
    model: ModelArg,
    data: DataOpt = None,
    target: TargetOpt = None,
    bad: BadOpt = None,
    as_of: SampleDateOpt = None,
    horizon: HorizonOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Reproduce the validation report on new data (a labelled file, or the store as of a date).

    Example: riskcli score validate 3 --data new_history.csv --target defaulted
    """
    with session(ctx, "score.read") as s:
        if data is not None:
            if not target:
                raise UsageError("--target COLUMN is needed with --data")
            record, report = svc.validate_on_file(s.store, model, data, target, bad)
        else:
            day = as_of
            if day is None:
                raise UsageError("give --data FILE --target COLUMN, or --as-of DATE")
            cfg = load_scoring_config(s.config)
            record, report = svc.validate_on_store(s.store, model, cfg, day, horizon)
        output.info(f"validation of {record.label}")
        output.render_sections(
            {
                "metrics": report["metrics"] | {"psi": report.get("psi")},
                "calibration": report["calibration"],
                "by grade": report["by_grade"],
                "monotonicity": report["monotonicity"],
            },
            fmt,
        )


@app.command("run")
def run(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option("--model", help="Model id (default: the champion).")
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer (customer_id).")
    ] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Score customers from the store and keep the run: score, PD, grade, reasons, limit.

    Example: riskcli score run --as-of 2026-09-30
    """
    _quiet(quiet)
    with session(ctx, "score.run") as s:
        cfg = load_scoring_config(s.config)
        day = resolve_as_of(s.store, as_of)
        result = svc.run(s.store, cfg, ref=model, as_of=day, customer=customer, progress=_say)
        output.info(as_of_header(day, as_of))
        s.audit_affected(run_id=result["run"], customers=result["customers"])
        for line in svc.category_warnings(s.store, registry.get_model(s.store, model).card):
            output.warn(line)
        output.render(result, fmt)


@app.command("show")
def show(
    ctx: typer.Context,
    customer: CustomerArg,
    history: Annotated[int, typer.Option("--history", help="How many runs back.")] = 10,
    fmt: FormatOpt = None,
) -> None:
    """A customer's scores, newest first: score, PD, grade, reasons, recommended limit.

    Example: riskcli score show C000123
    """
    with session(ctx, "score.read") as s:
        output.render(lookup.show(s.store, customer, history=history), fmt)


@app.command("explain")
def explain(ctx: typer.Context, customer: CustomerArg, fmt: FormatOpt = None) -> None:
    """Points per factor of a customer's latest score, and what would raise it.

    Example: riskcli score explain C000123
    """
    with session(ctx, "score.read") as s:
        head, rows = lookup.explain(s.store, customer)
        limit = limit_lookup.explain_limit(s.store, customer, load_scoring_config(s.config).limits)
        output.render_sections({"score": head, "factors": rows, "limit": limit}, fmt)


@app.command("list")
def list_(
    ctx: typer.Context,
    grade: Annotated[str | None, typer.Option("--grade", help="Only this grade.")] = None,
    over_limit: Annotated[
        bool, typer.Option("--over-limit", help="Only customers above their recommended limit.")
    ] = False,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many rows.")] = None,
    fmt: FormatOpt = None,
) -> None:
    """Customers of the latest run, worst score first.

    Example: riskcli score list --grade E
    """
    with session(ctx, "score.read") as s:
        asked = limit + 1 if limit else None  # one more than asked: a cut listing says so
        rows = svc.list_scores(s.store, grade=grade, over_limit=over_limit, limit=asked)
        rows = output.cut(rows, limit)
        output.render(rows, fmt, empty_message="no customers match")


@app.command("distribution")
def distribution(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """Grades and scores of the latest run as a terminal histogram.

    Example: riskcli score distribution
    """
    with session(ctx, "score.read") as s:
        d = svc.distribution(s.store)
        output.render_sections({"run": d["run"], "grades": d["grades"], "scores": d["scores"]}, fmt)


@app.command("compare")
def compare(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="First model id.")],
    b: Annotated[str, typer.Argument(help="Second model id.")],
    data: DataOpt = None,
    target: TargetOpt = None,
    bad: BadOpt = None,
    as_of: SampleDateOpt = None,
    horizon: HorizonOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Two models side by side on the same data (a labelled file or the store as of a date).

    Example: riskcli score compare 1 2 --data holdout.csv --target defaulted
    """
    with session(ctx, "score.read") as s:
        cfg = load_scoring_config(s.config)
        rows = svc.compare(
            s.store, a, b, cfg, path=data, target=target, bad=bad, as_of=as_of,
            horizon=horizon,
        )  # fmt: skip
        output.render(rows, fmt)


@app.command("export")
def export(
    ctx: typer.Context,
    model: ModelArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="sql or json.")] = "sql",
    quote: Annotated[
        str,
        typer.Option("--quote", help="Identifiers: none (portable), ansi or backtick."),
    ] = "none",
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="The whole scoring job as one query over the canonical tables."
        ),
    ] = False,
    dialect: Annotated[
        str, typer.Option("--dialect", help="With --full: duckdb, spark, postgres or sqlite.")
    ] = "duckdb",
    as_of: AsOfOpt = None,
    as_of_param: Annotated[
        bool, typer.Option("--as-of-param", help="With --full: the date as a parameter as_of.")
    ] = False,
) -> None:
    """The scorecard as one portable SQL expression, or as JSON; with --full, the whole job
    (factors, default state, score, PD, grade, reasons, limit, EL) as one query.

    The expression runs unchanged on SQLite, PostgreSQL, DuckDB and Spark SQL.
    Example: riskcli score export champion --format sql > score.sql
    Example: riskcli score export champion --format sql --full --dialect spark --as-of 2025-09-30
    """
    if quote not in ("none", "ansi", "backtick"):
        raise UsageError("--quote must be none, ansi or backtick")
    if full and fmt != "sql":
        raise UsageError("--full needs --format sql")
    if not full and (as_of or as_of_param or dialect != "duckdb"):
        raise UsageError("--dialect, --as-of and --as-of-param go with --full")
    with session(ctx, "score.read") as s:
        if full:
            text = svc.export_full(
                s.store, model, load_scoring_config(s.config), dialect=dialect,
                as_of=as_of, as_of_param=as_of_param,
            )  # fmt: skip
        else:
            text = svc.export(s.store, model, fmt, quote)  # type: ignore[arg-type]
        sys.stdout.write(text)


@models_app.command("list")
def models_list(ctx: typer.Context, fmt: FormatOpt = None) -> None:
    """Every model with its status (one champion), metrics and creator.

    Example: riskcli score models list
    """
    with session(ctx, "score.read") as s:
        output.render(registry.list_models(s.store), fmt, empty_message="no models yet")


@models_app.command("show")
def models_show(
    ctx: typer.Context,
    model: ModelArg,
    fmt: FormatOpt = None,
) -> None:
    """A model: summary, validation metrics, factors with IV, the points table.

    Example: riskcli score models show 1 --format json
    """
    with session(ctx, "score.read") as s:
        record = registry.get_model(s.store, model)
        report = record.report
        sections: dict[str, Any] = {"model": _model_summary(record)}
        if "validation" in report:
            sections["validation"] = report["validation"] | {
                "psi": report.get("psi"),
                "method": report.get("method"),
            }
            sections["kfold"] = {
                k: v for k, v in report.get("kfold", {}).items() if not isinstance(v, list)
            }
            if "challenger" in report:
                sections["challenger"] = report["challenger"]
            sections["by grade"] = report.get("by_grade", [])
            sections["factors"] = report.get("factors", [])
        sections["points"] = report.get("points", [])
        if record.card.overrides:
            sections["overrides"] = [o.model_dump() for o in record.card.overrides]
        output.render_sections(sections, fmt)


@models_app.command("promote")
def models_promote(ctx: typer.Context, model: ModelArg, fmt: FormatOpt = None) -> None:
    """Make a model the champion (the previous champion becomes a candidate).

    Example: riskcli score models promote 2
    """
    with session(ctx, "score.train") as s:
        record = registry.promote(s.store, model)
        s.audit_affected(model_id=record.id)
        output.info(f"{record.label} is now the champion")
        output.render(record.summary(), fmt)


@models_app.command("retire")
def models_retire(ctx: typer.Context, model: ModelArg, fmt: FormatOpt = None) -> None:
    """Retire a model (not the champion); it stays in the registry for the record.

    Example: riskcli score models retire 1
    """
    with session(ctx, "score.train") as s:
        record = registry.retire(s.store, model)
        s.audit_affected(model_id=record.id)
        output.info(f"{record.label} is retired")
        output.render(record.summary(), fmt)
