"""Where the code meets the database it is typed: `store: Store`, `conn: Connection`."""

from __future__ import annotations

import re
from pathlib import Path

import riskcli

PACKAGE = Path(riskcli.__file__).parent
#: packages whose signatures are still being moved off `Any` (remove each when it is done)
PENDING = ("services/importing/",)
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
