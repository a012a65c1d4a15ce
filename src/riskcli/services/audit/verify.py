"""Verifying the audit trail: the chain checked link by link and every anchored head against
the events, so an edited event, deleted events, a truncated tail, a rewritten chain and a store
rolled back to an older copy each name the first bad event. Anchored heads above a restore line,
written before it, are history the restore discarded, not tampering."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riskcli.domain.errors import IntegrityError
from riskcli.services.audit.anchor import AnchorFile, read_anchor, store_id
from riskcli.storage import audit as chain
from riskcli.storage.store import Store


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


def _anchor_warnings(anchor: AnchorFile, mine: int, result: VerifyResult) -> None:
    """What the anchor holds that vouches for nothing, and is said rather than failed."""
    others = len(anchor.entries) - mine
    if others:
        result.warnings.append(f"{others} anchor line(s) belong to another store and were skipped")
    # an unreadable line vouches for nothing (a write torn by a crash leaves one); it cannot
    # hide anything either that deleting the line would not, so it is reported, not failed
    if anchor.damaged_lines:
        numbers = ", ".join(str(n) for n in anchor.damaged_lines)
        result.warnings.append(f"anchor line(s) {numbers} unreadable (an interrupted write?)")
    if anchor.torn_tail:
        result.warnings.append("the anchor's last line is incomplete (interrupted write)")


def _check_anchor(
    store_ident: str, anchor: AnchorFile, hashes: dict[int, str], result: VerifyResult
) -> None:
    mine = [e for e in anchor.entries if e.store_id == store_ident]
    _anchor_warnings(anchor, len(mine), result)
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
