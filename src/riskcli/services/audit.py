"""The audit trail: anchoring the chain head outside the store, verifying, searching, reporting.

Events live inside the store, hash-chained (`riskcli.storage.audit`). Anyone holding a key can
recompute a whole chain, so the chain alone only catches clumsy edits. After each write the head
(sequence number and hash) is also appended to an *anchor* file outside the store — by default
`<db>.anchor` beside it; put it somewhere the store's users cannot rewrite (another disk, an
append-only mount, a log shipper) with `[audit] anchor = "PATH"` in the config, `RISKCLI_ANCHOR`
or `--anchor`. `verify` then checks the chain link by link and every anchored head against the
events, so an edited event, deleted events, a truncated tail, a rewritten chain and a store
rolled back to an older copy each name the first bad event.

Anchor lines are JSON, one per write::

    {"store_id": "...", "seq": 42, "hash": "ab12...", "ts": "2026-11-29T14:00:00+00:00"}

A restore (which legitimately puts an older store back) appends a line with
`"kind": "restore"`; anchored heads above the restored sequence written before it are then
history the restore discarded, not tampering.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from riskcli.domain.errors import InputError, IntegrityError, UsageError
from riskcli.storage import audit as chain
from riskcli.storage.store import Store

ANCHOR_SUFFIX = ".anchor"
ANCHOR_ENV = "RISKCLI_ANCHOR"


class AuditConfig(BaseModel):
    """`[audit]` section of the config."""

    model_config = ConfigDict(extra="forbid")

    #: anchor file; relative paths are taken from the store's folder. Default `<db>.anchor`.
    anchor: str | None = None


def audit_config(config: dict[str, Any] | None) -> AuditConfig:
    section = (config or {}).get("audit", {})
    if not isinstance(section, dict):
        raise InputError("config section [audit] must be a table")
    try:
        return AuditConfig.model_validate(section)
    except ValueError as exc:
        raise InputError(f"config section [audit] is invalid: {exc}") from None


def anchor_path(
    store_path: Path, config: dict[str, Any] | None = None, override: Path | None = None
) -> Path:
    """Where the anchor lives: `--anchor`, `RISKCLI_ANCHOR`, `[audit] anchor`, else beside."""
    if override is not None:
        return override
    env = os.environ.get(ANCHOR_ENV)
    if env:
        return Path(env)
    configured = audit_config(config).anchor
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else store_path.parent / path
    return store_path.with_name(store_path.name + ANCHOR_SUFFIX)


# ---- the anchor file -------------------------------------------------------------------------
@dataclass(frozen=True)
class AnchorEntry:
    line: int
    store_id: str
    seq: int
    hash: str
    ts: str
    kind: str = "head"  # or "restore"


@dataclass
class AnchorFile:
    entries: list[AnchorEntry]
    damaged_lines: list[int] = field(default_factory=list)
    torn_tail: bool = False  # last line incomplete (a crash during a write)


def read_anchor(path: Path) -> AnchorFile:
    """Parse the anchor file; a damaged line is reported, a torn last line tolerated."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return AnchorFile([])
    except OSError as exc:
        raise InputError(f"cannot read anchor file {path}: {exc.strerror}") from None
    lines = raw.split(b"\n")
    torn = bool(lines) and lines[-1] != b""
    result = AnchorFile([])
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
            entry = AnchorEntry(
                line=number,
                store_id=str(data["store_id"]),
                seq=int(data["seq"]),
                hash=str(data["hash"]),
                ts=str(data.get("ts", "")),
                kind=str(data.get("kind", "head")),
            )
        except (ValueError, KeyError, TypeError):
            if torn and number == len(lines):
                result.torn_tail = True
            else:
                result.damaged_lines.append(number)
            continue
        result.entries.append(entry)
    return result


