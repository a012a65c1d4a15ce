"""What the generator is asked for (`SyntheticConfig`), its limits and the files' columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from riskcli.domain.errors import UsageError

DEFAULT_AS_OF = date(2026, 9, 30)
CHUNK = 20_000  # customers per chunk; part of the output's identity: never change casually
HISTORY_DAYS = 3 * 365  # transactions cover the three years before the as-of date
MAX_CUSTOMERS = 10_000_000
MAX_ORDERS_PER_CUSTOMER = 2_000

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "customer_id", "name", "kind", "industry", "region", "phone", "email", "national_id",
        "registered_date", "credit_limit", "account_owner", "status",
    ),
    "transactions": ("txn_id", "customer_id", "kind", "date", "amount"),
    "receivables": (
        "invoice_number", "customer_id", "issue_date", "due_date", "amount", "paid_amount",
        "paid_date",
    ),
    "credit_reports": (
        "customer_id", "provider", "report_date", "score", "rating", "lawsuit", "bankruptcy",
        "tax_violation", "dishonest_debtor", "other_flag",
    ),
    "contracts": (
        "contract_number", "customer_id", "signed_date", "start_date", "end_date", "value",
        "status",
    ),
    "interactions": ("interaction_id", "customer_id", "kind", "date", "satisfaction", "note"),
    "financials": (
        "customer_id", "period", "revenue", "net_income", "total_assets", "total_liabilities",
        "current_assets", "current_liabilities",
    ),
}  # fmt: skip
FILES = tuple(COLUMNS)


@dataclass(frozen=True)
class SyntheticConfig:
    """What to generate. Equal configs give byte-identical files."""

    customers: int
    seed: int = 42
    as_of: date = DEFAULT_AS_OF
    transactions_per_customer: float = 10.0

    def check(self) -> None:
        if not 1 <= self.customers <= MAX_CUSTOMERS:
            raise UsageError(f"--customers must be between 1 and {MAX_CUSTOMERS:,}")
        if not 0 <= self.transactions_per_customer <= 100:
            raise UsageError("--transactions-per-customer must be between 0 and 100")
        if not 0 <= self.seed < 2**63:
            raise UsageError("--seed must be a non-negative integer")
        # contracts run up to ten years past the as-of date, and import takes dates to 2199
        if not date(2000, 1, 1) <= self.as_of <= date(2189, 12, 31):
            raise UsageError("--as-of must be between 2000-01-01 and 2189-12-31")
