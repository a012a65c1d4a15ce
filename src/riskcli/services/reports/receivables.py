"""`report receivables` and `report provisions`: the month-end close of the receivables.

Both read the book at every month-end of the period in one scan (`book.book_at_dates`) and
compute with numpy (`services/receivables`). Groups (tier, grade, industry, region, group) are
the customers' labels as of the report date: the newest tier and score runs on or before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services import book
from riskcli.services.receivables import ledger
from riskcli.services.receivables.analytics import (
    COLLECTED,
    WRITTEN_OFF,
    Aged,
    Grouping,
    Sales,
    Series,
    roll_flows,
    series,
    shares,
    written_off_between,
)
from riskcli.services.receivables.provisions import provision_at
from riskcli.services.receivables.settings import (
    Buckets,
    ProvisionsConfig,
    load_provisions,
    load_receivables,
)
from riskcli.services.reports import data as loaders
from riskcli.services.reports import metrics as m
from riskcli.services.reports.model import Chart, Report, Section
from riskcli.storage.store import Store

Progress = Callable[[int], None] | None
RECEIVABLES_SECTIONS: tuple[str, ...] = (
    "summary",
    "aging",
    "roll_rates",
    "roll_rates_monthly",
    "by_tier",
    "by_grade",
    "by_industry",
    "by_region",
    "by_group",
    "limitation",
)
PROVISIONS_SECTIONS: tuple[str, ...] = (
    "inputs",
    "rates",
    "matrix",
    "customers",
    "movement",
    "roll_flows",
)
NONE = "(none)"


# ---- shared -----------------------------------------------------------------------------------
def first_invoice(store: Store, as_of: dt.date) -> dt.date:
    """The first issue date on the book by the as-of date; an error when there is none."""
    first = store.scalar("SELECT MIN(issue_date) FROM receivables")
    if first is None:
        raise InputError("the store holds no invoices yet (import receivables first)")
    day = dt.date.fromisoformat(str(first)[:10])
    if as_of < day:
        raise InputError(
            f"--as-of {as_of.isoformat()} is before the first invoice ({day.isoformat()})"
        )
    return day


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from `start` to `end`."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - (1 if end.day < start.day and end != _month_end(end) else 0)


def _month_end(d: dt.date) -> dt.date:
    return book.add_months(d.replace(day=1), 1) - dt.timedelta(days=1)


def _grouping(name: str, ids: np.ndarray, values: Any, size: int) -> Grouping:
    """Customers `ids` labelled `values` (None and blank -> '(none)'); others '(none)' too."""
    text = pd.Series(values, dtype=object).astype("string").str.strip().fillna("")
    text = text.where(text != "", NONE).astype(str)
    uniques = pd.unique(text.to_numpy())
    labels = [*sorted(set(uniques) - {NONE}), NONE]
    index = pd.Index(labels)
    codes = np.full(size, len(labels) - 1, dtype=np.int64)
    codes[ids] = index.get_indexer(text.to_numpy())
    return Grouping(name, labels, codes)


def groupings(store: Store, as_of: dt.date) -> tuple[list[Grouping], dict[str, str]]:
    """The book, tier, grade, industry, region and (where customers have one) group; and
    why a grouping is absent."""
    cols = {str(r["name"]) for r in store.query("PRAGMA table_info(customers)")}
    extra = ", group_id" if "group_id" in cols else ""
    cust = store.query_df(f"SELECT id, industry, region{extra} FROM customers ORDER BY id")
    size = int(cust["id"].max()) + 1 if len(cust) else 1
    ids = cust["id"].to_numpy(dtype=np.int64)
    out = [Grouping("book", ["book"], np.zeros(size, dtype=np.int64))]
    missing: dict[str, str] = {}
    tiers = loaders.tier_snapshot(store, as_of)
    if tiers is None:
        missing["tier"] = f"no tier run on or before {as_of.isoformat()}"
    else:
        f = tiers.frame
        out.append(
            _grouping("tier", f["customer_id"].to_numpy(np.int64), f["tier"].to_numpy(), size)
        )
    scores = loaders.score_snapshot(store, as_of)
    if scores is None:
        missing["grade"] = f"no score run on or before {as_of.isoformat()}"
    else:
        f = scores.frame
        out.append(
            _grouping("grade", f["customer_id"].to_numpy(np.int64), f["grade"].to_numpy(), size)
        )
    for col in ("industry", "region"):
        out.append(_grouping(col, ids, cust[col].to_numpy(), size))
    if extra:
        out.append(_grouping("group", ids, cust["group_id"].to_numpy(), size))
    else:
        missing["group"] = "customers have no groups in this store"
    return out, missing


def _money(values: np.ndarray) -> list[Any]:
    return [m.cents_to_decimal(round(float(v))) for v in values]


def _days(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 1) for v in values]


# ---- report receivables -----------------------------------------------------------------------
def build_receivables(
    store: Store,
    *,
    as_of: dt.date | None,
    months: int,
    config: dict[str, Any] | None = None,
    progress: Progress = None,
) -> Report:
    """DSO, best-possible DSO, ADD, CEI, aging and roll rates per month-end (see module doc)."""
    day = as_of or dt.date.today()
    if months < 1 or months > 120:
        raise InputError("--months must be between 1 and 120")
    cfg = load_receivables(config)
    buckets = cfg.buckets
    first_invoice(store, day)
    dates = list(reversed(book.month_ends(day, months + 1)))
    snap = book.book_at_dates(store, dates)
    if progress:
        progress(1)
    span = months + cfg.countback_months
    cust, month, amount = book.invoiced_by_month(store, day, span)
    sales = Sales.of(day, cust, month, amount, span)
    groups, missing = groupings(store, day)
    aged = Aged.of(snap, buckets)
    results = {g.name: (g, series(snap, sales, g, buckets, aged)) for g in groups}
    if progress:
        progress(1)
    whole = results["book"][1]
    sections = [_summary(whole, 0), _aging(whole, 0, buckets)]
    sections += _roll_rates(snap, buckets)
    for name in ("tier", "grade", "industry", "region", "group"):
        key, title = f"by_{name}", f"Receivables by {name}"
        if name in results:
            g, s = results[name]
            sections.append(_by_group(g, s, buckets, key, title))
        else:
            sections.append(Section.missing(key, title, missing.get(name, "no data")))
    sections.append(_limitation(store, snap, day, cfg.limitation_months))
    return Report(
        kind="receivables",
        title=f"Receivables as of {day.isoformat()} ({months} months)",
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        params={"as_of": day, "months": months, "aging": ", ".join(buckets.labels)},
        sections=sections,
    )


def _rows(s: Series, g: int) -> dict[str, list[Any]]:
    return {
        "month_end": list(s.dates),
        "receivables": _money(s.receivables[g]),
        "current": _money(s.current[g]),
        "overdue": _money(s.receivables[g] - s.current[g]),
        "sales": _money(s.sales[g]),
        "written_off": _money(s.written_off[g]),
        "dso": _days(s.dso[g]),
        "dso_simple": _days(s.dso_simple[g]),
        "bpdso": _days(s.bpdso[g]),
        "bpdso_simple": _days(s.bpdso_simple[g]),
        "add": _days(s.add[g]),
        "cei": _days(s.cei[g]),
    }


def _summary(s: Series, g: int) -> Section:
    table = pd.DataFrame(_rows(s, g))
    last = table.iloc[-1]
    facts = {k: last[k] for k in ("receivables", "dso", "bpdso", "add", "cei")}
    return Section(
        "summary",
        "DSO, best-possible DSO, days delinquent and CEI per month-end",
        table=table,
        facts=facts,
        note="DSO by the countback method (dso_simple: receivables / the month's sales x its "
        "days); best-possible DSO the same on current receivables; ADD = DSO - BPDSO; CEI in %.",
        chart=Chart(
            "lines", "month_end", ["dso", "bpdso", "add"], "DSO, best-possible DSO and ADD"
        ),
    )


def _aging(s: Series, g: int, buckets: Buckets) -> Section:
    table = pd.DataFrame({"month_end": list(s.dates)})
    for b, label in enumerate(buckets.labels):
        table[label] = _money(s.buckets[g, :, b])
    table["total"] = _money(s.receivables[g])
    return Section(
        "aging",
        "Aging by bucket per month-end",
        table=table,
        note="Outstanding by days past due at each month-end (written-off invoices excluded).",
        chart=Chart("stacked", "month_end", list(buckets.labels), "Aging (stacked)"),
    )


def _matrix_table(flows: np.ndarray, buckets: Buckets) -> pd.DataFrame:
    rates = shares(flows)
    table = pd.DataFrame({"from_bucket": buckets.labels})
    table["balance"] = _money(flows.sum(axis=1))
    for j, label in enumerate([*buckets.labels, COLLECTED, WRITTEN_OFF]):
        table[label] = np.round(rates[:, j], 6)
    return table


def _roll_rates(snap: book.BookAtDates, buckets: Buckets) -> list[Section]:
    nb = len(buckets)
    total = np.zeros((nb, nb + 2))
    monthly: list[pd.DataFrame] = []
    for k in range(len(snap.dates) - 1):
        flows = roll_flows(snap, k, buckets)
        total += flows
        frame = _matrix_table(flows, buckets)
        frame.insert(0, "month_end", snap.dates[k + 1])
        monthly.append(frame)
    cols = [*buckets.labels, COLLECTED, WRITTEN_OFF]
    matrix = _matrix_table(total, buckets)
    forward = [
        float(matrix[cols[b + 1 :]].iloc[b, : nb - b - 1].sum()) if b < nb - 1 else 0.0
        for b in range(nb)
    ]
    return [
        Section(
            "roll_rates",
            "Roll-rate matrix (all months of the period, by balance)",
            table=matrix,
            facts={
                "rolled_forward_" + buckets.labels[b]: round(forward[b], 6) for b in range(1, 4)
            },
            note="Share of each bucket's balance at a month-end that sits in each bucket at the "
            "next, was collected or written off; each row sums to 1.",
            chart=Chart("heatmap", "from_bucket", cols, "Roll rates"),
        ),
        Section(
            "roll_rates_monthly",
            "Roll rates month by month",
            table=pd.concat(monthly, ignore_index=True),
            note="Rows: bucket at the previous month-end; month_end: where it sits at this one.",
        ),
    ]


def _by_group(g: Grouping, s: Series, buckets: Buckets, key: str, title: str) -> Section:
    frames = []
    for i, label in enumerate(g.labels):
        if not (s.receivables[i].any() or s.sales[i].any()):
            continue
        frame = pd.DataFrame({g.name: label, **_rows(s, i)})
        for b, bucket in enumerate(buckets.labels):
            frame[bucket] = _money(s.buckets[i, :, b])
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return Section(key, title, table=table, note=f"One row per {g.name} and month-end.")


def _limitation(store: Store, snap: book.BookAtDates, day: dt.date, months: int) -> Section:
    cutoff = book.add_months(day, -months)
    bal = snap.balance[:, -1]
    near = (bal > 0) & (snap.due_day < cutoff.toordinal())
    ids = snap.receivable_id[near]
    title = f"Near the limitation period (due more than {months} months ago)"
    cols = ["invoice_number", "customer_id", "due_date", "outstanding", "months_since_due"]
    if not len(ids):
        return Section("limitation", title, table=pd.DataFrame(columns=cols), note="None.")
    frame = pd.DataFrame({"id": ids, "outstanding": bal[near]})
    rows = pd.concat(
        store.query_df(
            "SELECT r.id, r.invoice_number, c.external_id AS customer_id, r.due_date "
            f"FROM receivables r JOIN customers c ON c.id = r.customer_id WHERE r.id IN "
            f"({','.join(str(int(i)) for i in chunk)})"
        )
        for chunk in np.array_split(ids, max(1, len(ids) // 50_000 + 1))
        if len(chunk)
    )
    frame = frame.merge(rows, on="id").sort_values(["due_date", "invoice_number"])
    due = pd.to_datetime(frame["due_date"])
    frame["months_since_due"] = [months_between(d.date(), day) for d in due]
    frame["outstanding"] = m.money_column(frame["outstanding"]).to_numpy()
    table = frame[cols].reset_index(drop=True)
    return Section(
        "limitation",
        title,
        table=table,
        facts={
            "invoices": len(table),
            "outstanding": sum(table["outstanding"], m.cents_to_decimal(0)),
        },
        note="PRC Civil Code art. 188: three years from the due date; a recorded demand for "
        "payment interrupts it (art. 195). Check the dunning record before relying on it.",
    )


# ---- report provisions ------------------------------------------------------------------------
def parse_lookback(text: str | None) -> int | None:
    """`24m`, `24` or `2y` -> months."""
    if text is None:
        return None
    raw = text.strip().lower()
    try:
        value = int(raw[:-1]) * 12 if raw.endswith("y") else int(raw.removesuffix("m"))
    except ValueError:
        raise InputError(
            f"--lookback: cannot read {text!r}; use months like 24m or years like 2y"
        ) from None
    if value < 1:
        raise InputError("--lookback must be at least 1 month")
    return value


@dataclass(frozen=True)
class _ProvisionPlan:
    """The options of a provisions report, checked against the config and the book."""

    day: dt.date
    buckets: Buckets
    cfg: ProvisionsConfig
    credit: book.CreditConfig
    months: int
    overlay: float
    method: str
    #: months of invoices the book holds by the date
    held: int


def _provision_plan(
    store: Store,
    day: dt.date,
    lookback: int | None,
    overlay: float | None,
    method: str | None,
    config: dict[str, Any] | None,
) -> _ProvisionPlan:
    buckets = load_receivables(config).buckets
    cfg = load_provisions(config, buckets)
    credit = book.load_credit_config(config)
    months = lookback if lookback is not None else cfg.lookback_months
    factor = cfg.overlay if overlay is None else overlay
    if factor < 0:
        raise InputError(f"--overlay must be 0 or more (got {factor:g})")
    how = method or cfg.method
    if how not in ("roll-rate", "write-off"):
        raise InputError(f"--method must be roll-rate or write-off (got {how!r})")
    first = first_invoice(store, day)
    held = months_between(first, day)
    if months > held:
        raise InputError(
            f"--lookback {months}m is longer than the history held: {held} months of invoices "
            f"(the first issued {first.isoformat()})"
        )
    return _ProvisionPlan(day, buckets, cfg, credit, months, factor, how, held)


def _industry_by_id(cust: pd.DataFrame) -> np.ndarray:
    """Each customer's industry, indexed by customer id."""
    size = int(cust["id"].max()) + 1 if len(cust) else 1
    industry = np.full(size, None, dtype=object)
    industry[cust["id"].to_numpy(np.int64)] = cust["industry"].to_numpy()
    return industry


