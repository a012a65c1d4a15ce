"""A SQL filter built from optional conditions, each with its own parameters, joined by AND.

    where = Where().add("a.run_id = ?", run).add_if(rule, "a.rule = ?", rule)
    store.query("SELECT * FROM alerts a" + where.sql + " ORDER BY a.id", where.params)

Conditions are SQL text written by riskcli; values only ever travel as parameters.
"""

from __future__ import annotations

from typing import Any


class Where:
    """Conditions and their parameters, in the order they were added."""

    __slots__ = ("conditions", "params")

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: str, *params: Any) -> Where:
        """Add a condition (with one parameter per `?` in it)."""
        self.conditions.append(condition)
        self.params.extend(params)
        return self

    def add_if(self, when: object, condition: str, *params: Any) -> Where:
        """Add the condition only when `when` is true (e.g. the option was given)."""
        return self.add(condition, *params) if when else self

    @property
    def sql(self) -> str:
        """' WHERE a AND b', or '' when there is no condition."""
        return " WHERE " + " AND ".join(self.conditions) if self.conditions else ""

    def __bool__(self) -> bool:
        return bool(self.conditions)
