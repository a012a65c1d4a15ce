"""The whole scoring job as one SQL query over the seven canonical tables.

`riskcli score export MODEL --format sql --full --dialect D` writes it. The factor SQL is the
book's own (`riskcli.services.book`, rendered for the dialect by `sql_dialect`), so the query
and `score run` cannot drift apart; what follows it mirrors, step for step, the numpy of
`factor_columns.assemble` (the factors), `engine.score_bins` (points, score, PD, grade, overrides,
reasons), `scored_part.score_part` (the default state: grade DF, PD 1, its reason first) and
`limits.derive` / `over_limit` (the recommended limit), with EL = PD x LGD x EAD.

Input: the canonical tables as `riskcli import` names their columns (customers.customer_id is
the customer's own id); money in currency units (exact decimals; the query works in cents, as
the store does); dates as DATE (ISO text in SQLite). Output: one row per customer known on the
as-of date, money in integer cents (`*_cents`).

Rounding follows numpy (`np.round`: half to even, after scaling by 10^k), so a factor rounded
to 2 decimals lands in the same bin on every engine.
"""

from __future__ import annotations

import re
from datetime import date

from riskcli.services import book
from riskcli.services.scoring.card import Factor, Scorecard
from riskcli.services.scoring.export_sql import num, text_literal
from riskcli.services.scoring.limit_policy import FLOOR_GRADES, REDUCE_GRADES, LimitPolicy
from riskcli.services.scoring.reason_codes import (
    DEFAULT_GRADE,
    DEFAULT_REASON,
    STORED_REASONS,
    reason_text,
)
from riskcli.services.sql_dialect import Dialect

EPOCH = date(1970, 1, 1)

#: the columns of each canonical table the query reads; money columns go to cents
_CANONICAL: dict[str, tuple[list[str], list[str]]] = {
    "customers": (["customer_id", "industry", "region", "status", "registered_date"],
                  ["credit_limit"]),
    "receivables": (["customer_id", "issue_date", "due_date", "paid_date", "written_off_date"],
                    ["amount", "paid_amount"]),
    "transactions": (["customer_id", "kind", "date"], ["amount"]),
    "financials": (["customer_id", "period"],
                   ["revenue", "total_assets", "total_liabilities", "current_assets",
                    "current_liabilities"]),
}  # fmt: skip
_FLAGS = ["lawsuit", "bankruptcy", "tax_violation", "dishonest_debtor", "other_flag"]

#: the factor columns the query computes (the store factors of `score run`)
OUTPUT_FACTORS = [
    "debt_ratio", "current_ratio", "revenue_trend", "years_in_business", "worst_dpd_12m",
    "avg_dpd_12m", "late_invoices_12m", "oldest_open_dpd", "overdue_share", "utilisation",
    "tenure_months", "order_trend", "industry", "region", "bureau_score", "adverse_flags",
    "bankruptcy", "dishonest_debtor",
]  # fmt: skip


class _Sql:
    """Expression helpers in one dialect (floats as doubles, rounding as numpy rounds)."""

    def __init__(self, d: Dialect) -> None:
        self.d = d

    def fl(self, x: float) -> str:
        return self.d.double(repr(float(x)))

    def rint(self, y: str) -> str:
        f = f"FLOOR({y})"
        return (
            f"({f} + CASE WHEN {y} - {f} > 0.5 THEN 1 WHEN {y} - {f} < 0.5 THEN 0 "
            f"ELSE {f} - 2 * FLOOR({f} / 2) END)"
        )

    def rnd(self, x: str, k: int) -> str:
        scale = self.fl(10.0**k)
        return f"({self.rint(f'({x}) * {scale}')} / {scale})"

    def ratio(self, a: str, b: str) -> str:
        return f"(CASE WHEN {b} > 0 THEN {self.d.double(a)} / {self.d.double(b)} END)"

    def clip(self, x: str, lo: float, hi: float) -> str:
        return (
            f"(CASE WHEN {x} < {self.fl(lo)} THEN {self.fl(lo)} "
            f"WHEN {x} > {self.fl(hi)} THEN {self.fl(hi)} ELSE {x} END)"
        )

    def fmax(self, a: str, b: str) -> str:
        return (
            f"(CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} >= {b} THEN {a} ELSE {b} END)"
        )

    def bigger(self, a: str, b: str) -> str:
        return f"(CASE WHEN {a} >= {b} THEN {a} ELSE {b} END)"

    def smaller(self, a: str, b: str) -> str:
        return f"(CASE WHEN {a} <= {b} THEN {a} ELSE {b} END)"


