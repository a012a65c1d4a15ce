"""The reading side of tiering that a lookup needs: runs, a customer's tier and its policy.

Plain SQL and no analytics library, so `tier show` and `customers show` start fast; the runs
themselves are computed in `service` and `compute`.
"""

from __future__ import annotations

import json
from typing import Any

from riskcli.domain.errors import InputError
from riskcli.domain.money import money_fields
from riskcli.services.queries import customers
from riskcli.services.tiering.config import TieringConfig, load_tiering_config
from riskcli.storage.store import Store

RESULT_SELECT = (
    "SELECT c.external_id AS customer_id, c.name AS name, r.tier, r.segment, r.stage, "
    "r.recency_days, r.frequency, r.monetary, r.tenure_days, r.interval_days, "
    "r.r_score, r.f_score, r.m_score, r.cluster "
    "FROM tier_results r JOIN customers c ON c.id = r.customer_id "
)


def get_run(store: Store, run: int | None = None) -> dict[str, Any]:
    """One run (the latest when `run` is None) with params and stats decoded."""
    if run is None:
        rows = store.query("SELECT * FROM tier_runs ORDER BY id DESC LIMIT 1")
        if not rows:
            raise InputError("no tier runs yet: run `riskcli tier run` first")
    else:
        rows = store.query("SELECT * FROM tier_runs WHERE id = ?", (int(run),))
        if not rows:
            raise InputError(f"no tier run {run} (see `riskcli tier runs`)")
    row = rows[0]
    row["params"] = json.loads(row["params"])
    row["stats"] = json.loads(row["stats"])
    return row


def resolve_customer(store: Store, ref: str | int) -> int:
    """A customer's internal id from its external id (or, failing that, an internal id)."""
    if isinstance(ref, int):
        found = store.scalar("SELECT id FROM customers WHERE id = ?", (ref,))
    else:
        found = customers.pk(store, ref)
        if found is None and ref.isdigit():
            found = store.scalar("SELECT id FROM customers WHERE id = ?", (int(ref),))
    if found is None:
        raise InputError(f"no customer {ref}")
    return int(found)


def customer_history(store: Store, ref: str | int) -> list[dict[str, Any]]:
    """One customer's results in every run, newest first; money in currency units."""
    cid = resolve_customer(store, ref)
    sql = RESULT_SELECT.replace("SELECT ", "SELECT r.run_id AS run, t.as_of, t.method, ", 1)
    # runs first (CROSS JOIN fixes the order): one primary-key lookup per run
    sql = sql.replace(
        "FROM tier_results r ", "FROM tier_runs t CROSS JOIN tier_results r ON r.run_id = t.id "
    )
    rows = store.query(sql + "WHERE r.customer_id = ? ORDER BY r.run_id DESC", (cid,))
    if not rows:
        get_run(store)  # says "no tier runs yet" when that is the reason
        raise InputError(f"customer {ref} is in no tier run yet (it was added after the last run)")
    for row in rows:
        money_fields(row, "monetary")
    return rows


def latest_tier(store: Store, customer_id: int) -> dict[str, Any] | None:
    """The customer's row in the latest run, or None (no run, or not in it)."""
    if not store.has_table("tier_runs"):
        return None
    rows = store.query(
        "SELECT r.run_id, t.as_of, r.tier, r.segment, r.stage FROM tier_results r "
        "JOIN tier_runs t ON t.id = r.run_id WHERE r.customer_id = ? "
        "AND r.run_id = (SELECT max(id) FROM tier_runs)",
        (int(customer_id),),
    )
    return rows[0] if rows else None


def service_policy(
    store_or_config: Store | dict[str, Any] | TieringConfig | None,
    customer_id: int | str | None = None,
    config: dict[str, Any] | TieringConfig | None = None,
) -> dict[str, Any]:
    """What `customers show` prints: tier, segment, stage and the tier's service policy.

    `service_policy(store, 42)` looks up the customer (internal id, or external id as str) in
    the latest run; `service_policy(config_or_None, "A")` just gives tier A's policy text.
    """
    if isinstance(store_or_config, Store):
        cfg = config if isinstance(config, TieringConfig) else load_tiering_config(config)
        if customer_id is None:
            raise InputError("service_policy needs a customer id")
        cid = resolve_customer(store_or_config, customer_id)
        row = latest_tier(store_or_config, cid)
        tier = row["tier"] if row else None
        return {
            "tier": tier,
            "segment": row["segment"] if row else None,
            "stage": row["stage"] if row else None,
            "service_policy": cfg.policy(tier),
            "tier_run": row["run_id"] if row else None,
            "tier_as_of": row["as_of"] if row else None,
        }
    cfg = (
        store_or_config
        if isinstance(store_or_config, TieringConfig)
        else load_tiering_config(store_or_config)
    )
    tier = None if customer_id is None else str(customer_id)
    return {"tier": tier, "service_policy": cfg.policy(tier)}
