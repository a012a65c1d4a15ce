"""Reading what the reports need from the store.

The core tables (m001) are always there. Tier runs, score runs and alerts belong to other
capabilities and may be absent: each loader returns ``None`` (and the report says why) when
the table is missing or holds nothing for the requested date.

Dates: a *run* counts for an as-of date when its own as-of date is on or before it; the newest
such run wins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services import book
from riskcli.services.money_columns import decimal_column
from riskcli.storage.store import Store

CUSTOMER_COLUMNS = "id, external_id, name, kind, industry, region, credit_limit, status"


@dataclass
class ScoreSnapshot:
    """One score run: ``frame`` has customer_id (internal id), score, pd, grade."""

    label: str
    as_of: dt.date | None
    frame: pd.DataFrame
    run_id: int | None = None


@dataclass
class TierSnapshot:
    """One tier run: ``frame`` has customer_id (internal id), tier, segment, lifecycle."""

    label: str
    as_of: dt.date | None
    frame: pd.DataFrame


@dataclass
class PortfolioData:
    """Everything the portfolio report reads, already cut to the as-of (and compare) date."""

    as_of: dt.date
    customers: pd.DataFrame  # id, external_id, name, industry, region, credit_limit, status
    receivables: pd.DataFrame  # the book's open invoices on the as-of date (book.open_invoices)
    tiers: TierSnapshot | None = None
    tiers_note: str = "no tier run in the store yet (run `riskcli tier run`)"
    scores: ScoreSnapshot | None = None
    scores_note: str = "no score run in the store yet (run `riskcli score run`)"
    compare: ScoreSnapshot | None = None
    compare_note: str = "no earlier score run to compare with (use --compare DATE)"
    alerts: pd.DataFrame | None = None  # open alerts: customer_id, rule, severity
    alerts_note: str = "no monitoring data in the store yet (run `riskcli monitor run`)"
    in_default: pd.Series | None = None  # bool per customer id in default on the date (book)
    lgd: pd.Series | None = None  # loss given default per customer id ([credit.loss])


def _has(store: Store, *tables: str) -> bool:
    existing = set(store.tables())
    return all(t in existing for t in tables)


def _columns(store: Store, table: str) -> set[str]:
    return {str(r["name"]) for r in store.query(f'PRAGMA table_info("{table}")')}


def _date(text: Any) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def customers(store: Store) -> pd.DataFrame:
    return store.query_df(f"SELECT {CUSTOMER_COLUMNS} FROM customers ORDER BY id")


# ---- scores ----------------------------------------------------------------------------------
def score_runs(store: Store) -> pd.DataFrame | None:
    """All score runs, oldest first: run_id, as_of, label. None when scoring is not installed."""
    if not _has(store, "score_runs", "scores"):
        return None
    cols = _columns(store, "score_runs")
    as_of = "as_of" if "as_of" in cols else "started_at" if "started_at" in cols else "NULL"
    started = "started_at" if "started_at" in cols else as_of
    runs = store.query_df(
        f"SELECT id AS run_id, {as_of} AS as_of, {started} AS started FROM score_runs "
        "ORDER BY as_of, id"
    )
    if runs.empty:
        return runs
    runs["as_of"] = runs["as_of"].map(_date)
    return runs


def score_snapshot(
    store: Store, on: dt.date, *, before_run: int | None = None
) -> ScoreSnapshot | None:
    """The newest score run with as-of <= *on* (or the one before run *before_run*)."""
    runs = score_runs(store)
    if runs is None or runs.empty:
        return None
    eligible = runs.loc[runs["as_of"].map(lambda d: d is not None and d <= on).astype(bool)]
    if before_run is not None:
        position = runs.index[runs["run_id"] == before_run]
        if len(position) == 0:
            return None
        eligible = runs.loc[: position[0]].iloc[:-1]
        eligible = eligible.loc[
            eligible["as_of"].map(lambda d: d is not None and d <= on).astype(bool)
        ]
    if eligible.empty:
        return None
    run = eligible.iloc[-1]
    frame = store.query_df(
        "SELECT customer_id, score, pd, grade FROM scores WHERE run_id = ?", (int(run["run_id"]),)
    )
    as_of = run["as_of"]
    label = f"score run {int(run['run_id'])}" + (f" ({as_of.isoformat()})" if as_of else "")
    return ScoreSnapshot(label=label, as_of=as_of, frame=frame, run_id=int(run["run_id"]))


# ---- tiers -----------------------------------------------------------------------------------
def tier_snapshot(store: Store, on: dt.date) -> TierSnapshot | None:
    if not _has(store, "tier_runs", "tier_results"):
        return None
    runs = store.query_df("SELECT id AS run_id, as_of FROM tier_runs ORDER BY as_of, id")
    if runs.empty:
        return None
    runs["as_of"] = runs["as_of"].map(_date)
    eligible = runs.loc[runs["as_of"].map(lambda d: d is not None and d <= on).astype(bool)]
    if eligible.empty:
        return None
    run = eligible.iloc[-1]
    frame = store.query_df(
        "SELECT customer_id, tier, segment, stage AS lifecycle FROM tier_results WHERE run_id = ?",
        (int(run["run_id"]),),
    )
    label = f"tier run {int(run['run_id'])} ({run['as_of'].isoformat()})"
    return TierSnapshot(label=label, as_of=run["as_of"], frame=frame)


# ---- alerts ----------------------------------------------------------------------------------
ACTIVE_ALERT = "status IN ('open', 'acknowledged')"


def open_alerts(store: Store) -> pd.DataFrame | None:
    """Open and acknowledged alerts: customer_id, rule, severity. None without monitoring."""
    if not _has(store, "alerts"):
        return None
    return store.query_df(f"SELECT customer_id, rule, severity FROM alerts WHERE {ACTIVE_ALERT}")


def customer_alerts(store: Store, cid: int) -> pd.DataFrame | None:
    """One customer's open and acknowledged alerts, worst first."""
    if not _has(store, "alerts"):
        return None
    return store.query_df(
        "SELECT id AS alert_id, severity, rule, title, action, status, created_at, updated_at "
        f"FROM alerts WHERE customer_id = ? AND {ACTIVE_ALERT} "
        "ORDER BY severity_rank DESC, updated_at DESC",
        (cid,),
    )


