"""A customer's stored scores read back for `score show` and `score explain`: plain SQL and the
stored card, so a lookup loads neither numpy nor pandas."""

from __future__ import annotations

from typing import Any

from riskcli.domain.errors import InputError
from riskcli.domain.money import from_cents
from riskcli.services.queries import customers
from riskcli.services.scoring.reason_codes import DEFAULT_GRADE
from riskcli.services.scoring.reasons import StoredReasons
from riskcli.services.scoring.registry import get_model
from riskcli.services.scoring.wording import band as bin_band
from riskcli.services.scoring.wording import describe_bin
from riskcli.storage.store import Store

# One customer's scores, run by run through the primary key (run_id, customer_id): scores has
# no index by customer (m062); CROSS JOIN keeps SQLite from reordering the loops.
BY_CUSTOMER = (
    "FROM score_runs r CROSS JOIN scores s ON s.run_id = r.id "
    f"AND s.customer_id = ({customers.PK_SQL})"
)


def show(store: Store, customer: str, *, history: int = 10) -> list[dict[str, Any]]:
    """A customer's scores, newest first."""
    rows = store.query(
        "SELECT r.id AS run, r.as_of, m.name || ' v' || m.version AS model, s.score, s.pd, "
        "s.grade, r.model_id, s.bins, s.reasons AS codes, s.reason1, s.reason2, s.reason3, "
        "s.reason4, s.recommended_limit, s.current_limit, s.over_limit, s.exposure, "
        "s.expected_loss "
        f"{BY_CUSTOMER} JOIN score_models m ON m.id = r.model_id "
        "ORDER BY r.id DESC LIMIT ?",
        (customer, history),
    )
    if not rows:
        if customers.pk(store, customer) is None:
            raise InputError(f"no customer {customer!r}")
        raise InputError(f"customer {customer!r} has no score yet: run `riskcli score run`")
    stored = StoredReasons(store)
    kind = store.scalar(f"SELECT kind FROM customers WHERE id = ({customers.PK_SQL})", (customer,))
    for r in rows:
        legacy = [r.pop(f"reason{i}") for i in range(1, 5)]
        texts = stored.texts(r.pop("model_id"), r.pop("bins"), r.pop("codes"), legacy, kind)
        r["reasons"] = "; ".join(texts)
        r["recommended_limit"] = from_cents(r["recommended_limit"])
        r["current_limit"] = from_cents(r["current_limit"])
        r["over_limit"] = bool(r["over_limit"])
        for col in ("exposure", "expected_loss"):  # NULL on rows from before m070
            r[col] = None if r[col] is None else from_cents(r[col])
    return rows


def explain(store: Store, customer: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Points per factor of the latest score, and what would raise it."""
    rows = store.query(
        f"SELECT s.*, r.model_id, r.as_of {BY_CUSTOMER} ORDER BY r.id DESC LIMIT 1",
        (customer,),
    )
    if not rows:
        show(store, customer)  # raises the right error
    row = rows[0]
    model = get_model(store, row["model_id"])
    bins = list(bytes(row["bins"]))
    out: list[dict[str, Any]] = []
    for f, b in zip(model.card.factors, bins, strict=True):
        this = f.bins[b]
        best = max(f.bins, key=lambda x: x.points)
        gain = best.points - this.points
        out.append(
            {
                "factor": f.name,
                "description": f.description,
                "value": bin_band(f.name, this),
                "points": this.points,
                "best_points": best.points,
                "would_raise_by": gain,
                "to_gain": describe_bin(f.name, f.description, best) if gain > 0 else "",
            }
        )
    out.sort(key=lambda r: -r["would_raise_by"])
    head = {
        "customer": customer,
        "run": row["run_id"],
        "as_of": row["as_of"],
        "model": model.label,
        "score": row["score"],
        "pd": row["pd"],
        "grade": row["grade"],
        "in_default": row["grade"] == DEFAULT_GRADE,
        "exposure": None if row["exposure"] is None else from_cents(row["exposure"]),
        "expected_loss": None if row["expected_loss"] is None else from_cents(row["expected_loss"]),
        "recommended_limit": from_cents(row["recommended_limit"]),
    }
    return head, out
