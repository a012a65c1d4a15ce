"""What each `riskcli score` command calls, one function per command. Never prints.

The work lives in the modules imported here (their parts are listed in docs/internals.md);
every writing function works inside one transaction: an error leaves nothing stored.
"""

from __future__ import annotations

import json
from datetime import date

from riskcli.domain.errors import InputError
from riskcli.services.scoring import factors as store_factors
from riskcli.services.scoring.applying import (
    apply_to_file,
    compare,
    validate_on_file,
    validate_on_store,
)
from riskcli.services.scoring.config import ScoringConfig
from riskcli.services.scoring.export_sql import Quote, export_sql
from riskcli.services.scoring.factor_columns import STORE_FACTORS
from riskcli.services.scoring.limit_lookup import explain_limit
from riskcli.services.scoring.lookup import explain, show
from riskcli.services.scoring.registry import get_model
from riskcli.services.scoring.results import distribution, list_scores
from riskcli.services.scoring.score_run import category_warnings, needed_columns, run
from riskcli.services.scoring.training import setup_expert, train_from_file, train_from_store
from riskcli.storage.activity import latest_activity
from riskcli.storage.store import Store

__all__ = [
    "apply_to_file",
    "category_warnings",
    "compare",
    "distribution",
    "explain",
    "explain_limit",
    "export",
    "export_full",
    "get_model",
    "list_scores",
    "needed_columns",
    "run",
    "setup_expert",
    "show",
    "store_factors",
    "train_from_file",
    "train_from_store",
    "validate_on_file",
    "validate_on_store",
]


def export(store: Store, ref: str | None, fmt: str, quote: Quote = "none") -> str:
    model = get_model(store, ref)
    if fmt == "json":
        payload = {
            "model": model.summary(),
            "scorecard": model.card.to_json_dict(),
        }
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    if fmt == "sql":
        return export_sql(model.card, quote=quote, header=f"riskcli scorecard {model.label}")
    raise InputError("--format must be sql or json")


def export_full(
    store: Store,
    ref: str | None,
    cfg: ScoringConfig,
    *,
    dialect: str = "duckdb",
    as_of: date | None = None,
    as_of_param: bool = False,
) -> str:
    """The whole scoring job as one SQL query over the canonical tables (see export_full)."""
    from riskcli.services.scoring.export_full import full_query
    from riskcli.services.sql_dialect import dialect as make_dialect

    model = get_model(store, ref)
    d = make_dialect(dialect)
    if as_of_param and as_of is not None:
        raise InputError("give --as-of DATE or --as-of-param, not both")
    if not as_of_param and as_of is None:
        as_of = latest_activity(store) or date.today()
    missing = [f.name for f in model.card.factors if f.name not in STORE_FACTORS]
    missing += [o.factor for o in model.card.overrides if o.factor not in STORE_FACTORS]
    if missing:
        raise InputError(
            f"{model.label} uses factors the store does not provide ({', '.join(missing)}): "
            "a full query needs a model of store factors"
        )
    return full_query(
        model.card,
        d,
        limits=cfg.limits,
        loss=cfg.loss,
        policy=cfg.default_policy,
        as_of=None if as_of_param else as_of,
        header=f"riskcli scorecard {model.label}",
    )
