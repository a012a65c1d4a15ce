"""Value rules: turn one raw cell (text from a file, or an already typed value) into a domain value.

Every parser returns ``None`` for a blank cell and raises ``ValueError`` with a short reason that
never repeats the input (rejected rows can hold personal data). The pydantic models and the
vectorised import validation both call these, so a value means the same thing on either path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from riskcli.domain.currency import BOOK_DEFAULT, foreign_message, split_currency
from riskcli.domain.ids import id_problem
from riskcli.domain.money import from_cents as from_cents  # kept importable from here
from riskcli.domain.money import to_cents as to_cents

# Full-width ASCII (U+FF01..U+FF5E) to half-width; ideographic space to space; yen/yuan signs.
_HALFWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALFWIDTH.update({0x3000: 0x20, 0xFFE5: ord("¥"), 0x2212: ord("-"), 0xA0: 0x20})

MAX_CENTS = 10**17  # far above any real amount, far below 2**63
EXCEL_EPOCH = date(1899, 12, 30)
MIN_YEAR, MAX_YEAR = 1900, 2199


def halfwidth(text: str) -> str:
    """Full-width digits, letters and punctuation to their ASCII forms."""
    return text.translate(_HALFWIDTH)


def _text(raw: object) -> str | None:
    """Common front door: None/blank -> None, anything else -> stripped half-width text."""
    if raw is None:
        return None
    if isinstance(raw, float) and raw != raw:  # NaN from pandas
        return None
    text = halfwidth(str(raw)).strip()
    return text or None


# --- text and identifiers -------------------------------------------------------------------

_ID_RE = re.compile(r"[^\s\x00-\x1f\x7f]{1,64}")


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_text(raw: object, max_len: int = 200) -> str | None:
    """Free text: stripped; blank is None; longer than max_len is an error."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None
    text = str(raw).strip()
    if not text:
        return None
    if len(text) > max_len:
        raise ValueError(f"longer than {max_len} characters")
    if _CONTROL_RE.search(text):
        raise ValueError("contains control characters")
    return text


def parse_id(raw: object) -> str | None:
    """An external key kept as text: leading zeros stay, no whitespace, at most 64 characters."""
    if isinstance(raw, float) and raw == raw and raw.is_integer():
        raw = int(raw)
    text = _text(raw)
    if text is None:
        return None
    if not _ID_RE.fullmatch(text):
        raise ValueError("invalid identifier (no spaces, at most 64 characters)")
    return text


# --- dates ----------------------------------------------------------------------------------

_TIME = r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?"
_YMD_RE = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})" + _TIME)
_CN_RE = re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*[日号]?")
_COMPACT_RE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_SERIAL_RE = re.compile(r"([0-9]{1,7})(?:\.[0-9]+)?")
MIN_SERIAL, MAX_SERIAL = 61, 109_574  # 1900-03-01 (past Excel's fake 1900-02-29) .. 2199-12-31


def _make_date(y: str, m: str, d: str) -> date:
    try:
        value = date(int(y), int(m), int(d))
    except ValueError:
        raise ValueError("not a calendar date") from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"year outside {MIN_YEAR}-{MAX_YEAR}")
    return value