# ---- the as-of date ---------------------------------------------------------------------------


def _fixed_values(d: Dialect, as_of: date, policy: book.DefaultPolicy) -> dict[str, str]:
    """The book's parameters as literals for one as-of date."""
    p = book.params(as_of, policy)
    cure = date.fromisoformat(p["cure"])
    out = {k: d.date_literal(v) for k, v in p.items() if k not in ("ja",)}
    if d.sqlite:
        out["ja"], out["jcure"] = repr(book.julian(as_of)), repr(book.julian(cure))
    else:
        out["ja"], out["jcure"] = str((as_of - EPOCH).days), str((cure - EPOCH).days)
    return out


def param_placeholder(d: Dialect) -> str:
    return {"duckdb": "$as_of", "postgres": ":'as_of'"}.get(d.name, ":as_of")


def _param_values(d: Dialect, policy: book.DefaultPolicy) -> dict[str, str]:
    """The book's parameters as expressions of one `as_of` query parameter (ISO text)."""
    a = f"CAST({param_placeholder(d)} AS DATE)" if not d.sqlite else "date(:as_of)"
    cm = policy.cure_months

    def days(n: int) -> str:
        if d.sqlite:
            return f"date({a}, '{n:+d} days')"
        if d.name == "spark":
            return f"date_add({a}, {n})"
        return (
            f"CAST({a} + ({n}) AS DATE)"
            if d.name == "postgres"
            else f"CAST({a} + INTERVAL ({n}) DAY AS DATE)"
        )

    def month_end_back(k: int) -> str:
        if d.sqlite:
            return f"date({a}, 'start of month', '-{k - 1} months', '-1 day')"
        if d.name == "spark":
            return f"last_day(add_months({a}, -{k}))"
        if d.name == "postgres":
            back = f"INTERVAL '{k - 1} months' - INTERVAL '1 day'"
            return f"CAST(date_trunc('month', {a}) - {back} AS DATE)"
        return f"last_day(CAST({a} - INTERVAL ({k}) MONTH AS DATE))"

    if d.sqlite:
        last = f"date({a}, 'start of month', '{1 - cm:+d} months', '-1 day')"
        back = f"min(date({a}, '-{cm} months'), {last})"
        cure = f"min({back}, {days(-1)})"
    elif d.name == "spark":
        cure = f"least(add_months({a}, -{cm}), {days(-1)})"
    elif d.name == "postgres":
        cure = f"least(CAST({a} - INTERVAL '{cm} months' AS DATE), {days(-1)})"
    else:
        cure = f"least(CAST({a} - INTERVAL ({cm}) MONTH AS DATE), {days(-1)})"
    out = {
        "a": a,
        "ja": d.day(a),
        "w": days(-365),
        "m6": days(-183),
        "dl": days(-(policy.days_past_due + 1)),
        "cure": cure,
        "jcure": d.day(cure),
    }
    for k in range(1, book.PEAK_POINTS):
        out[f"m{k}"] = month_end_back(k)
    return out


def _bind(sql: str, values: dict[str, str]) -> str:
    """The book's `:name` parameters replaced by their values (one pass, so a value that holds
    the `:as_of` placeholder is left as it is)."""
    names = "|".join(sorted(values, key=len, reverse=True))
    return re.sub(rf"(?<![:\w]):({names})\b", lambda m: values[m.group(1)], sql)


# ---- the query --------------------------------------------------------------------------------


