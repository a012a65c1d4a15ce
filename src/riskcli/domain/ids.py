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