def build_provisions(
    store: Store,
    *,
    as_of: dt.date | None,
    lookback: int | None = None,
    overlay: float | None = None,
    method: str | None = None,
    config: dict[str, Any] | None = None,
    progress: Progress = None,
) -> Report:
    """The provision matrix as of the date, per bucket, customer and in total, and its movement
    against the previous month-end (see services/receivables/provisions.py)."""
    day = as_of or dt.date.today()
    plan = _provision_plan(store, day, lookback, overlay, method, config)
    buckets = plan.buckets
    # the previous month-end's provision (the movement's opening) has its own lookback
    dates = list(reversed(book.month_ends(day, plan.months + 2)))
    snap = book.book_at_dates(store, dates)
    if progress:
        progress(1)
    cust = store.query_df("SELECT id, external_id, name, industry FROM customers ORDER BY id")
    industry = _industry_by_id(cust)
    steps = [roll_flows(snap, j, buckets) for j in range(len(dates) - 1)]

    def at(k: int) -> Any:
        return provision_at(
            store,
            snap,
            k,
            plan.months,
            plan.cfg,
            buckets,
            overlay=plan.overlay,
            method=plan.method,
            default_policy=plan.credit.default,
            loss=plan.credit.loss,
            industry_of=industry,
            steps=steps,
        )

    now, before = at(len(dates) - 1), at(len(dates) - 2)
    if progress:
        progress(1)
    params = {
        "as_of": day,
        "lookback_months": plan.months,
        "method": plan.method,
        "overlay": plan.overlay,
        "individual": plan.cfg.individual,
        "previous_month_end": dates[-2],
    }
    return Report(
        kind="provisions",
        title=f"Provision for expected credit losses as of {day.isoformat()}",
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        params=params,
        sections=_provision_sections(store, plan, params, snap, cust, now, before),
    )