def _canonical(d: Dialect) -> list[str]:
    cents = {
        name: f"{d.bigint(f'ROUND({name} * 100)')} AS {name}"
        for _, money in _CANONICAL.values()
        for name in money
    }
    out = []
    for table, (plain, money) in _CANONICAL.items():
        cols = [*plain, *(cents[m] for m in money)]
        if table == "receivables":
            cols[-1] = f"{d.bigint('ROUND(COALESCE(paid_amount, 0) * 100)')} AS paid_amount"
        out.append(f"{d.table(table)} AS (SELECT {', '.join(cols)} FROM {table})")
    flags = ", ".join(f"CAST({f} AS INTEGER) AS {f}" for f in _FLAGS)
    out.append(
        f"{d.table('credit_reports')} AS (SELECT customer_id, report_date, "
        f"{d.double('score')} AS score, {flags} FROM credit_reports)"
    )
    return out


def _parts(d: Dialect, policy: book.DefaultPolicy) -> list[str]:
    """The book's queries as named parts, plus the median terms and the default state."""

    def part(name: str, cols: list[str], sql: str) -> str:
        body = sql.format(filter="").strip()
        return f"{name}({', '.join(['customer_id', *cols])}) AS (\n{body}\n)"

    r = d.table("receivables")
    n = "COUNT(*) OVER (PARTITION BY customer_id)"
    terms = f"""trm AS (
  SELECT customer_id, AVG({d.double("t")}) AS terms FROM (
    SELECT customer_id, t, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY t) AS rn,
      {n} AS n
    FROM (SELECT customer_id, CAST({d.day("due_date")} - {d.day("issue_date")} AS INTEGER) AS t
      FROM {r} WHERE issue_date <= :a AND issue_date > :w) tt
  ) q WHERE rn = {d.idiv("n + 1", "2")} OR rn = {d.idiv("n + 2", "2")} GROUP BY customer_id
)"""
    cust = d.table("customers")
    return [
        f"cust AS (SELECT customer_id, credit_limit, :ja - {d.day('registered_date')} AS age_days, "
        f"industry, region, status FROM {cust} "
        "WHERE registered_date IS NULL OR registered_date <= :a)",
        part("pos", book.POSITION_COLUMNS, book.positions_sql(d)),
        part("ord", ["orders_recent", "orders_prior"], book.orders_sql(d)),
        part("txn", ["txn_days"], book.first_txn_sql(d)),
        part("fin", ["revenue", "prev_revenue", "total_assets", "total_liabilities",
                     "current_assets", "current_liabilities"], book.financials_sql(d)),
        part("rep", ["bureau_score", "adverse_flags", "bankruptcy", "dishonest_debtor"],
             book.reports_sql(d)),
        terms,
        book.default_state_sql(d, policy).format(filter=""),
    ]  # fmt: skip


