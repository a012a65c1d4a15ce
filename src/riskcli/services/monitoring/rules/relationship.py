"""Relationship rules: no contact with a top-tier customer, complaints, low satisfaction."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskcli.services.monitoring.config import (
    ComplaintConfig,
    NoContactConfig,
    SatisfactionConfig,
)
from riskcli.services.monitoring.frames import (
    Frames,
    candidates,
    days_to_iso,
    labels,
    watched_tiers,
)


def relationship_no_contact(frames: Frames, cfg: NoContactConfig) -> pd.DataFrame:
    """A watched-tier customer with no interaction for `days` days (low), twice that or
    never (medium)."""
    watched = watched_tiers(frames, cfg.tiers)
    inter = frames.get("interactions")
    past = inter[inter["date"].astype("float64") <= frames.as_of]
    last = past.groupby("customer_id")["date"].max().reindex(watched.index)
    since = frames.as_of - last.astype("float64")
    hit = since.isna() | (since >= cfg.days)
    watched, last, since = watched[hit], last[hit], since[hit]
    idx = watched.index
    never = since.isna()
    severity = np.where(never | (since >= 2 * cfg.days), "medium", "low")
    since_text = since.astype("Int64").astype(str)
    prefix = np.where(
        never,
        "No recorded contact ever with tier ",
        "No contact for " + since_text + " days with tier ",
    )
    title = labels(prefix, idx) + watched.astype(str) + " customer"
    return candidates(
        "relationship_no_contact",
        customer_id=pd.Series(idx, index=idx),
        subject="contact",
        severity=pd.Series(severity, index=idx),
        title=title,
        action="schedule a visit",
        evidence={
            "tier": watched.astype(str),
            "last_contact": days_to_iso(last),
            "days_since_contact": since.astype("Int64"),
            "threshold_days": cfg.days,
        },
    )


def _recent(frames: Frames, window_days: int) -> pd.DataFrame:
    inter = frames.get("interactions")
    date = inter["date"].astype("float64")
    return inter[(date > frames.as_of - window_days) & (date <= frames.as_of)]


def relationship_complaint(frames: Frames, cfg: ComplaintConfig) -> pd.DataFrame:
    """A complaint in the last `window_days` (one alert per complaint)."""
    recent = _recent(frames, cfg.window_days)
    sel = recent[recent["kind"] == "complaint"]
    date = days_to_iso(sel["date"]).astype(str)
    return candidates(
        "relationship_complaint",
        customer_id=sel["customer_id"],
        subject=sel["id"].astype(str),
        severity="medium",
        title="Complaint recorded on " + date,
        action="call the customer back about the complaint and log the outcome",
        evidence={"interaction_id": sel["id"], "date": date},
    )


def relationship_satisfaction(frames: Frames, cfg: SatisfactionConfig) -> pd.DataFrame:
    """A satisfaction rating at or below `max_score` in the last `window_days`
    (medium for 1, low otherwise)."""
    recent = _recent(frames, cfg.window_days)
    rating = recent["satisfaction"].astype("float64")
    sel = recent[rating <= cfg.max_score]
    rating = rating[rating <= cfg.max_score]
    date = days_to_iso(sel["date"]).astype(str)
    return candidates(
        "relationship_satisfaction",
        customer_id=sel["customer_id"],
        subject=sel["id"].astype(str),
        severity=pd.Series(np.where(rating <= 1, "medium", "low"), index=sel.index),
        title="Satisfaction "
        + rating.astype("int64").astype(str)
        + "/5 on "
        + date
        + " ("
        + sel["kind"].astype(str)
        + ")",
        action="schedule a visit to understand the low satisfaction",
        evidence={
            "interaction_id": sel["id"],
            "kind": sel["kind"],
            "date": date,
            "satisfaction": rating.astype("int64"),
        },
    )
