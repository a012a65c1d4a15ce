"""The rules a record's fields declare, read back from the models: one `Rule` per field, and the
rules that look at two fields of a row.

A model field declares its rule once, in its annotation: the value type (`Decimal` is money,
`date` a date, `int` a whole number, `bool` a yes/no flag, a `StrEnum` a choice of words), a
`Cell` marker for the string formats (`Id`, `Phone`, `Email`, `NationalId`, `Period`; plain text
otherwise), pydantic's constraints (`Field(gt=, ge=, le=, max_length=)`), `NonZero` and
`NegativeReason`, and whether it is required (no default) or what its default is. `rule_for`
turns that declaration into a `Rule`; the pydantic models apply it to each field and the
vectorised import validation applies it to each column, so neither writes a rule of its own.

The row rules (`NotBefore`, `NotAbove`, `IdMatchesKind`, `SignedAmount`, `KindFromId`) are small
named objects a model lists in `ROW_RULES`; each says once which fields it reads, what it calls a
problem and the reason it gives. Their comparisons work on single values and on numpy arrays of
storage values alike (ISO dates sort as text, cents as integers).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Annotated, Any, ClassVar

import annotated_types as at
from pydantic.fields import FieldInfo

from riskcli.domain import values
from riskcli.domain.ids import id_problem, is_valid_national_id

# --- field declarations ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """Marks a string field with its format (the parser family that reads it)."""

    kind: str


@dataclass(frozen=True)
class NonZero:
    """A signed amount: any sign, never 0."""


@dataclass(frozen=True)
class NegativeReason:
    """With `gt=0`: the reason given for a value below 0 (instead of "must be greater than 0")."""

    message: str


Id = Annotated[str, Cell("id")]
Phone = Annotated[str, Cell("phone")]
Email = Annotated[str, Cell("email")]
NationalId = Annotated[str, Cell("national_id")]
Period = Annotated[str, Cell("period")]

#: enum synonyms, by the enum's name in snake case (CustomerKind -> "customer_kind")
Synonyms = Mapping[str, Mapping[str, str]]

_STRING_PARSERS: dict[str, Callable[[object], Any]] = {
    "id": values.parse_id,
    "phone": values.parse_phone,
    "email": values.parse_email,
    "national_id": values.parse_national_id,
    "period": values.parse_period,
}
_TYPE_KINDS: dict[type, str] = {Decimal: "money", date: "date", bool: "flag", int: "int"}
_TYPE_PARSERS: dict[str, Callable[[object], Any]] = {
    "money": values.parse_money,
    "date": values.parse_date,
    "flag": values.parse_flag,
    "int": values.parse_int,
}
#: what parse_text allows when a text field declares no max_length
DEFAULT_TEXT_LEN = 200


@dataclass(frozen=True)
class Rule:
    """How one field reads a raw cell: parser, then required/default, then an inclusive range.

    `kind` names the parser family so the vectorised path can pick a fast route for it. Derived
    from a model field by `rule_for`, never written by hand.
    """

    kind: str
    parse: Callable[[object], Any]
    required: bool = False
    default: Any = None
    minimum: Any = None
    maximum: Any = None
    greater_than: Any = None
    max_len: int | None = None  # text rules: the parser's limit, for the vectorised fast route
    nonzero: bool = False  # signed amounts: any sign, never 0
    negative_message: str | None = None  # with `greater_than`: the reason for a value below 0

    def __call__(self, raw: object) -> Any:
        value = self.parse(raw)
        if value is None:
            if self.required:
                raise ValueError("required")
            return self.default
        return self.check(value)

    def check(self, value: Any) -> Any:
        if self.greater_than is not None and value <= self.greater_than:
            if value < 0 and self.negative_message:
                raise ValueError(self.negative_message)
            raise ValueError(f"must be greater than {self.greater_than}")
        if self.nonzero and value == 0:
            raise ValueError("must not be 0")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(self.range_message())
        if self.maximum is not None and value > self.maximum:
            raise ValueError(self.range_message())
        return value

    def range_message(self) -> str:
        if self.maximum is None:
            return f"must be at least {self.minimum}"
        return f"must be between {self.minimum} and {self.maximum}"


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """(the value type, the metadata of any Annotated around it), Optional removed."""
    metadata: list[Any] = []
    while True:
        if typing.get_origin(annotation) is Annotated:
            for m in annotation.__metadata__:
                metadata.extend(m.metadata if isinstance(m, FieldInfo) else [m])
            annotation = annotation.__origin__
            continue
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                raise TypeError(f"a field is one type or None, not {annotation!r}")
            annotation = args[0]
            continue
        return annotation, metadata


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _parser(base: Any, cell: Cell | None, max_len: int | None, synonyms: Synonyms) -> Rule:
    if isinstance(base, type) and issubclass(base, StrEnum):
        allowed = tuple(m.value for m in base)
        words = synonyms.get(_snake(base.__name__), {})
        return Rule("enum", partial(values.parse_enum, synonyms=words, allowed=allowed))
    if base is str:
        if cell is not None:
            return Rule(cell.kind, _STRING_PARSERS[cell.kind])
        limit = DEFAULT_TEXT_LEN if max_len is None else max_len
        return Rule("text", partial(values.parse_text, max_len=limit), max_len=limit)
    if base in _TYPE_KINDS:
        kind = _TYPE_KINDS[base]
        return Rule(kind, _TYPE_PARSERS[kind])
    raise TypeError(f"no cell rule for a field of type {base!r}")


def rule_for(info: FieldInfo, synonyms: Synonyms) -> Rule:
    """The rule a model field declares (see the module docstring). A constraint this module
    cannot apply is an error here, so no declaration is enforced on one path only."""
    base, inner = _unwrap(info.annotation)
    metadata = [*inner, *info.metadata]
    cell = next((m for m in metadata if isinstance(m, Cell)), None)
    max_len = next((m.max_length for m in metadata if isinstance(m, at.MaxLen)), None)
    parsed = _parser(base, cell, max_len, synonyms)
    bounds: dict[str, Any] = {}
    for m in metadata:
        if isinstance(m, at.Gt):
            bounds["greater_than"] = m.gt
        elif isinstance(m, at.Ge):
            bounds["minimum"] = m.ge
        elif isinstance(m, at.Le):
            bounds["maximum"] = m.le
        elif isinstance(m, NonZero):
            bounds["nonzero"] = True
        elif isinstance(m, NegativeReason):
            bounds["negative_message"] = m.message
        elif not isinstance(m, Cell | at.MaxLen):
            raise TypeError(f"constraint {m!r} has no cell rule")
    if max_len is not None and parsed.kind != "text":
        raise TypeError(f"max_length on a {parsed.kind} field has no cell rule")
    required = info.is_required()
    return Rule(
        parsed.kind,
        parsed.parse,
        required=required,
        default=None if required else info.default,
        max_len=parsed.max_len,
        **bounds,
    )


# --- rules over two fields of a row ------------------------------------------------------------

Values = Mapping[str, Any]
Problem = tuple[str, str]  # (column, reason)


@dataclass(frozen=True)
class Compared:
    """A field compared with another field of the same row; a blank on either side passes.
    `violated` uses an operator only, so it compares single values and numpy arrays alike."""

    field: str
    other: str
    WORD: ClassVar[str] = ""

    def violated(self, value: Any, other: Any) -> Any:
        raise NotImplementedError

    @property
    def reason(self) -> str:
        return f"{self.WORD} {self.other}"

    def problem(self, v: Values) -> Problem | None:
        a, b = v.get(self.field), v.get(self.other)
        if a is not None and b is not None and self.violated(a, b):
            return (self.field, self.reason)
        return None

    def settle(self, v: Values) -> dict[str, Any]:
        return {}


class NotBefore(Compared):
    """A date that may not fall before another date of the row."""

    WORD = "before"

    def violated(self, value: Any, other: Any) -> Any:
        return value < other


class NotAbove(Compared):
    """An amount that may not exceed another amount of the row."""

    WORD = "greater than"

    def violated(self, value: Any, other: Any) -> Any:
        return value > other


@dataclass(frozen=True)
class IdMatchesKind:
    """An id given with a customer kind must be that kind's id: a resident id for an
    individual, a unified social credit code for a company."""

    id_field: str
    kind_field: str
    needs: tuple[tuple[str, str], ...] = (
        ("individual", "an individual needs a resident id"),
        ("company", "a company needs a unified social credit code"),
    )

    def reason(self, value: str, kind: str) -> str:
        """Names the check the id fails (never the id itself)."""
        return f"{dict(self.needs)[kind]}: {id_problem(value, kind)}"

    def problem(self, v: Values) -> Problem | None:
        value, kind = v.get(self.id_field), v.get(self.kind_field)
        if value is None or kind not in dict(self.needs):
            return None
        if id_problem(value, kind) is None:
            return None
        return (self.id_field, self.reason(value, kind))

    def settle(self, v: Values) -> dict[str, Any]:
        return {}


#: a transaction's amount below 0 with these kinds is a mistake to fix at source
NEGATIVE_ORDER = (
    "a negative order: a returned order is a refund (write kind refund, or leave kind blank "
    "and keep the minus sign)"
)
NEGATIVE_PAYMENT = (
    "a negative payment: riskcli does not import payment reversals; remove the payment it "
    "reverses, or correct the sign"
)


@dataclass(frozen=True)
class SignedAmount:
    """An amount carries its direction: below 0 (kind `refund` or blank) is a refund of the
    absolute amount; a blank kind above 0 is an order; an order or payment below 0 is rejected."""

    amount: str
    kind: str
    negative: tuple[tuple[str, str], ...] = (
        ("order", NEGATIVE_ORDER),
        ("payment", NEGATIVE_PAYMENT),
    )
    refund: str = "refund"
    blank: str = "order"

    def problem(self, v: Values) -> Problem | None:
        amount, kind = v.get(self.amount), v.get(self.kind)
        reasons = dict(self.negative)
        if amount is not None and amount < 0 and kind in reasons:
            return (self.amount, reasons[kind])
        return None

    def settle(self, v: Values) -> dict[str, Any]:
        amount, kind = v.get(self.amount), v.get(self.kind)
        if amount is None:
            return {}
        if amount < 0 and kind in (None, self.refund):
            return {self.kind: self.refund, self.amount: -amount}
        if kind is None:
            return {self.kind: self.blank}
        return {}


@dataclass(frozen=True)
class KindFromId:
    """A blank customer kind follows the id: a resident id means individual, anything else
    (a credit code, another id, none) company."""

    kind_field: str
    id_field: str
    with_resident_id: str = "individual"
    otherwise: str = "company"

    def problem(self, v: Values) -> Problem | None:
        return None

    def settle(self, v: Values) -> dict[str, Any]:
        if v.get(self.kind_field) is not None:
            return {}
        value = v.get(self.id_field)
        resident = value is not None and is_valid_national_id(value)
        return {self.kind_field: self.with_resident_id if resident else self.otherwise}


RowRule = NotBefore | NotAbove | IdMatchesKind | SignedAmount | KindFromId