def _factors(s: _Sql) -> str:
    """`factor_columns.assemble` in SQL: one row per customer, the factors and the context."""
    d = s.d
    has = "p.invoice_days IS NOT NULL"
    clean = f"({has} AND p.worst_dpd_12m IS NULL)"
    exposure = "COALESCE(p.exposure, 0)"
    overdue = "COALESCE(p.overdue, 0)"
    recent, prior = "COALESCE(o.orders_recent, 0)", "COALESCE(o.orders_prior, 0)"
    trend = (
        f"CASE WHEN {prior} > 0 THEN {s.ratio(recent, prior)} - 1 "
        f"WHEN {recent} > 0 THEN {s.fl(3.0)} END"
    )
    days = d.double(s.fmax("p.invoice_days", "t.txn_days"))
    cols = {
        "customer_id": "c.customer_id",
        "credit_limit": "c.credit_limit",
        "status": "c.status",
        "lgd_industry": "c.industry",
        "orders_12m": f"{recent} + {prior}",
        "net_assets": "f.total_assets - f.total_liabilities",
        "exposure": exposure,
        "invoicing_12m": "COALESCE(p.invoicing_12m, 0)",
        "terms": "m.terms",
        "peak_not_due": "COALESCE(p.peak_not_due, 0)",
        "in_default": "COALESCE(ds.in_default, 0)",
        "default_amount": "COALESCE(ds.default_amount, 0)",
        "debt_ratio": s.rnd(s.ratio("f.total_liabilities", "f.total_assets"), 6),
        "current_ratio": s.rnd(s.ratio("f.current_assets", "f.current_liabilities"), 6),
        "revenue_trend": s.rnd(s.clip(f"{s.ratio('f.revenue', 'f.prev_revenue')} - 1", -1, 5), 6),
        "years_in_business": s.rnd(f"{d.double('c.age_days')} / {s.fl(365.25)}", 2),
        "worst_dpd_12m": f"CASE WHEN {clean} THEN 0 ELSE p.worst_dpd_12m END",
        "avg_dpd_12m": s.rnd(f"CASE WHEN {clean} THEN 0 ELSE {d.double('p.avg_dpd_12m')} END", 2),
        "late_invoices_12m": f"CASE WHEN {clean} THEN 0 ELSE p.late_invoices_12m END",
        "oldest_open_dpd": f"CASE WHEN {has} THEN COALESCE(p.oldest_open_dpd, 0) END",
        "overdue_share": f"CASE WHEN {has} THEN "
        f"{s.rnd(f'COALESCE({s.ratio(overdue, exposure)}, 0)', 4)} END",
        "utilisation": s.rnd(s.ratio(exposure, "c.credit_limit"), 4),
        "tenure_months": s.rnd(f"{days} / {s.fl(book.DAYS_PER_MONTH)}", 1),
        "order_trend": s.rnd(s.clip(f"({trend})", -1, 3), 4),
        "industry": "NULLIF(TRIM(c.industry), '')",
        "region": "NULLIF(TRIM(c.region), '')",
        "bureau_score": "r.bureau_score",
        "adverse_flags": "r.adverse_flags",
        "bankruptcy": "r.bankruptcy",
        "dishonest_debtor": "r.dishonest_debtor",
    }
    select = ",\n  ".join(f"{v} AS {k}" for k, v in cols.items())
    joins = "\n".join(
        f"LEFT JOIN {t} {a} ON {a}.customer_id = c.customer_id"
        for t, a in (("pos", "p"), ("ord", "o"), ("txn", "t"), ("fin", "f"), ("rep", "r"),
                     ("trm", "m"), ("dstate", "ds"))
    )  # fmt: skip
    return f"fac AS{d.materialized} (\nSELECT\n  {select}\nFROM cust c\n{joins}\n)"


def _by_bin(f: Factor, values: list[str]) -> str:
    """CASE giving `values[i]` for the rows in bin i of factor f (the engine's bin_index)."""
    col = f.name
    missing = next(i for i, b in enumerate(f.bins) if b.kind == "missing")
    parts = [f"CASE WHEN {col} IS NULL THEN {values[missing]}"]
    if f.type == "numeric":
        for i, b in enumerate(f.bins):
            if b.kind == "special":
                parts.append(f"WHEN {col} = {num(float(b.code or 0))} THEN {values[i]}")
        ranges = [(i, b) for i, b in enumerate(f.bins) if b.kind == "range"]
        for i, b in ranges[:-1]:
            parts.append(f"WHEN {col} < {num(float(b.hi or 0))} THEN {values[i]}")
        parts.append(f"ELSE {values[ranges[-1][0]]} END")
    else:
        for i, b in enumerate(f.bins):
            if b.kind == "categories" and b.values:
                listed = ", ".join(text_literal(v) for v in b.values)
                parts.append(f"WHEN {col} IN ({listed}) THEN {values[i]}")
        other = next(i for i, b in enumerate(f.bins) if b.kind == "other")
        parts.append(f"ELSE {values[other]} END")
    return "(" + " ".join(parts) + ")"


def _scoring(s: _Sql, card: Scorecard, limits: LimitPolicy, loss: book.LossPolicy) -> list[str]:
    """Points, score, PD, grade, reasons, limit, over-limit flag and EL, as parts after `fac`."""
    k = len(card.factors)
    r = min(card.reasons, k, STORED_REASONS)
    score = _score_sum(s, card)
    steps = _limit_steps(s, limits)
    steps[0] += [(f"reason{n + 1}", x) for n, x in enumerate(_final_reasons(r))]
    steps[0] += [("lgd", _lgd(s, loss))]
    return [
        _points(s, card),
        _ranked(s.d, k, score),
        _scored(s, card, score, r),
        _graded(s, card, r),
        *_layers(s.d, "gr", steps, "lm"),
    ]


