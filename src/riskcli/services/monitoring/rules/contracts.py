"""Contract rules: an active contract about to end; business on an expired/terminated one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcli.services.money_columns import text_column
from riskcli.services.monitoring.config import ContractExpiringConfig, UncoveredBusinessConfig
from riskcli.services.monitoring.frames import (
    Frames,
    candidates,
    days_to_iso,
    empty_candidates,
)

#: statuses of a contract that covers business
LIVE = ("active", "amended")
LAPSED = ("expired", "terminated")


def expiring_contracts(contracts: pd.DataFrame, as_of: int, days: int) -> pd.DataFrame:
    """Live contracts ending within `days` of `as_of` and not already followed by a later
    contract (renewed) of the same customer. Shared with `contracts list --expiring`."""
    end = contracts["end_date"].astype("float64")
    live = contracts["status"].isin((*LIVE, "draft")) & end.notna()
    latest_end = end.where(live).groupby(contracts["customer_id"]).transform("max")
    hit = contracts["status"].isin(LIVE) & (end >= as_of) & (end <= as_of + days)
    hit &= ~(latest_end > end)
    out = contracts[hit].copy()
    out["days_left"] = (out["end_date"].astype("int64") - as_of).astype("int64")
    return out


def contract_expiring(frames: Frames, cfg: ContractExpiringConfig) -> pd.DataFrame:
    """A live contract ending within `days` (low; medium within `urgent_days`) with no renewal
    on file."""
    sel = expiring_contracts(frames.get("contracts"), frames.as_of, cfg.days)
    left = sel["days_left"]
    number = sel["contract_number"].astype(str)
    end = days_to_iso(sel["end_date"]).astype(str)
    return candidates(
        "contract_expiring",
        customer_id=sel["customer_id"],
        subject=number,
        severity=pd.Series(np.where(left <= cfg.urgent_days, "medium", "low"), index=sel.index),
        title="Contract " + number + " ends on " + end + " (" + left.astype(str) + " days)",
        action="renew the contract",
        evidence={"contract_number": number, "end_date": end, "days_left": left},
    )


def contract_uncovered_business(frames: Frames, cfg: UncoveredBusinessConfig) -> pd.DataFrame:
    """Orders in the last `window_days` from a customer whose contracts have all lapsed
    (expired, terminated, or ended before the order); high when one was terminated."""
    tx = frames.get("transactions")
    date = tx["date"].to_numpy()
    mask = (tx["kind"] == "order").to_numpy() & (date > frames.as_of - cfg.window_days)
    mask &= date <= frames.as_of
    orders = pd.DataFrame(
        {
            "customer_id": tx["customer_id"].to_numpy()[mask],
            "date": date[mask],
            "amount": tx["amount"].to_numpy()[mask],
        }
    )
    per = orders.groupby("customer_id").agg(
        last_order=("date", "max"), orders=("date", "size"), amount=("amount", "sum")
    )
    con = frames.get("contracts")
    con = con[con["customer_id"].isin(per.index)]
    if con.empty or per.empty:
        return empty_candidates()
    con = con.join(per["last_order"], on="customer_id")
    end = con["end_date"].astype("float64")
    covers = con["status"].isin(LIVE) & (end.isna() | (end >= con["last_order"]))
    lapsed = con["status"].isin(LAPSED) | (end < con["last_order"])
    terminated = con["status"] == "terminated"
    flags = (
        pd.DataFrame(
            {
                "covers": covers,
                "lapsed": lapsed,
                "terminated": terminated,
                "customer_id": con["customer_id"],
            }
        )
        .groupby("customer_id")
        .any()
    )
    latest_number = (
        con.assign(_end=end)
        .sort_values(["customer_id", "_end"], kind="stable")
        .drop_duplicates("customer_id", keep="last")
        .set_index("customer_id")
    )
    hit = flags["lapsed"] & ~flags["covers"]
    idx = flags.index[hit]
    p = per.loc[idx]
    last = latest_number.loc[idx]
    number = last["contract_number"].astype(str)
    severity = np.where(flags.loc[idx, "terminated"], "high", "medium")
    return candidates(
        "contract_uncovered_business",
        customer_id=pd.Series(idx, index=idx),
        subject="contract",
        severity=pd.Series(severity, index=idx),
        title=p["orders"].astype(str)
        + " orders ("
        + text_column(p["amount"])
        + ") since contract "
        + number
        + " lapsed ("
        + last["status"].astype(str)
        + ")",
        action="stop shipping on credit until a new contract is signed",
        evidence={
            "contract_number": number,
            "contract_status": last["status"].astype(str),
            "contract_end_date": days_to_iso(last["end_date"]),
            "orders_in_window": p["orders"],
            "order_amount": text_column(p["amount"]),
            "last_order": days_to_iso(p["last_order"]),
        },
    )
