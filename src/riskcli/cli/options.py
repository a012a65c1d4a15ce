"""Options shared by many commands, each defined once: the as-of date and its one default rule.

Every command that reads the book as of a date takes `--as-of DATE` (YYYY-MM-DD, or `today`).
Without it the date is the latest activity in the store (the latest transaction date, invoice
issue or paid date), so a book whose data ends two months ago is judged as of its data's end,
not as of a day with no data; the chosen date is said in the output's header. A date that cannot
be read is a usage error (exit 2) with one wording, raised while the options are parsed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from riskcli.domain.errors import RiskError

if TYPE_CHECKING:
    from riskcli.storage.store import Store

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

#: the help of every --as-of that follows the rule
AS_OF_HELP = "Date YYYY-MM-DD, or 'today'. Default: the latest activity in the store."


def parse_day(value: str | date) -> date:
    """`YYYY-MM-DD` or `today` -> a date; anything else is a usage error (exit 2)."""
    if isinstance(value, date):
        return value
    text = value.strip()
    if text.lower() == "today":
        return date.today()
    if _ISO_DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise typer.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD or today")


AsOfOpt = Annotated[
    date | None, typer.Option("--as-of", parser=parse_day, metavar="DATE", help=AS_OF_HELP)
]


def dated_option(name: str, help: str) -> Any:
    """Another date option (`--compare`, `--until` ...) read and refused the same way."""
    return typer.Option(name, parser=parse_day, metavar="DATE", help=help)


def resolve_as_of(store: Store, given: date | None) -> date:
    """The date given, else the store's latest activity (today for an empty store)."""
    if given is not None:
        return given
    from riskcli.storage.activity import latest_activity

    return latest_activity(store) or date.today()


def as_of_header(day: date, given: date | None) -> str:
    """The header line that says which date the output is as of, and why."""
    if given is not None:
        return f"as of {day.isoformat()}"
    return f"as of {day.isoformat()} (the latest activity in the store; --as-of today for today)"


def checked(parse: Callable[[str], object]) -> Callable[[str], str]:
    """An option parser that refuses, while options are parsed (exit 2), what the domain's
    `parse` refuses, and hands the text on unchanged (`--window 12m`, `--horizon 1y`)."""

    def check(value: str) -> str:
        try:
            parse(value)
        except RiskError as exc:
            raise typer.BadParameter(str(exc)) from None
        return value

    return check
