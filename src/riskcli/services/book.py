"""The book as of a date: the one place that says what was known on a day D.

Every command that takes an as-of date (tiering, scoring factors, monitoring, reports,
`customers show`, the SQL export) reads the book through the SQL and functions here, so they
cannot disagree. The rules, as of D:

- an invoice counts once it is issued (`issue_date <= D`) until it is written off (from its
  `written_off_date` on it leaves exposure, aging and the payment factors; it stays in the
  store for recovery and for the loss history, and the default it caused runs its cure);
- a paid amount counts from its `paid_date` on (an invoice paid after D is unpaid as of D); a
  paid amount with no date counts as paid (the money came in, the day is unknown);
- outstanding = amount - what was paid by D; exposure (EAD) = the customer's outstanding;
- days past due (DPD) of an open invoice = D - due date (0 when not yet due); a customer's
  oldest open DPD is the largest over their open invoices;
- credit reports, financial periods, contracts, interactions and transactions count when dated
  on or before D (a financial period counts from its period end);
- **default** (after CRR Art. 178): a customer with an outstanding amount more than
  `days_past_due` days past due that is material, above `materiality_amount` *and* above
  `materiality_share` of the customer's exposure. The default lasts until `cure_months` have
  passed with no material amount past that point (the cure). A customer with no invoices is
  never in default.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from riskcli.domain.errors import InputError, invalid
from riskcli.domain.money import from_cents
from riskcli.services.sql_dialect import STORE, Dialect

if TYPE_CHECKING:  # numpy and pandas load on first use: a one-customer lookup needs neither
    import numpy as np
    import pandas as pd

    from riskcli.storage.store import Store

# ---- configuration ---------------------------------------------------------------------------


class DefaultPolicy(BaseModel):
    """`[credit.default]`: when a customer is in default, and when the default is cured."""

    model_config = ConfigDict(extra="forbid")
    days_past_due: int = Field(default=90, ge=1, le=3650)
    materiality_amount: Decimal = Field(default=Decimal("1000"), ge=0)
    materiality_share: float = Field(default=0.01, ge=0, le=1)
    cure_months: int = Field(default=3, ge=0, le=60)


class LossPolicy(BaseModel):
    """`[credit.loss]`: loss given default. 0.40 is the CRR Art. 161 reference for senior
    unsecured exposures; an industry may have its own (`by_industry = { 建筑业 = 0.45 }`)."""

    model_config = ConfigDict(extra="forbid")
    lgd: float = Field(default=0.40, ge=0, le=1)
    by_industry: dict[str, float] = Field(default_factory=dict)

    def lgd_of(self, industry: np.ndarray) -> np.ndarray:
        """The LGD of each customer from its industry (the default where none is set)."""
        import numpy as np

        out = np.full(len(industry), self.lgd, dtype=np.float64)
        for name, value in self.by_industry.items():
            out[np.asarray(industry == name, dtype=bool)] = value
        return out


class CreditConfig(BaseModel):
    """The `[credit]` section of riskcli.toml."""

    model_config = ConfigDict(extra="allow")
    default: DefaultPolicy = Field(default_factory=DefaultPolicy)
    loss: LossPolicy = Field(default_factory=LossPolicy)


def load_credit_config(config: dict[str, Any] | None) -> CreditConfig:
    """`[credit]` from the TOML settings; a bad value is a one-line error naming its key."""
    section = (config or {}).get("credit", {})
    if not isinstance(section, dict):
        raise InputError("config section [credit] must be a table")
    known = {k: v for k, v in section.items() if k in ("default", "loss")}
    try:
        cfg = CreditConfig.model_validate(known)
    except ValidationError as exc:
        raise invalid("config [credit]", exc) from None
    bad = [k for k, v in cfg.loss.by_industry.items() if not 0 <= v <= 1]
    if bad:
        raise InputError(f"config [credit] loss.by_industry.{bad[0]}: LGD must be within 0-1")
    return cfg


# ---- dates ------------------------------------------------------------------------------------


def add_months(d: date, months: int) -> date:
    """The same day `months` later (earlier when negative), clipped to the month's end."""
    k = d.year * 12 + d.month - 1 + months
    year, month = divmod(k, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last))


def month_ends(as_of: date, count: int) -> list[date]:
    """The as-of date and the `count - 1` month-ends before it, newest first."""
    first = as_of.replace(day=1)
    out = [as_of]
    for _ in range(count - 1):
        first = first - timedelta(days=1)
        out.append(first)
        first = first.replace(day=1)
    return out


