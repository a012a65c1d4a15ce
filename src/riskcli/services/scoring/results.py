"""Reading stored score runs: the latest run's customers and its distribution by grade and
score (`lookup` reads one customer's scores, `limit_lookup` how its limit was derived)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services.scoring.reason_codes import DEFAULT_GRADE
from riskcli.services.scoring.reasons import StoredReasons
from riskcli.services.scoring.registry import get_model
from riskcli.storage.store import Store


def latest_run(store: Store, run_id: int | None = None) -> dict[str, Any]:
    if run_id is not None:
        rows = store.query("SELECT * FROM score_runs WHERE id = ?", (run_id,))
        if not rows:
            raise InputError(f"no score run {run_id}")
        return rows[0]
    rows = store.query("SELECT * FROM score_runs ORDER BY id DESC LIMIT 1")
    if not rows:
        raise InputError("no score runs yet: run `riskcli score run`")
    return rows[0]


def list_scores(
    store: Store, *, grade: str | None = None, over_limit: bool = False, limit: int | None = None
) -> list[dict[str, Any]]:
    run = latest_run(store)
    sql = (
        "SELECT c.external_id AS customer, s.score, s.pd, s.grade, s.reason1, "
        "s.recommended_limit, s.current_limit, s.over_limit, s.exposure, s.expected_loss, "
        "s.bins, "
        "substr(s.reasons, 1, 1) AS first_code FROM scores s "
        "JOIN customers c ON c.id = s.customer_id WHERE s.run_id = ?"
    )
    params: list[Any] = [run["id"]]
    if grade:
        sql += " AND s.grade = ?"
        params.append(grade.upper())
    if over_limit:
        sql += " AND s.over_limit = 1"
    sql += " ORDER BY s.score, c.external_id"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    frame = store.query_df(sql, params)
    texts = StoredReasons(store).of_model(int(run["model_id"]))
    frame["reason1"] = texts.first_stored(
        frame.pop("bins").tolist(), frame.pop("first_code").tolist(), frame["reason1"].tolist()
    )
    for col in ("recommended_limit", "current_limit"):
        frame[col] = (frame[col].astype("int64") / 100).round(2)
    for col in ("exposure", "expected_loss"):  # NULL on rows from before m070
        frame[col] = (pd.to_numeric(frame[col], errors="coerce") / 100).round(2)
    frame["over_limit"] = frame["over_limit"].astype(bool)
    return frame.to_dict("records")  # type: ignore[return-value]


def distribution(store: Store, *, width: int = 30, step: int = 20) -> dict[str, Any]:
    run = latest_run(store)
    model = get_model(store, run["model_id"])
    grades = store.query(
        "SELECT grade, COUNT(*) AS customers, AVG(pd) AS mean_pd, SUM(over_limit) AS over_limit "
        "FROM scores WHERE run_id = ? GROUP BY grade",
        (run["id"],),
    )
    by = {g["grade"]: g for g in grades}
    total = max(sum(g["customers"] for g in grades), 1)
    biggest = max((g["customers"] for g in grades), default=1)
    rows = []
    pd_bands = [(g.grade, g.description or f"PD < {g.max_pd:.0%}") for g in model.card.grades]
    for grade, band in [*pd_bands, (DEFAULT_GRADE, "in default (PD 1)")]:
        n = int(by.get(grade, {}).get("customers", 0))
        g = by.get(grade, {})
        rows.append(
            {
                "grade": grade,
                "pd_band": band,
                "customers": n,
                "share": f"{n / total:.1%}",
                "mean_pd": round(float(g.get("mean_pd") or 0), 4),
                "over_limit": int(g.get("over_limit") or 0),
                "histogram": "#" * round(width * n / biggest) if biggest else "",
            }
        )
    bands = store.query(
        "SELECT CAST(score / ? AS INTEGER) * ? AS band, COUNT(*) AS customers FROM scores "
        "WHERE run_id = ? GROUP BY band ORDER BY band",
        (step, step, run["id"]),
    )
    top = max((b["customers"] for b in bands), default=1)
    score_rows = [
        {
            "score": f"{int(b['band'])}-{int(b['band']) + step - 1}",
            "customers": b["customers"],
            "histogram": "#" * max(1, round(width * b["customers"] / top)),
        }
        for b in bands
    ]
    return {
        "run": {
            "run": run["id"],
            "model": model.label,
            "as_of": run["as_of"],
            "customers": run["customers"],
        },
        "grades": rows,
        "scores": score_rows,
    }