def _provision_sections(
    store: Store,
    plan: _ProvisionPlan,
    params: dict[str, Any],
    snap: book.BookAtDates,
    cust: pd.DataFrame,
    now: Any,
    before: Any,
) -> list[Section]:
    """The sections of `PROVISIONS_SECTIONS`, from the provisions at the date (`now`) and at
    the previous month-end (`before`)."""
    buckets = plan.buckets
    return [
        _inputs(params, plan.cfg, plan.credit, buckets, plan.held),
        _rates(now, buckets, plan.overlay),
        _matrix(now, buckets),
        _customers(now, snap, cust),
        _movement(store, snap, now, before),
        Section(
            "roll_flows",
            "Pooled roll flows of the lookback (amounts)",
            table=_flow_amounts(now.flows, buckets),
            note="Where each bucket's balance went from one month-end to the next, summed over "
            "the lookback: the roll-rate method's input.",
        ),
    ]


def _inputs(
    params: dict[str, Any], cfg: Any, credit: book.CreditConfig, buckets: Buckets, held: int
) -> Section:
    rows: list[tuple[str, Any]] = [(k, v) for k, v in params.items()]
    rows += [
        ("history_months_held", held),
        ("aging_buckets", ", ".join(buckets.labels)),
        ("loss_bucket", buckets.labels[-1]),
        ("loss_bucket_rate", cfg.loss_bucket_rate),
        ("default_days_past_due", credit.default.days_past_due),
        ("default_materiality_amount", credit.default.materiality_amount),
        ("lgd", credit.loss.lgd),
    ]
    table = pd.DataFrame({"input": [r[0] for r in rows], "value": [str(r[1]) for r in rows]})
    return Section("inputs", "Inputs", table=table)