#: the average month in days (365.25 / 12): months of history and tenure are days over this
DAYS_PER_MONTH = 30.4375


def julian(d: date) -> float:
    """SQLite's julianday() of a date (so SQL can subtract numbers, not parse text per row)."""
    return d.toordinal() + 1721424.5


# ---- SQL fragments: one definition each -------------------------------------------------------


def paid_by(day: str = ":a") -> str:
    """What was paid of an invoice by `day` (a bound parameter or a column)."""
    return f"(CASE WHEN paid_date IS NULL OR paid_date <= {day} THEN paid_amount ELSE 0 END)"


def paid_by_frame(paid_amount: pd.Series, paid_day: pd.Series, day: float) -> pd.Series:
    """`paid_by` for invoices already in memory, with dates as day numbers: what was paid of
    each invoice by `day` (a payment with no date counts as paid), in cents."""
    paid = paid_amount.fillna(0).astype("int64")
    return paid.where(paid_day.isna() | (paid_day <= day), 0)


def outstanding(day: str = ":a") -> str:
    """An invoice's outstanding amount on `day` (cents)."""
    return f"(amount - {paid_by(day)})"


def issued(day: str = ":a") -> str:
    """An invoice is on the book on `day`: issued by then and not written off by then."""
    return f"(issue_date <= {day} AND (written_off_date IS NULL OR written_off_date > {day}))"


#: invoices on the book on the as-of date
ISSUED = issued()


#: Period end of a financial statement (the import checked the format): YYYY -> Dec 31,
#: YYYYQn -> quarter end, YYYY-MM -> month end
def period_end(d: Dialect = STORE) -> str:
    """The end of a financial period given as text (the import checked the format)."""
    quarter = (
        "substr(period, 1, 4) || CASE substr(period, 6, 1) WHEN '1' THEN '-03-31'\n"
        "    WHEN '2' THEN '-06-30' WHEN '3' THEN '-09-30' ELSE '-12-31' END"
    )
    return f"""CASE length(period)
  WHEN 4 THEN {d.text_date("period || '-12-31'")}
  WHEN 6 THEN {d.text_date(quarter)}
  WHEN 7 THEN {d.month_end("period")}
END"""


PERIOD_END = period_end()

#: Points (month-ends) at which the peak not-yet-due exposure is taken
PEAK_POINTS = 12


def _not_due_at(k: int) -> str:
    # the rows are on the book at D (ISSUED), so not written off at an earlier month-end either
    day = ":a" if k == 0 else f":m{k}"
    return (
        f"SUM(CASE WHEN due_date > {day} AND issue_date <= {day} "
        f"THEN {outstanding(day)} ELSE 0 END)"
    )


# Per customer, every invoice issued by the as-of date in one pass. The inner query is a
# co-routine (LIMIT -1 keeps SQLite from flattening it), so each row's outstanding amount and
# julian due day are computed once, not once per use.
#   exposure, overdue: outstanding, and the part of it past due
#   oldest_open_dpd: the largest DPD over open invoices (0 when none is overdue)
#   worst/avg/late 12m: over invoices due in the 12 months to D *and* every invoice still open
#     and past due, whatever its age; a paid one counts until its paid date
#   invoice_days: days since the first invoice; invoicing_12m: invoiced in the 12 months
#   terms min/max/avg: due - issue days over the invoices of the 12 months (all when none)
#   peak_not_due: the largest not-yet-due exposure at D and the 11 month-ends before it
def positions_sql(d: Dialect = STORE) -> str:
    """The per-customer positions query in dialect `d` (see the comment above)."""
    paid_late = d.greatest("0", f"CAST({d.day('paid_date')} - jd AS INTEGER)")
    peaks = d.greatest(*(_not_due_at(k) for k in range(PEAK_POINTS)))
    return f"""
SELECT customer_id,
  SUM(o), SUM(CASE WHEN jd < :ja THEN o ELSE 0 END),
  MAX(CASE WHEN o > 0 AND jd < :ja THEN CAST(:ja - jd AS INTEGER) ELSE 0 END),
  MAX(late), AVG(late), {d.count_true("late >= 30")},
  :ja - {d.day("MIN(issue_date)")},
  SUM(CASE WHEN issue_date > :w THEN amount ELSE 0 END),
  MIN(terms), MAX(terms), AVG(terms),
  {peaks}
FROM (
  SELECT customer_id, issue_date, due_date, amount, paid_amount, paid_date, o, jd,
    CASE WHEN due_date > :a THEN NULL
      WHEN o > 0 THEN CAST(:ja - jd AS INTEGER)
      WHEN due_date <= :w THEN NULL
      WHEN paid_date IS NULL THEN 0
      ELSE {paid_late} END AS late,
    CASE WHEN issue_date > :w THEN CAST(jd - {d.day("issue_date")} AS INTEGER) END AS terms
  FROM (
    SELECT customer_id, issue_date, due_date, amount, paid_amount, paid_date,
      {outstanding()} AS o, {d.day("due_date")} AS jd
    FROM {d.table("receivables")} WHERE {ISSUED} {{filter}}{d.no_flatten}
  ){" q" if not d.sqlite else ""}
){" p" if not d.sqlite else ""} GROUP BY customer_id ORDER BY customer_id
"""


