"""Reading stored score runs: a customer's scores and their explanation, the latest run's
customers and its distribution by grade and score."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from riskcli.domain.errors import InputError
from riskcli.services.scoring import factors as store_factors
from riskcli.services.scoring.config import ScoringConfig
from riskcli.services.scoring.engine import DEFAULT_GRADE
from riskcli.services.scoring.limits import explain_limit as explain_limit_lines
from riskcli.services.scoring.reasons import StoredReasons
from riskcli.services.scoring.registry import get_model
from riskcli.services.scoring.wording import band as bin_band
from riskcli.services.scoring.wording import describe_bin
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


def _money(cents: Any) -> Decimal:
    """Cents -> currency units, exact: tables show 1,234.56, csv/json a plain number."""
    return Decimal(int(cents)).scaleb(-2)


# One customer's scores, run by run through the primary key (run_id, customer_id): scores has
# no index by customer (m062); CROSS JOIN keeps SQLite from reordering the loops.
_BY_CUSTOMER = (
    "FROM score_runs r CROSS JOIN scores s ON s.run_id = r.id "
    "AND s.customer_id = (SELECT id FROM customers WHERE external_id = ?)"
)


def show(store: Store, customer: str, *, history: int = 10) -> list[dict[str, Any]]:
    """A customer's scores, newest first."""
    rows = store.query(
        "SELECT r.id AS run, r.as_of, m.name || ' v' || m.version AS model, s.score, s.pd, "
        "s.grade, r.model_id, s.bins, s.reasons AS codes, s.reason1, s.reason2, s.reason3, "
        "s.reason4, s.recommended_limit, s.current_limit, s.over_limit, s.exposure, "
        "s.expected_loss "
        f"{_BY_CUSTOMER} JOIN score_models m ON m.id = r.model_id "
        "ORDER BY r.id DESC LIMIT ?",
        (customer, history),
    )
    if not rows:
        known = store.scalar("SELECT 1 FROM customers WHERE external_id = ?", (customer,))
        if not known:
            raise InputError(f"no customer {customer!r}")
        raise InputError(f"customer {customer!r} has no score yet: run `riskcli score run`")
    stored = StoredReasons(store)
    kind = store.scalar("SELECT kind FROM customers WHERE external_id = ?", (customer,))
    for r in rows:
        legacy = [r.pop(f"reason{i}") for i in range(1, 5)]
        texts = stored.texts(r.pop("model_id"), r.pop("bins"), r.pop("codes"), legacy, kind)
        r["reasons"] = "; ".join(texts)
        r["recommended_limit"] = _money(r["recommended_limit"])
        r["current_limit"] = _money(r["current_limit"])
        r["over_limit"] = bool(r["over_limit"])
        for col in ("exposure", "expected_loss"):  # NULL on rows from before m070
            r[col] = None if r[col] is None else _money(r[col])
    return rows


def explain(store: Store, customer: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Points per factor of the latest score, and what would raise it."""
    rows = store.query(
        f"SELECT s.*, r.model_id, r.as_of {_BY_CUSTOMER} ORDER BY r.id DESC LIMIT 1",
        (customer,),
    )
    if not rows:
        show(store, customer)  # raises the right error
    row = rows[0]
    model = get_model(store, row["model_id"])
    bins = list(bytes(row["bins"]))
    out: list[dict[str, Any]] = []
    for f, b in zip(model.card.factors, bins, strict=True):
        this = f.bins[b]
        best = max(f.bins, key=lambda x: x.points)
        gain = best.points - this.points
        out.append(
            {
                "factor": f.name,
                "description": f.description,
                "value": bin_band(f.name, this),
                "points": this.points,
                "best_points": best.points,
                "would_raise_by": gain,
                "to_gain": describe_bin(f.name, f.description, best) if gain > 0 else "",
            }
        )
    out.sort(key=lambda r: -r["would_raise_by"])
    head = {
        "customer": customer,
        "run": row["run_id"],
        "as_of": row["as_of"],
        "model": model.label,
        "score": row["score"],
        "pd": row["pd"],
        "grade": row["grade"],
        "in_default": row["grade"] == DEFAULT_GRADE,
        "exposure": None if row["exposure"] is None else _money(row["exposure"]),
        "expected_loss": None if row["expected_loss"] is None else _money(row["expected_loss"]),
        "recommended_limit": _money(row["recommended_limit"]),
    }
    return head, out


def explain_limit(store: Store, customer: str, cfg: ScoringConfig) -> list[dict[str, Any]]:
    """How the latest run's recommended limit of a customer was derived (need, its driver, the
    grade factor, the cap, the result), from the book as of that run's date."""
    rows = store.query(
        f"SELECT s.grade, r.as_of {_BY_CUSTOMER} ORDER BY r.id DESC LIMIT 1", (customer,)
    )
    if not rows:
        show(store, customer)  # raises the right error
    as_of = date.fromisoformat(rows[0]["as_of"])
    frame = store_factors.build_factors(store, as_of, customer=customer, policy=cfg.default_policy)
    record = {str(k): v for k, v in frame.iloc[0].to_dict().items()}
    lines = explain_limit_lines(record, str(rows[0]["grade"]), cfg.limits)
    if record.get("in_default"):
        lines.insert(0, {"step": "default", "value": "in default: no credit (limit 0)"})
    return lines


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
