"""Chinese identity numbers: resident national id (GB 11643) and unified social credit code.

Both are 18 characters ending in a check character. The national id uses ISO 7064 MOD 11-2
(check ``X`` stands for 10); the unified social credit code (GB 32100-2015) uses weights that are
powers of 3 modulo 31 over a 31-character alphabet without I, O, Z, S and V.
"""

from __future__ import annotations

import re
from datetime import date

_NID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_NID_CHECK = "10X98765432"
_NID_RE = re.compile(r"[1-9][0-9]{16}[0-9X]")

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_USCC_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")


def national_id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _NID_WEIGHTS, strict=True))
    return _NID_CHECK[total % 11]


def is_valid_national_id(value: str) -> bool:
    """True for an 18-character resident id with a valid birth date and check character."""
    if not _NID_RE.fullmatch(value):
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if not 1900 <= born.year <= 2199:
        return False
    return national_id_check_char(value[:17]) == value[17]


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    """True for an 18-character unified social credit code with a valid check character."""
    if not _USCC_RE.fullmatch(value):
        return False
    return uscc_check_char(value[:17]) == value[17]


def id_kind(value: str) -> str | None:
    """'national_id', 'uscc' or None when the (upper-cased, stripped) value is neither."""
    if is_valid_national_id(value):
        return "national_id"
    if is_valid_uscc(value):
        return "uscc"
    return None


# ---- what is wrong, named precisely ----------------------------------------------------------
# The messages name the failing check and the check characters, never the birth date or other
# digits of the id: a reject line is shown on a terminal and kept in logs.


def national_id_problem(value: str) -> str | None:
    """The check a resident id fails (`resident id check character should be 7, found 0`),
    or None when it is valid."""
    if len(value) != 18:
        return f"a resident id has 18 characters, not {len(value)}"
    if not _NID_RE.fullmatch(value):
        return "a resident id is 17 digits (the first not 0) and a last digit or X"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "the birth date in the resident id (characters 7-14) is not a calendar date"
    if not 1900 <= born.year <= 2199:
        return "the birth year in the resident id is outside 1900-2199"
    expected = national_id_check_char(value[:17])
    if expected != value[17]:
        return f"resident id check character should be {expected}, found {value[17]}"
    return None


def uscc_problem(value: str) -> str | None:
    """The check a unified social credit code fails, or None when it is valid."""
    if len(value) != 18:
        return f"a unified social credit code has 18 characters, not {len(value)}"
    if not _USCC_RE.fullmatch(value):
        return (
            "a unified social credit code uses digits and capitals except I, O, Z, S and V, "
            "with digits in characters 3-8"
        )
    expected = uscc_check_char(value[:17])
    if expected != value[17]:
        return f"credit code check character should be {expected}, found {value[17]}"
    return None


def id_problem(value: str, kind: str | None = None) -> str | None:
    """The check an id fails for a customer of `kind` (individual: a resident id; company: a
    credit code; unknown: whichever the value looks like). None when it is valid."""
    if kind == "individual":
        return national_id_problem(value)
    if kind == "company":
        return uscc_problem(value)
    if is_valid_national_id(value) or is_valid_uscc(value):
        return None
    looks_personal = value[:17].isdigit() and value[1:17] != "" and value[:1] != "9"
    return national_id_problem(value) if looks_personal else uscc_problem(value)