POSITIONS_SQL = positions_sql()
#: the columns of POSITIONS_SQL after customer_id
POSITION_COLUMNS = [
    "exposure",
    "overdue",
    "oldest_open_dpd",
    "worst_dpd_12m",
    "avg_dpd_12m",
    "late_invoices_12m",
    "invoice_days",
    "invoicing_12m",
    "terms_min",
    "terms_max",
    "terms_avg",
    "peak_not_due",
]

# Terms of the customers whose invoices have different terms (the median needs every value)
TERMS_SQL = """
SELECT customer_id, CAST(julianday(due_date) - julianday(issue_date) AS INTEGER)
FROM receivables WHERE issue_date <= :a AND issue_date > :w AND customer_id IN ({ids})
"""


# orders of the last 12 months split at 6 (the date is in the index, so only those rows are
# looked up), and the first transaction (from the index alone)
def orders_sql(d: Dialect = STORE) -> str:
    return f"""
SELECT customer_id,
  SUM(CASE WHEN date > :m6 THEN amount ELSE 0 END),
  SUM(CASE WHEN date <= :m6 THEN amount ELSE 0 END)
FROM {d.table("transactions")} WHERE date > :w AND date <= :a AND kind = 'order' {{filter}}
GROUP BY customer_id ORDER BY customer_id
"""


def first_txn_sql(d: Dialect = STORE) -> str:
    return f"""
SELECT customer_id, :ja - {d.day("MIN(date)")}
FROM {d.table("transactions")} WHERE date <= :a {{filter}} GROUP BY customer_id ORDER BY customer_id
"""


_FIN_COLUMNS = """customer_id, revenue, total_assets, total_liabilities, current_assets,
    current_liabilities"""


# the latest financial period ended by D, and the revenue of the period before it
def financials_sql(d: Dialect = STORE) -> str:
    source = f"{d.table('financials')} WHERE {d.true} {{filter}}"
    f = f"""SELECT {_FIN_COLUMNS}, {period_end(d)} AS pend FROM {source}"""
    if d.sqlite:
        return f"""
WITH f AS ({f})
SELECT customer_id, revenue,
  (SELECT revenue FROM (SELECT revenue, MAX(pend) FROM f g
     WHERE g.customer_id = l.customer_id AND g.pend < l.latest)),
  total_assets, total_liabilities, current_assets, current_liabilities
FROM (SELECT *, MAX(pend) AS latest FROM f WHERE pend <= :a GROUP BY customer_id) l
"""
    newest = "OVER (PARTITION BY customer_id ORDER BY pend DESC)"
    return f"""
SELECT customer_id, revenue, prev_revenue,
  total_assets, total_liabilities, current_assets, current_liabilities
FROM (SELECT f.*, ROW_NUMBER() {newest} AS rn, LEAD(revenue) {newest} AS prev_revenue
  FROM ({f}) f WHERE pend <= :a) l WHERE rn = 1
"""


# the latest credit report by D (SQLite's bare columns with MAX pick that report's row)
def reports_sql(d: Dialect = STORE) -> str:
    pick, group, close = d.latest("report_date")
    return f"""
SELECT customer_id, score, flags, bankruptcy, dishonest_debtor FROM (
  SELECT customer_id, score, lawsuit + tax_violation + other_flag AS flags, bankruptcy,
    dishonest_debtor, {pick}
  FROM {d.table("credit_reports")} WHERE report_date <= :a {{filter}}{group}{close}
"""


