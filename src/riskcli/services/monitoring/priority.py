"""Money at risk: the priority of every alert, and the suppression of the ordinary alert
stream for customers in default or with a closed or suspended account.

Priority (cents) of a customer's alert:

- with a score: expected loss = EAD x PD x LGD, EAD the exposure on the as-of date (`book`
  rules, as the loader read it), PD from the latest score run, LGD from `[credit.loss]`;
- in default: PD 1, so EAD x LGD;
- without a score: the overdue amount x the factor of its stage (`[monitoring.priority]`);
- portfolio alerts (no customer): 0, they are not worked from the queue.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from riskcli.domain.money import to_cents
from riskcli.services import book
from riskcli.services.monitoring.config import ExposureGatedConfig, MonitoringConfig
from riskcli.services.monitoring.frames import Frames
from riskcli.services.monitoring.rules.exposure import exposure_by_customer
from riskcli.services.monitoring.rules.payment import overdue_by_customer, stage_of

#: rules a closed or suspended customer still gets
CLOSED_RULES = frozenset({"payment_overdue", "default"})
#: what a customer in default still gets besides its default case (new flags only)
DEFAULT_RULES = frozenset({"default", "thirdparty_adverse_flag"})
CLOSED_STATUSES = ("closed", "suspended")


def customer_money(frames: Frames, config: MonitoringConfig) -> pd.DataFrame:
    """Per customer: exposure, overdue, grade, pd, priority (cents; NaN where unknown)."""
    parts: dict[str, pd.Series] = {}
    if frames.has("receivables"):
        parts["exposure"] = exposure_by_customer(frames).astype("float64")
        per = overdue_by_customer(frames)
        parts["overdue"] = per["overdue"].astype("float64")
        parts["oldest_dpd"] = per["oldest_dpd"].astype("float64")
    if frames.has("scores"):
        scores = frames.get("scores")
        latest = scores[scores["run_seq"] == scores["run_seq"].max()].set_index("customer_id")
        parts["grade"] = latest["grade"].astype(object)
        parts["pd"] = latest["pd"].astype("float64")
    money = pd.DataFrame(parts)
    for column in ("exposure", "overdue", "oldest_dpd", "pd"):
        if column not in money.columns:
            money[column] = np.nan
    if "grade" not in money.columns:
        money["grade"] = None
    if frames.has("defaults"):
        defaulted = frames.get("defaults")["customer_id"].to_numpy()
        money = money.reindex(money.index.union(pd.Index(defaulted)))
        money.loc[defaulted, "pd"] = 1.0
        money.loc[defaulted, "grade"] = "DF"
    loss = frames.facts.get("loss") or book.LossPolicy()
    lgd = np.full(len(money), loss.lgd)
    if frames.has("customers") and loss.by_industry:
        industry = frames.get("customers").set_index("id")["industry"].reindex(money.index)
        lgd = loss.lgd_of(industry.to_numpy(dtype=object))
    exposure = money["exposure"].fillna(0).to_numpy()
    overdue = money["overdue"].fillna(0).to_numpy()
    stage = stage_of(money["oldest_dpd"].fillna(0).to_numpy(), config.payment_overdue.thresholds)
    factors = np.array([0.0, *config.priority.stage_factors])
    fallback = overdue * factors[np.clip(stage, 0, 4)]
    pd_ = money["pd"].to_numpy()
    money["priority"] = np.where(np.isnan(pd_), fallback, exposure * np.nan_to_num(pd_) * lgd)
    return money


#: (rule, rule it folds into): the same customer's case of the second rule takes the first in
#: (a limit breach of a customer with overdue invoices is worked by collecting them)
FOLDS = (
    ("payment_overdue_growth", "payment_overdue"),
    ("score_limit", "exposure_limit"),
    ("score_limit", "payment_overdue"),
    ("exposure_limit", "payment_overdue"),
    ("relationship_satisfaction", "relationship_complaint"),
)


#: rules whose case joins any other case of the same customer (working that case is the
#: contact the customer needs)
FOLD_INTO_ANY = (
    "relationship_no_contact",
    "behaviour_churn",
    "behaviour_anomaly",
    "thirdparty_bureau_drop",
)


def _fold(cands: pd.DataFrame) -> pd.DataFrame:
    """One case per customer and condition: a candidate whose customer has a case of the rule
    it folds into (`FOLDS`; any other case for `FOLD_INTO_ANY`) becomes part of that case's
    evidence, under its rule's name."""
    rule = cands["rule"].to_numpy()
    cid = cands["customer_id"].fillna(-1).to_numpy()
    drop = np.zeros(len(cands), dtype=bool)
    evidence = cands["evidence"].to_numpy(dtype=object).copy()

    def fold(part: str, is_host: np.ndarray) -> None:
        hosts: dict[int, int] = {}
        for i in np.flatnonzero(is_host & ~drop & (cid >= 0)):
            hosts.setdefault(int(cid[i]), int(i))
        for i in np.flatnonzero((rule == part) & ~drop):
            host = hosts.get(int(cid[i]))
            if host is None:
                continue
            merged = json.loads(str(evidence[host]))
            merged.setdefault(part, []).append(json.loads(str(evidence[i])))
            evidence[host] = json.dumps(merged, ensure_ascii=False)
            drop[i] = True

    for part, into in FOLDS:
        fold(part, rule == into)
    for part in FOLD_INTO_ANY:
        fold(part, ~np.isin(rule, FOLD_INTO_ANY))
    out = cands.assign(evidence=evidence)
    return out[~drop].reset_index(drop=True)


