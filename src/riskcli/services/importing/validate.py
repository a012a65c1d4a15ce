"""Vectorised validation of a chunk with exactly the rules the pydantic models declare.

Each column goes through its field's `Rule`, derived from the model's declaration
(riskcli.domain.models.RULES). Cells in the common, plain shapes take a vectorised fast route (ids,
plain amounts, mobile numbers, plain emails); every other cell goes through the very same scalar
rule the model uses, once per distinct value. Each of the model's `ROW_RULES` is applied
column-wise by the implementation of its type in `ROW_CHECKS`, with the fields, comparisons and
reasons the rule object declares; tests/unit/test_models.py checks with hypothesis that this module
and the models accept, reject and normalise every row alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskcli.domain.models import MODELS, RULES, to_storage
from riskcli.domain.rules import (
    Compared,
    IdMatchesKind,
    KindFromId,
    NotAbove,
    NotBefore,
    RowRule,
    Rule,
    SignedAmount,
)

_ID_FAST = r"[!-~]{1,64}"
_MONEY_FAST = r"-?\d{1,12}(?:\.\d{1,2})?"
_PHONE_FAST = r"1[3-9]\d{9}"
_EMAIL_FAST = r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,63}"


@dataclass
class Checked:
    """Storage values of one chunk plus its problems (row position, column, reason)."""

    values: dict[str, np.ndarray]
    ok: np.ndarray
    err_pos: list[int] = field(default_factory=list)
    err_col: list[str] = field(default_factory=list)
    err_reason: list[str] = field(default_factory=list)
    hashes: dict[str, np.ndarray] = field(default_factory=dict)  # per-column hash cache

    def reject(self, positions: np.ndarray, column: str, reasons: np.ndarray | str) -> None:
        """Record a problem for each position (only rows still valid, one problem per check)."""
        if len(positions) == 0:
            return
        self.err_pos.extend(int(p) for p in positions)
        self.err_col.extend([column] * len(positions))
        if isinstance(reasons, str):
            self.err_reason.extend([reasons] * len(positions))
        else:
            self.err_reason.extend(str(r) for r in reasons)
        self.ok[positions] = False


def _generic(rule: Rule, cells: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Apply the scalar rule once per distinct cell."""
    encoded = cells.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    uniques = encoded.dictionary.to_pylist()
    uvalues = np.empty(len(uniques), dtype=object)
    ureasons = np.empty(len(uniques), dtype=object)
    for i, raw in enumerate(uniques):
        try:
            uvalues[i] = to_storage(rule(raw))
        except ValueError as exc:
            ureasons[i] = str(exc)
    return uvalues[codes], ureasons[codes]


def _fast_mask(cells: pa.Array, pattern: str) -> np.ndarray:
    matched = pc.match_substring_regex(cells, "^(?:" + pattern + ")$")
    return np.asarray(matched.to_numpy(zero_copy_only=False), dtype=bool)


def _money_fast(rule: Rule, cells: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mask = _fast_mask(cells, _MONEY_FAST)
    chosen = cells.filter(pa.array(mask))
    floats = pc.cast(chosen, pa.float64()).to_numpy(zero_copy_only=False)
    cents = np.rint(floats * 100).astype(np.int64)
    reasons = np.full(len(cents), None, dtype=object)
    if rule.greater_than is not None:
        reasons[cents <= int(rule.greater_than * 100)] = f"must be greater than {rule.greater_than}"
        if rule.negative_message:
            reasons[cents < 0] = rule.negative_message
    if rule.nonzero:
        reasons[cents == 0] = "must not be 0"
    if rule.minimum is not None:
        low = cents < int(rule.minimum * 100)
        reasons[low & (reasons == None)] = rule.range_message()  # noqa: E711
    if rule.maximum is not None:
        high = cents > int(rule.maximum * 100)
        reasons[high & (reasons == None)] = rule.range_message()  # noqa: E711
    return mask, cents.astype(object), reasons


# no control characters, and no whitespace at either end (letters, digits, punctuation, symbols)
_TEXT_FAST = r"[\pL\pN\pP\pS](?:[^\x00-\x1f\x7f]*[\pL\pN\pP\pS])?"
_FAST_PATTERNS = {"id": _ID_FAST, "phone": _PHONE_FAST, "email": _EMAIL_FAST}

_NID_FAST = r"[1-9]\d{16}[\dX]"
_USCC_FAST = r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}"
_NID_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_NID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_USCC_ALPHABET = b"0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = np.full(256, 0, dtype=np.int64)
_USCC_VALUE[np.frombuffer(_USCC_ALPHABET, dtype=np.uint8)] = np.arange(31)
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)


