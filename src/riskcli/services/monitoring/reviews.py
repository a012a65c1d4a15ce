"""The review calendar: when each customer's next credit review is due, by grade cadence
(`[monitoring.reviews]`), counted from the latest review recorded with `customers review`.

- reviewed before: due = the last review + the cadence of the customer's grade now (it may lie
  in the past: the review is overdue);
- never reviewed: the first review falls `new_customer_months` after the customer came on
  (registered date, else the first invoice), then every cadence after that; the calendar
  shows the next of those dates from today, so a book that starts using reviews spreads its
  first round over one cadence instead of listing every customer as overdue.

The grade is the one of the latest score run as of today (DF for a customer in default);
closed customers are not reviewed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services import book
from riskcli.services.monitoring.config import ReviewsConfig
from riskcli.services.queries import customers
from riskcli.storage.store import Store

CUSTOMERS_SQL = """
SELECT c.id, c.external_id AS customer, c.name, c.status,
  coalesce(c.registered_date, (SELECT min(issue_date) FROM receivables r
    WHERE r.customer_id = c.id), substr(c.created_at, 1, 10)) AS came_on,
  (SELECT max(reviewed_on) FROM customer_reviews v WHERE v.customer_id = c.id) AS last_review
FROM customers c WHERE c.status != 'closed'
"""


def latest_grades(store: Store, as_of: dt.date, customer_pk: int | None = None) -> pd.Series:
    """customer id -> grade of the latest score run dated on or before `as_of` (of one
    customer with `customer_pk`)."""
    if not store.has_table("score_runs"):
        return pd.Series(dtype=object)
    run = store.scalar("SELECT max(id) FROM score_runs WHERE as_of <= ?", (as_of.isoformat(),))
    if run is None:
        return pd.Series(dtype=object)
    sql = "SELECT customer_id, grade FROM scores WHERE run_id = ?"
    params: tuple[Any, ...] = (run,)
    if customer_pk is not None:
        sql, params = sql + " AND customer_id = ?", (run, customer_pk)
    return pd.Series(dict(store.execute(sql, params).fetchall()), dtype=object)


def _next_due(
    came_on: dt.date, last: dt.date | None, months: int, cfg: ReviewsConfig, today: dt.date
) -> dt.date:
    if last is not None:
        return book.add_months(last, months)
    first = book.add_months(came_on, cfg.new_customer_months)
    k = 0
    while book.add_months(first, k * months) < today:
        k += 1
    return book.add_months(first, k * months)


def due_reviews(
    store: Store, cfg: ReviewsConfig, *, within_days: int | None = None, today: dt.date
) -> pd.DataFrame:
    """Customers whose review is due by `today + within_days` (every customer when None),
    soonest (or most overdue) first: customer, name, grade, cadence_months, last_review,
    due, days_left (negative: overdue)."""
    frame = store.query_df(CUSTOMERS_SQL)
    grades = latest_grades(store, today)
    out: list[dict[str, Any]] = []
    fallback = cfg.months.get(cfg.unscored_grade, 3)
    frame = frame.astype(object).where(frame.notna(), None)
    for row in frame.itertuples(index=False):
        grade = grades.get(row.id)
        months = cfg.months.get(str(grade), fallback) if grade is not None else fallback
        last = dt.date.fromisoformat(str(row.last_review)) if row.last_review else None
        came_on = dt.date.fromisoformat(str(row.came_on)[:10]) if row.came_on else today
        due = _next_due(came_on, last, months, cfg, today)
        days_left = (due - today).days
        if within_days is not None and days_left > within_days:
            continue
        out.append(
            {
                "customer": row.customer,
                "name": row.name,
                "grade": grade,
                "cadence_months": months,
                "last_review": row.last_review,
                "due": due.isoformat(),
                "days_left": days_left,
            }
        )
    columns = ["customer", "name", "grade", "cadence_months", "last_review", "due", "days_left"]
    result = pd.DataFrame(out, columns=columns)
    return result.sort_values(["due", "customer"], kind="stable").reset_index(drop=True)


def record_review(
    store: Store, customer: str, *, note: str, user: str, today: dt.date
) -> dict[str, Any]:
    """Record a credit review of one customer today (with its grade now) and return it."""
    if not note.strip():
        raise InputError("--note must say what the review found")
    with store.transaction():
        pk = customers.pk(store, customer)
        if pk is None:
            raise InputError(f"no customer {customer!r}")
        grade = latest_grades(store, today, pk).get(pk)
        cur = store.execute(
            "INSERT INTO customer_reviews (customer_id, reviewed_on, user, grade, note) "
            "VALUES (?, ?, ?, ?, ?)",
            (pk, today.isoformat(), user, grade, note.strip()),
        )
        return {
            "review": int(cur.lastrowid),
            "customer": customer,
            "reviewed_on": today.isoformat(),
            "grade": grade,
            "user": user,
        }
