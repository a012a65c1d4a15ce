"""Masking of personal data (phone, email, national id / unified social credit code).

Masking keeps just enough to recognise a value (`138****1234`) and never the hidden characters.
"""

from __future__ import annotations

from enum import StrEnum


class PiiKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    NATIONAL_ID = "national_id"
    NAME = "name"


#: column name -> kind of personal data, for every table riskcli renders
PII_COLUMNS: dict[str, PiiKind] = {
    "phone": PiiKind.PHONE,
    "email": PiiKind.EMAIL,
    "national_id": PiiKind.NATIONAL_ID,
}


def _keep_ends(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        # too short to show anything safely
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


def mask(value: object, kind: PiiKind | str) -> object:
    """Mask one value; None and empty values pass through unchanged."""
    if value is None or (isinstance(value, float) and value != value):
        return value
    text = str(value)
    if not text:
        return text
    kind = PiiKind(kind)
    if kind is PiiKind.PHONE:
        digits = text.replace(" ", "").replace("-", "")
        if len(digits) >= 11:
            return _keep_ends(digits, 3, 4)
        return _keep_ends(digits, 2, 2)
    if kind is PiiKind.EMAIL:
        local, sep, domain = text.partition("@")
        if not sep:
            return _keep_ends(text, 1, 0)
        return (local[:1] + "***" if local else "***") + "@" + domain
    if kind is PiiKind.NATIONAL_ID:
        return _keep_ends(text, 4, 4) if len(text) > 12 else _keep_ends(text, 1, 1)
    return _keep_ends(text, 1, 0)