def _as_bytes18(cells: pa.Array, mask: np.ndarray) -> np.ndarray:
    """The masked 18-character ASCII cells as an (n, 18) uint8 matrix."""
    chosen = cells.filter(pa.array(mask))
    if not len(chosen):
        return np.zeros((0, 18), dtype=np.uint8)
    data = "".join(chosen.to_pylist()).encode("ascii")
    return np.frombuffer(data, dtype=np.uint8).reshape(-1, 18)


def national_id_mask(cells: pa.Array) -> np.ndarray:
    """Vectorised riskcli.domain.ids.is_valid_national_id (pattern, birth date, checksum)."""
    mask = _fast_mask(cells, _NID_FAST)
    m = _as_bytes18(cells, mask)
    if not len(m):
        return mask
    digits = m[:, :17].astype(np.int64) - ord("0")
    ok = _NID_CHECK[(digits * _NID_WEIGHTS).sum(axis=1) % 11] == m[:, 17]
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = digits[:, 10:12] @ np.array([10, 1])
    day = digits[:, 12:14] @ np.array([10, 1])
    born = pd.to_datetime(
        pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce"
    ).to_numpy()
    ok &= ~np.isnat(born) & (year >= 1900) & (year <= 2199) & (month >= 1) & (day >= 1)
    out = mask.copy()
    out[np.flatnonzero(mask)] = ok
    return out


def uscc_mask(cells: pa.Array) -> np.ndarray:
    """Vectorised riskcli.domain.ids.is_valid_uscc (alphabet, pattern, checksum)."""
    mask = _fast_mask(cells, _USCC_FAST)
    m = _as_bytes18(cells, mask)
    if not len(m):
        return mask
    values = _USCC_VALUE[m]
    check = (31 - (values[:, :17] * _USCC_WEIGHTS).sum(axis=1) % 31) % 31
    out = mask.copy()
    out[np.flatnonzero(mask)] = check == values[:, 17]
    return out


def as_cells(column: pa.Array | pa.ChunkedArray | list[str]) -> pa.Array:
    """A column as one arrow string array with blanks as "" (never null)."""
    if isinstance(column, list):
        column = pa.array(column, type=pa.string())
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], pa.string())
    if column.type != pa.string():
        column = pc.cast(column, pa.string())
    return pc.fill_null(column, "")


