"""The stress report: PD, expected loss, grades, limit breaches and concentration under a
scenario, beside the base case. Nothing is stored but the audit event of the run.

Inputs (CREDIT.md): PD from the latest score run on or before the as-of date (default: that
run's own as-of date, so PD and exposure describe the same day); EAD = exposure as of the date
(`riskcli.services.book`); LGD from `[credit.loss]` (`lgd`, default 0.40, and `by_industry`),
or `--lgd` for every customer in the stressed case.

Under stress a customer's PD = min(1, PD × multiplier + the shifts of its industry / region);
a customer put in default (or already in default) has PD 1 and grade DF. The stressed grade is
the grade band of the stressed PD, or the base grade where that is worse (a stress never
improves a grade). EL = PD × LGD × EAD. Grades come from the score run's model bands. A limit
breach is exposure above the credit limit, or any exposure to a customer graded E or in
default (credit appetite 0). Provisions (CAS 22 / IFRS 9) are not in riskcli yet and are
not stressed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from riskcli.config import read_toml
from riskcli.domain.errors import InputError
from riskcli.services.book import ISSUED, LossPolicy, load_credit_config, outstanding, params
from riskcli.services.reports import data as loaders
from riskcli.services.reports import metrics as m
from riskcli.services.reports.model import Report, Section
from riskcli.storage.store import Store

DEFAULTED = "DF"
NO_APPETITE = ("E", DEFAULTED)
LARGEST = "largest"
SECTION_KEYS = (
    "summary",
    "grades",
    "concentration_industry",
    "concentration_region",
    "movers",
    "limit_breaches",
    "provisions",
)
_SHIFT = re.compile(r"^(industry|region)=(.+):([+-]?\d*\.?\d+)$")


@dataclass(frozen=True)
class Shift:
    by: str  # industry or region
    value: str
    delta: float

    def label(self) -> str:
        return f"{self.by}={self.value}:{self.delta:+g}"


def parse_shift(text: str) -> Shift:
    match = _SHIFT.match(text.strip())
    if match is None:
        raise InputError(
            f"--pd-shift {text!r}: use industry=NAME:+0.05 or region=NAME:+0.05 (PD points)"
        )
    delta = float(match.group(3))
    if not -1 <= delta <= 1:
        raise InputError(f"--pd-shift {text!r}: the shift must lie between -1 and +1")
    return Shift(match.group(1), match.group(2).strip(), delta)


class ScenarioFile(BaseModel):
    """A stress scenario as TOML; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    description: str = ""
    pd_multiplier: float = Field(1.0, ge=0, le=100)
    lgd: float | None = Field(None, ge=0, le=1)
    defaults: list[str] = Field(default_factory=list)
    pd_shift: list[str] = Field(default_factory=list)


@dataclass
class Scenario:
    name: str = "ad hoc"
    pd_multiplier: float = 1.0
    lgd: float | None = None
    defaults: list[str] = field(default_factory=list)
    shifts: list[Shift] = field(default_factory=list)


def read_scenario(path: Path) -> Scenario:
    raw = read_toml(path, "scenario file")
    try:
        spec = ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        what = f"unknown key {where!r}" if err["type"] == "extra_forbidden" else err["msg"]
        raise InputError(f"scenario file {path.name}: {what}") from None
    return Scenario(
        name=spec.name or path.stem,
        pd_multiplier=spec.pd_multiplier,
        lgd=spec.lgd,
        defaults=list(spec.defaults),
        shifts=[parse_shift(s) for s in spec.pd_shift],
    )


def configured_loss(config: dict[str, Any] | None) -> LossPolicy:
    """`[credit.loss]` of the config: `lgd` (0.40) and any `by_industry` values."""
    return load_credit_config(config).loss


def exposure_as_of(store: Store, day: dt.date) -> pd.Series:
    """EAD per customer id: outstanding receivables as of `day` (cents), by the book's rules."""
    frame = store.query_df(
        f"SELECT customer_id, SUM({outstanding()}) AS exposure FROM receivables "
        f"WHERE {ISSUED} GROUP BY customer_id",
        params(day),
    )
    return frame.set_index("customer_id")["exposure"].fillna(0).astype("int64")


