"""The types of the storage seam: what a SQLCipher connection and its cursors offer riskcli.

sqlcipher3 ships no type information, so these Protocols state the part of the DB-API that
riskcli uses; `Store.conn`, `Store.execute`, `query` and `scalar` are typed with them, and
mypy checks every caller where the code meets the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeAlias

#: a value SQLite stores or returns
SqlValue: TypeAlias = int | float | str | bytes | None
#: one result row: a tuple of column values. Typed `Any` while the services that unpack rows
#: (`a, b = cur.fetchone()`) are rewritten; `tuple[Any, ...]` is the precise type.
Row: TypeAlias = Any
#: positional (`?`) or named (`:name`) parameters
Params: TypeAlias = Sequence[Any] | Mapping[str, Any]


class Cursor(Protocol):
    """A DB-API cursor over the rows of one statement."""

    @property
    def description(self) -> Sequence[tuple[Any, ...]] | None: ...

    @property
    def lastrowid(self) -> int:
        """The rowid of the last INSERT (riskcli reads it only after one)."""
        ...

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Row:
        """The next row, or None when there is none."""
        ...

    def fetchmany(self, size: int = ...) -> list[Row]: ...

    def fetchall(self) -> list[Row]: ...

    def __iter__(self) -> Iterator[Row]: ...

    def close(self) -> None: ...


class Connection(Protocol):
    """A SQLCipher connection in autocommit mode (`isolation_level=None`)."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Params = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Params], /) -> Cursor: ...

    def backup(self, target: Connection, *, pages: int = ..., **kwargs: Any) -> None: ...

    def close(self) -> None: ...