def append_anchor(
    path: Path, store_id: str, head: chain.ChainHead, *, kind: str = "head", **extra: Any
) -> None:
    """Append one head line (O_APPEND, mode 0600, fsync): one small write is atomic."""
    record: dict[str, Any] = {
        "store_id": store_id,
        "seq": head.seq,
        "hash": head.hash,
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if kind != "head":
        record["kind"] = kind
    record.update(extra)
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise InputError(f"cannot write anchor file {path}: {exc.strerror}") from None
    try:
        # a torn last line (crash mid-write) must not swallow this one
        if os.fstat(fd).st_size > 0:
            with path.open("rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    line = b"\n" + line
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def store_id(store: Store) -> str:
    return str(store.keyfile.store_id)


def anchor_head(store: Store, path: Path) -> chain.ChainHead:
    """Append the store's current chain head to the anchor (call after each committed write)."""
    head = chain.head(store.conn)
    if head.seq > 0:
        append_anchor(path, store_id(store), head)
    return head


def anchor_restore(store: Store, path: Path, *, source: str = "") -> chain.ChainHead:
    """Record that the store was restored to an older state (call right after a restore)."""
    head = chain.head(store.conn)
    extra = {"source": source} if source else {}
    append_anchor(path, store_id(store), head, kind="restore", **extra)
    return head


# ---- verification ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    seq: int  # the first bad event this problem names (0: not tied to one event)
    kind: str  # altered, missing, relinked, rewritten, truncated, anchor
    message: str


@dataclass
class VerifyResult:
    anchor: Path
    events: int = 0
    head_seq: int = 0
    head_hash: str = chain.GENESIS
    anchored_seq: int = 0
    anchor_entries: int = 0
    restores: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> Problem | None:
        if not self.problems:
            return None
        tied = [p for p in self.problems if p.seq > 0]
        return min(tied, key=lambda p: p.seq) if tied else self.problems[0]

    def summary(self) -> dict[str, Any]:
        first = self.first_bad
        return {
            "status": "ok" if self.ok else "FAILED",
            "events": self.events,
            "head_seq": self.head_seq,
            "anchored_seq": self.anchored_seq,
            "anchor_entries": self.anchor_entries,
            "restores": self.restores,
            "first_bad_event": first.seq if first else None,
            "problem": first.message if first else "",
            "problems": len(self.problems),
            "warnings": "; ".join(self.warnings),
            "anchor": str(self.anchor),
        }

    def raise_if_failed(self) -> None:
        first = self.first_bad
        if first is not None:
            more = len(self.problems) - 1
            tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
            raise IntegrityError(f"audit trail verification failed: {first.message}{tail}")


def _rows(store: Store) -> Iterator[tuple[Any, ...]]:
    cols = ", ".join(chain.FIELDS)
    cur = store.conn.execute(f"SELECT {cols}, prev_hash, hash FROM audit_events ORDER BY seq")
    while True:
        batch = cur.fetchmany(2000)
        if not batch:
            return
        yield from batch


def _check_chain(store: Store, result: VerifyResult, wanted: set[int]) -> dict[int, str]:
    """Walk the chain; return seq -> stored hash of the `wanted` (anchored) events."""
    hashes: dict[int, str] = {}
    expected_seq = 1
    prev_hash = chain.GENESIS
    for row in _rows(store):
        event = dict(zip(chain.FIELDS, row[: len(chain.FIELDS)], strict=True))
        stored_prev, stored_hash = str(row[-2]), str(row[-1])
        seq = int(event["seq"])
        result.events += 1
        if seq != expected_seq:
            span = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}..{seq - 1}"
            result.problems.append(
                Problem(expected_seq, "missing", f"event {span} missing (deleted from the chain)")
            )
        elif stored_prev != prev_hash:
            what = "the previous event" if seq > 1 else "the start of the chain"
            result.problems.append(
                Problem(seq, "relinked", f"event {seq} does not link to {what} (prev_hash)")
            )
        if chain.event_hash(stored_prev, event) != stored_hash:
            result.problems.append(
                Problem(seq, "altered", f"event {seq} was altered (its hash does not match)")
            )
        if seq in wanted:
            hashes[seq] = stored_hash
        prev_hash = stored_hash
        expected_seq = seq + 1
        result.head_seq, result.head_hash = seq, stored_hash
    return hashes


def _check_anchor(
    store_ident: str, anchor: AnchorFile, hashes: dict[int, str], result: VerifyResult
) -> None:
    mine = [e for e in anchor.entries if e.store_id == store_ident]
    others = len(anchor.entries) - len(mine)
    if others:
        result.warnings.append(f"{others} anchor line(s) belong to another store and were skipped")
    # an unreadable line vouches for nothing (a write torn by a crash leaves one); it cannot
    # hide anything either that deleting the line would not, so it is reported, not failed
    if anchor.damaged_lines:
        numbers = ", ".join(str(n) for n in anchor.damaged_lines)
        result.warnings.append(f"anchor line(s) {numbers} unreadable (an interrupted write?)")
    if anchor.torn_tail:
        result.warnings.append("the anchor's last line is incomplete (interrupted write)")
    result.anchor_entries = len(mine)
    if not mine:
        if result.events:
            result.problems.append(
                Problem(
                    0,
                    "anchor",
                    f"no anchor for this store at {result.anchor}: rewriting and rollback "
                    "cannot be ruled out (pass --anchor PATH if it lives elsewhere)",
                )
            )
        return
    # seq -> [(hash, anchor line)]; a restore line drops heads above it written before it
    expected: dict[int, list[tuple[str, int]]] = {}
    for entry in mine:
        if entry.kind == "restore":
            result.restores += 1
            expected = {s: v for s, v in expected.items() if s <= entry.seq}
        expected.setdefault(entry.seq, []).append((entry.hash, entry.line))
    result.anchored_seq = max(expected, default=0)
    for seq in sorted(expected):
        if seq > result.head_seq:
            last = max(expected)
            gone = f"{result.head_seq + 1}..{last}" if last > result.head_seq + 1 else f"{last}"
            result.problems.append(
                Problem(
                    result.head_seq + 1,
                    "truncated",
                    f"event {gone} missing: the anchor (line {expected[last][-1][1]}) records "
                    f"event {last} but the store ends at event {result.head_seq} (tail "
                    "truncated or store rolled back to an older copy)",
                )
            )
            break
        stored = hashes.get(seq)
        bad = [line for digest, line in expected[seq] if stored is not None and digest != stored]
        if bad:
            result.problems.append(
                Problem(
                    seq,
                    "rewritten",
                    f"event {seq} does not match the anchor (line {bad[0]}): the chain was "
                    "rewritten or the store replaced by another copy",
                )
            )
            break
    if result.head_seq > result.anchored_seq:
        result.warnings.append(
            f"events {result.anchored_seq + 1}..{result.head_seq} are not anchored yet"
        )


def verify(store: Store, anchor: Path) -> VerifyResult:
    """Check the chain link by link and every anchored head; never raises on tampering."""
    result = VerifyResult(anchor=anchor)
    anchored = read_anchor(anchor)
    ident = store_id(store)
    hashes = _check_chain(store, result, {e.seq for e in anchored.entries if e.store_id == ident})
    _check_anchor(ident, anchored, hashes, result)
    return result


# ---- search ----------------------------------------------------------------------------------
_RELATIVE = re.compile(r"(\d+)([dhw])")


def parse_instant(text: str, *, end: bool = False) -> datetime:
    """`2026-11-01`, `2026-11-01T08:00`, `7d`, `12h`, `2w` (ago) -> an aware UTC datetime.

    With `end=True` a bare date means the end of that day (an inclusive `--until`).
    """
    text = text.strip()
    rel = _RELATIVE.fullmatch(text)
    if rel:
        amount, unit = int(rel.group(1)), rel.group(2)
        delta = {"d": timedelta(days=amount), "h": timedelta(hours=amount)}.get(
            unit, timedelta(weeks=amount)
        )
        return datetime.now(UTC) - delta
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"cannot read the time {text!r}: use YYYY-MM-DD, an ISO time, or 7d / 12h / 2w"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_period(text: str) -> tuple[datetime, datetime]:
    """`2026`, `2026-Q4`, `2026-11`, `2026-11-29`, `30d` -> [start, end) in UTC."""
    text = text.strip().upper()
    now = datetime.now(UTC)
    if _RELATIVE.fullmatch(text.lower()):
        return parse_instant(text.lower()), now
    if text in {"TODAY", "DAY"}:
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    m = re.fullmatch(r"(\d{4})(?:-(?:Q([1-4])|(\d{2}))(?:-(\d{2}))?)?", text)
    if m is None or (m.group(4) and not m.group(3)):
        raise UsageError(
            f"cannot read the period {text!r}: use YYYY, YYYY-Qn, YYYY-MM, YYYY-MM-DD or 30d"
        )
    year = int(m.group(1))
    try:
        if m.group(4):
            start = datetime(year, int(m.group(3)), int(m.group(4)), tzinfo=UTC)
            return start, start + timedelta(days=1)
        if m.group(3):
            month = int(m.group(3))
            start = datetime(year, month, 1, tzinfo=UTC)
        elif m.group(2):
            month = 3 * (int(m.group(2)) - 1) + 1
            start = datetime(year, month, 1, tzinfo=UTC)
        else:
            return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    except ValueError:
        raise UsageError(f"cannot read the period {text!r}: no such date") from None
    span = 1 if m.group(3) else 3
    month_end = start.month + span
    end = datetime(start.year + (month_end - 1) // 12, (month_end - 1) % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class LogFilter:
    user: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    action: str | None = None  # exact or a glob such as `customers.*`
    customer: str | None = None
    outcome: str | None = None
    limit: int | None = None


LOG_COLUMNS = (
    "seq",
    "ts",
    "user",
    "role",
    "action",
    "outcome",
    "command",
    "args",
    "affected",
)


def _customer_match(event: dict[str, Any], customer: str) -> bool:
    for column in ("affected", "args"):
        try:
            data = json.loads(event[column] or "{}")
        except ValueError:
            continue
        if _mentions(data, customer):
            return True
    return False


def _mentions(data: Any, customer: str) -> bool:
    if isinstance(data, dict):
        return any(_mentions(v, customer) for v in data.values())
    if isinstance(data, list):
        return any(_mentions(v, customer) for v in data)
    return data is not None and str(data) == customer


def _select(store: Store, flt: LogFilter, *, newest: int | None = None) -> Iterator[dict[str, Any]]:
    """Matching events oldest first; with `newest`, only the newest that many."""
    where: list[str] = []
    params: list[Any] = []
    if flt.user:
        where.append("user = ?")
        params.append(flt.user)
    if flt.since:
        where.append("ts >= ?")
        params.append(_iso(flt.since))
    if flt.until:
        where.append("ts < ?")
        params.append(_iso(flt.until))
    if flt.outcome:
        where.append("outcome = ?")
        params.append(flt.outcome)
    if flt.action:
        where.append("action GLOB ?" if any(c in flt.action for c in "*?[") else "action = ?")
        params.append(flt.action)
    sql = f"SELECT {', '.join(LOG_COLUMNS)} FROM audit_events"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if newest is not None:  # read back from the end: a long trail costs `--limit 20` nothing
        sql = f"SELECT * FROM ({sql} ORDER BY seq DESC LIMIT {int(newest)})"
    cur = store.conn.execute(sql + " ORDER BY seq", params)
    names = [d[0] for d in cur.description or ()]
    while True:
        batch = cur.fetchmany(2000)
        if not batch:
            return
        for row in batch:
            yield dict(zip(names, row, strict=True))


def log(store: Store, flt: LogFilter) -> list[dict[str, Any]]:
    """Events matching the filter, oldest first (the newest `limit` when a limit is set)."""
    if flt.limit is not None and flt.limit > 0 and not flt.customer:
        return list(_select(store, flt, newest=flt.limit))
    rows = [e for e in _select(store, flt) if not flt.customer or _customer_match(e, flt.customer)]
    if flt.limit is not None and flt.limit >= 0:
        rows = rows[-flt.limit :] if flt.limit else []
    return rows


# ---- report ----------------------------------------------------------------------------------
REPORT_SECTIONS = ("access", "pii", "changes", "denied", "backups", "alerts")
SECTION_TITLES = {
    "access": "who accessed what",
    "pii": "exports and reveals of personal data",
    "changes": "imports and changes",
    "denied": "denied attempts",
    "backups": "backups, drills and restores",
    "alerts": "alerts handled",
}
_CHANGE_PATTERNS = (
    "import.*",
    "customers.erase",
    "customers.hold",
    "customers.write",
    "customers.change",
    "groups.change",
    "limits.request",
    "limits.approve",
    "tier.run",
    "score.train",
    "score.run",
    "monitor.run",
    "users.*",
    "key.*",
    "restore.*",
    "config.*",
)
_BACKUP_PATTERNS = ("backup.*", "restore.*", "drill.*")


def _args(event: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(event.get("args") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _affected_count(event: dict[str, Any]) -> int:
    try:
        data = json.loads(event.get("affected") or "{}")
    except ValueError:
        return 0
    if not isinstance(data, dict):
        return 0
    count = data.get("count")
    if isinstance(count, int):
        return count
    ids = data.get("ids")
    return len(ids) if isinstance(ids, list) else 0


def is_pii_event(event: dict[str, Any]) -> bool:
    """A reveal of personal data or an export of customer data."""
    action = str(event["action"])
    args = _args(event)
    if args.get("reveal") is True or action == "pii.reveal":
        return True
    try:
        affected = json.loads(event.get("affected") or "{}")
    except ValueError:
        affected = {}
    if isinstance(affected, dict) and affected.get("pii_revealed") is True:
        return True
    return action.endswith(".export") or bool(args.get("output") or args.get("export"))


def sections_of(event: dict[str, Any]) -> list[str]:
    action = str(event["action"])
    outcome = str(event["outcome"])
    if outcome == "denied":
        return ["denied"]
    found = ["access"]
    if is_pii_event(event):
        found.append("pii")
    if any(fnmatchcase(action, p) for p in _CHANGE_PATTERNS):
        found.append("changes")
    if any(fnmatchcase(action, p) for p in _BACKUP_PATTERNS):
        found.append("backups")
    if action == "monitor.handle":
        found.append("alerts")
    return found


REPORT_COLUMNS = (
    "section",
    "user",
    "action",
    "outcome",
    "events",
    "records",
    "first",
    "last",
)


def report(store: Store, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """One row per section, user, action and outcome in [since, until), counts and time span."""
    groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for event in _select(store, LogFilter(since=since, until=until)):
        for section in sections_of(event):
            key = (section, str(event["user"]), str(event["action"]), str(event["outcome"]))
            row = groups.get(key)
            if row is None:
                row = groups[key] = {
                    "section": section,
                    "user": key[1],
                    "action": key[2],
                    "outcome": key[3],
                    "events": 0,
                    "records": 0,
                    "first": event["ts"],
                    "last": event["ts"],
                }
            row["events"] += 1
            row["records"] += _affected_count(event)
            row["last"] = event["ts"]
    order = {s: i for i, s in enumerate(REPORT_SECTIONS)}
    return sorted(groups.values(), key=lambda r: (order[r["section"]], r["user"], r["action"]))


def last_activity(store: Store) -> dict[str, str]:
    """user -> time of their newest event (any outcome)."""
    rows = store.conn.execute("SELECT user, max(ts) FROM audit_events GROUP BY user").fetchall()
    return {str(u): str(ts) for u, ts in rows}