ORDERS_SQL = orders_sql()
FIRST_TXN_SQL = first_txn_sql()
FINANCIALS_SQL = financials_sql()
REPORTS_SQL = reports_sql()


def params(as_of: date, cfg: DefaultPolicy | None = None) -> dict[str, Any]:
    """The bound parameters every query here uses."""
    policy = cfg or DefaultPolicy()
    out: dict[str, Any] = {
        "a": as_of.isoformat(),
        "ja": julian(as_of),
        "w": (as_of - timedelta(days=365)).isoformat(),
        "m6": (as_of - timedelta(days=183)).isoformat(),
        "dl": (as_of - timedelta(days=policy.days_past_due + 1)).isoformat(),
        "cure": cure_window_start(as_of, policy).isoformat(),
    }
    for k, d in enumerate(month_ends(as_of, PEAK_POINTS)[1:], start=1):
        out[f"m{k}"] = d.isoformat()
    return out


def median_terms(
    store: Store, p: dict[str, Any], ids: np.ndarray, tmin: np.ndarray, tmax: np.ndarray
) -> np.ndarray:
    """Payment terms per customer: the median of (due - issue) days over the invoices of the 12
    months. One value when all agree (the usual case: terms are contractual); the customers
    whose invoices differ are read again for the median."""
    import numpy as np
    import pandas as pd

    terms = np.where(np.isnan(tmin), np.nan, tmin)
    mixed = ids[(tmax > tmin) & ~np.isnan(tmin)]
    for start in range(0, len(mixed), 50_000):
        chunk = mixed[start : start + 50_000]
        sql = TERMS_SQL.format(ids=",".join(str(int(i)) for i in chunk))
        rows = np.array(store.execute(sql, p).fetchall(), dtype=np.float64).reshape(-1, 2)
        if not len(rows):
            continue
        frame = pd.DataFrame(rows, columns=["c", "t"])
        med = frame.groupby("c")["t"].median()
        pos = np.searchsorted(ids, med.index.to_numpy())
        terms[pos] = med.to_numpy()
    return terms


# ---- the default state ------------------------------------------------------------------------
# One definition, as SQL common table expressions in any dialect: `default_state` runs the
# store's rendering, the exported scoring query embeds the others.
#
# In default on D = material on some day in the cure window (cure, D]. Between two events (an
# invoice issued, a payment, a write-off) the state does not change, so it is checked on D and
# on the day before each such event inside the window: exact, not sampled.
#   dcand: customers with an invoice that was more than N days past due and still (partly)
#     unpaid (and not written off) at some day in the window
#   dinv: all their invoices issued by D, written off or not: an invoice counts until its
#     write-off date (`w`), so a default whose debts were written off still runs its cure
#   dpts: the check points; dchk: exposure and the amount more than N days past due at each
#   dstate: in default (material at some point), and the amount more than N days past due on D


def default_state_sql(d: Dialect, policy: DefaultPolicy) -> str:
    """The default state as common table expressions of one query (`dstate`: customer_id,
    in_default 0/1, default_amount in cents), with `{filter}` (on customer_id) left to fill.
    Parameters: `:a` (D), `:ja` its day number, `:dl` (the last due date more than N days past
    due on D), `:cure` the cure window's start and `:jcure` its day number."""
    n = policy.days_past_due
    floor = int(policy.materiality_amount * 100)
    share = d.double(repr(float(policy.materiality_share)))
    r = d.table("receivables")
    paid = "CASE WHEN v.p IS NULL OR v.p <= x.t THEN v.paid ELSE 0 END"
    on_book = "v.i <= x.t AND (v.w IS NULL OR v.w > x.t)"
    out = f"(CASE WHEN {on_book} THEN v.amount - {paid} ELSE 0 END)"
    return f"""dcand AS{d.materialized} (
  SELECT customer_id FROM {r}
  WHERE issue_date <= :a AND due_date <= :dl AND amount > 0
    AND NOT (paid_amount >= amount AND (paid_date IS NULL OR paid_date <= :cure))
    AND (written_off_date IS NULL OR written_off_date > :cure) {{filter}}
),
dinv AS{d.materialized} (
  SELECT customer_id, {d.day("issue_date")} AS i, {d.day("due_date")} AS d, amount,
    paid_amount AS paid, {d.day("paid_date")} AS p, {d.day("written_off_date")} AS w
  FROM {r} WHERE issue_date <= :a AND customer_id IN (SELECT customer_id FROM dcand) {{filter}}
),
dpts AS (
  SELECT customer_id, :ja AS t FROM dcand
  UNION SELECT customer_id, i - 1 FROM dinv WHERE i > :jcure + 1 AND i <= :ja
  UNION SELECT customer_id, p - 1 FROM dinv WHERE p > :jcure + 1 AND p <= :ja
  UNION SELECT customer_id, w - 1 FROM dinv WHERE w > :jcure + 1 AND w <= :ja
),
dchk AS (
  SELECT x.customer_id, x.t, SUM({out}) AS exposure,
    SUM(CASE WHEN x.t - v.d > {n} THEN {out} ELSE 0 END) AS late
  FROM dpts x JOIN dinv v ON v.customer_id = x.customer_id GROUP BY x.customer_id, x.t
),
dstate AS (
  SELECT customer_id,
    MAX(CASE WHEN late > {floor} AND late > {share} * exposure THEN 1 ELSE 0 END) AS in_default,
    SUM(CASE WHEN t = :ja THEN late ELSE 0 END) AS default_amount
  FROM dchk GROUP BY customer_id
)"""


