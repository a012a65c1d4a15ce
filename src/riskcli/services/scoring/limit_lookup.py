"""How the latest score run derived one customer's recommended limit, for `score explain`: the
need inputs read from the book for that one customer (the book's own queries, as of the run's
date), the run's own limit policy, and `limit_policy.need_steps` on plain floats, so the lookup
loads neither numpy nor pandas and explains the very number the run stored."""

from __future__ import annotations

import json
import math
import statistics
from datetime import date
from typing import Any

from riskcli.services import book
from riskcli.services.scoring.limit_policy import LimitPolicy, explain_lines
from riskcli.services.scoring.lookup import BY_CUSTOMER, show
from riskcli.services.scoring.reason_codes import DEFAULT_GRADE
from riskcli.storage.store import Store

_ONE = "AND customer_id = :cid"


def _number(value: Any, missing: float = math.nan) -> float:
    return missing if value is None else float(value)


def _terms(store: Store, p: dict[str, Any], low: Any, high: Any) -> float:
    """The customer's payment terms: the median due - issue days of the 12 months' invoices
    (book.median_terms for one customer)."""
    if low is None or high is None or high <= low:
        return _number(low)
    sql = book.TERMS_SQL.format(ids=int(p["cid"]))
    return float(statistics.median(row[1] for row in store.execute(sql, p).fetchall()))


def need_inputs(store: Store, as_of: date, customer_pk: int) -> dict[str, float]:
    """The need policy's inputs of one customer as of the date (factor_columns.assemble's
    definitions: no invoices is 0 invoiced and no peak, unknown history and terms)."""
    p = book.params(as_of) | {"cid": customer_pk}
    pos = store.execute(book.POSITIONS_SQL.format(filter=_ONE), p).fetchone()
    at = dict(zip(book.POSITION_COLUMNS, pos[1:], strict=True)) if pos else {}
    fin = store.execute(book.FINANCIALS_SQL.format(filter=_ONE), p).fetchone()
    report = store.execute(book.REPORTS_SQL.format(filter=_ONE), p).fetchone()
    days = _number(at.get("invoice_days"))
    return {
        "history_months": round(days / book.DAYS_PER_MONTH, 1),  # NaN stays NaN
        "invoicing_12m": _number(at.get("invoicing_12m"), 0.0),
        "terms": _terms(store, p, at.get("terms_min"), at.get("terms_max")),
        "peak_not_due": _number(at.get("peak_not_due"), 0.0),
        "net_assets": _number(fin[3]) - _number(fin[4]) if fin else math.nan,
        "bureau_score": _number(report[1]) if report else math.nan,
    }


def run_policy(params: str | None, fallback: LimitPolicy) -> LimitPolicy:
    """The limit policy a run recorded in its parameters (`fallback` for a run from before
    runs recorded it); a setting riskcli no longer has is passed over."""
    recorded = json.loads(params or "{}").get("limits")
    if recorded is None:
        return fallback
    return LimitPolicy.model_validate(
        {k: v for k, v in recorded.items() if k in LimitPolicy.model_fields}
    )


def explain_limit(store: Store, customer: str, fallback: LimitPolicy) -> list[dict[str, Any]]:
    """How the latest run's recommended limit of a customer was derived (need, its driver, the
    grade factor, the cap, the result), from the book as of that run's date and the run's own
    policy. A customer graded DF was in default at the run: no credit."""
    rows = store.query(
        "SELECT s.grade, s.customer_id, r.as_of, r.params, "
        f"(SELECT status FROM customers WHERE id = s.customer_id) AS status {BY_CUSTOMER} "
        "ORDER BY r.id DESC LIMIT 1",
        (customer,),
    )
    if not rows:
        show(store, customer)  # raises the right error
    row = rows[0]
    policy = run_policy(row["params"], fallback)
    grade = str(row["grade"])
    inputs: dict[str, float] = {}
    if policy.method == "need":
        inputs = need_inputs(store, date.fromisoformat(row["as_of"]), int(row["customer_id"]))
    return explain_lines(inputs, grade, row["status"], grade == DEFAULT_GRADE, policy)
