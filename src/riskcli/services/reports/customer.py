"""A one-page risk profile of one customer for a credit committee.

Identity (phone, email and national id masked unless revealed), tier and lifecycle with their
history, score, grade and reasons with their history, credit limit and utilisation, aging and
open invoices, credit reports, contracts, interactions and complaints, open alerts. Sections
whose data the store does not hold say so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd

from riskcli.domain.money import from_cents, to_cents
from riskcli.domain.pii import PII_COLUMNS, mask
from riskcli.services import book
from riskcli.services.limits.groups import customer_limit_facts
from riskcli.services.money_columns import decimal_column
from riskcli.services.queries import customers
from riskcli.services.reports import data as loaders
from riskcli.services.reports import metrics as m
from riskcli.services.reports.model import Chart, Report, Section
from riskcli.services.reports.portfolio import AGING_COLORS
from riskcli.storage.store import Store

SECTION_KEYS: tuple[str, ...] = (
    "identity",
    "tier",
    "score",
    "reasons",
    "default",
    "limit",
    "aging",
    "open_invoices",
    "credit_reports",
    "contracts",
    "interactions",
    "alerts",
)


def build_customer(
    store: Store,
    ident: str,
    *,
    as_of: dt.date | None = None,
    reveal: bool = False,
    progress: Callable[[int], None] | None = None,
    config: dict[str, Any] | None = None,
) -> Report:
    day = as_of or dt.date.today()
    policy = book.load_credit_config(config).default
    head = customers.header(store, ident)
    cid = head.pk
    sections = [
        _identity(head, reveal),
        *_tier(store, cid, day),
        *_score(store, cid, day),
    ]
    sections.append(_default(store, cid, day, policy))
    items = m.aged(book.open_invoices(store, day, customer_pk=cid))
    sections.append(_limit(store, head, items, day))
    table = m.aging_table(items)
    sections.append(
        Section(
            "aging",
            "Receivables aging",
            table=table,
            facts={"outstanding": sum(table["amount"], from_cents(0))},
            chart=Chart(
                "bars", "bucket", ["amount"], "Outstanding by days past due", colors=AGING_COLORS
            ),
        )
    )
    invoices = items.drop(columns=["customer_id"]).sort_values(
        ["days_past_due", "invoice_number"], ascending=[False, True]
    )
    invoices["outstanding"] = decimal_column(invoices["outstanding"]).to_numpy()
    sections.append(
        Section("open_invoices", "Open invoices", table=invoices.reset_index(drop=True))
    )
    sections += [
        _credit_reports(store, cid, day),
        _contracts(store, cid, day),
        _interactions(store, cid, day),
        _alerts(store, cid),
    ]
    if progress:
        progress(1)
    return Report(
        kind="customer",
        title=f"Customer risk profile: {head.external_id}" + (f" {head.name}" if head.name else ""),
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        params={"customer": head.external_id, "as_of": day, "revealed": reveal},
        sections=sections,
    )


def _identity(head: customers.Header, reveal: bool) -> Section:
    values: list[object] = []
    for field, value in head.identity().items():
        values.append(
            mask(value, PII_COLUMNS[field]) if field in PII_COLUMNS and not reveal else value
        )
    table = pd.DataFrame({"field": list(customers.IDENTITY_FIELDS), "value": values})
    table["field"] = table["field"].replace({"external_id": "customer_id"})
    note = "" if reveal else "Phone, email and national id are masked; --reveal shows them."
    return Section("identity", "Identity", table=table, note=note)


def _tier(store: Store, cid: int, day: dt.date) -> list[Section]:
    history = loaders.tier_history(store, cid, day)
    if history is None:
        return [Section.missing("tier", "Tier and lifecycle", "no tier run in the store yet")]
    if history.empty:
        return [Section.missing("tier", "Tier and lifecycle", "no tier run covers this customer")]
    latest = history.iloc[-1]
    facts = {k: latest[k] for k in ("tier", "segment", "lifecycle") if k in history.columns}
    return [Section("tier", "Tier and lifecycle", table=history, facts=facts)]


def _score(store: Store, cid: int, day: dt.date) -> list[Section]:
    history = loaders.score_history(store, cid, day)
    why = (
        "no score run in the store yet"
        if history is None
        else "no score run covers this customer"
        if history.empty
        else ""
    )
    if history is None or history.empty:
        return [
            Section.missing("score", "Score and grade", why),
            Section.missing("reasons", "Reasons of the latest score", why),
        ]
    latest = history.iloc[-1]
    facts = {k: latest[k] for k in ("score", "grade", "pd") if k in history.columns}
    texts = loaders.score_reasons(store, cid, int(latest["run_id"]))
    reasons = pd.DataFrame({"rank": range(1, len(texts) + 1), "reason": texts})
    return [
        Section("score", "Score, grade and reasons (history)", table=history, facts=facts),
        Section(
            "reasons",
            "Reasons of the latest score",
            table=reasons,
            note=f"The factors costing the most points in score run {latest['run_id']}."
            if texts
            else "No reason recorded.",
        ),
    ]


def _default(store: Store, cid: int, day: dt.date, policy: book.DefaultPolicy) -> Section:
    """The default state on the date and every default episode up to it (the book's rule)."""
    state = book.default_state(
        store, day, policy, where="AND customer_id = :cid", extra={"cid": cid}
    )
    now = bool(state.in_default.any())
    amount = int(state.amount[state.in_default].sum()) if now else 0
    episodes = book.default_episodes(store, cid, day, policy)
    table = pd.DataFrame(
        {
            "entered": [e.entered for e in episodes],
            "cured": [e.cured for e in episodes],
            "amount_at_entry": [e.amount_at_entry.quantize(from_cents(0)) for e in episodes],
        }
    )
    return Section(
        "default",
        "Default status and episodes",
        table=table,
        facts={
            "in_default": now,
            "amount_past_due_beyond_threshold": from_cents(amount),
            "episodes": len(episodes),
        },
        note=f"In default: more than {policy.days_past_due} days past due on a material amount "
        f"(above {policy.materiality_amount} and {policy.materiality_share:.0%} of exposure); "
        f"cured after {policy.cure_months} quiet months."
        + ("" if episodes else " No default so far."),
    )


def _limit(store: Store, head: customers.Header, items: pd.DataFrame, day: dt.date) -> Section:
    limit_c = to_cents(head.credit_limit)
    exposure_c = int(items["outstanding"].sum()) if not items.empty else 0
    overdue_c = int(items.loc[items["days_past_due"] > 0, "outstanding"].sum()) if exposure_c else 0
    rows: list[tuple[str, Any]] = [
        ("credit_limit", from_cents(limit_c)),
        ("exposure", from_cents(exposure_c)),
        ("overdue", from_cents(overdue_c)),
        ("utilisation", round(exposure_c / limit_c, 6) if limit_c else None),
        ("headroom", from_cents(limit_c - exposure_c)),
    ]
    recommended = loaders.recommended_limit(store, head.pk, day)
    if recommended is not None:
        rows.append(("recommended_limit", from_cents(recommended)))
        rows.append(("above_recommended", limit_c > recommended))
    rows += customer_limit_facts(store, head.pk, day)  # expiry, review, group position
    table = pd.DataFrame({"metric": [r[0] for r in rows], "value": [r[1] for r in rows]})
    facts = {k: v for k, v in rows if k in ("credit_limit", "exposure", "utilisation")}
    return Section("limit", "Credit limit and utilisation", table=table, facts=facts)


def _credit_reports(store: Store, cid: int, day: dt.date) -> Section:
    frame = store.query_df(
        "SELECT provider, report_date, score, rating, lawsuit, bankruptcy, tax_violation, "
        "dishonest_debtor, other_flag FROM credit_reports WHERE customer_id = ? "
        "AND report_date <= ? ORDER BY report_date DESC",
        (cid, day.isoformat()),
    )
    if frame.empty:
        return Section("credit_reports", "Credit reports", note="No credit report on file.")
    flags = ["lawsuit", "bankruptcy", "tax_violation", "dishonest_debtor", "other_flag"]
    for f in flags:
        frame[f] = frame[f].astype(bool)
    latest = frame.iloc[0]
    adverse = [f for f in flags if latest[f]]
    return Section(
        "credit_reports",
        "Credit reports",
        table=frame,
        facts={
            "latest": latest["report_date"],
            "bureau_score": latest["score"],
            "adverse_flags": ", ".join(adverse) or "none",
        },
    )


def _contracts(store: Store, cid: int, day: dt.date) -> Section:
    frame = store.query_df(
        "SELECT contract_number, signed_date, start_date, end_date, value, status "
        "FROM contracts WHERE customer_id = ? AND COALESCE(signed_date, start_date, '') <= ? "
        "ORDER BY end_date DESC",
        (cid, day.isoformat()),
    )
    if frame.empty:
        return Section("contracts", "Contracts", note="No contract on file.")
    frame["value"] = decimal_column(frame["value"]).to_numpy()
    active = frame[frame["status"].isin(["active", "amended"])]
    ends = pd.to_datetime(active["end_date"], errors="coerce")
    soon = int(
        ((ends >= pd.Timestamp(day)) & (ends <= pd.Timestamp(day) + pd.Timedelta(days=90))).sum()
    )
    return Section(
        "contracts",
        "Contracts",
        table=frame,
        facts={"active": len(active), "expiring_90d": soon},
    )


def _interactions(store: Store, cid: int, day: dt.date) -> Section:
    frame = store.query_df(
        "SELECT date, kind, satisfaction, note FROM interactions WHERE customer_id = ? "
        "AND date <= ? ORDER BY date DESC",
        (cid, day.isoformat()),
    )
    if frame.empty:
        return Section("interactions", "Interactions and complaints", note="No interaction.")
    sat = pd.to_numeric(frame["satisfaction"], errors="coerce")
    return Section(
        "interactions",
        "Interactions and complaints",
        table=frame,
        facts={
            "last_contact": frame["date"].iloc[0],
            "complaints": int((frame["kind"] == "complaint").sum()),
            "avg_satisfaction": round(float(sat.mean()), 2) if sat.notna().any() else None,
        },
    )


def _alerts(store: Store, cid: int) -> Section:
    frame = loaders.customer_alerts(store, cid)
    if frame is None:
        return Section.missing(
            "alerts",
            "Open alerts",
            "no monitoring data in the store yet (run `riskcli monitor run`)",
        )
    note = "" if not frame.empty else "No open alert."
    return Section("alerts", "Open alerts", table=frame, facts={"open": len(frame)}, note=note)
