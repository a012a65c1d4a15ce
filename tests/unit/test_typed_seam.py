"""Where the code meets the database it is typed: `store: Store`, `conn: Connection`."""

from __future__ import annotations

import re
from pathlib import Path

import riskcli

PACKAGE = Path(riskcli.__file__).parent
#: packages whose signatures are still being moved off `Any` (remove each when it is done)
PENDING: tuple[str, ...] = ()
UNTYPED = re.compile(r"\b(store|conn|reader): Any\b")


def test_no_untyped_store_or_connection_in_signatures() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not path.relative_to(PACKAGE).as_posix().startswith(PENDING)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if UNTYPED.search(line)
    ]
    assert found == []


#: modules that still convert cents with a helper of their own, to switch to riskcli.domain.money
#: (remove each when it is done; the list only shrinks)
MONEY_PENDING: tuple[str, ...] = ()
MONEY_HELPER = re.compile(
    r"\bdef (_money|_cents|_cents_text|money_one|cents_to_decimal|money_column)\b"
    r"|scaleb\(-2\)|\) / 100\)\.quantize|Decimal\(\w+\) / 100\b"
)


def test_money_is_converted_in_one_place() -> None:
    """Cents <-> Decimal lives in domain/money.py (scalars) and services/money_columns.py
    (columns); no module writes its own `_money` or `_cents` helper again."""
    found = {
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).as_posix() != "domain/money.py"
        and MONEY_HELPER.search(path.read_text(encoding="utf-8"))
    }
    assert found <= set(MONEY_PENDING), sorted(found - set(MONEY_PENDING))
    assert found == set(MONEY_PENDING), (
        f"done, remove from MONEY_PENDING: {set(MONEY_PENDING) - found}"
    )


#: modules that still resolve a customer's external id with SQL of their own
CUSTOMER_LOOKUP_PENDING: tuple[str, ...] = ()


def test_external_ids_are_resolved_by_the_customer_queries() -> None:
    """`SELECT id FROM customers WHERE external_id = ?` is written once, in
    services/queries/customers.py."""
    lookup = re.compile(r"FROM customers (\w+ )?WHERE (\w+\.)?external_id = \?")
    joined = re.compile(r'"\s*"')  # adjacent string literals, as Python joins them
    found = {
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).as_posix() != "services/queries/customers.py"
        and lookup.search(joined.sub("", path.read_text(encoding="utf-8")))
    }
    assert found == set(CUSTOMER_LOOKUP_PENDING)


#: modules that still build a WHERE clause by hand, to switch to storage/sqlwhere.py
WHERE_PENDING: tuple[str, ...] = ()


def test_filters_are_built_with_where() -> None:
    """Optional filters go through `Where().add_if(...)`, not `where.append(...)` by hand."""
    found = {
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*.py"))
        if "where.append(" in path.read_text(encoding="utf-8")
    }
    assert found == set(WHERE_PENDING)
