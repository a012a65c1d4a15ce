"""Customer lookups the commands share: an external id to the row id (one or many), the one
not-found error, and the customer's header as a typed row with its money in Decimal."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from riskcli.domain.errors import InputError
from riskcli.domain.money import from_cents

if TYPE_CHECKING:
    import pandas as pd

    from riskcli.storage.store import Store

#: the identity fields of a customer, in the order reports show them
IDENTITY_FIELDS = (
    "external_id",
    "name",
    "kind",
    "industry",
    "region",
    "phone",
    "email",
    "national_id",
    "registered_date",
    "account_owner",
    "status",
)

_HEADER_SQL = (
    f"SELECT id, {', '.join(IDENTITY_FIELDS)}, credit_limit, limit_expires, limit_fallback, "
    "limit_review, group_id, parent_id, created_at, updated_at FROM customers WHERE "
)


#: the row id of the customer whose external id is the one parameter (also as a subquery)
PK_SQL = "SELECT id FROM customers WHERE external_id = ?"


def not_found(external_id: str) -> InputError:
    """The error every command gives for an external id the store does not hold."""
    return InputError(f"no customer with id {external_id!r}")


def pk(store: Store, external_id: str) -> int | None:
    """The row id of the customer with this external id, or None."""
    found = store.scalar(PK_SQL, (external_id,))
    return None if found is None else int(found)


def require(store: Store, external_id: str) -> int:
    """The row id of the customer with this external id; `not_found` when there is none."""
    found = pk(store, external_id)
    if found is None:
        raise not_found(external_id)
    return found


def pks(store: Store, external_ids: Iterable[str]) -> dict[str, int]:
    """Row ids by external id, for those of `external_ids` the store holds."""
    rows = store.query(
        "SELECT external_id, id FROM customers WHERE external_id IN "
        "(SELECT value FROM json_each(?))",
        (json.dumps(list(external_ids), ensure_ascii=False),),
    )
    return {str(r["external_id"]): int(r["id"]) for r in rows}


def external_ids(store: Store, *, with_name: bool = False) -> pd.DataFrame:
    """Every customer's row id (`customer_id`) and `external_id` (and `name`), to join onto a
    frame."""
    name = ", name" if with_name else ""
    return store.query_df(f"SELECT id AS customer_id, external_id{name} FROM customers")


@dataclass(frozen=True)
class Header:
    """A customer's identity, limit and group, as stored (money in Decimal), fields in the
    order `customers show` prints them."""

    pk: int
    external_id: str
    name: str | None
    kind: str
    industry: str | None
    region: str | None
    phone: str | None
    email: str | None
    national_id: str | None
    registered_date: str | None
    credit_limit: Decimal
    account_owner: str | None
    status: str
    limit_expires: str | None  # a temporary limit ends after this day
    limit_fallback: Decimal | None  # the limit it falls back to
    limit_review: str | None
    group_id: str | None
    parent_id: str | None
    created_at: str
    updated_at: str

    def identity(self) -> dict[str, str | None]:
        """The identity fields by name, in IDENTITY_FIELDS order."""
        return {field: getattr(self, field) for field in IDENTITY_FIELDS}


def header(store: Store, external_id: str) -> Header:
    """The header of the customer with this external id; `not_found` when there is none."""
    rows = store.query(_HEADER_SQL + "external_id = ?", (external_id,))
    if not rows:
        raise not_found(external_id)
    return _header(rows[0])


def header_by_pk(store: Store, customer_pk: int) -> Header:
    """The header of the customer with this row id (which must exist)."""
    return _header(store.query(_HEADER_SQL + "id = ?", (customer_pk,))[0])


def _header(row: dict[str, Any]) -> Header:
    fallback = row.pop("limit_fallback")
    return Header(
        pk=int(row.pop("id")),
        credit_limit=from_cents(row.pop("credit_limit")),
        limit_fallback=None if fallback is None else from_cents(fallback),
        **row,
    )
