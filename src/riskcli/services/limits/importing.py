"""What an import does for credit control, kept apart from the import pipeline itself.

The pipeline (riskcli.services.importing.service) calls these hooks per chunk:

- `chunk` (every kind): money cells with a currency are converted with `--rates` or marked
  for rejection ("amount in USD; give --rates or convert first"); book-currency marks go.
- `checked`: those rows are rejected.
- `before_write` (customers): for each existing customer whose row changed in the file, a
  changed `credit_limit` becomes a pending request (reason "import") and the stored limit is
  kept; with `--limits apply` it is applied, if the importer's role may approve every amount,
  and recorded as applied without a second approver. A new customer's first limit follows
  `initial_limit_needs_approval`. Changes of status, group and parent are written and recorded
  with their old and new values.
- `after_write`: requests and audit events for the rows written; originals of converted
  amounts kept.
- `finish`: a cycle in `parent_id` fails the whole import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from riskcli.domain.errors import UsageError
from riskcli.services.limits import groups as groups_service
from riskcli.services.limits import requests as req_service
from riskcli.services.limits.changes import Change, record_changes
from riskcli.services.limits.config import (
    IMPORT_REASON,
    ApprovalConfig,
    LimitsConfig,
    approval_config,
    book_config,
    limits_config,
)
from riskcli.services.limits.currency import (
    Conversion,
    Rates,
    convert,
    currency_column,
    keep_originals,
)
from riskcli.services.queries import customers
from riskcli.storage.store import Store

LIMIT_MODES = ("request", "apply")
#: customer fields whose changes go in the trail (credit_limit has its own path)
_DIRECT = ("status", "group_id", "parent_id")
#: fields a file without their column leaves as stored (a limit, a status or a group is not
#: reset to its default by an export that lacks the column)
_KEPT = ("credit_limit", "status", "group_id", "parent_id")


@dataclass
class _Planned:
    """Limit decisions of one chunk, carried from before_write to after_write."""

    # (position in the chunk, external id, amount, current limit)
    requests: list[tuple[int, str, int, int]] = field(default_factory=list)
    applied: list[tuple[int, str, int, int]] = field(default_factory=list)
    changes: list[tuple[int, Change]] = field(default_factory=list)


@dataclass
class ImportHooks:
    limits: LimitsConfig
    approval: ApprovalConfig
    book: str
    rates: Rates | None = None
    mode: str = "request"
    command: str = "import customers"
    today: date = field(default_factory=date.today)
    counts: dict[str, int] = field(
        default_factory=lambda: {
            "limit_requests": 0,
            "limit_changes_skipped": 0,
            "limits_applied": 0,
            "changes_recorded": 0,
            "amounts_converted": 0,
        }
    )
    _conv: Conversion = field(default_factory=Conversion)
    _plan: _Planned = field(default_factory=_Planned)
    _currency_header: str | None = None
    _user: str = ""
    _role: str = ""

    @classmethod
    def from_config(
        cls, config: dict[str, Any] | None, *, rates: Rates | None, mode: str, command: str
    ) -> ImportHooks:
        if mode not in LIMIT_MODES:
            raise UsageError(f"--limits must be one of {', '.join(LIMIT_MODES)}")
        return cls(
            limits_config(config), approval_config(config), book_config(config).currency,
            rates=rates, mode=mode, command=command,
        )  # fmt: skip

    # -- every kind ---------------------------------------------------------------------------
    def chunk(self, kind: str, raw: pa.Table, keep: np.ndarray, frame: pa.Table) -> pa.Table:
        header, currencies = currency_column(raw, keep)
        self._currency_header = header
        frame, self._conv = convert(kind, frame, currencies, book=self.book, rates=self.rates)
        return frame

    def unknown_columns(self, names: list[str]) -> list[str]:
        """The currency column is read here, so it is not an unknown column."""
        return [n for n in names if n != self._currency_header]

    def checked(self, c: Any) -> None:
        for pos, name, reason in self._conv.rejects:
            if c.ok[pos]:
                c.reject(np.array([pos]), name, reason)

    # -- customers ----------------------------------------------------------------------------
    def before_write(self, job: Any, c: Any) -> None:
        self._plan = _Planned()
        if job.kind != "customers":
            return
        good = np.flatnonzero(c.ok)
        if not len(good):
            return
        # the row hash is taken from the file's values: a re-import of the same file is
        # unchanged even where the stored limit stays as it was (pending)
        hashes = job.row_hashes(c, good)
        for name in _KEPT:
            job.cache_hash(c, name)
        mapped = set(job.header.fields) if job.header is not None else set(_KEPT)
        absent = [name for name in _KEPT if name not in mapped]
        ext = c.values["customer_id"][good]
        stored = _stored(job.store, ext) if not job.first_load else {}
        limit = c.values["credit_limit"]
        seen: set[str] = set()
        for pos, key, h in zip(good.tolist(), ext.tolist(), hashes.tolist(), strict=True):
            if key in seen:
                continue  # a repeated key is rejected by the pipeline
            seen.add(key)
            old = stored.get(key)
            new = int(limit[pos])
            if old is None:
                self._new_customer(limit, pos, key, new)
                continue
            # unchanged in the file, or erased (an import never updates it: upsert_sql)
            if old["row_hash"] == str(h) or old["erased"]:
                continue
            for name in absent:  # a column the file does not have keeps the stored value
                c.values[name][pos] = old[name]
            new = int(limit[pos])
            for name in _DIRECT:
                value = c.values[name][pos]
                if old[name] != value:
                    change = Change(name, old[name], value, customer=key, why="import")
                    self._plan.changes.append((pos, change))
            current = int(old["credit_limit"])
            if new != current:
                limit[pos] = self._limit_change(pos, key, new, current)

    def _new_customer(self, limit: np.ndarray, pos: int, key: str, new: int) -> None:
        if not self.limits.initial_limit_needs_approval or new == 0:
            return
        if self.mode == "apply":
            self._authorise(new)
            self._plan.applied.append((pos, key, new, 0))
        else:
            limit[pos] = 0
            self._plan.requests.append((pos, key, new, 0))

    def _limit_change(self, pos: int, key: str, new: int, current: int) -> int:
        """The limit to write now for an existing customer whose file limit differs."""
        decrease = new < current and not self.limits.decrease_needs_approval
        if self.mode == "apply" or decrease:
            if not decrease:
                self._authorise(new)
            self._plan.applied.append((pos, key, new, current))
            return new
        self._plan.requests.append((pos, key, new, current))
        return current

    def _authorise(self, cents: int) -> None:
        req_service.check_authority(
            self.approval, self._user, self._role, cents, "import --limits apply: a limit"
        )

    def bind(self, store: Store) -> None:
        self._user, self._role = store.user, store.role

    def after_write(self, job: Any, c: Any) -> None:
        self.counts["amounts_converted"] += keep_originals(
            job.store, job.kind, c.values, c.ok, self._conv
        )
        plan = self._plan
        if job.kind != "customers" or not (plan.requests or plan.applied or plan.changes):
            return
        written = c.ok  # a row the pipeline rejected after the plan (a repeated key) drops out
        requests = [p for p in plan.requests if written[p[0]]]
        applied = [p for p in plan.applied if written[p[0]]]
        ids = customers.pks(job.store, [k for _, k, _, _ in requests + applied])
        changes = [ch for pos, ch in plan.changes if written[pos]]
        for _, key, amount, current in requests:
            self._request(job.store, ids[key], key, amount, current)
        for _, key, amount, current in applied:
            changes.extend(self._applied(job.store, ids[key], key, amount, current))
        self.counts["changes_recorded"] += record_changes(job.store, changes, command=self.command)

    def _request(self, store: Store, pk: int, key: str, amount: int, current: int) -> None:
        target = req_service.Target(pk, key, None, current, False, None)
        existing = req_service.pending_for(store, target)
        if existing is not None and existing["source"] != "import":
            # someone's own request waits and stands; forget the row hash so that the same file
            # asks again once that request is decided
            store.execute("UPDATE customers SET row_hash = NULL WHERE id = ?", (pk,))
            self.counts["limit_changes_skipped"] += 1
            return
        if existing is not None and int(existing["amount"]) == amount:
            return
        if existing is not None:
            store.execute(
                "UPDATE limit_requests SET status = 'expired', decided_at = ?, "
                "decision_note = 'replaced by a later import' WHERE id = ?",
                (req_service.now(), existing["id"]),
            )
        req_service.insert_request(
            store, target,
            {"amount": amount, "reason": IMPORT_REASON, "source": "import",
             "requested_by": store.user},
        )  # fmt: skip
        self.counts["limit_requests"] += 1

    def _applied(self, store: Store, pk: int, key: str, amount: int, current: int) -> list[Change]:
        target = req_service.Target(pk, key, None, current, False, None)
        source = "import-apply" if self.mode == "apply" else "decrease"
        review = req_service.review_date(
            self.limits, req_service.latest_score(store, pk)[1], self.today
        ).isoformat()
        req_id = req_service.insert_request(
            store, target,
            {"amount": amount, "reason": IMPORT_REASON, "source": source,
             "requested_by": store.user, "status": "approved", "decided_by": store.user,
             "decided_at": req_service.now(), "review_date": review},
        )  # fmt: skip
        store.execute(
            "UPDATE customers SET limit_expires = NULL, limit_fallback = NULL, limit_review = ?, "
            "limit_request = ? WHERE id = ?",
            (review, req_id, pk),
        )
        self.counts["limits_applied"] += 1
        why = req_service.why_of({"source": source})
        return [Change("credit_limit", current, amount, customer=key, request=req_id, why=why)]

    def finish(self, store: Store, kind: str) -> None:
        if kind == "customers":
            groups_service.check_cycles(store)


def _stored(store: Store, keys: np.ndarray) -> dict[str, dict[str, Any]]:
    rows = store.query(
        "SELECT external_id, credit_limit, status, group_id, parent_id, row_hash, "
        "EXISTS (SELECT 1 FROM erasures e WHERE e.customer_id = customers.id) AS erased "
        "FROM customers WHERE external_id IN (SELECT value FROM json_each(?))",
        (json.dumps([str(k) for k in keys.tolist()], ensure_ascii=False),),
    )
    return {str(r["external_id"]): r for r in rows}
