"""Currency marks in money cells: `US$1,000`, `USD 2000`, `€5`, `HK$8`, `¥9`, `￥9`, `9 RMB`.

`split_currency` finds one mark at the start or the end of a cell (spaces already removed)
and says which ISO 4217 code it means; the number is what is left. `¥`/`￥`, `RMB` and `元`
are the renminbi (CNY): riskcli's users are in mainland China, where `¥` is not the yen. A bare
`$` is the US dollar. A mark is never dropped silently: a foreign amount is converted with a
rates file or rejected (riskcli.services.limits.currency).
"""

from __future__ import annotations

import re

#: marks (upper case) and the code each means; longer marks are tried first
SYMBOLS: dict[str, str] = {
    "US$": "USD",
    "HK$": "HKD",
    "NT$": "TWD",
    "S$": "SGD",
    "A$": "AUD",
    "C$": "CAD",
    "RMB": "CNY",
    "€": "EUR",
    "£": "GBP",
    "¥": "CNY",
    "\uffe5": "CNY",
    "$": "USD",
}
_ORDERED = sorted(SYMBOLS, key=len, reverse=True)
_CODE_RE = re.compile(r"^([A-Z]{3})(?=[0-9.(+\-])|(?<=[0-9.)])([A-Z]{3})$")

#: three-letter codes recognised in a cell (ISO 4217, the ones a trade book meets)
CODES = frozenset(
    {"CNY", "USD", "EUR", "HKD", "GBP", "JPY", "TWD", "SGD", "AUD", "CAD", "CHF", "KRW", "MOP",
     "THB", "MYR", "VND", "INR", "RUB", "AED", "SAR", "NZD"}
)  # fmt: skip

BOOK_DEFAULT = "CNY"


def split_currency(text: str) -> tuple[str | None, str]:
    """(ISO code or None, the text without its mark). Only one mark, at either end."""
    upper = text.upper()
    for mark in _ORDERED:
        if upper.startswith(mark):
            return SYMBOLS[mark], text[len(mark) :]
        if upper.endswith(mark):
            return SYMBOLS[mark], text[: -len(mark)]
    match = _CODE_RE.search(upper)
    if match:
        code = match.group(1) or match.group(2)
        if code in CODES:
            if match.group(1):
                return code, text[3:]
            return code, text[:-3]
    return None, text


def foreign_message(code: str) -> str:
    return f"amount in {code}; give --rates or convert first"