def tier_history(store: Store, cid: int, on: dt.date) -> pd.DataFrame | None:
    """Every tier run's result for one customer up to *on*, oldest first."""
    if not _has(store, "tier_runs", "tier_results") or not store.scalar(
        "SELECT count(*) FROM tier_runs"
    ):
        return None
    frame = store.query_df(
        "SELECT r.id AS run_id, r.as_of, t.tier, t.segment, t.stage AS lifecycle "
        "FROM tier_results t JOIN tier_runs r ON r.id = t.run_id "
        "WHERE t.customer_id = ? AND r.as_of <= ? ORDER BY r.as_of, r.id",
        (cid, on.isoformat()),
    )
    return frame


def score_history(store: Store, cid: int, on: dt.date) -> pd.DataFrame | None:
    """Every score run's result for one customer up to *on*, oldest first, with its reasons."""
    runs = score_runs(store)
    if runs is None or runs.empty:
        return None
    frame = store.query_df(
        "SELECT s.run_id, s.score, s.pd, s.grade, r.model_id, s.bins, s.reasons AS codes, "
        "s.reason1, s.reason2, s.reason3, s.reason4, s.recommended_limit, s.current_limit "
        "FROM score_runs r CROSS JOIN scores s ON s.run_id = r.id AND s.customer_id = ? "
        "ORDER BY s.run_id",  # run by run through the primary key: no index by customer (m062)
        (cid,),
    )
    frame = frame.merge(runs[["run_id", "as_of"]], on="run_id", how="left")
    keep = frame["as_of"].map(lambda d: d is not None and d <= on).astype(bool)
    frame = frame.loc[keep].reset_index(drop=True)
    from riskcli.services.scoring.reasons import StoredReasons  # the scorecard engine: on use

    stored = StoredReasons(store)
    kind = store.scalar("SELECT kind FROM customers WHERE id = ?", (cid,))
    legacy = zip(*(frame[f"reason{i}"].tolist() for i in range(1, 5)), strict=True)
    frame["reasons"] = [
        "; ".join(stored.texts(int(model), bins, codes, old, kind))
        for model, bins, codes, old in zip(
            frame["model_id"].tolist(),
            frame["bins"].tolist(),
            frame["codes"].tolist(),
            legacy,
            strict=True,
        )
    ]
    for col in ("recommended_limit", "current_limit"):
        frame[col] = decimal_column(frame[col]).to_numpy()
    cols = ["run_id", "as_of", "score", "pd", "grade", "reasons", "recommended_limit"]
    return frame[cols]