def _rates(p: Any, buckets: Buckets, overlay: float) -> Section:
    table = pd.DataFrame(
        {
            "bucket": buckets.labels,
            "historical_rate": np.round(p.historical, 6),
            "overlay": overlay,
            "adjustment": p.adjustment,
            "loss_rate": np.round(p.rate, 6),
        }
    )
    return Section(
        "rates",
        "Loss rates per bucket",
        table=table,
        note="loss_rate = historical_rate x overlay x adjustment, at most 1.",
        chart=Chart("bars", "bucket", ["loss_rate"], "Loss rate by bucket"),
    )


def _matrix(p: Any, buckets: Buckets) -> Section:
    nb = len(buckets)
    coll = (p.invoice_bucket >= 0) & ~p.individual
    b = p.invoice_bucket[coll]
    balance = np.bincount(b, weights=p.balance[coll], minlength=nb)
    provision = np.bincount(b, weights=p.invoice_provision[coll], minlength=nb)
    rows = pd.DataFrame(
        {
            "bucket": buckets.labels,
            "balance": _money(balance),
            "loss_rate": np.round(p.rate, 6),
            "provision": _money(provision),
        }
    )
    ind_bal = float(p.balance[p.individual].sum())
    ind_prov = float(p.invoice_provision[p.individual].sum())
    extra = pd.DataFrame(
        {
            "bucket": ["collective total", "individually assessed (in default)", "total"],
            "balance": _money(np.array([balance.sum(), ind_bal, balance.sum() + ind_bal])),
            "loss_rate": [
                round(provision.sum() / balance.sum(), 6) if balance.sum() else 0.0,
                round(ind_prov / ind_bal, 6) if ind_bal else 0.0,
                round((provision.sum() + ind_prov) / (balance.sum() + ind_bal), 6)
                if balance.sum() + ind_bal
                else 0.0,
            ],
            "provision": _money(np.array([provision.sum(), ind_prov, provision.sum() + ind_prov])),
        }
    )
    table = pd.concat([rows, extra], ignore_index=True)
    return Section(
        "matrix",
        "Provision matrix",
        table=table,
        facts={"provision": table["provision"].iloc[-1], "receivables": table["balance"].iloc[-1]},
        note="Collective: balance x loss rate per bucket, customers in default excluded; they "
        "are assessed individually.",
    )