def suppress(cands: pd.DataFrame, frames: Frames, config: MonitoringConfig) -> pd.DataFrame:
    """Fold related cases (`FOLDS`), drop the cases of exposure-gated rules for customers
    below their `min_amount` of exposure, and what a customer in default or with a closed or
    suspended account must not get."""
    if cands.empty:
        return cands
    cands = _fold(cands)
    cid = cands["customer_id"]
    keep = np.ones(len(cands), dtype=bool)
    if frames.has("receivables"):
        exposure = exposure_by_customer(frames)
        owed = exposure.reindex(cid.fillna(-1).astype("int64").to_numpy()).fillna(0).to_numpy()
        for rule_id in cands["rule"].unique():
            cfg = config.rule(str(rule_id))
            if isinstance(cfg, ExposureGatedConfig):
                floor = to_cents(cfg.min_amount)
                keep &= ~((cands["rule"] == rule_id).to_numpy() & (owed < floor))
    if frames.has("customers"):
        customers = frames.get("customers")
        if "status" in customers.columns:
            closed = customers.loc[customers["status"].isin(CLOSED_STATUSES), "id"]
            keep &= ~(cid.isin(closed).to_numpy() & ~cands["rule"].isin(CLOSED_RULES).to_numpy())
    if frames.has("defaults"):
        defaulted = cid.isin(frames.get("defaults")["customer_id"]).to_numpy()
        keep &= ~(defaulted & ~cands["rule"].isin(DEFAULT_RULES).to_numpy())
        flags = np.flatnonzero(defaulted & (cands["rule"] == "thirdparty_adverse_flag").to_numpy())
        texts = cands["evidence"].to_numpy(dtype=object)
        for i in flags:  # a known flag of a defaulted customer is part of the recovery case
            if not json.loads(str(texts[i])).get("appeared_since_previous_report"):
                keep[i] = False
    return cands[keep].reset_index(drop=True)


def attach(cands: pd.DataFrame, money: pd.DataFrame) -> pd.DataFrame:
    """Add priority, exposure, overdue (cents) and grade of each candidate's customer."""
    if cands.empty:
        return cands.assign(priority=pd.Series(dtype="int64"), exposure=None, overdue=None,
                            grade=None)  # fmt: skip
    row = money.reindex(cands["customer_id"].fillna(-1).astype("int64").to_numpy())
    out = cands.copy()
    out["priority"] = np.round(row["priority"].fillna(0).to_numpy()).astype(np.int64)
    out["exposure"] = _cents_or_none(row["exposure"].to_numpy())
    out["overdue"] = _cents_or_none(row["overdue"].to_numpy())
    out["grade"] = row["grade"].astype(object).where(row["grade"].notna(), None).to_numpy()
    return out


def _cents_or_none(values: np.ndarray) -> list[int | None]:
    return [None if np.isnan(v) else round(float(v)) for v in values.astype(np.float64)]