def check_column(rule: Rule, cells: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(storage values, reasons) for one column; reason None means the cell is valid."""
    n = len(cells)
    values = np.full(n, None, dtype=object)
    reasons = np.full(n, None, dtype=object)
    rest = np.ones(n, dtype=bool)
    if rule.kind == "money" and n:
        mask, cents, fast_reasons = _money_fast(rule, cells)
        values[mask], reasons[mask] = cents, fast_reasons
        rest = ~mask
    elif rule.kind == "text" and rule.max_len is not None and n:
        mask = _fast_mask(cells, _TEXT_FAST)
        mask &= pc.utf8_length(cells).to_numpy(zero_copy_only=False) <= rule.max_len
        values[mask] = cells.filter(pa.array(mask)).to_numpy(zero_copy_only=False)
        rest = ~mask
    elif rule.kind == "national_id" and n:
        mask = national_id_mask(cells) | uscc_mask(cells)
        values[mask] = cells.filter(pa.array(mask)).to_numpy(zero_copy_only=False)
        rest = ~mask
    elif rule.kind in _FAST_PATTERNS and n:
        mask = _fast_mask(cells, _FAST_PATTERNS[rule.kind])
        if rule.kind == "email":
            lengths = pc.utf8_length(cells).to_numpy(zero_copy_only=False)
            mask &= lengths <= 254
        values[mask] = cells.filter(pa.array(mask)).to_numpy(zero_copy_only=False)
        rest = ~mask
    if rest.all():
        values, reasons = _generic(rule, cells)
    elif rest.any():
        values[rest], reasons[rest] = _generic(rule, cells.filter(pa.array(rest)))
    return values, reasons


def check_frame(kind: str, frame: pa.Table, n: int | None = None) -> Checked:
    """Validate a chunk whose columns are canonical field names (missing fields are blank)."""
    rules = RULES[kind]
    n = frame.num_rows if n is None else n
    out = Checked({}, np.ones(n, dtype=bool))
    for name, rule in rules.items():
        if name in frame.column_names:
            cells = as_cells(frame.column(name))
        else:
            cells = pa.array([""] * n, type=pa.string())
        values, reasons = check_column(rule, cells)
        bad = np.flatnonzero(reasons != None)  # noqa: E711
        out.reject(bad, name, reasons[bad])
        out.values[name] = values
    for row_rule in MODELS[kind].ROW_RULES:
        ROW_CHECKS[type(row_rule)](row_rule, out)
    return out


# --- row rules, column-wise (each as its rule object declares it) -----------------------------


def _id_test(values: np.ndarray, test: Callable[[pa.Array], np.ndarray]) -> np.ndarray:
    cells = pc.fill_null(pa.array(values, type=pa.string(), from_pandas=True), "")
    return test(cells)


#: the vectorised form of riskcli.domain.ids.id_problem(value, kind) is None, per customer kind
_ID_TESTS: dict[str, Callable[[pa.Array], np.ndarray]] = {
    "individual": national_id_mask,
    "company": uscc_mask,
}


def _id_matches_kind(rule: IdMatchesKind, c: Checked) -> None:
    nid = c.values[rule.id_field]
    kind = c.values[rule.kind_field]
    has = c.ok & (nid != None) & (kind != None)  # noqa: E711
    idx = np.flatnonzero(has)
    if not len(idx):
        return
    for name, _ in rule.needs:
        mine = idx[kind[idx] == name]
        if not len(mine):
            continue
        bad = mine[~_id_test(nid[mine], _ID_TESTS[name])]
        reasons = np.array([rule.reason(str(v), name) for v in nid[bad]], dtype=object)
        c.reject(bad, rule.id_field, reasons)


def _compared(storage: type) -> Callable[[Compared, Checked], None]:
    """A `Compared` rule over two columns of storage values (ISO dates compare as text, money
    as integer cents)."""

    def check(rule: Compared, c: Checked) -> None:
        a = c.values[rule.field]
        b = c.values[rule.other]
        idx = np.flatnonzero(c.ok & (a != None) & (b != None))  # noqa: E711
        bad = idx[rule.violated(a[idx].astype(storage), b[idx].astype(storage))]
        c.reject(bad, rule.field, rule.reason)

    return check


def _signed_amount(rule: SignedAmount, c: Checked) -> None:
    amount, kind = c.values[rule.amount], c.values[rule.kind]
    idx = np.flatnonzero(c.ok & (amount != None))  # noqa: E711
    cents = amount[idx].astype(np.int64)
    negative = cents < 0
    for name, reason in rule.negative:
        c.reject(idx[negative & (kind[idx] == name)], rule.amount, reason)
    blank = kind[idx] == None  # noqa: E711
    refund = negative & (blank | (kind[idx] == rule.refund))
    kind[idx[refund]] = rule.refund
    amount[idx[refund]] = (-cents[refund]).astype(object)
    kind[idx[blank & ~negative]] = rule.blank


def _kind_from_id(rule: KindFromId, c: Checked) -> None:
    kind = c.values[rule.kind_field]
    blank = np.flatnonzero(kind == None)  # noqa: E711
    if len(blank):
        resident = _id_test(c.values[rule.id_field][blank], national_id_mask)
        kind[blank] = np.where(resident, rule.with_resident_id, rule.otherwise)


#: each row rule type's column-wise implementation
ROW_CHECKS: dict[type[RowRule], Callable[[Any, Checked], None]] = {
    IdMatchesKind: _id_matches_kind,
    NotBefore: _compared(str),
    NotAbove: _compared(np.int64),
    SignedAmount: _signed_amount,
    KindFromId: _kind_from_id,
}
