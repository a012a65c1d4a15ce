"""Retention policy: keep-last/daily/weekly/monthly, the empty-policy refusal, the newest guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskcli.domain.errors import UsageError
from riskcli.services.backup.prune import Candidate, PrunePolicy, plan_prune

T0 = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # a Sunday


def daily(n: int, per_day: int = 1) -> list[Candidate]:
    out = []
    for day in range(n):
        for k in range(per_day):
            ts = T0 - timedelta(days=day, hours=k * 3)
            out.append(Candidate(f"b-{day:03d}-{k}", ts))
    return out


def kept(decisions: list) -> list[str]:  # type: ignore[type-arg]
    return [d.name for d in decisions if d.keep]


def test_empty_policy_is_refused() -> None:
    with pytest.raises(UsageError, match="empty retention policy"):
        plan_prune(daily(3), PrunePolicy())


def test_negative_count_is_refused() -> None:
    with pytest.raises(UsageError, match="--keep-last must not be negative"):
        PrunePolicy(keep_last=-1)


def test_keep_last() -> None:
    decisions = plan_prune(daily(5), PrunePolicy(keep_last=2), tz=UTC)
    assert kept(decisions) == ["b-000-0", "b-001-0"]
    assert decisions[0].why == "last 1 of 2"
    assert decisions[4].why == "matches no keep rule"


def test_keep_daily_keeps_newest_of_each_day() -> None:
    decisions = plan_prune(daily(4, per_day=3), PrunePolicy(keep_daily=3), tz=UTC)
    assert kept(decisions) == ["b-000-0", "b-001-0", "b-002-0"]
    assert "daily 2026-11-29" in decisions[0].reasons


def test_weekly_and_monthly_buckets() -> None:
    decisions = plan_prune(daily(70), PrunePolicy(keep_weekly=3, keep_monthly=3), tz=UTC)
    names = kept(decisions)
    # newest of weeks 48, 47, 46 (Sundays) and newest of Nov, Oct, Sep
    assert names[:3] == ["b-000-0", "b-007-0", "b-014-0"]
    by_name = {d.name: d for d in decisions}
    assert by_name["b-000-0"].reasons == ["weekly 2026-W48", "monthly 2026-11"]
    assert by_name["b-029-0"].reasons == ["monthly 2026-10"]  # Oct 31, newest of October
    assert by_name["b-060-0"].reasons == ["monthly 2026-09"]  # Sep 30
    assert len(names) == 5  # b-000-0 counts for both a week and a month


def test_days_follow_the_given_time_zone() -> None:
    plus8 = timezone(timedelta(hours=8))
    a = Candidate("a", datetime(2026, 11, 29, 15, 0, tzinfo=UTC))  # 23:00 in UTC+8
    b = Candidate("b", datetime(2026, 11, 29, 17, 0, tzinfo=UTC))  # 01:00 next day in UTC+8
    assert kept(plan_prune([a, b], PrunePolicy(keep_daily=1), tz=UTC)) == ["b"]
    assert kept(plan_prune([a, b], PrunePolicy(keep_daily=2), tz=plus8)) == ["b", "a"]


def test_newest_verified_is_always_kept() -> None:
    decisions = plan_prune(daily(5), PrunePolicy(keep_monthly=1), protect="b-002-0", tz=UTC)
    assert set(kept(decisions)) == {"b-000-0", "b-002-0"}
    reasons = {d.name: d.why for d in decisions}
    assert reasons["b-002-0"] == "newest verified backup (always kept)"


times = st.lists(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    min_size=1,
    max_size=40,
    unique=True,
)
counts = st.integers(min_value=0, max_value=5)


@given(times, counts, counts, counts, counts)
def test_policy_invariants(
    stamps: list[datetime], last: int, day: int, week: int, month: int
) -> None:
    policy = PrunePolicy(last, day, week, month)
    cands = [Candidate(f"n{i}", ts) for i, ts in enumerate(stamps)]
    if policy.is_empty():
        with pytest.raises(UsageError):
            plan_prune(cands, policy)
        return
    decisions = plan_prune(cands, policy, tz=UTC)
    assert len(decisions) == len(cands)
    # the newest backup is always kept by any non-empty policy
    assert decisions[0].keep
    # never keeps more than the policy allows
    assert sum(d.keep for d in decisions) <= last + day + week + month
    # every kept backup says why
    assert all(d.reasons for d in decisions if d.keep)