# ---- the book under the scenario ------------------------------------------------------------
def _grades(store: Store, run_id: int | None) -> tuple[list[float], list[str]]:
    from riskcli.services.scoring.engine import DEFAULT_GRADES

    bands = list(DEFAULT_GRADES)
    if run_id is not None:
        from riskcli.services.scoring.registry import get_model

        model_id = store.scalar("SELECT model_id FROM score_runs WHERE id = ?", (run_id,))
        if model_id is not None:
            bands = list(get_model(store, int(model_id)).card.grades)
    return [b.max_pd for b in bands[:-1]], [b.grade for b in bands]


def _grade(pd_: np.ndarray, bounds: list[float], names: list[str]) -> np.ndarray:
    out = np.asarray(names, dtype=object)[np.searchsorted(bounds, pd_, side="right")]
    out[pd_ >= 1.0] = DEFAULTED
    return out


def stressed_book(
    store: Store, scenario: Scenario, *, as_of: dt.date | None, loss: LossPolicy
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per scored customer: exposure, base and stressed PD, grade, EL, breach."""
    snapshot = loaders.score_snapshot(store, as_of or dt.date.today())
    if snapshot is None or snapshot.frame.empty:
        raise InputError("no score run to stress (run `riskcli score run` first)")
    day = as_of or snapshot.as_of or dt.date.today()
    customers = loaders.customers(store)
    exposure = exposure_as_of(store, day)
    frame = customers.merge(
        snapshot.frame[["customer_id", "pd", "grade"]].rename(columns={"customer_id": "id"}),
        on="id",
        how="inner",
    )
    frame["exposure"] = frame["id"].map(exposure).fillna(0).astype("int64")
    for col in ("industry", "region"):
        frame[col] = frame[col].fillna("").astype(str).str.strip().replace("", m.UNKNOWN)
    for shift in scenario.shifts:
        if not (customers[shift.by].astype(str).str.strip() == shift.value).any():
            raise InputError(f"--pd-shift: no customer has {shift.by} {shift.value!r}")
    stressed = frame["pd"].astype(float).to_numpy() * scenario.pd_multiplier
    for shift in scenario.shifts:
        stressed = stressed + np.where((frame[shift.by] == shift.value).to_numpy(), shift.delta, 0)
    # a customer already in default stays there: default is a state, not a probability
    already = (frame["grade"].astype(str) == DEFAULTED).to_numpy() | (frame["pd"] >= 1).to_numpy()
    defaulted = _defaults(frame, scenario.defaults, customers, already) | already
    stressed = np.where(defaulted, 1.0, np.clip(stressed, 0.0, 1.0))
    bounds, names = _grades(store, snapshot.run_id)
    base_pd = frame["pd"].astype(float).to_numpy()
    frame["base_pd"] = base_pd
    frame["stressed_pd"] = stressed
    frame["base_grade"] = frame["grade"].astype(str)
    # a stress never improves a grade: an override (a dishonest debtor is E whatever its PD)
    # stays, and a customer the scenario leaves alone keeps its grade
    rank = {g: i for i, g in enumerate([*names, DEFAULTED])}
    banded = _grade(stressed, bounds, names)
    worse = np.array([rank.get(b, -1) > rank.get(str(g), -1) for b, g in
                      zip(banded, frame["base_grade"], strict=True)], dtype=bool)  # fmt: skip
    frame["stressed_grade"] = np.where(worse, banded, frame["base_grade"])
    base_lgd = loss.lgd_of(frame["industry"].to_numpy())
    stressed_lgd = base_lgd if scenario.lgd is None else np.full(len(frame), scenario.lgd)
    frame["base_el"] = np.round(base_pd * base_lgd * frame["exposure"]).astype("int64")
    frame["stressed_el"] = np.round(stressed * stressed_lgd * frame["exposure"]).astype("int64")
    limit = frame["credit_limit"].fillna(0).astype("int64")
    over = (limit > 0) & (frame["exposure"] > limit)
    has = frame["exposure"] > 0
    frame["base_breach"] = over | (frame["base_grade"].isin(NO_APPETITE) & has)
    frame["stressed_breach"] = over | (frame["stressed_grade"].isin(NO_APPETITE) & has)
    params = {
        "as_of": day,
        "score_run": snapshot.label,
        "scenario": scenario.name,
        "pd_multiplier": scenario.pd_multiplier,
        "pd_shift": ", ".join(s.label() for s in scenario.shifts),
        "defaults": ", ".join(frame.loc[defaulted & ~already, "external_id"].astype(str)),
        "lgd_base": loss.lgd,
        "lgd_by_industry": ", ".join(f"{k}={v:g}" for k, v in loss.by_industry.items()),
        "lgd_stressed": loss.lgd if scenario.lgd is None else scenario.lgd,
        "unscored_with_exposure": int((~exposure.index.isin(frame["id"]) & (exposure > 0)).sum()),
    }
    return frame, params


def _defaults(
    frame: pd.DataFrame, wanted: list[str], customers: pd.DataFrame, already: np.ndarray
) -> np.ndarray:
    """The customers the scenario puts in default; `largest`: the largest exposure of those
    not in default yet."""
    chosen = np.zeros(len(frame), dtype=bool)
    for ident in wanted:
        if ident == LARGEST:
            exposure = np.where(already, -1, frame["exposure"].to_numpy())
            if not len(exposure) or exposure.max() <= 0:
                raise InputError("--default largest: no scored customer with exposure")
            chosen[int(np.argmax(exposure))] = True
            continue
        hit = (frame["external_id"] == ident).to_numpy()
        if not hit.any():
            known = (customers["external_id"] == ident).any()
            why = "has no score in the run" if known else "does not exist"
            raise InputError(f"--default: customer {ident} {why}")
        chosen |= hit
    return chosen


# ---- the report -----------------------------------------------------------------------------
def build_stress(
    store: Store,
    scenario: Scenario,
    *,
    as_of: dt.date | None = None,
    loss: LossPolicy | None = None,
    top: int = 10,
) -> Report:
    frame, info = stressed_book(store, scenario, as_of=as_of, loss=loss or LossPolicy())
    sections = [
        _summary(frame),
        _grade_table(frame),
        _concentration(frame, "industry"),
        _concentration(frame, "region"),
        _movers(frame, top),
        _breaches(frame),
        Section.missing(
            "provisions",
            "Provisions",
            "provisions (CAS 22 / IFRS 9 loss allowance) are not in riskcli yet: not stressed",
        ),
    ]
    return Report(
        kind="stress",
        title=f"Stress test '{scenario.name}' as of {info['as_of'].isoformat()}",
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        params=info,
        sections=sections,
    )


def _money(cents: Any) -> Any:
    return m.cents_to_decimal(int(cents))


def _summary(f: pd.DataFrame) -> Section:
    exposure = int(f["exposure"].sum())

    def case(prefix: str) -> dict[str, Any]:
        el = int(f[f"{prefix}_el"].sum())
        breach = f[f"{prefix}_breach"]
        return {
            "expected_loss": _money(el),
            "expected_loss_rate": round(el / exposure, 6) if exposure else 0.0,
            "mean_pd": round(float(f[f"{prefix}_pd"].mean()), 6) if len(f) else 0.0,
            "exposure_weighted_pd": (
                round(float((f[f"{prefix}_pd"] * f["exposure"]).sum()) / exposure, 6)
                if exposure
                else 0.0
            ),
            "customers_grade_e": int((f[f"{prefix}_grade"] == "E").sum()),
            "customers_in_default": int((f[f"{prefix}_grade"] == DEFAULTED).sum()),
            "limit_breaches": int(breach.sum()),
            "exposure_in_breach": _money(f.loc[breach, "exposure"].sum()),
            "hhi_industry_el": _hhi(f, "industry", f"{prefix}_el"),
        }

    base, stressed = case("base"), case("stressed")
    rows = [
        {"metric": "scored_customers", "base": len(f), "stressed": len(f), "change": 0},
        {"metric": "exposure", "base": _money(exposure), "stressed": _money(exposure),
         "change": _money(0)},
    ]  # fmt: skip
    for key in base:
        b, s = base[key], stressed[key]
        rows.append({"metric": key, "base": b, "stressed": s, "change": _change(b, s)})
    table = pd.DataFrame(rows)
    facts = {
        "expected_loss_base": base["expected_loss"],
        "expected_loss_stressed": stressed["expected_loss"],
    }
    return Section("summary", "Base case and stressed case", table, facts=facts)


def _change(base: Any, stressed: Any) -> Any:
    if base is None or stressed is None:
        return None
    diff = stressed - base
    return round(diff, 6) if isinstance(diff, float) else diff


def _hhi(f: pd.DataFrame, by: str, col: str) -> float | None:
    total = float(f[col].sum())
    if not total:
        return None
    return m.herfindahl(f.groupby(by)[col].sum() / total)


def _grade_table(f: pd.DataFrame) -> Section:
    names = sorted(set(f["base_grade"]) | set(f["stressed_grade"]), key=lambda g: (g == "DF", g))
    rows = []
    for g in names:
        b, s = f["base_grade"] == g, f["stressed_grade"] == g
        rows.append(
            {
                "grade": g,
                "base_customers": int(b.sum()),
                "base_exposure": _money(f.loc[b, "exposure"].sum()),
                "stressed_customers": int(s.sum()),
                "stressed_exposure": _money(f.loc[s, "exposure"].sum()),
            }
        )
    return Section("grades", "Customers and exposure by grade", pd.DataFrame(rows))


def _concentration(f: pd.DataFrame, by: str) -> Section:
    g = f.groupby(by).agg(
        customers=("id", "count"),
        exposure=("exposure", "sum"),
        base_el=("base_el", "sum"),
        stressed_el=("stressed_el", "sum"),
    )
    g = g.sort_values(["stressed_el", "exposure"], ascending=False)
    base_total, stressed_total = float(g["base_el"].sum()), float(g["stressed_el"].sum())
    table = pd.DataFrame(
        {
            by: g.index.astype(str),
            "customers": g["customers"].astype("int64").to_numpy(),
            "exposure": m.money_column(g["exposure"]).to_numpy(),
            "base_el": m.money_column(g["base_el"]).to_numpy(),
            "stressed_el": m.money_column(g["stressed_el"]).to_numpy(),
            "base_el_share": (g["base_el"] / base_total).round(6).fillna(0).to_numpy()
            if base_total
            else 0.0,
            "stressed_el_share": (g["stressed_el"] / stressed_total).round(6).fillna(0).to_numpy()
            if stressed_total
            else 0.0,
        }
    )
    facts = {"hhi_base_el": _hhi(f, by, "base_el"), "hhi_stressed_el": _hhi(f, by, "stressed_el")}
    return Section(f"concentration_{by}", f"Expected loss by {by}", table, facts=facts)


_CUSTOMER_COLUMNS = ("external_id", "name", "industry", "region")


def _customer_rows(f: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": f["external_id"].astype(str).to_numpy(),
            "name": f["name"].to_numpy(),
            "industry": f["industry"].to_numpy(),
            "region": f["region"].to_numpy(),
            "exposure": m.money_column(f["exposure"]).to_numpy(),
            "base_pd": f["base_pd"].round(6).to_numpy(),
            "stressed_pd": f["stressed_pd"].round(6).to_numpy(),
            "base_grade": f["base_grade"].to_numpy(),
            "stressed_grade": f["stressed_grade"].to_numpy(),
            "base_el": m.money_column(f["base_el"]).to_numpy(),
            "stressed_el": m.money_column(f["stressed_el"]).to_numpy(),
        }
    )


def _movers(f: pd.DataFrame, top: int) -> Section:
    rise = (f["stressed_el"] - f["base_el"]).sort_values(ascending=False)
    picked = f.loc[rise.index[rise > 0][:top]]
    return Section(
        "movers",
        f"Largest rises in expected loss (top {top})",
        _customer_rows(picked),
        note="the scenario raises no customer's expected loss" if picked.empty else "",
    )


def _breaches(f: pd.DataFrame) -> Section:
    new = f[f["stressed_breach"] & ~f["base_breach"]].sort_values("exposure", ascending=False)
    return Section(
        "limit_breaches",
        "New limit breaches under stress",
        _customer_rows(new),
        note="no new breach" if new.empty else "",
        facts={"new_breaches": len(new)},
    )
