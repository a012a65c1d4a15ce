"""The data a scan looks at, and the shape of what a rule returns.

Rules are pure functions over pandas frames. Dates arrive as integer day numbers (days since
1970-01-01) so window arithmetic is integer maths on numpy arrays; money arrives as integer
cents. A rule returns a *candidate* frame with the columns in `CANDIDATE_COLUMNS`: one row per
condition that holds now, keyed by a stable dedup key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

EPOCH = dt.date(1970, 1, 1)

# the severities live in `severity` (no numpy there, for the CLI's help); re-exported here
from riskcli.services.monitoring.severity import SEVERITIES as SEVERITIES  # noqa: E402
from riskcli.services.monitoring.severity import SEVERITY_RANK as SEVERITY_RANK  # noqa: E402

CANDIDATE_COLUMNS: tuple[str, ...] = (
    "rule",
    "key",
    "customer_id",
    "subject",
    "severity",
    "title",
    "evidence",
    "action",
)

#: the frames a rule may need, and the columns each one carries
FRAME_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("id", "industry", "region", "credit_limit"),
    "receivables": (
        "invoice_number",
        "customer_id",
        "issue_date",
        "due_date",
        "amount",
        "paid_amount",
        "paid_date",
    ),
    "transactions": ("id", "customer_id", "kind", "date", "amount"),
    "credit_reports": (
        "customer_id",
        "provider",
        "report_date",
        "score",
        "lawsuit",
        "bankruptcy",
        "tax_violation",
        "dishonest_debtor",
    ),
    "contracts": ("contract_number", "customer_id", "end_date", "status"),
    "interactions": ("id", "customer_id", "kind", "date", "satisfaction"),
    "tiers": ("customer_id", "tier"),
    #: the last two score runs (run_seq orders them)
    "scores": ("customer_id", "run_seq", "score", "grade", "recommended_limit"),
    #: the champion model's latest run, and its development score bands
    "score_dist": ("score",),
    "score_bins": ("lower", "upper", "expected_share"),
}

#: date columns per frame, converted to day numbers by `normalise`
DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "receivables": ("issue_date", "due_date", "paid_date"),
    "transactions": ("date",),
    "credit_reports": ("report_date",),
    "contracts": ("end_date",),
    "interactions": ("date",),
}


@dataclass
class Frames:
    """Everything a scan reads; a frame is None when its source is absent from the store."""

    as_of: int
    frames: dict[str, pd.DataFrame | None] = field(default_factory=dict)
    #: why a frame is absent, e.g. "no score runs yet (m020_scoring)"
    missing: dict[str, str] = field(default_factory=dict)
    #: scalar facts from optional sources, e.g. the champion model's name
    facts: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> pd.DataFrame:
        frame = self.frames.get(name)
        if frame is None:
            raise KeyError(name)
        return frame

    def has(self, name: str) -> bool:
        return self.frames.get(name) is not None


def day_number(value: dt.date | str) -> int:
    """Days since 1970-01-01 of a date or an ISO 'YYYY-MM-DD' string."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return (value - EPOCH).days


def iso_date(day: int) -> str:
    return (EPOCH + dt.timedelta(days=int(day))).isoformat()


def days_to_iso(days: pd.Series) -> pd.Series:
    """Vectorised inverse of `day_number`; missing days stay missing (as None)."""
    stamps = pd.to_datetime(days.astype("float64"), unit="D", origin="unix")
    out = stamps.dt.strftime("%Y-%m-%d")
    return out.astype(object).where(days.notna(), None)


def to_days(values: pd.Series) -> pd.Series:
    """ISO date strings (or datetimes) to nullable integer day numbers."""
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.astype("Int64")
    stamps = pd.to_datetime(values, errors="coerce", format="ISO8601")
    days = (stamps - pd.Timestamp("1970-01-01")).dt.days
    return days.astype("Int64")