def _points(s: _Sql, card: Scorecard) -> str:
    """`pts`: per factor j its points (pj), the rank of the points its bin loses (kj) and the
    bin's reason text (tj)."""
    factors = card.factors
    # the points a bin loses against the factor's best bin, ranked (integers compare exactly on
    # every engine); -1 where none is lost (no reason)
    losses = sorted({f.best_points() - b.points for f in factors for b in f.bins})
    rank = {v: i for i, v in enumerate(losses)}
    items = []
    for j, f in enumerate(factors):
        best = f.best_points()
        items.append(f"{_by_bin(f, [s.fl(b.points) for b in f.bins])} AS p{j}")
        keys = [str(rank[best - b.points]) if best - b.points > 1e-9 else "-1" for b in f.bins]
        items.append(f"{_by_bin(f, keys)} AS k{j}")
        items.append(f"{_by_bin(f, [text_literal(reason_text(f, b)) for b in f.bins])} AS t{j}")
    return f"pts AS{s.d.materialized} (SELECT fac.*,\n  " + ",\n  ".join(items) + "\nFROM fac)"


def _score_sum(s: _Sql, card: Scorecard) -> str:
    score = " + ".join(f"p{j}" for j in range(len(card.factors))) or "0"
    if card.scaling.points_decimals:
        score = s.rnd(score, card.scaling.points_decimals)
    return score


def _position(j: int, k: int) -> str:
    """Factor j's place among the k factors by points lost (ties to the earlier factor)."""
    terms = [
        f"CASE WHEN k{i} > k{j}{f' OR k{i} = k{j}' if i < j else ''} THEN 1 ELSE 0 END"
        for i in range(k)
        if i != j
    ]
    return " + ".join(terms) or "0"


def _ranked(d: Dialect, k: int, score: str) -> str:
    """`rk`: the score and each factor's place by points lost (rj)."""
    items = [f"({score}) AS score", *(f"({_position(j, k)}) AS r{j}" for j in range(k))]
    return f"rk AS{d.materialized} (SELECT pts.*,\n  " + ",\n  ".join(items) + "\nFROM pts)"


def _scored(s: _Sql, card: Scorecard, score: str, r: int) -> str:
    """`sc`: the model's PD, the first override that applies (ov) and the r reasons by points
    lost (bn)."""
    k = len(card.factors)
    sc = card.scaling
    z = s.clip(f"(({score}) - {s.fl(sc.offset)}) / {s.fl(sc.factor)}", -700, 700)
    raw_pd = f"{s.fl(1.0)} / ({s.fl(1.0)} + exp({z}))"
    ov_index = " ".join(
        f"WHEN {o.factor} = {num(o.equals)} THEN {i}" for i, o in enumerate(card.overrides)
    )
    ov = f"CASE {ov_index} END" if card.overrides else "CAST(NULL AS INTEGER)"
    base = [
        "CASE " + " ".join(f"WHEN r{j} = {n} AND k{j} >= 0 THEN t{j}" for j in range(k)) + " END"
        for n in range(r)
    ]
    items = [f"({raw_pd}) AS pd_raw", f"{ov} AS ov", *(f"{b} AS b{n}" for n, b in enumerate(base))]
    return f"sc AS{s.d.materialized} (SELECT rk.*,\n  " + ",\n  ".join(items) + "\nFROM rk)"


def _graded(s: _Sql, card: Scorecard, r: int) -> str:
    """`gr`: the grade (DF in default, else an override's, else the model's), the PD (1 in
    default) and the reasons with an override's first (wn)."""
    grades = " ".join(
        f"WHEN pd_raw < {s.fl(g.max_pd)} THEN {text_literal(g.grade)}" for g in card.grades[:-1]
    )
    model_grade = f"CASE {grades} ELSE {text_literal(card.grades[-1].grade)} END"
    ov_grade = " ".join(
        f"WHEN ov = {i} THEN {text_literal(o.grade)}" for i, o in enumerate(card.overrides)
    )
    ov_text = " ".join(
        f"WHEN ov = {i} THEN {text_literal(o.reason)}" for i, o in enumerate(card.overrides)
    )
    with_ov = [
        f"CASE WHEN ov IS NULL THEN b{n} ELSE "
        + (f"CASE {ov_text} END" if n == 0 else f"b{n - 1}")
        + " END"
        for n in range(r)
    ]
    grade = (
        f"CASE WHEN in_default = 1 THEN {text_literal(DEFAULT_GRADE)} "
        + (f"{ov_grade} " if card.overrides else "")
        + f"ELSE {model_grade} END"
    )
    items = [
        f"{grade} AS grade",
        f"CASE WHEN in_default = 1 THEN {s.fl(1.0)} ELSE {s.rnd('pd_raw', 6)} END AS pd",
        *(f"{w} AS w{n}" for n, w in enumerate(with_ov)),
    ]
    return f"gr AS{s.d.materialized} (SELECT sc.*,\n  " + ",\n  ".join(items) + "\nFROM sc)"


