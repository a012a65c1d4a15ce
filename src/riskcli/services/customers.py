"""Reading the customer book back: a filtered list, and one customer with everything attached.

Returns plain data (lists of dicts with Decimal money and ISO dates); the CLI renders it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from riskcli.domain.errors import InputError
from riskcli.domain.values import from_cents
from riskcli.services import book
from riskcli.storage.activity import latest_activity
from riskcli.storage.store import Store

#: receivable aging buckets: (label, lowest days past due, highest or None)
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("current", 0, 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)

_LIST_COLUMNS = (
    "c.external_id AS customer_id, c.name, c.kind, c.industry, c.region, c.phone, c.email, "
    "c.national_id, c.registered_date, c.credit_limit, c.account_owner, c.status"
)

#: the limit's state and the customer's group (riskcli.services.limits)
_LIMIT_COLUMNS = "c.limit_expires, c.limit_fallback, c.limit_review, c.group_id, c.parent_id"


def _money(row: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        if row.get(name) is not None:
            row[name] = from_cents(int(row[name]))
    return row


def list_customers(
    store: Store,
    *,
    industry: str | None = None,
    region: str | None = None,
    status: str | None = None,
    search: str | None = None,
    limit: int | None = 1000,
) -> list[dict[str, Any]]:
    """Customers matching every given filter (exact industry/region/status; search in id, name,
    email and phone), ordered by external id."""
    where, params = _filters(industry, region, status, search)
    sql = f"SELECT {_LIST_COLUMNS} FROM customers c"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY c.external_id"
    if limit is not None:
        if limit < 1:
            raise InputError("--limit must be at least 1")
        sql += " LIMIT ?"
        params.append(limit)
    return [_money(r, "credit_limit") for r in store.query(sql, params)]


def count_customers(
    store: Store,
    *,
    industry: str | None = None,
    region: str | None = None,
    status: str | None = None,
    search: str | None = None,
) -> int:
    """How many customers `list_customers` would list without a limit."""
    where, params = _filters(industry, region, status, search)
    sql = "SELECT count(*) FROM customers c" + (" WHERE " + " AND ".join(where) if where else "")
    return int(store.scalar(sql, params))


def _filters(
    industry: str | None, region: str | None, status: str | None, search: str | None
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("industry", industry), ("region", region), ("status", status)):
        if value:
            where.append(f"c.{column} = ?")
            params.append(value)
    if search:
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            "(c.external_id LIKE ? ESCAPE '\\' OR c.name LIKE ? ESCAPE '\\' "
            "OR c.email LIKE ? ESCAPE '\\' OR c.phone LIKE ? ESCAPE '\\')"
        )
        params += [like] * 4
    return where, params


def _customer_row(store: Store, customer_id: str) -> dict[str, Any]:
    rows = store.query(
        f"SELECT c.id AS _id, {_LIST_COLUMNS}, {_LIMIT_COLUMNS}, c.created_at, c.updated_at "
        "FROM customers c "
        "WHERE c.external_id = ?",
        (customer_id,),
    )
    if not rows:
        raise InputError(f"no customer with id {customer_id!r}")
    return _money(rows[0], "credit_limit", "limit_fallback")


def aging(store: Store, customer_pk: int | None, as_of: date) -> list[dict[str, Any]]:
    """Outstanding receivables by days past due on `as_of` (all customers when pk is None), as
    the book knew them that day (riskcli.services.book)."""
    cases = []
    for label, low, high in AGING_BUCKETS:
        cond = f"dpd >= {low}" + (f" AND dpd <= {high}" if high is not None else "")
        cases.append(
            f"SELECT '{label}' AS bucket, count(*) AS invoices, "
            f"coalesce(sum(outstanding), 0) AS outstanding FROM open WHERE {cond}"
        )
    where = "customer_id = :cid AND " if customer_pk is not None else ""
    sql = (
        f"WITH open AS (SELECT {book.outstanding()} AS outstanding, "
        "max(0, CAST(:ja - julianday(due_date) AS INTEGER)) AS dpd FROM receivables "
        f"WHERE {where}{book.ISSUED} AND {book.outstanding()} > 0) " + " UNION ALL ".join(cases)
    )
    params = book.params(as_of) | {"cid": customer_pk}
    return [_money(r, "outstanding") for r in store.query(sql, params)]


def show_customer(
    store: Store,
    customer_id: str,
    *,
    as_of: date | None = None,
    recent: int = 20,
    policy: book.DefaultPolicy | None = None,
) -> dict[str, Any]:
    """The customer as the book knew it on `as_of` (default: the latest activity): receivables
    aging, default status and episodes, recent transactions, credit reports, contracts and
    interactions dated by then. Sections are lists of dicts; `customer` is one dict."""
    as_of = as_of or latest_activity(store) or date.today()
    policy = policy or book.DefaultPolicy()
    customer = _customer_row(store, customer_id)
    pk = int(customer.pop("_id"))
    buckets = aging(store, pk, as_of)
    p = book.params(as_of) | {"cid": pk, "n": recent}
    episodes = book.default_episodes(store, pk, as_of, policy)
    customer["default_status"] = _default_status(episodes)
    customer.update(_totals(buckets))
    customer["as_of"] = as_of.isoformat()
    return {
        "customer": customer,
        "aging": buckets,
        "open_receivables": _open_receivables(store, p),
        "default_episodes": [_episode_row(e) for e in episodes],
        "transactions": _recent_transactions(store, p),
        "credit_reports": _credit_reports(store, p),
        "contracts": _contracts(store, p),
        "interactions": _recent_interactions(store, p),
        "alerts": _open_alerts(store, pk),
    }


def _totals(buckets: list[dict[str, Any]]) -> dict[str, Decimal]:
    """Outstanding and overdue (every bucket past current) from the aging buckets."""
    return {
        "outstanding": sum((b["outstanding"] for b in buckets), Decimal("0.00")),
        "overdue": sum(
            (b["outstanding"] for b in buckets if b["bucket"] != "current"), Decimal("0.00")
        ),
    }


def _episode_row(episode: book.Episode) -> dict[str, Any]:
    return {
        "entered": episode.entered.isoformat(),
        "cured": episode.cured.isoformat() if episode.cured else None,
        "amount_at_entry": episode.amount_at_entry,
    }


def _recent_transactions(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """The latest `n` transactions dated by the as-of date, newest first."""
    return [
        _money(r, "amount")
        for r in store.query(
            "SELECT external_id AS txn_id, kind, date, amount FROM transactions "
            "WHERE customer_id = :cid AND date <= :a ORDER BY date DESC, id DESC LIMIT :n",
            p,
        )
    ]


def _open_receivables(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Invoices issued and still open on the as-of date, by due date."""
    return [
        _money(r, "amount", "paid_amount", "outstanding")
        for r in store.query(
            "SELECT invoice_number, issue_date, due_date, amount, "
            f"{book.paid_by()} AS paid_amount, {book.outstanding()} AS outstanding, "
            "CASE WHEN paid_date <= :a THEN paid_date END AS paid_date, "
            "max(0, CAST(:ja - julianday(due_date) AS INTEGER)) AS days_past_due "
            f"FROM receivables WHERE customer_id = :cid AND {book.ISSUED} "
            f"AND {book.outstanding()} > 0 ORDER BY due_date",
            p,
        )
    ]


