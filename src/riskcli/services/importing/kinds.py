"""The import kinds: the command-line name of each and the table kind it fills."""

from __future__ import annotations

#: command-line names of the import kinds -> internal kind
KINDS: dict[str, str] = {
    "customers": "customers",
    "transactions": "transactions",
    "receivables": "receivables",
    "credit-reports": "credit_reports",
    "contracts": "contracts",
    "interactions": "interactions",
    "financials": "financials",
}