def _final_reasons(r: int) -> list[str]:
    """The r stored reasons: the default's first for a customer in default."""
    return [
        "CASE WHEN in_default = 1 THEN "
        + (text_literal(DEFAULT_REASON) if n == 0 else f"w{n - 1}")
        + f" ELSE w{n} END"
        for n in range(r)
    ]


def _lgd(s: _Sql, loss: book.LossPolicy) -> str:
    """The loss given default: by the customer's industry group where configured."""
    lgd = " ".join(
        f"WHEN lgd_industry = {text_literal(name)} THEN {s.fl(v)}"
        for name, v in loss.by_industry.items()
    )
    return f"CASE {lgd} ELSE {s.fl(loss.lgd)} END" if lgd else s.fl(loss.lgd)


def _layers(d: Dialect, base: str, steps: list[list[tuple[str, str]]], last: str) -> list[str]:
    """Common table expressions computing `steps` one layer after another over `base` (each
    layer reads the columns of the one before: no expression is written out twice)."""
    out = []
    prev = base
    for k, step in enumerate(steps):
        name = last if k == len(steps) - 1 else f"{last}{k}"
        items = ",\n  ".join(f"{expr} AS {col}" for col, expr in step)
        out.append(f"{name} AS{d.materialized} (SELECT {prev}.*,\n  {items}\nFROM {prev})")
        prev = name
    return out


def _limit_steps(s: _Sql, p: LimitPolicy) -> list[list[tuple[str, str]]]:
    """`limits.derive` (or the months-of-sales policy) as layers over a graded row, ending in
    `recommended_limit_cents`."""
    d = s.d
    zero = s.fl(0.0)
    factor = " ".join(
        f"WHEN grade = {text_literal(g)} THEN {s.fl(v)}" for g, v in p.grade_factors.items()
    )
    max_limit = s.fl(float(p.max_limit) * 100)
    share = f"{s.bigger(d.double('net_assets'), zero)} * {s.fl(p.max_share_of_net_assets)}"
    first = [
        ("l_factor", f"(CASE {factor} ELSE {zero} END)"),
        ("l_share", f"(CASE WHEN net_assets IS NULL THEN {max_limit} ELSE {share} END)"),
    ]
    cap = [("l_cap", s.smaller("l_share", max_limit))]
    step = s.fl(float(p.round_to) * 100)
    if p.method == "months_of_sales":
        months = " ".join(
            f"WHEN grade = {text_literal(g)} THEN {s.fl(v)}" for g, v in p.months_of_sales.items()
        )
        volume = f"{d.double('orders_12m')} / {s.fl(12.0)} * (CASE {months} ELSE {zero} END)"
        return [
            [*first, ("l_volume", volume)],
            cap,
            [("l_raw", s.smaller("l_volume", "l_cap"))],
            [("l_pos", s.bigger("l_raw", zero))],
            [("recommended_limit_cents", d.bigint(
                f"CASE WHEN in_default = 1 THEN 0 ELSE FLOOR(l_pos / {step}) * {step} END"))],
        ]  # fmt: skip
    tenure = "tenure_months"
    months = s.clip(f"COALESCE({tenure}, {s.fl(1.0)})", 1.0, 12.0)
    monthly = f"({d.double('invoicing_12m')} / {months})"
    terms = f"COALESCE({d.double('terms')}, {s.fl(30.0)})"
    by_terms = f"({monthly} * ({terms} + {p.grace_days}) / {s.fl(30.0)})"
    by_peak = f"({s.fl(p.peak_headroom)} * {d.double('peak_not_due')})"
    table = {k: v for k, v in p.starter_bureau.items() if k != "missing"}
    bureau = " ".join(
        f"WHEN bureau_score >= {s.fl(float(e))} THEN {s.fl(table[e])}"
        for e in sorted(table, key=float, reverse=True)
    )
    missing = s.fl(p.starter_bureau.get("missing", 0.5))
    bureau_factor = f"(CASE {bureau} ELSE {missing} END)" if bureau else missing
    short = f"({tenure} IS NULL OR {tenure} < {s.fl(p.min_history_months)})"
    starter = (
        f"(CASE WHEN {short} THEN {s.fl(float(p.starter_limit) * 100)} * {bureau_factor} "
        f"ELSE {zero} END)"
    )
    floors = ", ".join(text_literal(g) for g in FLOOR_GRADES)
    active = "(status = 'active' OR status IS NULL)"
    min_limit = s.fl(float(p.min_limit) * 100)
    return [
        [*first, ("l_by_terms", by_terms), ("l_by_peak", by_peak), ("l_starter", starter)],
        [*cap, ("l_need", s.bigger("l_by_terms", "l_by_peak"))],
        [("l_wish", s.bigger("l_need * l_factor", "l_starter * l_factor"))],
        [("l_raw", s.smaller("l_wish", "l_cap"))],
        [("l_units", f"{s.bigger('l_raw', zero)} / {step}")],
        [("l_rounded", f"({s.rint('l_units')} * {step})")],
        [("recommended_limit_cents", d.bigint(
            f"CASE WHEN status = 'closed' OR in_default = 1 OR l_factor = 0 THEN 0 "
            f"WHEN {active} AND in_default = 0 AND grade IN ({floors}) THEN "
            f"{s.bigger('l_rounded', min_limit)} ELSE l_rounded END"))],
    ]  # fmt: skip