@dataclass(frozen=True)
class DefaultState:
    """Default flags of the customers `ids` (aligned arrays)."""

    ids: np.ndarray  # customer ids with a default candidate invoice
    in_default: np.ndarray  # bool
    amount: np.ndarray  # cents more than N days past due on the as-of date


def default_state(
    store: Store,
    as_of: date,
    policy: DefaultPolicy,
    *,
    where: str = "",
    extra: Any = None,
    since: date | None = None,
) -> DefaultState:
    """Who is in default on the as-of date, and the amount past due beyond N days
    (`default_state_sql` run on the store).

    `where` filters on customer_id (e.g. an id range), with `extra` its parameters. With
    `since`, the window is (since, D] instead: "entered default after `since`" for a customer
    not in default then (the training outcome).
    """
    import numpy as np

    p = params(as_of, policy) | dict(extra or {})
    if since is not None:
        p["cure"] = since.isoformat()
    p["jcure"] = julian(date.fromisoformat(p["cure"]))
    sql = (
        "WITH " + default_state_sql(STORE, policy).format(filter=where)
        + "\nSELECT customer_id, in_default, default_amount FROM dstate ORDER BY customer_id"
    )  # fmt: skip
    rows = store.execute(sql, p).fetchall()
    data = np.array(rows, dtype=np.float64).reshape(-1, 3)
    return DefaultState(
        ids=data[:, 0].astype(np.int64),
        in_default=data[:, 1] > 0,
        amount=data[:, 2],
    )


@dataclass(frozen=True)
class Episode:
    """One default of one customer: entered, cured (None while it lasts), amount at entry."""

    entered: date
    cured: date | None
    amount_at_entry: Decimal


def cure_window_start(as_of: date, policy: DefaultPolicy) -> date:
    """A customer is in default on D when material on some day after this one, up to D."""
    return min(add_months(as_of, -policy.cure_months), as_of - timedelta(days=1))


def cure_day(last: date, policy: DefaultPolicy) -> date:
    """The first day on which a default whose last material day was `last` is cured: the first
    D whose window no longer holds `last`."""
    day = add_months(last, policy.cure_months)
    while cure_window_start(day, policy) < last:
        day += timedelta(days=1)
    return day


