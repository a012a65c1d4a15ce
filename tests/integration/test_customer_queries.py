"""The customer query module on a real store: ids both ways, the not-found error, the header."""

from __future__ import annotations

from decimal import Decimal

import pytest

from riskcli.domain.errors import InputError
from riskcli.services.queries import customers
from riskcli.storage.store import Store


@pytest.fixture
def book(store: Store) -> Store:
    store.execute(
        "INSERT INTO customers (id, external_id, name, kind, phone, credit_limit, limit_expires, "
        "limit_fallback, group_id) VALUES "
        "(3, 'C001', 'Acme', 'company', '13800138000', 1234550, '2026-12-31', 500000, 'G1'), "
        "(9, '007', NULL, 'individual', NULL, 0, NULL, NULL, NULL)"
    )
    return store


def test_pk_and_require_resolve_external_ids(book: Store) -> None:
    assert customers.pk(book, "C001") == 3
    assert customers.pk(book, "007") == 9
    assert customers.pk(book, "7") is None  # leading zeros are part of the id
    assert customers.require(book, "C001") == 3
    with pytest.raises(InputError) as err:
        customers.require(book, "NOPE")
    assert str(err.value) == "no customer with id 'NOPE'"


def test_pks_returns_only_the_known_ones(book: Store) -> None:
    assert customers.pks(book, ["C001", "NOPE", "007"]) == {"C001": 3, "007": 9}
    assert customers.pks(book, []) == {}


def test_header_has_money_in_decimal_with_two_places(book: Store) -> None:
    head = customers.header(book, "C001")
    assert head.pk == 3 and head.name == "Acme" and head.group_id == "G1"
    assert str(head.credit_limit) == "12345.50"
    assert head.limit_fallback == Decimal("5000.00") and head.limit_expires == "2026-12-31"
    assert head.identity()["phone"] == "13800138000"
    assert list(head.identity()) == list(customers.IDENTITY_FIELDS)
    bare = customers.header_by_pk(book, 9)
    assert bare.external_id == "007" and bare.limit_fallback is None
    assert bare.kind == "individual" and bare.status == "active"
    assert str(bare.credit_limit) == "0.00"
    with pytest.raises(InputError, match="^no customer with id 'NOPE'$"):
        customers.header(book, "NOPE")


def test_external_ids_frame(book: Store) -> None:
    frame = customers.external_ids(book, with_name=True)
    frame = frame.sort_values("customer_id")
    assert frame["customer_id"].tolist() == [3, 9]
    assert frame["external_id"].tolist() == ["C001", "007"]
    assert frame["name"].iloc[0] == "Acme" and frame["name"].isna().iloc[1]
    assert list(customers.external_ids(book).columns) == ["customer_id", "external_id"]