def _credit_reports(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Credit reports dated by the as-of date, newest first."""
    return store.query(
        "SELECT provider, report_date, score, rating, lawsuit, bankruptcy, tax_violation, "
        "dishonest_debtor, other_flag FROM credit_reports WHERE customer_id = :cid "
        "AND report_date <= :a ORDER BY report_date DESC",
        p,
    )


def _contracts(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Contracts signed (or started) by the as-of date, latest start first."""
    return [
        _money(r, "value")
        for r in store.query(
            "SELECT contract_number, signed_date, start_date, end_date, value, status "
            "FROM contracts WHERE customer_id = :cid "
            "AND coalesce(signed_date, start_date, :a) <= :a "
            "ORDER BY coalesce(start_date, signed_date) DESC",
            p,
        )
    ]


def _recent_interactions(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """The latest `n` interactions dated by the as-of date, newest first."""
    return store.query(
        "SELECT date, kind, satisfaction, note FROM interactions WHERE customer_id = :cid "
        "AND date <= :a ORDER BY date DESC, id DESC LIMIT :n",
        p,
    )


def _default_status(episodes: list[book.Episode]) -> str:
    if not episodes:
        return "not in default"
    last = episodes[-1]
    if last.cured is None:
        return f"in default since {last.entered.isoformat()} (grade DF, on credit hold)"
    return f"cured on {last.cured.isoformat()} (default from {last.entered.isoformat()})"


def _open_alerts(store: Store, pk: int) -> list[dict[str, Any]]:
    """The customer's open and acknowledged monitoring alerts (added by monitoring)."""
    from riskcli.services.monitoring.alerts import open_alerts_for

    rows = open_alerts_for(store, [pk])
    return [{k: v for k, v in row.items() if k != "customer_id"} for row in rows]
