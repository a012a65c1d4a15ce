"""Appending hash-chained audit events inside the store.

Each event's hash covers its fields and the previous event's hash, so editing, deleting or
reordering events breaks the chain. The chain head is also written outside the store
(an anchor) so that rewriting the whole chain or rolling the store back is detected.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from riskcli.storage.dbapi import Connection

GENESIS = "0" * 64
FIELDS = ("seq", "ts", "user", "role", "action", "command", "args", "affected", "outcome")


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


def event_hash(prev_hash: str, event: dict[str, Any]) -> str:
    payload = json.dumps(
        [prev_hash, [event[f] for f in FIELDS]], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def head(conn: Connection) -> ChainHead:
    row = conn.execute("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
    return ChainHead(0, GENESIS) if row is None else ChainHead(int(row[0]), str(row[1]))


def append_event(
    conn: Connection,
    *,
    user: str,
    role: str,
    action: str,
    command: str,
    args: dict[str, Any],
    affected: dict[str, Any],
    outcome: str,
) -> ChainHead:
    """Append one event. The caller provides the transaction (or none: autocommit)."""
    own_txn = not conn.in_transaction
    if own_txn:
        conn.execute("BEGIN IMMEDIATE")
    try:
        prev = head(conn)
        event = {
            "seq": prev.seq + 1,
            "ts": datetime.now(UTC).isoformat(timespec="microseconds"),
            "user": user,
            "role": role,
            "action": action,
            "command": command,
            "args": json.dumps(args, ensure_ascii=False, sort_keys=True, default=str),
            "affected": json.dumps(affected, ensure_ascii=False, sort_keys=True, default=str),
            "outcome": outcome,
        }
        digest = event_hash(prev.hash, event)
        conn.execute(
            "INSERT INTO audit_events(seq, ts, user, role, action, command, args, affected, "
            "outcome, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (*[event[f] for f in FIELDS], prev.hash, digest),
        )
        if own_txn:
            conn.execute("COMMIT")
    except BaseException:
        if own_txn:
            conn.execute("ROLLBACK")
        raise
    return ChainHead(prev.seq + 1, digest)


def append_events(conn: Connection, events: list[dict[str, Any]]) -> ChainHead | None:
    """Append many events inside the caller's transaction, chained in order (one head read,
    one executemany). Each event gives user, role, action, command, args, affected, outcome."""
    if not events:
        return None
    if not conn.in_transaction:
        raise RuntimeError("append_events needs the caller's transaction")
    prev = head(conn)
    seq, last = prev.seq, prev.hash
    rows = []
    for given in events:
        seq += 1
        event = {
            "seq": seq,
            "ts": datetime.now(UTC).isoformat(timespec="microseconds"),
            "user": given["user"],
            "role": given["role"],
            "action": given["action"],
            "command": given["command"],
            "args": json.dumps(given["args"], ensure_ascii=False, sort_keys=True, default=str),
            "affected": json.dumps(
                given["affected"], ensure_ascii=False, sort_keys=True, default=str
            ),
            "outcome": given["outcome"],
        }
        digest = event_hash(last, event)
        rows.append((*[event[f] for f in FIELDS], last, digest))
        last = digest
    conn.executemany(
        "INSERT INTO audit_events(seq, ts, user, role, action, command, args, affected, "
        "outcome, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    return ChainHead(seq, last)