def normalise(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Convert the date columns of a frame built from ISO strings (tests, small stores)."""
    frame = frame.copy()
    for column in DATE_COLUMNS.get(name, ()):
        if column in frame.columns:
            frame[column] = to_days(frame[column])
    return frame


def make_frames(as_of: dt.date | str, **frames: pd.DataFrame | None) -> Frames:
    """Frames from plain DataFrames with ISO date strings — the way tests build a case."""
    built: dict[str, pd.DataFrame | None] = {}
    for name, frame in frames.items():
        built[name] = None if frame is None else normalise(name, frame)
    return Frames(as_of=day_number(as_of), frames=built)


def money(cents: pd.Series) -> pd.Series:
    """Integer cents to exact decimal strings: 123456 -> '1234.56', -5 -> '-0.05'."""
    values = cents.fillna(0).astype("int64")
    sign = np.where(values < 0, "-", "")
    absolute = values.abs()
    whole = (absolute // 100).astype(str)
    frac = (absolute % 100).astype(str).str.zfill(2)
    return labels(sign, cents.index) + whole + "." + frac


def labels(values: Any, index: pd.Index) -> pd.Series:
    """A Series of strings (e.g. from `np.where`) on `index`, ready for `+` concatenation."""
    out: pd.Series = pd.Series(values, index=index, dtype=object).astype(str)
    return out


def money_one(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def empty_candidates() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype=object) for column in CANDIDATE_COLUMNS})
    frame["customer_id"] = frame["customer_id"].astype("Int64")
    return frame


def candidates(
    rule: str,
    *,
    customer_id: pd.Series | None,
    subject: pd.Series | str,
    severity: pd.Series | str,
    title: pd.Series | str,
    action: pd.Series | str,
    evidence: Mapping[str, pd.Series | Any],
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """Assemble a candidate frame; every Series must share one index.

    The dedup key is `rule:customer:subject` ("-" for a portfolio-wide alert), so the same
    condition on the same subject always maps to the same key across runs.
    """
    if index is None:
        if customer_id is not None:
            index = customer_id.index
        elif isinstance(subject, pd.Series):
            index = subject.index
        else:
            raise ValueError("candidates() needs an index")
    if len(index) == 0:
        return empty_candidates()

    def col(value: pd.Series | Any) -> pd.Series:
        if isinstance(value, pd.Series):
            return value
        return pd.Series([value] * len(index), index=index, dtype=object)

    cid = (
        pd.Series(pd.NA, index=index, dtype="Int64")
        if customer_id is None
        else customer_id.astype("Int64")
    )
    cid_text = cid.astype(object).where(cid.notna(), "-").astype(str)
    subject_s = col(subject).astype(str)
    evidence_frame = pd.DataFrame({name: col(value) for name, value in evidence.items()})
    evidence_json = evidence_frame.to_json(orient="records", lines=True, force_ascii=False)
    lines = evidence_json.splitlines() if evidence_json else []
    out = pd.DataFrame(
        {
            "rule": rule,
            "key": rule + ":" + cid_text + ":" + subject_s,
            "customer_id": cid,
            "subject": subject_s,
            "severity": col(severity).astype(str),
            "title": col(title).astype(str),
            "evidence": pd.Series(lines, index=index, dtype=object),
            "action": col(action).astype(str),
        },
        index=index,
    )
    return out.reset_index(drop=True)


def latest_two(frame: pd.DataFrame, by: str, order: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest and the previous row per `by` group, ordered by `order` (ascending)."""
    ordered = frame.sort_values([by, *order], kind="stable")
    rank = ordered.groupby(by, sort=False).cumcount(ascending=False)
    latest = ordered[rank == 0].set_index(by)
    previous = ordered[rank == 1].set_index(by)
    return latest, previous


def watched_tiers(frames: Frames, tiers: list[str]) -> pd.Series:
    """customer id -> tier, for the customers whose tier is one of `tiers` (the last row of a
    customer listed twice wins)."""
    frame = frames.get("tiers")
    watched: pd.Series = (
        frame[frame["tier"].astype(str).isin(tiers)]
        .drop_duplicates("customer_id", keep="last")
        .set_index("customer_id")["tier"]
    )
    return watched
