"""The filter builder: conditions in order, parameters beside them, nothing when empty."""

from __future__ import annotations

from riskcli.storage.sqlwhere import Where


def test_no_condition_gives_no_where_clause() -> None:
    where = Where()
    assert where.sql == "" and where.params == [] and not where


def test_conditions_join_with_and_and_keep_their_parameters_in_order() -> None:
    where = (
        Where()
        .add("a.run_id = ?", 4)
        .add_if("C1", "c.external_id = ?", "C1")
        .add_if(None, "a.rule = ?", None)
        .add_if(True, "a.status != 'resolved'")
        .add("a.ts BETWEEN ? AND ?", "2026-01-01", "2026-02-01")
    )
    assert where.sql == (
        " WHERE a.run_id = ? AND c.external_id = ? AND a.status != 'resolved' "
        "AND a.ts BETWEEN ? AND ?"
    )
    assert where.params == [4, "C1", "2026-01-01", "2026-02-01"]
    assert where


def test_add_if_skips_false_values_but_not_a_test_written_out() -> None:
    assert Where().add_if("", "x = ?", "").sql == ""
    assert Where().add_if(0, "x = ?", 0).params == []
    blank: str | None = ""
    kept = Where().add_if(blank is not None, "x = ?", blank)
    assert kept.sql == " WHERE x = ?" and kept.params == [""]
