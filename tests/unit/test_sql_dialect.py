"""The book's SQL is written once: the store's rendering is the SQL it always ran."""

from __future__ import annotations

import pytest
from tests.unit.book_sql_frozen import FROZEN

from riskcli.services import book


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_store_rendering_is_byte_for_byte_the_sql_it_replaced(name: str) -> None:
    assert getattr(book, name) == FROZEN[name]