def score_reasons(store: Store, cid: int, run_id: int) -> list[str]:
    """The reason texts of one customer's score in one run, most points lost first."""
    rows = store.query(
        "SELECT r.model_id, s.bins, s.reasons, s.reason1, s.reason2, s.reason3, s.reason4 "
        "FROM scores s JOIN score_runs r ON r.id = s.run_id "
        "WHERE s.run_id = ? AND s.customer_id = ?",
        (run_id, cid),
    )
    if not rows:
        return []
    from riskcli.services.scoring.reasons import StoredReasons  # the scorecard engine: on use

    row = rows[0]
    legacy = [row[f"reason{i}"] for i in range(1, 5)]
    kind = store.scalar("SELECT kind FROM customers WHERE id = ?", (cid,))
    return StoredReasons(store).texts(row["model_id"], row["bins"], row["reasons"], legacy, kind)


def recommended_limit(store: Store, cid: int, on: dt.date) -> int | None:
    """The recommended credit limit (cents) of the newest score run up to *on*, if any."""
    snapshot = score_snapshot(store, on)
    if snapshot is None or snapshot.run_id is None:
        return None
    value = store.scalar(
        "SELECT recommended_limit FROM scores WHERE run_id = ? AND customer_id = ?",
        (snapshot.run_id, cid),
    )
    return None if value is None else int(value)


# ---- everything the portfolio report needs ---------------------------------------------------
def portfolio_data(
    store: Store,
    *,
    as_of: dt.date | None,
    compare: dt.date | None,
    config: dict[str, Any] | None = None,
) -> PortfolioData:
    day = as_of or dt.date.today()
    if compare is not None and compare >= day:
        raise InputError(
            f"--compare {compare.isoformat()} must be before the as-of date {day.isoformat()}"
        )
    credit = book.load_credit_config(config)
    data = PortfolioData(
        as_of=day, customers=customers(store), receivables=book.open_invoices(store, day)
    )
    state = book.default_state(store, day, credit.default)
    data.in_default = pd.Series(state.in_default, index=state.ids)
    data.lgd = pd.Series(
        credit.loss.lgd_of(data.customers["industry"].to_numpy()),
        index=data.customers["id"].to_numpy(),
    )
    runs = score_runs(store)
    if runs is not None:
        data.scores = score_snapshot(store, day)
        if data.scores is None:
            data.scores_note = f"no score run on or before {day.isoformat()}"
        elif compare is not None:
            data.compare = score_snapshot(store, compare)
            if data.compare is None:
                data.compare_note = f"no score run on or before --compare {compare.isoformat()}"
            elif data.compare.run_id == data.scores.run_id:
                data.compare = None
                data.compare_note = (
                    f"--compare {compare.isoformat()} and the as-of date pick the same score "
                    f"run ({data.scores.label}); nothing to compare"
                )
        else:
            data.compare = score_snapshot(store, day, before_run=data.scores.run_id)
    tiers = tier_snapshot(store, day)
    if tiers is not None:
        data.tiers = tiers
    elif _has(store, "tier_runs"):
        data.tiers_note = f"no tier run on or before {day.isoformat()}"
    data.alerts = open_alerts(store)
    return data