def _customers(p: Any, snap: book.BookAtDates, cust: pd.DataFrame) -> Section:
    on = p.invoice_bucket >= 0
    frame = pd.DataFrame(
        {
            "cid": snap.customer_id[on],
            "balance": p.balance[on],
            "provision": p.invoice_provision[on],
            "individual": p.individual[on],
        }
    )
    per = frame.groupby("cid").agg(
        exposure=("balance", "sum"),
        provision=("provision", "sum"),
        individual=("individual", "any"),
    )
    per = per.join(cust.set_index("id")[["external_id", "name"]])
    per = per.sort_values(["provision", "exposure"], ascending=False)
    table = pd.DataFrame(
        {
            "customer_id": per["external_id"].to_numpy(),
            "name": per["name"].to_numpy(),
            "basis": np.where(per["individual"].to_numpy(), "individual", "collective"),
            "exposure": m.money_column(per["exposure"]).to_numpy(),
            "provision": m.money_column(per["provision"].round()).to_numpy(),
        }
    )
    return Section(
        "customers",
        "Provision per customer",
        table=table,
        facts={"customers": len(table), "individual": int(per["individual"].sum())},
    )


def _movement(store: Store, snap: book.BookAtDates, now: Any, before: Any) -> Section:
    opening = float(before.invoice_provision.sum())
    closing = float(now.invoice_provision.sum())
    hit = written_off_between(snap, before.as_of, now.as_of)
    written = float(snap.written_off[hit].sum())
    recovered = ledger.recoveries_between(store, before.as_of, now.as_of)
    charge = closing - opening + written
    rows = [
        ("opening allowance", before.as_of, opening),
        ("charge for the period", now.as_of, charge),
        ("amounts written off (used)", now.as_of, -written),
        ("closing allowance", now.as_of, closing),
        ("recoveries of amounts written off (credited to profit or loss)", now.as_of, recovered),
        ("net impairment loss for the period", now.as_of, charge - recovered),
    ]
    table = pd.DataFrame(
        {
            "line": [r[0] for r in rows],
            "date": [r[1] for r in rows],
            "amount": _money(np.array([r[2] for r in rows])),
        }
    )
    return Section(
        "movement",
        "Movement of the loss allowance",
        table=table,
        facts={"opening": table["amount"].iloc[0], "closing": table["amount"].iloc[3]},
        note="opening + charge - written off = closing; recoveries on written-off invoices go "
        "to profit or loss, not to the allowance.",
    )


def _flow_amounts(flows: np.ndarray, buckets: Buckets) -> pd.DataFrame:
    table = pd.DataFrame({"from_bucket": buckets.labels})
    for j, label in enumerate([*buckets.labels, COLLECTED, WRITTEN_OFF]):
        table[label] = _money(flows[:, j])
    return table
