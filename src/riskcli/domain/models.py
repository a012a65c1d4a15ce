"""The customer book as pydantic v2 models: customers and the records attached to them.

Each field declares its rule once, in its annotation (see riskcli.domain.rules): the models apply
it here, and the vectorised import validation (services/importing/validate.py) derives its column
checks from the same declarations (`RULES`) and its row checks from each model's `ROW_RULES`.
Money is `Decimal` here and integer cents in storage (`storage_row()`); dates are `date` here and
ISO text in storage.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from riskcli.domain.rules import NEGATIVE_ORDER as NEGATIVE_ORDER
from riskcli.domain.rules import NEGATIVE_PAYMENT as NEGATIVE_PAYMENT
from riskcli.domain.rules import (
    Email,
    Id,
    IdMatchesKind,
    KindFromId,
    NationalId,
    NegativeReason,
    NonZero,
    NotAbove,
    NotBefore,
    Period,
    Phone,
    RowRule,
    Rule,
    SignedAmount,
    rule_for,
)
from riskcli.domain.values import to_cents


class CustomerKind(StrEnum):
    INDIVIDUAL = "individual"
    COMPANY = "company"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class TransactionKind(StrEnum):
    ORDER = "order"
    PAYMENT = "payment"
    REFUND = "refund"


class ContractStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    AMENDED = "amended"
    TERMINATED = "terminated"
    EXPIRED = "expired"


class InteractionKind(StrEnum):
    CALL = "call"
    EMAIL = "email"
    VISIT = "visit"
    SURVEY = "survey"
    COMPLAINT = "complaint"


SYNONYMS: dict[str, dict[str, str]] = {
    "customer_kind": {
        "个人": "individual", "自然人": "individual", "person": "individual",
        "personal": "individual",
        "企业": "company", "公司": "company", "单位": "company", "法人": "company",
        "corporate": "company", "business": "company", "organisation": "company",
    },
    "customer_status": {
        "正常": "active", "活跃": "active", "有效": "active", "暂停": "suspended",
        "冻结": "suspended", "关闭": "closed", "注销": "closed", "销户": "closed",
        "inactive": "suspended",
    },
    "transaction_kind": {
        "订单": "order", "销售": "order", "下单": "order", "sale": "order",
        "付款": "payment", "回款": "payment", "收款": "payment", "还款": "payment",
        "退款": "refund", "退货": "refund",
    },
    "contract_status": {
        "草稿": "draft", "生效": "active", "执行中": "active", "有效": "active",
        "变更": "amended", "已变更": "amended", "终止": "terminated", "已终止": "terminated",
        "到期": "expired", "已到期": "expired", "过期": "expired",
    },
    "interaction_kind": {
        "电话": "call", "来电": "call", "邮件": "email", "e-mail": "email", "拜访": "visit",
        "上门": "visit", "走访": "visit", "调查": "survey", "问卷": "survey",
        "回访": "survey", "投诉": "complaint",
    },
}  # fmt: skip


#: credit notes are not invoices: riskcli keeps invoices and what was paid on them
CREDIT_NOTE = (
    "a negative amount is a credit note, which is not imported: lower the amount of the invoice "
    "it credits, or add it to that invoice's paid amount"
)


# --- models ------------------------------------------------------------------------------------


class Record(BaseModel):
    """Base of every imported record: each field read by the rule it declares, then the row
    rules of `ROW_RULES` in order (the first problem rejects the row; each may settle values)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    KIND: ClassVar[str]
    ROW_RULES: ClassVar[tuple[RowRule, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _cell(cls, raw: Any, info: ValidationInfo) -> Any:
        return field_rules(cls)[str(info.field_name)](raw)

    @model_validator(mode="after")
    def _row_rules(self) -> Record:
        for rule in self.ROW_RULES:
            problem = rule.problem(self.__dict__)
            if problem is not None:
                raise ValueError(f"{problem[0]}: {problem[1]}")
            for name, value in rule.settle(self.__dict__).items():
                enum = _enum_of(type(self), name)
                object.__setattr__(self, name, value if enum is None else enum(value))
        return self

    def storage_row(self) -> dict[str, Any]:
        """Canonical storage values: cents for money, ISO text for dates, 0/1 for flags."""
        out: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            out[name] = to_storage(value)
        return out


@cache
def field_rules(model: type[Record]) -> dict[str, Rule]:
    """The rule of each field of `model`, in field order, derived from its declarations."""
    return {name: rule_for(info, SYNONYMS) for name, info in model.model_fields.items()}


def _enum_of(model: type[Record], name: str) -> type[StrEnum] | None:
    annotation = model.model_fields[name].annotation
    for t in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(t, type) and issubclass(t, StrEnum):
            return t
    return None


def to_storage(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return to_cents(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value


Text100 = Annotated[str, Field(max_length=100)]


class Customer(Record):
    KIND: ClassVar[str] = "customers"
    ROW_RULES: ClassVar[tuple[RowRule, ...]] = (
        IdMatchesKind("national_id", "kind"),
        KindFromId("kind", "national_id"),
    )
    customer_id: Id
    name: Annotated[str, Field(max_length=200)]
    kind: CustomerKind | None = None
    industry: Text100 | None = None
    region: Text100 | None = None
    phone: Phone | None = None
    email: Email | None = None
    national_id: NationalId | None = None
    registered_date: date | None = None
    credit_limit: Annotated[Decimal, Field(ge=0)] = Decimal("0.00")
    account_owner: Text100 | None = None
    status: CustomerStatus = CustomerStatus.ACTIVE
    group_id: Id | None = None  # the customer's group (集团); see riskcli.services.limits.groups
    parent_id: Id | None = None  # the parent company's customer id (母公司编号)


class Transaction(Record):
    KIND: ClassVar[str] = "transactions"
    ROW_RULES: ClassVar[tuple[RowRule, ...]] = (SignedAmount("amount", "kind"),)
    # blank: derived from the row (riskcli.services.importing.keys)
    txn_id: Id | None = None
    customer_id: Id
    # blank: follows the sign of the amount (see SignedAmount)
    kind: TransactionKind | None = None
    date: date
    #: the amount carries its direction: below 0 is money going back (a refund)
    amount: Annotated[Decimal, NonZero()]


class Receivable(Record):
    KIND: ClassVar[str] = "receivables"
    ROW_RULES: ClassVar[tuple[RowRule, ...]] = (
        NotBefore("due_date", "issue_date"),
        NotAbove("paid_amount", "amount"),
        NotBefore("paid_date", "issue_date"),
        NotBefore("written_off_date", "issue_date"),
    )
    invoice_number: Id
    customer_id: Id
    issue_date: date
    due_date: date
    amount: Annotated[Decimal, Field(gt=0), NegativeReason(CREDIT_NOTE)]
    paid_amount: Annotated[Decimal, Field(ge=0)] = Decimal("0.00")
    paid_date: date | None = None
    written_off_date: date | None = None

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount

    def days_past_due(self, as_of: date) -> int:
        """Days an unpaid balance is overdue on `as_of`; 0 when paid in full or not yet due."""
        if self.outstanding <= 0:
            return 0
        return max(0, (as_of - self.due_date).days)


class CreditReport(Record):
    KIND: ClassVar[str] = "credit_reports"
    customer_id: Id
    provider: Text100
    report_date: date
    score: Annotated[int | None, Field(ge=0, le=1000)] = None
    rating: Annotated[str | None, Field(max_length=20)] = None
    lawsuit: bool = False
    bankruptcy: bool = False
    tax_violation: bool = False
    dishonest_debtor: bool = False
    other_flag: bool = False

    @property
    def adverse_flags(self) -> list[str]:
        names = ("lawsuit", "bankruptcy", "tax_violation", "dishonest_debtor", "other_flag")
        return [n for n in names if getattr(self, n)]


class Contract(Record):
    KIND: ClassVar[str] = "contracts"
    ROW_RULES: ClassVar[tuple[RowRule, ...]] = (NotBefore("end_date", "start_date"),)
    contract_number: Id
    customer_id: Id
    signed_date: date | None = None
    start_date: date | None = None
    end_date: date | None = None
    value: Annotated[Decimal, Field(ge=0)] = Decimal("0.00")
    status: ContractStatus = ContractStatus.ACTIVE


class Interaction(Record):
    KIND: ClassVar[str] = "interactions"
    interaction_id: Id | None = None
    customer_id: Id
    kind: InteractionKind
    date: date
    satisfaction: Annotated[int | None, Field(ge=1, le=5)] = None
    note: Annotated[str | None, Field(max_length=2000)] = None


Assets = Annotated[Decimal | None, Field(ge=0)]


class Financials(Record):
    KIND: ClassVar[str] = "financials"
    customer_id: Id
    period: Period
    revenue: Decimal | None = None
    net_income: Decimal | None = None
    total_assets: Assets = None
    total_liabilities: Assets = None
    current_assets: Assets = None
    current_liabilities: Assets = None


MODELS: dict[str, type[Record]] = {
    m.KIND: m
    for m in (Customer, Transaction, Receivable, CreditReport, Contract, Interaction, Financials)
}


class _Rules(Mapping[str, dict[str, Rule]]):
    """kind -> field -> Rule, read from the models in MODELS each time (so it follows them)."""

    def __getitem__(self, kind: str) -> dict[str, Rule]:
        return field_rules(MODELS[kind])

    def __iter__(self) -> Iterator[str]:
        return iter(MODELS)

    def __len__(self) -> int:
        return len(MODELS)


#: the column rule of every field, per kind, derived from the models
RULES: Mapping[str, dict[str, Rule]] = _Rules()

#: the fields that identify a record for upserts, per kind
KEYS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "transactions": ("txn_id",),
    "receivables": ("invoice_number",),
    "credit_reports": ("customer_id", "provider", "report_date"),
    "contracts": ("contract_number",),
    "interactions": ("interaction_id",),
    "financials": ("customer_id", "period"),
}


def row_errors(kind: str, raw: Mapping[str, object]) -> list[tuple[str, str]]:
    """Validate one raw row with the pydantic model: [(column, reason)], empty when valid.

    Field errors come first (one per field); cross-field rules are only reached when every field
    parses, exactly as in the vectorised validator.
    """
    try:
        MODELS[kind].model_validate(dict(raw))
    except ValidationError as exc:
        out: list[tuple[str, str]] = []
        for err in exc.errors():
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "required"
            if err["loc"]:
                out.append((str(err["loc"][0]), msg))
            else:
                column, _, reason = msg.partition(": ")
                out.append((column, reason))
        return out
    return []
