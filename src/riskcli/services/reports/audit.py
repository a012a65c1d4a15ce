"""The audit report in every report format: one section per part of the access and audit
engineer's `riskcli.services.audit.report` (who accessed what, exports and reveals of personal
data, imports and changes, denied attempts, backups and drills, alerts handled)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from riskcli.services import audit as audit_service
from riskcli.services.reports.model import Chart, Report, Section
from riskcli.storage.store import Store

SECTION_KEYS: tuple[str, ...] = ("overview", *audit_service.REPORT_SECTIONS)


def build_audit(
    store: Store, period: str = "30d", *, progress: Callable[[int], None] | None = None
) -> Report:
    since, until = audit_service.parse_period(period)
    rows = audit_service.report(store, since, until)
    if progress:
        progress(1)
    frame = pd.DataFrame(rows, columns=list(audit_service.REPORT_COLUMNS))
    for col in ("first", "last"):  # ISO text with microseconds -> UTC time to the second
        frame[col] = [_utc_second(v) for v in frame[col]]
    sections: list[Section] = []
    totals = []
    for key in audit_service.REPORT_SECTIONS:
        part = frame[frame["section"] == key].drop(columns=["section"]).reset_index(drop=True)
        title = audit_service.SECTION_TITLES[key]
        title = title[:1].upper() + title[1:]
        events = int(part["events"].sum()) if not part.empty else 0
        totals.append((key, events))
        sections.append(
            Section(
                key,
                title,
                table=part,
                facts={"events": events, "users": int(part["user"].nunique())},
                note="" if not part.empty else "No events of this kind in the period.",
            )
        )
    overview = pd.DataFrame(
        {
            "section": [k for k, _ in totals],
            "title": [audit_service.SECTION_TITLES[k] for k, _ in totals],
            "events": [n for _, n in totals],
        }
    )
    sections.insert(
        0,
        Section(
            "overview",
            "Overview",
            table=overview,
            facts={"since": _utc_second(since), "until": _utc_second(until)},
            chart=Chart("bars", "section", ["events"], "Events by part of the report"),
        ),
    )
    return Report(
        kind="audit",
        title=f"Audit report {since:%Y-%m-%d %H:%M} .. {until:%Y-%m-%d %H:%M} UTC",
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        params={"period": period, "since": _utc_second(since), "until": _utc_second(until)},
        sections=sections,
    )


def _utc_second(value: object) -> dt.datetime | None:
    """An aware time or ISO text -> a naive UTC datetime to the second (times are UTC here)."""
    if value is None:
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)
