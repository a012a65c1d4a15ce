"""Retention policy, restic-style: keep the last N, and the newest backup of each of the last N
days, ISO weeks and months that have one. Pure: it decides, the service deletes.

Two guards the caller cannot switch off: an empty policy is refused (it would delete
everything), and the newest verified backup is always kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from riskcli.domain.errors import UsageError


@dataclass(frozen=True)
class PrunePolicy:
    keep_last: int = 0
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0

    def __post_init__(self) -> None:
        for name in ("keep_last", "keep_daily", "keep_weekly", "keep_monthly"):
            if getattr(self, name) < 0:
                raise UsageError(f"--{name.replace('_', '-')} must not be negative")

    def is_empty(self) -> bool:
        return not (self.keep_last or self.keep_daily or self.keep_weekly or self.keep_monthly)


@dataclass(frozen=True)
class Candidate:
    """A backup file as prune sees it."""

    name: str
    created_at: datetime  # timezone-aware


@dataclass
class Decision:
    name: str
    created_at: datetime
    keep: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def why(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "matches no keep rule"


def _buckets(tz: tzinfo | None) -> list[tuple[str, str, Callable[[datetime], str]]]:
    def local(ts: datetime) -> datetime:
        return ts.astimezone(tz)

    def week(ts: datetime) -> str:
        year, number, _ = local(ts).isocalendar()
        return f"{year}-W{number:02d}"

    return [
        ("keep_daily", "daily", lambda ts: local(ts).strftime("%Y-%m-%d")),
        ("keep_weekly", "weekly", week),
        ("keep_monthly", "monthly", lambda ts: local(ts).strftime("%Y-%m")),
    ]


def plan_prune(
    candidates: Sequence[Candidate],
    policy: PrunePolicy,
    *,
    protect: str | None = None,
    tz: tzinfo | None = None,
) -> list[Decision]:
    """Decide keep/remove for each candidate, newest first, with the reasons.

    *protect* names the newest verified backup, which is kept whatever the policy says.
    Days, weeks and months are counted in *tz* (default: the local time zone).

    >>> from datetime import timezone, timedelta
    >>> t0 = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
    >>> cs = [Candidate(f"b{i}", t0 - timedelta(hours=12 * i)) for i in range(4)]
    >>> [(d.name, d.keep) for d in plan_prune(cs, PrunePolicy(keep_daily=2), tz=timezone.utc)]
    [('b0', True), ('b1', False), ('b2', True), ('b3', False)]
    """
    if policy.is_empty():
        raise UsageError(
            "refusing an empty retention policy: it would remove every backup; give at least "
            "one of --keep-last, --keep-daily, --keep-weekly, --keep-monthly"
        )
    ordered = sorted(candidates, key=lambda c: (c.created_at, c.name), reverse=True)
    decisions = [Decision(c.name, c.created_at) for c in ordered]

    for index, decision in enumerate(decisions[: policy.keep_last]):
        decision.keep = True
        decision.reasons.append(f"last {index + 1} of {policy.keep_last}")

    for attr, label, bucket_of in _buckets(tz):
        limit: int = getattr(policy, attr)
        seen: list[str] = []
        for decision in decisions:
            if len(seen) >= limit:
                break
            bucket = bucket_of(decision.created_at)
            if bucket in seen:
                continue
            seen.append(bucket)
            decision.keep = True
            decision.reasons.append(f"{label} {bucket}")

    for decision in decisions:
        if protect is not None and decision.name == protect:
            if not decision.keep:
                decision.reasons.append("newest verified backup (always kept)")
            decision.keep = True
    return decisions