def default_episodes(
    store: Store, customer_pk: int, as_of: date, policy: DefaultPolicy
) -> list[Episode]:
    """Every default of one customer up to the as-of date, oldest first.

    The state is followed event by event (an invoice issued, a payment, an invoice passing N
    days past due; between two events nothing changes): an episode starts on the first material
    day and is cured on `cure_day` of its last material day unless a material day comes first.
    """
    rows = store.execute(
        "SELECT issue_date, due_date, amount, paid_amount, paid_date, written_off_date "
        "FROM receivables WHERE customer_id = ? AND issue_date <= ?",
        (customer_pk, as_of.isoformat()),
    ).fetchall()
    inv = [
        (date.fromisoformat(i), date.fromisoformat(d), int(a), int(pa), _day(p), _day(w))
        for i, d, a, pa, p, w in rows
    ]
    days = {as_of}
    for i, d, _a, _pa, p, w in inv:
        days.update({i, d + timedelta(days=policy.days_past_due + 1)})
        days.update(x for x in (p, w) if x is not None)
    events = sorted(x for x in days if x <= as_of)
    floor = int(policy.materiality_amount * 100)
    episodes: list[Episode] = []
    entered: date | None = None
    entry = 0
    last = as_of
    for k, t in enumerate(events):
        if entered is not None and t >= cure_day(last, policy):
            episodes.append(Episode(entered, cure_day(last, policy), from_cents(entry)))
            entered = None
        exposure = late = 0
        for i, d, a, pa, p, w in inv:
            if i <= t and (w is None or w > t):
                out = a - (pa if p is None or p <= t else 0)
                exposure += out
                late += out if (t - d).days > policy.days_past_due else 0
        if late > floor and late > policy.materiality_share * exposure:
            if entered is None:
                entered, entry = t, late
            last = events[k + 1] - timedelta(days=1) if k + 1 < len(events) else as_of
    if entered is not None:
        cured = cure_day(last, policy)
        episodes.append(Episode(entered, cured if cured <= as_of else None, from_cents(entry)))
    return episodes


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


# ---- frames for the other services ------------------------------------------------------------

_OPEN_INVOICES_SQL = f"""
SELECT id AS receivable_id, invoice_number, customer_id, issue_date, due_date, amount,
  {paid_by()} AS paid, {outstanding()} AS outstanding,
  CASE WHEN due_date < :a THEN CAST(:ja - julianday(due_date) AS INTEGER) ELSE 0 END
    AS days_past_due
FROM receivables WHERE {ISSUED} AND {outstanding()} > 0 {{filter}}
ORDER BY customer_id, due_date, invoice_number
"""


def open_invoices(store: Store, as_of: date, *, customer_pk: int | None = None) -> pd.DataFrame:
    """Every invoice open on the as-of date (money in cents): receivable_id, invoice_number,
    customer_id, issue_date, due_date, amount, paid (by D), outstanding, days_past_due."""

    p = params(as_of)
    where = ""
    if customer_pk is not None:
        p["cid"] = customer_pk
        where = "AND customer_id = :cid"
    return store.query_df(_OPEN_INVOICES_SQL.format(filter=where), p)


def positions(
    store: Store,
    as_of: date,
    policy: DefaultPolicy | None = None,
    *,
    customer_pk: int | None = None,
) -> pd.DataFrame:
    """Per customer with an invoice issued by the as-of date: customer_id, the POSITION_COLUMNS
    (money in cents, days as numbers, NaN where none), terms (median), in_default and
    default_amount (cents more than N days past due on D)."""
    import numpy as np
    import pandas as pd

    policy = policy or DefaultPolicy()
    p = params(as_of, policy)
    where = ""
    if customer_pk is not None:
        p["cid"] = customer_pk
        where = "AND customer_id = :cid"
    rows = store.execute(POSITIONS_SQL.format(filter=where), p).fetchall()
    frame = pd.DataFrame(rows, columns=["customer_id", *POSITION_COLUMNS], dtype=np.float64)
    frame["customer_id"] = frame["customer_id"].astype(np.int64)
    ids = frame["customer_id"].to_numpy()
    frame["terms"] = median_terms(
        store, p, ids, frame["terms_min"].to_numpy(), frame["terms_max"].to_numpy()
    )
    state = default_state(store, as_of, policy, where=where, extra=p)
    flags = pd.DataFrame(
        {"customer_id": state.ids, "in_default": state.in_default, "default_amount": state.amount}
    )
    frame = frame.merge(flags, on="customer_id", how="left")
    frame["in_default"] = frame["in_default"].fillna(False).astype(bool)
    frame["default_amount"] = frame["default_amount"].fillna(0.0)
    return frame


# ---- the book at many dates -------------------------------------------------------------------
# Month-end series (receivables analytics, provisions) need every invoice's outstanding amount
# at each of 12-25 dates. One scan computes them all with the fragments above, so a series is
# the same book as `positions()` on each of its dates, at the cost of one pass.


def ordinal(column: str) -> str:
    """A date column as a day number comparable with `date.toordinal()`."""
    return f"CAST(julianday({column}) - 1721424.5 AS INTEGER)"


