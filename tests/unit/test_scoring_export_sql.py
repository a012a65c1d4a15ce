"""The exported SQL expression scores every row exactly as the engine does."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from tests.support.credit_sample import credit_frame

from riskcli.domain.errors import InputError
from riskcli.services.scoring.card import Scorecard
from riskcli.services.scoring.export_sql import (
    export_sql,
    grade_expression,
    ident,
    score_expression,
)
from riskcli.services.scoring.fit import fit_scorecard
from riskcli.services.scoring.params import BinningParams, ScorecardParams
from riskcli.services.scoring.points import score_frame


@pytest.fixture(scope="module")
def card_and_data() -> tuple[Scorecard, pd.DataFrame]:
    frame, y, _ = credit_frame(5000, seed=21)
    params = ScorecardParams(
        binning=BinningParams(special_codes_by_factor={"bureau_score": [-1]}),
        min_iv=0.0,
        max_corr=0.99,
    )
    card = fit_scorecard(frame, y, params).scorecard
    new, _, _ = credit_frame(3000, seed=22)
    # unseen categories, missing values, infinities are not SQL; edge values exactly at cuts
    new.loc[:20, "industry"] = "never-seen"
    new.loc[21:40, "region"] = None
    f = next(f for f in card.factors if f.name == "worst_dpd_12m")
    cuts = f.edges()
    new.loc[41 : 41 + len(cuts) - 1, "worst_dpd_12m"] = cuts
    return card, new


def _sql_frame(card: Scorecard, data: pd.DataFrame) -> pd.DataFrame:
    cols = card.factor_names
    out = data[cols].copy()
    return out.astype(object).where(out.notna(), None)


def test_sqlite_score_equals_in_process(card_and_data: tuple[Scorecard, pd.DataFrame]) -> None:
    card, data = card_and_data
    expected = score_frame(card, data)
    con = sqlite3.connect(":memory:")
    frame = _sql_frame(card, data)
    frame.insert(0, "rid", range(len(frame)))
    frame.to_sql("t", con, index=False)
    sql = export_sql(card, header="test")
    rows = con.execute(f"SELECT rid, {sql} FROM t ORDER BY rid").fetchall()
    got = np.array([r[1] for r in rows], dtype=float)
    assert np.array_equal(got, expected.score)
    grades = con.execute(
        f"SELECT {grade_expression(card)} FROM (SELECT *, {score_expression(card)} AS score "
        "FROM t) ORDER BY rid"
    ).fetchall()
    assert [g[0] for g in grades] == list(expected.grade)


def test_duckdb_score_equals_in_process(card_and_data: tuple[Scorecard, pd.DataFrame]) -> None:
    duckdb = pytest.importorskip("duckdb")
    card, data = card_and_data
    expected = score_frame(card, data)
    import pyarrow as pa

    con = duckdb.connect()
    frame = data[card.factor_names].reset_index(drop=True)
    frame.insert(0, "rid", range(len(frame)))
    # arrow turns NaN/None into SQL NULL, as a real table would hold them
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    con.register("src", arrow)
    con.execute("CREATE TABLE t AS SELECT * FROM src")
    nulls = con.execute("SELECT COUNT(*) FROM t WHERE region IS NULL").fetchone()
    assert nulls is not None and nulls[0] >= 20
    sql = export_sql(card)
    got = np.array(
        [r[1] for r in con.execute(f"SELECT rid, {sql} FROM t ORDER BY rid").fetchall()],
        dtype=float,
    )
    assert np.array_equal(got, expected.score)


def test_unsafe_identifier_needs_quoting() -> None:
    with pytest.raises(InputError, match="not a portable SQL identifier"):
        ident("Debt Ratio")
    with pytest.raises(InputError, match="not a portable SQL identifier"):
        ident("select")
    assert ident("Debt Ratio", "ansi") == '"Debt Ratio"'
    assert ident("a`b", "backtick") == "`a``b`"
    assert ident("debt_ratio") == "debt_ratio"