def full_query(
    card: Scorecard,
    d: Dialect,
    *,
    limits: LimitPolicy,
    loss: book.LossPolicy,
    policy: book.DefaultPolicy,
    as_of: date | None,
    header: str = "",
) -> str:
    """The query; with `as_of` None it takes the date as a parameter named `as_of`."""
    s = _Sql(d)
    values = _fixed_values(d, as_of, policy) if as_of else _param_values(d, policy)
    parts = [*_canonical(d), *_parts(d, policy), _factors(s), *_scoring(s, card, limits, loss)]
    r = min(card.reasons, len(card.factors), STORED_REASONS)
    margin = s.fl(max(float(limits.over_limit_margin) * 100, 1.0))
    reduce = ", ".join(text_literal(g) for g in REDUCE_GRADES)
    el = f"{d.double('exposure')} * pd * lgd"
    out_cols = [
        "customer_id",
        "score",
        "pd",
        "grade",
        *(f"reason{n + 1}" for n in range(r)),
        "recommended_limit_cents",
        f"{d.bigint('credit_limit')} AS current_limit_cents",
        f"CASE WHEN exposure - recommended_limit_cents >= {margin} "
        f"OR (grade IN ({reduce}) AND credit_limit > recommended_limit_cents) "
        "THEN 1 ELSE 0 END AS over_limit",
        f"{d.bigint('exposure')} AS exposure_cents",
        f"{d.bigint(s.rint(el))} AS expected_loss_cents",
        "in_default",
        f"{d.bigint('default_amount')} AS default_amount_cents",
        *OUTPUT_FACTORS,
    ]
    lines = [f"-- {line}" for line in header.splitlines() if line]
    when = f"as of {as_of.isoformat()}" if as_of else f"as of the parameter {param_placeholder(d)}"
    lines += [
        f"-- riskcli full scoring query ({d.name}), {when}: canonical tables customers,",
        "-- receivables, transactions, financials, credit_reports; money in currency units,",
        "-- results in integer cents; one row per customer known on the date.",
    ]
    body = "WITH\n" + ",\n".join(parts)
    select = "SELECT\n  " + ",\n  ".join(out_cols) + "\nFROM lm\nORDER BY customer_id"
    return "\n".join(lines) + "\n" + _bind(body, values) + "\n" + select + "\n"