_AT_DATES_SQL = """
SELECT id, customer_id, {due},
  CASE WHEN written_off_date > :d0 AND written_off_date <= :last THEN {wo_day} ELSE -1 END,
  CASE WHEN written_off_date > :d0 AND written_off_date <= :last THEN {wo_amount} ELSE 0 END,
  {balances}
FROM receivables
WHERE issue_date <= :last
  AND NOT (paid_amount >= amount AND (paid_date IS NULL OR paid_date <= :d0))
  AND (written_off_date IS NULL OR written_off_date > :d0)
"""


@dataclass(frozen=True)
class BookAtDates:
    """Every invoice on the book at one of `dates` at least (aligned arrays, money in cents).

    `balance[:, k]` is the invoice's outstanding amount on `dates[k]` (0 when not issued yet,
    paid, or written off by then); `written_off` the amount taken off the book on `wo_day`
    when that day falls inside (dates[0], dates[-1]], else 0 and -1."""

    dates: list[date]
    receivable_id: np.ndarray
    customer_id: np.ndarray
    due_day: np.ndarray  # date.toordinal() of the due date
    wo_day: np.ndarray
    written_off: np.ndarray
    balance: np.ndarray  # (invoices, dates)

    def days_past_due(self, k: int) -> np.ndarray:
        """DPD of each invoice on dates[k]: the day minus the due date, 0 when not yet due."""
        import numpy as np

        return np.asarray(np.maximum(self.dates[k].toordinal() - self.due_day, 0))


def book_at_dates(store: Store, dates: list[date], *, chunk: int = 50_000) -> BookAtDates:
    """The book on each of `dates` (ascending) from one scan of the receivables."""
    import numpy as np

    if not dates or sorted(dates) != dates:
        raise ValueError("dates must be given in ascending order")
    p: dict[str, Any] = {f"d{k}": d.isoformat() for k, d in enumerate(dates)}
    p["last"] = dates[-1].isoformat()
    balances = ", ".join(
        f"CASE WHEN {issued(f':d{k}')} THEN {outstanding(f':d{k}')} ELSE 0 END"
        for k in range(len(dates))
    )
    sql = _AT_DATES_SQL.format(
        due=ordinal("due_date"),
        wo_day=ordinal("written_off_date"),
        wo_amount=outstanding("written_off_date"),
        balances=balances,
    )
    # counted first so the rows go straight into one array (no second copy at the peak)
    where = sql[sql.index("FROM receivables") :]
    count = int(store.scalar(f"SELECT count(*) {where}", p))
    width = 5 + len(dates)
    data = np.empty((count, width), dtype=np.int64)
    cursor = store.execute(sql, p)
    filled = 0
    while rows := cursor.fetchmany(chunk):
        part = np.array(rows, dtype=np.int64).reshape(-1, width)
        if filled + len(part) > len(data):  # a writer added rows between the two reads
            data = np.concatenate([data[:filled], np.empty_like(part)])
        data[filled : filled + len(part)] = part
        filled += len(part)
    data = data[:filled]
    return BookAtDates(
        dates=list(dates),
        receivable_id=data[:, 0],
        customer_id=data[:, 1],
        due_day=data[:, 2],
        wo_day=data[:, 3],
        written_off=data[:, 4],
        balance=data[:, 5:],
    )


_INVOICED_SQL = """
SELECT customer_id, ({ym_end}) - (CAST(substr(issue_date, 1, 4) AS INTEGER) * 12
  + CAST(substr(issue_date, 6, 2) AS INTEGER)), amount
FROM receivables WHERE issue_date > :start AND issue_date <= :a
"""


def invoiced_by_month(
    store: Store, as_of: date, months: int, *, chunk: int = 500_000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Credit sales: every invoice issued in the `months` calendar months to the as-of date
    (the last one cut at the date), written off later or not. Returns aligned arrays customer,
    month index (0 = the as-of date's month, 1 the one before ...) and amount (cents)."""
    import numpy as np

    start = month_ends(as_of, months + 1)[-1]
    p = {"start": start.isoformat(), "a": as_of.isoformat()}
    sql = _INVOICED_SQL.format(ym_end=as_of.year * 12 + as_of.month)
    cursor = store.execute(sql, p)
    parts: list[np.ndarray] = []
    while rows := cursor.fetchmany(chunk):
        parts.append(np.array(rows, dtype=np.int64))
    data = np.concatenate(parts) if parts else np.empty((0, 3), np.int64)
    return data[:, 0], data[:, 1], data[:, 2]
