"""The portfolio report: exposure by grade and tier, aging, concentration, expected loss,
alerts, score stability and grade migration.

Exposure is the outstanding receivables at the as-of date as the book has it (invoices issued
and not written off by then, less the payments received by then). Expected loss = PD x LGD x
exposure, with PD 1 for a customer in default on the date (the book's default state) and LGD
from `[credit.loss]`. Sections that need tiers, scores or alerts say so and are skipped when
the store has none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd

from riskcli.domain.money import from_cents
from riskcli.services.reports import data as loaders
from riskcli.services.reports import metrics as m
from riskcli.services.reports.data import PortfolioData
from riskcli.services.reports.model import Chart, Report, Section
from riskcli.storage.store import Store

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
SEVERITY_COLORS = {
    "critical": "#991b1b",
    "high": "#ef4444",
    "medium": "#f59e0b",
    "low": "#84cc16",
    "info": "#94a3b8",
}
AGING_COLORS = {
    "current": "#10b981",
    "1-30": "#facc15",
    "31-60": "#f59e0b",
    "61-90": "#f97316",
    "90+": "#dc2626",
}
SECTION_KEYS: tuple[str, ...] = (
    "summary",
    "exposure_by_grade",
    "exposure_by_tier",
    "grade_tier_matrix",
    "aging",
    "concentration_industry",
    "concentration_region",
    "top_expected_loss",
    "alerts_by_severity",
    "alerts_by_rule",
    "score_distribution",
    "score_stability",
    "grade_migration",
)

Progress = Callable[[int], None] | None


def build_portfolio(
    store: Store,
    *,
    as_of: dt.date | None = None,
    compare: dt.date | None = None,
    top: int = 10,
    progress: Progress = None,
    config: dict[str, Any] | None = None,
) -> Report:
    """Read the store and build the portfolio report (see module doc)."""
    data = loaders.portfolio_data(store, as_of=as_of, compare=compare, config=config)
    if progress:
        progress(1)
    return assemble_portfolio(data, top=top, compare_asked=compare)


def assemble_portfolio(
    data: PortfolioData, *, top: int = 10, compare_asked: dt.date | None = None
) -> Report:
    customers = data.customers
    items = m.aged(data.receivables)
    exposure = m.exposure_by_customer(items)
    grades = _series(data.scores, "grade")
    pds = _series(data.scores, "pd")
    if not pds.empty and data.in_default is not None:  # in default on the date: PD 1
        defaulted = data.in_default[data.in_default].index
        pds = pds.astype(float)
        pds[pds.index.isin(defaulted)] = 1.0
    el = m.expected_loss(exposure, pds, data.lgd) if not pds.empty else None
    tiers = _series(data.tiers, "tier")
    order = m.grade_order(
        data.scores.frame if data.scores else None, data.compare.frame if data.compare else None
    )

    sections: list[Section] = [_summary(data, items, exposure, el)]
    sections += _grade_and_tier(data, customers, exposure, grades, tiers, order, el)
    sections.append(_aging(items))
    for by in ("industry", "region"):
        sections.append(_concentration(customers, exposure, by))
    sections.append(_top_el(data, customers, exposure, pds, grades, top))
    sections += _alerts(data)
    sections += _stability(data, order)

    params: dict[str, Any] = {"as_of": data.as_of, "top": top}
    compared = compare_asked or (data.compare.as_of if data.compare else None)
    if compared is not None:
        params["compare"] = compared
    if data.scores:
        params["score_run"] = data.scores.label
    if data.tiers:
        params["tier_run"] = data.tiers.label
    return Report(
        kind="portfolio",
        title=f"Portfolio risk report as of {data.as_of.isoformat()}",
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        params=params,
        sections=sections,
    )


def _series(snapshot: loaders.ScoreSnapshot | loaders.TierSnapshot | None, col: str) -> pd.Series:
    if snapshot is None or snapshot.frame.empty or col not in snapshot.frame.columns:
        return pd.Series(dtype=object)
    frame = snapshot.frame.dropna(subset=[col])
    return pd.Series(frame[col].to_numpy(), index=frame["customer_id"].to_numpy())


def _summary(
    data: PortfolioData, items: pd.DataFrame, exposure: pd.Series, el: pd.Series | None
) -> Section:
    total = int(items["outstanding"].sum()) if not items.empty else 0
    overdue = int(items.loc[items["days_past_due"] > 0, "outstanding"].sum()) if total else 0
    rows: list[tuple[str, Any]] = [
        ("customers", len(data.customers)),
        ("active_customers", int((data.customers["status"] == "active").sum())),
        ("customers_with_exposure", int((exposure > 0).sum())),
        ("open_invoices", len(items)),
        ("exposure", from_cents(total)),
        ("overdue", from_cents(overdue)),
        ("overdue_share", round(overdue / total, 6) if total else 0.0),
    ]
    if data.in_default is not None:
        defaulted = data.in_default[data.in_default].index
        bad = int(exposure.reindex(defaulted).fillna(0).sum())
        rows += [
            ("customers_in_default", len(defaulted)),
            ("defaulted_exposure", from_cents(bad)),
            ("defaulted_share", round(bad / total, 6) if total else 0.0),
            ("performing_exposure", from_cents(total - bad)),
        ]
    if data.scores is not None and el is not None:
        loss = float(el.sum())
        rows.append(("expected_loss", from_cents(round(loss))))
        rows.append(("expected_loss_rate", round(loss / total, 6) if total else 0.0))
        rows.append(("scored_customers", len(el)))
    if data.alerts is not None:
        rows.append(("open_alerts", len(data.alerts)))
    table = pd.DataFrame({"metric": [r[0] for r in rows], "value": [r[1] for r in rows]})
    keep = ("customers", "exposure", "overdue", "defaulted_exposure", "expected_loss")
    facts = {k: v for k, v in rows if k in keep}
    return Section("summary", "Summary", table=table, facts=facts)


def _grade_and_tier(
    data: PortfolioData,
    customers: pd.DataFrame,
    exposure: pd.Series,
    grades: pd.Series,
    tiers: pd.Series,
    order: list[str],
    el: pd.Series | None = None,
) -> list[Section]:
    out: list[Section] = []
    if data.scores is None:
        out.append(Section.missing("exposure_by_grade", "Exposure by grade", data.scores_note))
    else:
        table = m.group_exposure(customers, exposure, grades, "grade", m.UNSCORED, order, el)
        out.append(
            Section(
                "exposure_by_grade",
                "Exposure by grade",
                table=table,
                note=f"Grades from {data.scores.label}; DF = in default. Expected loss = PD x "
                "LGD x exposure (PD 1 in default).",
                chart=Chart("bars", "grade", ["exposure"], "Exposure by grade"),
            )
        )
    if data.tiers is None:
        out.append(Section.missing("exposure_by_tier", "Exposure by tier", data.tiers_note))
    else:
        table = m.group_exposure(customers, exposure, tiers, "tier", m.UNTIERED, el=el)
        out.append(
            Section(
                "exposure_by_tier",
                "Exposure by tier",
                table=table,
                note=f"Tiers from {data.tiers.label}.",
                chart=Chart("shares", "tier", ["customer_share", "exposure_share"], "Tier shares"),
            )
        )
    if data.scores is None or data.tiers is None:
        why = data.scores_note if data.scores is None else data.tiers_note
        out.append(Section.missing("grade_tier_matrix", "Grade x tier matrix", why))
    else:
        matrix = m.cross_matrix(
            customers["id"],
            grades,
            tiers,
            row_name="grade",
            row_missing=m.UNSCORED,
            col_missing=m.UNTIERED,
            row_order=order,
        )
        out.append(
            Section(
                "grade_tier_matrix",
                "Grade x tier matrix (customers)",
                table=matrix,
                note="Rows: credit grade (score run); columns: value tier (tier run).",
                facts={"customers": int(matrix.iloc[:, 1:].to_numpy().sum())},
                chart=Chart("heatmap", "grade", list(matrix.columns[1:]), "Grade x tier"),
            )
        )
    return out


def _aging(items: pd.DataFrame) -> Section:
    table = m.aging_table(items)
    return Section(
        "aging",
        "Receivables aging",
        table=table,
        facts={
            "open_invoices": int(table["invoices"].sum()),
            "outstanding": sum(table["amount"], from_cents(0)),
        },
        chart=Chart(
            "bars", "bucket", ["amount"], "Outstanding by days past due", colors=AGING_COLORS
        ),
    )


def _concentration(customers: pd.DataFrame, exposure: pd.Series, by: str) -> Section:
    table, facts = m.concentration(customers, exposure, by)
    return Section(
        f"concentration_{by}",
        f"Concentration by {by}",
        table=table,
        facts=facts,
        note="Herfindahl index (HHI) of exposure shares: 1/n when even, 1 when one holds all.",
        chart=Chart("bars", by, ["exposure_share"], f"Exposure share by {by}"),
    )


def _top_el(
    data: PortfolioData,
    customers: pd.DataFrame,
    exposure: pd.Series,
    pds: pd.Series,
    grades: pd.Series,
    top: int,
) -> Section:
    title = f"Top {top} customers by expected loss"
    if data.scores is None:
        return Section.missing("top_expected_loss", title, data.scores_note)
    table = m.top_expected_loss(customers, exposure, pds, grades, top, data.lgd)
    return Section(
        "top_expected_loss",
        title,
        table=table,
        note="Expected loss = PD x LGD x outstanding receivables ([credit.loss]; PD 1 for a "
        "customer in default on the date).",
    )


def _alerts(data: PortfolioData) -> list[Section]:
    if data.alerts is None:
        return [
            Section.missing("alerts_by_severity", "Open alerts by severity", data.alerts_note),
            Section.missing("alerts_by_rule", "Open alerts by rule", data.alerts_note),
        ]
    alerts = data.alerts
    counts = alerts.groupby("severity").size() if not alerts.empty else pd.Series(dtype=int)
    known = list(SEVERITIES)
    extra = sorted(str(s) for s in counts.index if s not in SEVERITIES)
    by_sev = pd.DataFrame(
        {
            "severity": [*known, *extra],
            "open_alerts": [int(counts.get(s, 0)) for s in [*known, *extra]],
        }
    )
    if alerts.empty:
        by_rule = pd.DataFrame(columns=["rule", *SEVERITIES, "total"])
    else:
        pivot = pd.crosstab(alerts["rule"], alerts["severity"])
        cols = [s for s in SEVERITIES if s in pivot.columns] + extra
        pivot = pivot.reindex(columns=cols, fill_value=0)
        pivot["total"] = pivot.sum(axis=1)
        pivot = pivot.sort_values("total", ascending=False)
        by_rule = pivot.reset_index().rename(columns={"index": "rule"})
        by_rule.columns = [str(c) for c in by_rule.columns]
    total = int(by_sev["open_alerts"].sum())
    return [
        Section(
            "alerts_by_severity",
            "Open alerts by severity",
            table=by_sev,
            facts={"open_alerts": total},
            chart=Chart(
                "bars",
                "severity",
                ["open_alerts"],
                "Open alerts by severity",
                colors=SEVERITY_COLORS,
            ),
        ),
        Section("alerts_by_rule", "Open alerts by rule", table=by_rule),
    ]


def _stability(data: PortfolioData, order: list[str]) -> list[Section]:
    if data.scores is None:
        return [
            Section.missing("score_distribution", "Score distribution", data.scores_note),
            Section.missing("score_stability", "Score stability (PSI)", data.scores_note),
            Section.missing("grade_migration", "Grade migration", data.scores_note),
        ]
    now = data.scores.frame
    then = data.compare.frame if data.compare is not None else None
    hist = m.histogram(now["score"], then["score"] if then is not None else None)
    values = ["customers", "compare_customers"] if then is not None else ["customers"]
    dist = Section(
        "score_distribution",
        "Score distribution",
        table=hist,
        note=f"Scores from {data.scores.label}"
        + (f", compared with {data.compare.label}." if data.compare else "."),
        chart=Chart("histogram", "band", values, "Score histogram"),
    )
    if data.compare is None or then is None or then.empty or now.empty:
        return [
            dist,
            Section.missing("score_stability", "Score stability (PSI)", data.compare_note),
            Section.missing("grade_migration", "Grade migration", data.compare_note),
        ]
    value, bins = m.psi(then["score"], now["score"])
    dist.facts = {"psi": value, "psi_verdict": m.psi_verdict(value)}
    stability = Section(
        "score_stability",
        "Score stability (PSI)",
        table=bins,
        facts={"psi": value, "verdict": m.psi_verdict(value)},
        note="PSI of the as-of scores against the compare scores, deciles of the compare "
        "sample: < 0.1 stable, 0.1-0.25 some shift, > 0.25 significant shift.",
    )
    ids = pd.Series(sorted(set(now["customer_id"]) | set(then["customer_id"])))
    before = pd.Series(then["grade"].to_numpy(), index=then["customer_id"].to_numpy())
    after = pd.Series(now["grade"].to_numpy(), index=now["customer_id"].to_numpy())
    matrix = m.cross_matrix(
        ids,
        before,
        after,
        row_name="from_grade",
        row_missing=m.UNSCORED,
        col_missing=m.UNSCORED,
        row_order=order,
        col_order=order,
    )
    both = after.index.intersection(before.index)
    rank = {g: i for i, g in enumerate(order)}
    steps = after.reindex(both).astype(str).map(rank) - before.reindex(both).astype(str).map(rank)
    moved = steps.dropna().astype(int).tolist()
    migration = Section(
        "grade_migration",
        f"Grade migration ({data.compare.label} -> {data.scores.label})",
        table=matrix,
        facts={
            "customers": len(ids),
            "in_both": len(both),
            "downgraded": sum(1 for d in moved if d > 0),
            "upgraded": sum(1 for d in moved if d < 0),
            "unchanged": sum(1 for d in moved if d == 0),
        },
        note="Rows: grade at the compare date; columns: grade at the as-of date.",
        chart=Chart(
            "heatmap", "from_grade", list(matrix.columns[1:]), "Grade migration", diagonal=True
        ),
    )
    return [dist, stability, migration]
