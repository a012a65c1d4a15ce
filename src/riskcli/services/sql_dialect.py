"""The few SQL constructs that differ between SQLite, DuckDB, Spark SQL and PostgreSQL.

The book's queries (`riskcli.services.book`) are written once, as functions of a `Dialect`;
rendered with `STORE` they are the SQLite the store runs (byte for byte the text they had
before they became templates, a test keeps it so), and rendered with the other dialects they
are the parts of the exported scoring query (`riskcli score export --format sql --full`).

What differs, and how each dialect says it:

- the day number of a date, so that two dates subtract to days: SQLite `julianday(x)` (dates
  are ISO text), DuckDB `date_diff('day', DATE '1970-01-01', x)`, Spark `unix_date(x)`,
  PostgreSQL `(x - DATE '1970-01-01')`;
- the larger of two values: SQLite's two-argument `max(a, b)`, elsewhere `greatest(a, b)`;
- a count of the rows where a condition holds (NULL when it is unknown for every row): SQLite
  sums the boolean itself, the others a CASE;
- "keep this subquery apart": SQLite's `LIMIT -1` stops it flattening a co-routine; the others
  need no hint;
- the latest row per customer by a date: SQLite's bare columns beside `MAX(date)`; elsewhere
  `ROW_NUMBER()` over the customer's rows, newest first;
- the end of a financial period given as text (YYYY, YYYYQn, YYYY-MM), and integer division;
- a common table expression that must be computed once (`MATERIALIZED` in SQLite and
  PostgreSQL, which would otherwise inline it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

DialectName = Literal["store", "sqlite", "duckdb", "spark", "postgres"]
DIALECTS: tuple[str, ...] = ("duckdb", "spark", "postgres", "sqlite")


@dataclass(frozen=True)
class Dialect:
    """How one engine spells the constructs above; `prefix` names the tables the queries read
    (empty: the store's own tables; `c_`: the exported query's canonical views)."""

    name: DialectName
    prefix: str = ""

    @property
    def sqlite(self) -> bool:
        return self.name in ("store", "sqlite")

    def table(self, name: str) -> str:
        return self.prefix + name

    def day(self, x: str) -> str:
        if self.sqlite:
            return f"julianday({x})"
        if self.name == "duckdb":
            return f"date_diff('day', DATE '1970-01-01', {x})"
        if self.name == "spark":
            return f"unix_date({x})"
        return f"({x} - DATE '1970-01-01')"

    def greatest(self, *args: str) -> str:
        return f"{'max' if self.sqlite else 'greatest'}({', '.join(args)})"

    def count_true(self, cond: str) -> str:
        if self.sqlite:
            return f"SUM({cond})"
        return f"SUM(CASE WHEN {cond} THEN 1 WHEN NOT ({cond}) THEN 0 END)"

    @property
    def no_flatten(self) -> str:
        return " LIMIT -1" if self.sqlite else ""

    @property
    def materialized(self) -> str:
        """A common table expression computed once. SQLite and PostgreSQL (12 and later) would
        otherwise inline a CTE read once into the query that reads it, copying each column's
        expression into every use: the scoring query's layers (each reads the one before
        several times) then grow without bound, and PostgreSQL's planner runs out of memory.
        DuckDB and Spark keep each layer's columns as computed values."""
        return " MATERIALIZED" if self.sqlite or self.name == "postgres" else ""

    @property
    def true(self) -> str:
        return "1" if self.sqlite else "TRUE"

    def text_date(self, x: str) -> str:
        """An ISO date held as text, as a date."""
        return x if self.sqlite else f"CAST({x} AS DATE)"

    def month_end(self, ym: str) -> str:
        """The last day of the month `ym` (text YYYY-MM)."""
        if self.sqlite:
            return f"date({ym} || '-01', '+1 month', '-1 day')"
        first = f"CAST({ym} || '-01' AS DATE)"
        if self.name == "postgres":
            return f"CAST({first} + INTERVAL '1 month' - INTERVAL '1 day' AS DATE)"
        return f"last_day({first})"

    def idiv(self, a: str, b: str) -> str:
        """Integer division of two integer expressions (each parenthesised: `n + 1` stays
        whole)."""
        if self.name == "duckdb":
            return f"(({a}) // ({b}))"
        if self.name == "spark":
            return f"(({a}) div ({b}))"
        return f"(({a}) / ({b}))"

    def double(self, x: str) -> str:
        if self.sqlite:
            return f"CAST({x} AS REAL)"
        if self.name == "postgres":
            return f"CAST({x} AS DOUBLE PRECISION)"
        return f"CAST({x} AS DOUBLE)"

    def bigint(self, x: str) -> str:
        return f"CAST({x} AS {'INTEGER' if self.sqlite else 'BIGINT'})"

    def date_literal(self, iso: str) -> str:
        return f"'{iso}'" if self.sqlite else f"DATE '{iso}'"

    def latest(self, order: str) -> tuple[str, str, str]:
        """(select item, group clause, closing) that keep each customer's latest row by
        `order` in a subquery: SQLite's bare columns with MAX, elsewhere ROW_NUMBER()."""
        if self.sqlite:
            return f"MAX({order})", " GROUP BY customer_id", "\n)"
        rank = f"ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY {order} DESC) AS rn"
        return rank, "", "\n) q WHERE rn = 1"

    def exported(self) -> Dialect:
        """This dialect reading the exported query's canonical views."""
        return replace(self, prefix="c_")


#: the store's own SQLite
STORE = Dialect("store")


def dialect(name: str) -> Dialect:
    if name not in DIALECTS:
        from riskcli.domain.errors import InputError

        raise InputError(f"--dialect must be one of {', '.join(DIALECTS)}, not {name!r}")
    return Dialect(name).exported()  # type: ignore[arg-type]
