"""The model registry: every model with id, name, version, creator, time, parameters, training
data fingerprint, metrics and validation report, stored as JSON (never pickle).

Exactly one model is the champion (a partial unique index guarantees it); commands use the
champion unless given a model id. The first model saved into an empty registry becomes the
champion; later ones are candidates until `score models promote`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from riskcli.domain.errors import InputError
from riskcli.services.scoring.card import Scorecard
from riskcli.storage.store import Store


@dataclass
class ModelRecord:
    id: int
    name: str
    version: int
    kind: str
    source: str
    status: str
    created_by: str
    created_at: str
    params: dict[str, Any]
    fingerprint: str
    metrics: dict[str, Any]
    report: dict[str, Any]
    card: Scorecard

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version} (model {self.id})"

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "status": self.status,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "source": self.source,
            "factors": len(self.card.factors),
            "auc": self.metrics.get("auc"),
            "ks": self.metrics.get("ks"),
            "fingerprint": self.fingerprint[:16],
        }


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _record(row: dict[str, Any]) -> ModelRecord:
    return ModelRecord(
        id=int(row["id"]),
        name=row["name"],
        version=int(row["version"]),
        kind=row["kind"],
        source=row["source"],
        status=row["status"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        params=json.loads(row["params"]),
        fingerprint=row["fingerprint"],
        metrics=json.loads(row["metrics"]),
        report=json.loads(row["report"]),
        card=Scorecard.from_json_dict(json.loads(row["model"])),
    )


def save_model(
    store: Store,
    card: Scorecard,
    *,
    name: str,
    source: str,
    params: dict[str, Any],
    fingerprint: str,
    metrics: dict[str, Any],
    report: dict[str, Any],
) -> ModelRecord:
    """Insert a model (one transaction); the first one becomes the champion."""
    if not name.strip():
        raise InputError("a model needs a name")
    with store.transaction():
        version = (
            int(
                store.scalar(
                    "SELECT COALESCE(MAX(version), 0) FROM score_models WHERE name = ?", (name,)
                )
            )
            + 1
        )
        has_champion = store.scalar("SELECT 1 FROM score_models WHERE status = 'champion'")
        status = "candidate" if has_champion else "champion"
        cur = store.execute(
            "INSERT INTO score_models (name, version, kind, source, status, created_by, "
            "created_at, params, fingerprint, metrics, report, model) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                name, version, card.kind, source, status, store.user, now(),
                json.dumps(params, sort_keys=True), fingerprint,
                json.dumps(metrics, sort_keys=True), json.dumps(report, sort_keys=True),
                json.dumps(card.to_json_dict(), sort_keys=True),
            ),
        )  # fmt: skip
        model_id = int(cur.lastrowid)
    return get_model(store, model_id)


def get_model(store: Store, ref: int | str | None = None) -> ModelRecord:
    """A model by id; None or 'champion' is the champion."""
    if ref is None or str(ref).strip().lower() == "champion":
        rows = store.query("SELECT * FROM score_models WHERE status = 'champion'")
        if not rows:
            raise InputError(
                "no champion model: train one (`riskcli score train`) or set up the expert "
                "scorecard (`riskcli score expert`), then `riskcli score models promote ID`"
            )
        return _record(rows[0])
    try:
        model_id = int(str(ref).strip())
    except ValueError:
        raise InputError(f"model id must be a number, not {ref!r}") from None
    rows = store.query("SELECT * FROM score_models WHERE id = ?", (model_id,))
    if not rows:
        raise InputError(f"no model {model_id} (see `riskcli score models list`)")
    return _record(rows[0])


def list_models(store: Store) -> list[dict[str, Any]]:
    rows = store.query("SELECT id FROM score_models ORDER BY id")
    return [get_model(store, r["id"]).summary() for r in rows]


def promote(store: Store, ref: int | str) -> ModelRecord:
    model = get_model(store, ref)
    if model.status == "retired":
        raise InputError(f"model {model.id} is retired; a retired model cannot be champion")
    with store.transaction():
        store.execute("UPDATE score_models SET status = 'candidate' WHERE status = 'champion'")
        store.execute("UPDATE score_models SET status = 'champion' WHERE id = ?", (model.id,))
    return get_model(store, model.id)


def retire(store: Store, ref: int | str) -> ModelRecord:
    model = get_model(store, ref)
    if model.status == "champion":
        raise InputError(
            f"model {model.id} is the champion; promote another model before retiring it"
        )
    with store.transaction():
        store.execute("UPDATE score_models SET status = 'retired' WHERE id = ?", (model.id,))
    return get_model(store, model.id)