def parse_date(raw: object) -> date | None:
    """ISO dates, 2024/3/5, 2024-3-5, 2024.3.5, 2024年3月5日, 20240305 and Excel serial numbers."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = _text(raw)
    if text is None:
        return None
    for pattern in (_YMD_RE, _CN_RE, _COMPACT_RE):
        match = pattern.fullmatch(text)
        if match:
            return _make_date(*match.groups())
    match = _SERIAL_RE.fullmatch(text)
    if match:
        serial = int(match.group(1))
        if not MIN_SERIAL <= serial <= MAX_SERIAL:
            raise ValueError("Excel serial date out of range")
        return EXCEL_EPOCH + timedelta(days=serial)
    raise ValueError("unrecognised date (use YYYY-MM-DD)")


# --- money ----------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+")


def parse_money(raw: object) -> Decimal | None:
    """An exact amount with at most 2 decimals: 1,234.56  ¥1234  ￥１２３４  (12.50)  -3.

    A foreign currency mark (`US$5`, `5 EUR`) is an error, never dropped (domain/currency.py)."""
    if isinstance(raw, bool):
        raise ValueError("not an amount")
    if isinstance(raw, Decimal | int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        if raw != raw:
            return None
        value = Decimal(repr(raw))
    else:
        text = _text(raw)
        if text is None:
            return None
        value = _parse_money_text(text)
    if not value.is_finite():
        raise ValueError("not an amount")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("more than 2 decimal places")
    value = value.quantize(Decimal("0.01"))
    if abs(value) * 100 >= MAX_CENTS:
        raise ValueError("amount too large")
    return value


def _parse_money_text(text: str) -> Decimal:
    text = text.replace(" ", "")
    negative = signed = False
    if text.startswith("(") and text.endswith(")"):
        negative, signed, text = True, True, text[1:-1]
    if text.endswith("元"):
        text = text[:-1]
    if text[:1] in ("+", "-") and not signed:
        negative, signed, text = text[0] == "-", True, text[1:]
    code, text = split_currency(text)
    if code is not None and code != BOOK_DEFAULT:  # never dropped silently
        raise ValueError(foreign_message(code))
    if text.startswith("(") and text.endswith(")") and not signed:
        negative, signed, text = True, True, text[1:-1]
    if text[:1] in ("+", "-") and not signed:
        negative, signed, text = text[0] == "-", True, text[1:]
    if not _NUMBER_RE.fullmatch(text):
        raise ValueError("not an amount")
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError("not an amount") from None
    return -value if negative else value


# --- small numbers, flags, enums ------------------------------------------------------------

_INT_RE = re.compile(r"[+-]?[0-9]{1,9}(?:\.0+)?")


def parse_int(raw: object) -> int | None:
    """A whole number; '4.0' (as spreadsheets write it) is 4."""
    if isinstance(raw, bool):
        raise ValueError("not a whole number")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw == raw:
        if not raw.is_integer():
            raise ValueError("not a whole number")
        return int(raw)
    text = _text(raw)
    if text is None:
        return None
    if not _INT_RE.fullmatch(text):
        raise ValueError("not a whole number")
    return int(text.split(".")[0])


TRUE_WORDS = frozenset({"1", "1.0", "true", "t", "yes", "y", "是", "有", "√"})
FALSE_WORDS = frozenset({"0", "0.0", "false", "f", "no", "n", "否", "无", "×"})


def parse_flag(raw: object) -> bool | None:
    """0/1, true/false, yes/no, y/n, 是/否, 有/无."""
    if isinstance(raw, bool):
        return raw
    text = _text(raw)
    if text is None:
        return None
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("not a yes/no flag")


def parse_enum(raw: object, synonyms: Mapping[str, str], allowed: tuple[str, ...]) -> str | None:
    """A canonical word from a small set; case-insensitive, with (Chinese) synonyms."""
    text = _text(raw)
    if text is None:
        return None
    word = text.lower()
    if word in allowed:
        return word
    canonical = synonyms.get(word)
    if canonical is None:
        raise ValueError("must be one of " + "|".join(allowed))
    return canonical


# --- personal data --------------------------------------------------------------------------

_PHONE_STRIP = str.maketrans("", "", " -().")
_PHONE_RE = re.compile(r"[0-9]{7,15}")


def parse_phone(raw: object) -> str | None:
    """Digits only, China's +86/0086 prefix dropped: '+86 138-0013-8000' -> '13800138000'."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    text = _text(raw)
    if text is None:
        return None
    digits = text.translate(_PHONE_STRIP)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("+"):
        digits = digits[1:]
    elif len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    if not _PHONE_RE.fullmatch(digits):
        raise ValueError("invalid phone number")
    return digits


_EMAIL_RE = re.compile(r"[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[a-z]{2,63}")


def parse_email(raw: object) -> str | None:
    """Lower-cased address with one @ and a dotted domain."""
    text = _text(raw)
    if text is None:
        return None
    text = text.lower()
    if len(text) > 254 or not _EMAIL_RE.fullmatch(text):
        raise ValueError("invalid email address")
    return text


def parse_national_id(raw: object) -> str | None:
    """A resident id or a unified social credit code, upper-cased, with a valid check character."""
    text = _text(raw)
    if text is None:
        return None
    text = text.replace(" ", "").upper()
    problem = id_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


# --- reporting periods ----------------------------------------------------------------------

_PERIOD_PATTERNS = (
    (re.compile(r"([0-9]{4})年?"), "year"),
    (re.compile(r"([0-9]{4})\s*[-/ ]?\s*[Qq]([1-4])"), "quarter"),
    (re.compile(r"([0-9]{4})\s*年\s*第?\s*([1-4一二三四])\s*季度?"), "quarter"),
    (re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})"), "month"),
    (re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月"), "month"),
)
_CN_QUARTER = {"一": "1", "二": "2", "三": "3", "四": "4"}


def parse_period(raw: object) -> str | None:
    """A financial period: YYYY, YYYYQn or YYYY-MM (2024, 2024Q1, 2024-03; 2024年第一季度)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    text = _text(raw)
    if text is None:
        return None
    for pattern, unit in _PERIOD_PATTERNS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        year = int(match.group(1))
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValueError(f"year outside {MIN_YEAR}-{MAX_YEAR}")
        if unit == "year":
            return str(year)
        part = _CN_QUARTER.get(match.group(2), match.group(2))
        if unit == "quarter":
            return f"{year}Q{part}"
        if not 1 <= int(part) <= 12:
            raise ValueError("month outside 1-12")
        return f"{year}-{int(part):02d}"
    raise ValueError("unrecognised period (use YYYY, YYYYQn or YYYY-MM)")
