"""The book's SQL is written once: the store's rendering is the SQL it always ran."""

from __future__ import annotations

import pytest
from tests.unit.book_sql_frozen import FROZEN

from riskcli.services import book


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_store_rendering_is_byte_for_byte_the_sql_it_replaced(name: str) -> None:
    assert getattr(book, name) == FROZEN[name]


def test_integer_division_keeps_each_side_whole() -> None:
    """`n + 1` over 2 is (n + 1) / 2, not n + 1 / 2 (the median's middle rows)."""
    import sqlite3

    import duckdb

    from riskcli.services.sql_dialect import Dialect

    assert sqlite3.connect(":memory:").execute(
        f"SELECT {Dialect('sqlite').idiv('5 + 1', '2')}"
    ).fetchone() == (3,)
    assert duckdb.sql(f"SELECT {Dialect('duckdb').idiv('5 + 1', '2')}").fetchall() == [(3,)]
    assert Dialect("spark").idiv("n + 1", "2") == "((n + 1) div (2))"
    assert Dialect("postgres").idiv("n + 1", "2") == "((n + 1) / (2))"


def test_postgres_computes_each_layer_once() -> None:
    """PostgreSQL inlines a CTE read once; the scoring query's layers must not be copied."""
    from riskcli.services.sql_dialect import Dialect

    assert Dialect("postgres").materialized == " MATERIALIZED"
    assert Dialect("duckdb").materialized == ""
