"""A scorecard as one portable SQL expression (a CASE per factor, summed).

The same text runs unchanged on SQLite, PostgreSQL, DuckDB and Spark SQL because it uses only
CASE/WHEN/IS NULL/IN/comparison with plain numeric and single-quoted string literals, and
unquoted identifiers. Portable unquoted identifiers must be lower-case ``[a-z_][a-z0-9_]*``
(PostgreSQL folds case, Spark reads double quotes as strings); for other column names pick a
quoting style: ``ansi`` ("name": SQLite, PostgreSQL, DuckDB) or ``backtick`` (`name`: Spark SQL
and SQLite). Categorical values are compared with text literals (`col IN ('a', 'b')`), with
no CAST (the cast types differ between engines): keep categorical columns as text columns.

The expression gives exactly the in-process score: the points are the stored (rounded) points
and every numeric comparison uses the stored cut points (``lo <= x < hi``). Grades follow from
the score with a second CASE on score thresholds derived from the PD bands.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from riskcli.domain.errors import InputError
from riskcli.services.scoring.card import Bin, Factor, Scorecard

Quote = Literal["none", "ansi", "backtick"]
SAFE = re.compile(r"[a-z_][a-z0-9_]*")
RESERVED = {
    "select", "from", "where", "case", "when", "then", "else", "end", "and", "or", "not",
    "null", "is", "in", "order", "group", "by", "table", "limit", "join", "on", "as", "user",
    "date", "time", "timestamp", "interval", "all", "any", "both", "check", "default", "desc",
    "asc", "distinct", "for", "grant", "having", "into", "union", "with", "to", "primary",
}  # fmt: skip


def ident(name: str, quote: Quote = "none") -> str:
    if quote == "ansi":
        return '"' + name.replace('"', '""') + '"'
    if quote == "backtick":
        return "`" + name.replace("`", "``") + "`"
    if not SAFE.fullmatch(name) or name in RESERVED:
        raise InputError(
            f"column {name!r} is not a portable SQL identifier (lower-case letters, digits, "
            "underscore; not a keyword); rename it or use --quote ansi|backtick"
        )
    return name


def num(x: float) -> str:
    """A numeric literal every engine parses to the same double; integers stay integers."""
    if not math.isfinite(x):
        raise InputError("a scorecard cut point is not finite")
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    text = repr(float(x))
    if "e" in text or "E" in text:
        text = f"{x:.17f}".rstrip("0")
    return text


def text_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _bin_index(f: Factor, kind: str) -> int:
    return next(i for i, b in enumerate(f.bins) if b.kind == kind)


def factor_case(f: Factor, quote: Quote = "none") -> str:
    col = ident(f.name, quote)
    pts = [num(b.points) for b in f.bins]
    parts = [f"CASE WHEN {col} IS NULL THEN {pts[_bin_index(f, 'missing')]}"]
    if f.type == "numeric":
        for i, b in enumerate(f.bins):
            if b.kind == "special":
                assert b.code is not None
                parts.append(f"WHEN {col} = {num(b.code)} THEN {pts[i]}")
        ranges = [(i, b) for i, b in enumerate(f.bins) if b.kind == "range"]
        for i, b in ranges[:-1]:
            assert b.hi is not None
            parts.append(f"WHEN {col} < {num(b.hi)} THEN {pts[i]}")
        parts.append(f"ELSE {pts[ranges[-1][0]]} END")
    else:
        for i, b in enumerate(f.bins):
            if b.kind == "categories" and b.values:
                values = ", ".join(text_literal(v) for v in b.values)
                parts.append(f"WHEN {col} IN ({values}) THEN {pts[i]}")
        parts.append(f"ELSE {pts[_bin_index(f, 'other')]} END")
    return " ".join(parts)


def score_expression(card: Scorecard, quote: Quote = "none") -> str:
    """Sum of one CASE per factor; NULL is the missing bin, as in the engine."""
    cases = [f"({factor_case(f, quote)})" for f in card.factors]
    return "(" + "\n + ".join(cases) + ")"


def grade_thresholds(card: Scorecard) -> list[tuple[str, float]]:
    """(grade, lowest score of the grade) from best to worst; the worst has no floor.

    PD falls as the score rises, so PD < max_pd  <=>  score > score_from_pd(max_pd).
    """
    out: list[tuple[str, float]] = []
    for g in card.grades[:-1]:
        out.append((g.grade, card.scaling.score_from_pd(g.max_pd)))
    return out


def grade_expression(card: Scorecard, score_sql: str = "score", quote: Quote = "none") -> str:
    parts = ["CASE"]
    for o in card.overrides:
        parts.append(
            f"WHEN {ident(o.factor, quote)} = {num(o.equals)} THEN {text_literal(o.grade)}"
        )
    for grade, floor in grade_thresholds(card):
        parts.append(f"WHEN {score_sql} > {num(floor)} THEN {text_literal(grade)}")
    parts.append(f"ELSE {text_literal(card.grades[-1].grade)} END")
    return " ".join(parts)


def export_sql(card: Scorecard, *, quote: Quote = "none", header: str = "") -> str:
    """The score expression, preceded by comment lines (valid SQL everywhere)."""
    lines = [f"-- {line}" for line in header.splitlines() if line]
    lines.append(
        f"-- score = sum of points; base {card.scaling.base_points:g} at odds "
        f"{card.scaling.base_odds:g}:1, PDO {card.scaling.pdo:g}; NULL = missing bin"
    )
    lines.append(f"-- grade: {grade_expression(card, 'score', quote)}")
    lines.append(score_expression(card, quote))
    return "\n".join(lines) + "\n"


def bin_label(b: Bin) -> str:
    return b.label
