"""`contracts list`: contracts with the customer's open monitoring alerts beside them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd

from riskcli.domain.errors import UsageError
from riskcli.services.monitoring.fetch import day_sql
from riskcli.services.monitoring.frames import day_number, days_to_iso, money
from riskcli.services.monitoring.rules.contracts import LIVE
from riskcli.storage.store import Store

_SPAN = re.compile(r"^\s*(\d+)\s*([dw]?)\s*$", re.IGNORECASE)


def parse_days(text: str, option: str = "--expiring") -> int:
    """'30d' -> 30, '4w' -> 28, '45' -> 45."""
    match = _SPAN.match(text)
    if not match:
        raise UsageError(f"{option} takes days like 30d or weeks like 4w, not {text!r}")
    number, unit = int(match.group(1)), match.group(2).lower()
    return number * 7 if unit == "w" else number


def list_contracts(
    store: Store,
    *,
    expiring_days: int | None = None,
    as_of: dt.date | None = None,
    customer: str | None = None,
    status: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Contracts (soonest end first) with the open alerts of their customer.

    With `expiring_days`, only live (active or amended) contracts ending between `as_of` and
    `expiring_days` later; `renewal_on_file` says whether the customer has a later contract.
    """
    as_of = as_of or dt.date.today()
    today = day_number(as_of)
    where: list[str] = []
    params: list[Any] = []
    if expiring_days is not None:
        marks = ",".join("?" * len(LIVE))
        where.append(f"c.status IN ({marks}) AND c.end_date >= ? AND c.end_date <= ?")
        params += [*LIVE, as_of.isoformat(), (as_of + dt.timedelta(days=expiring_days)).isoformat()]
    if customer:
        where.append("cu.external_id = ?")
        params.append(customer)
    if status:
        where.append("c.status = ?")
        params.append(status)
    sql = (
        f"SELECT c.contract_number, cu.external_id AS customer, cu.name, c.customer_id, "
        f"c.start_date, {day_sql('c.end_date')} AS end_day, c.value, c.status, "
        "(SELECT max(o.end_date) FROM contracts o WHERE o.customer_id = c.customer_id "
        "AND o.id != c.id AND o.status IN ('draft', 'active', 'amended')) AS later_end "
        "FROM contracts c JOIN customers cu ON cu.id = c.customer_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY c.end_date IS NULL, c.end_date, c.contract_number"
        + (f" LIMIT {int(limit)}" if limit else "")
    )
    frame = store.query_df(sql, tuple(params))
    columns = ["contract_number", "customer", "name", "start_date", "end_date", "days_left",
               "value", "status", "renewal_on_file", "open_alerts", "top_alert"]  # fmt: skip
    if frame.empty:
        return pd.DataFrame(columns=columns)
    end_day = frame["end_day"].astype("Float64")
    frame["end_date"] = days_to_iso(frame["end_day"])
    frame["days_left"] = (end_day - today).astype("Int64")
    frame["value"] = money(frame["value"])
    frame["renewal_on_file"] = frame["later_end"].notna() & (
        frame["later_end"].fillna("") > frame["end_date"].fillna("")
    )
    alerts = _open_alerts(store, sorted({int(c) for c in frame["customer_id"]}))
    frame = frame.join(alerts, on="customer_id")
    frame["open_alerts"] = frame["open_alerts"].fillna(0).astype("int64")
    frame["top_alert"] = frame["top_alert"].astype(object).where(frame["top_alert"].notna(), "")
    out: pd.DataFrame = frame[columns].reset_index(drop=True)
    return out


def _open_alerts(store: Store, customer_ids: list[int]) -> pd.DataFrame:
    """Per customer: the number of open/acknowledged alerts and the most severe one."""
    empty = pd.DataFrame(columns=["open_alerts", "top_alert"], index=pd.Index([], dtype="int64"))
    if not customer_ids or not store.has_table("alerts"):
        return empty
    store.execute("CREATE TEMP TABLE IF NOT EXISTS mon_ids (id INTEGER PRIMARY KEY)")
    store.execute("DELETE FROM temp.mon_ids")
    store.executemany("INSERT INTO temp.mon_ids VALUES (?)", [(i,) for i in customer_ids])
    rows = store.query_df(
        "SELECT a.customer_id, a.id, a.severity, a.title FROM alerts a "
        "JOIN temp.mon_ids m ON m.id = a.customer_id WHERE a.status != 'resolved' "
        "ORDER BY a.customer_id, a.severity_rank DESC, a.id"
    )
    store.execute("DROP TABLE temp.mon_ids")
    if rows.empty:
        return empty
    counts = rows.groupby("customer_id").size().rename("open_alerts")
    top = rows.drop_duplicates("customer_id").set_index("customer_id")
    label = "#" + top["id"].astype(str) + " " + top["severity"] + ": " + top["title"]
    joined: pd.DataFrame = pd.concat([counts, label.rename("top_alert")], axis=1)
    return joined
