"""The customer book as pydantic v2 models: customers and the records attached to them.

Each field is declared once as a `Rule` (parser + required/default + range), and both the models
here and the vectorised import validation (services/importing/validate.py) apply those same rules;
`CROSS_CHECKS` holds the rules that look at two fields. Money is `Decimal` here and integer cents in
storage (`storage_row()`); dates are `date` here and ISO text in storage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from riskcli.domain.ids import id_problem, is_valid_national_id
from riskcli.domain.values import (
    parse_date,
    parse_email,
    parse_enum,
    parse_flag,
    parse_id,
    parse_int,
    parse_money,
    parse_national_id,
    parse_period,
    parse_phone,
    parse_text,
    to_cents,
)


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


def _enum(name: str, enum: type[StrEnum]) -> Callable[[object], str | None]:
    allowed = tuple(m.value for m in enum)
    return partial(parse_enum, synonyms=SYNONYMS[name], allowed=allowed)


@dataclass(frozen=True)
class Rule:
    """How one field reads a raw cell: parser, then required/default, then an inclusive range.

    `kind` names the parser family so the vectorised path can pick a fast route for it.
    """

    kind: str
    parse: Callable[[object], Any]
    required: bool = False
    default: Any = None
    minimum: Any = None
    maximum: Any = None
    positive: bool = False
    max_len: int | None = None  # text rules: the parser's limit, for the vectorised fast route
    nonzero: bool = False  # signed amounts: any sign, never 0
    negative_message: str | None = None  # with `positive`: the reason given for a value below 0

    def __call__(self, raw: object) -> Any:
        value = self.parse(raw)
        if value is None:
            if self.required:
                raise ValueError("required")
            return self.default
        return self.check(value)

    def check(self, value: Any) -> Any:
        if self.positive and value <= 0:
            if value < 0 and self.negative_message:
                raise ValueError(self.negative_message)
            raise ValueError("must be greater than 0")
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


def _r(kind: str, parse: Callable[[object], Any], **kw: Any) -> Rule:
    return Rule(kind, parse, **kw)


ID = _r("id", parse_id, required=True)
OPT_ID = _r("id", parse_id)
DATE = _r("date", parse_date, required=True)
OPT_DATE = _r("date", parse_date)
AMOUNT = _r("money", parse_money, required=True, positive=True)
MONEY0 = _r("money", parse_money, default=Decimal("0.00"), minimum=Decimal("0"))
OPT_MONEY = _r("money", parse_money)
OPT_MONEY_NONNEG = _r("money", parse_money, minimum=Decimal("0"))
#: a transaction's amount carries its direction: below 0 is money going back (a refund)
SIGNED_AMOUNT = _r("money", parse_money, required=True, nonzero=True)
#: credit notes are not invoices: riskcli keeps invoices and what was paid on them
CREDIT_NOTE = (
    "a negative amount is a credit note, which is not imported: lower the amount of the invoice "
    "it credits, or add it to that invoice's paid amount"
)
INVOICE_AMOUNT = _r(
    "money", parse_money, required=True, positive=True, negative_message=CREDIT_NOTE
)


def _text_rule(max_len: int, required: bool = False) -> Rule:
    return Rule("text", partial(parse_text, max_len=max_len), required=required, max_len=max_len)


NAME = _text_rule(200, required=True)
SHORT_TEXT = _text_rule(100)
FLAG = _r("flag", parse_flag, default=False)

RULES: dict[str, dict[str, Rule]] = {
    "customers": {
        "customer_id": ID,
        "name": NAME,
        "kind": _r("enum", _enum("customer_kind", CustomerKind)),
        "industry": SHORT_TEXT,
        "region": SHORT_TEXT,
        "phone": _r("phone", parse_phone),
        "email": _r("email", parse_email),
        "national_id": _r("national_id", parse_national_id),
        "registered_date": OPT_DATE,
        "credit_limit": MONEY0,
        "account_owner": SHORT_TEXT,
        "status": _r("enum", _enum("customer_status", CustomerStatus), default="active"),
        "group_id": OPT_ID,  # the customer's group (集团); see riskcli.services.limits.groups
        "parent_id": OPT_ID,  # the parent company's customer id (母公司编号)
    },
    "transactions": {
        # blank: derived from the row (riskcli.services.importing.service, _derive_keys)
        "txn_id": OPT_ID,
        "customer_id": ID,
        # blank: follows the sign of the amount (see `signed_transaction`)
        "kind": _r("enum", _enum("transaction_kind", TransactionKind)),
        "date": DATE,
        "amount": SIGNED_AMOUNT,
    },
    "receivables": {
        "invoice_number": ID,
        "customer_id": ID,
        "issue_date": DATE,
        "due_date": DATE,
        "amount": INVOICE_AMOUNT,
        "paid_amount": MONEY0,
        "paid_date": OPT_DATE,
        "written_off_date": OPT_DATE,
    },
    "credit_reports": {
        "customer_id": ID,
        "provider": _text_rule(100, required=True),
        "report_date": DATE,
        "score": _r("int", parse_int, minimum=0, maximum=1000),
        "rating": _text_rule(20),
        "lawsuit": FLAG,
        "bankruptcy": FLAG,
        "tax_violation": FLAG,
        "dishonest_debtor": FLAG,
        "other_flag": FLAG,
    },
    "contracts": {
        "contract_number": ID,
        "customer_id": ID,
        "signed_date": OPT_DATE,
        "start_date": OPT_DATE,
        "end_date": OPT_DATE,
        "value": MONEY0,
        "status": _r("enum", _enum("contract_status", ContractStatus), default="active"),
    },
    "interactions": {
        "interaction_id": OPT_ID,
        "customer_id": ID,
        "kind": _r("enum", _enum("interaction_kind", InteractionKind), required=True),
        "date": DATE,
        "satisfaction": _r("int", parse_int, minimum=1, maximum=5),
        "note": _text_rule(2000),
    },
    "financials": {
        "customer_id": ID,
        "period": _r("period", parse_period, required=True),
        "revenue": OPT_MONEY,
        "net_income": OPT_MONEY,
        "total_assets": OPT_MONEY_NONNEG,
        "total_liabilities": OPT_MONEY_NONNEG,
        "current_assets": OPT_MONEY_NONNEG,
        "current_liabilities": OPT_MONEY_NONNEG,
    },
}


def _v(kind: str, field: str) -> BeforeValidator:
    return BeforeValidator(RULES[kind][field])


# --- cross-field rules -------------------------------------------------------------------------
# Each takes the parsed values of one row and returns (column, reason) or None. The vectorised
# validator implements the same checks column-wise; tests/unit/test_models.py proves they agree.

Values = Mapping[str, Any]


def check_customer_id_kind(v: Values) -> tuple[str, str] | None:
    nid, kind = v.get("national_id"), v.get("kind")
    if nid is None or kind is None:
        return None
    problem = id_problem(nid, kind) if kind in ("individual", "company") else None
    if problem is None:
        return None
    needs = (
        "an individual needs a resident id"
        if kind == "individual"
        else ("a company needs a unified social credit code")
    )
    return ("national_id", f"{needs}: {problem}")


def _not_before(later: str, earlier: str) -> Callable[[Values], tuple[str, str] | None]:
    def check(v: Values) -> tuple[str, str] | None:
        a, b = v.get(later), v.get(earlier)
        if a is not None and b is not None and a < b:
            return (later, f"before {earlier}")
        return None

    return check


def check_paid_not_above_amount(v: Values) -> tuple[str, str] | None:
    paid, amount = v.get("paid_amount"), v.get("amount")
    if paid is not None and amount is not None and paid > amount:
        return ("paid_amount", "greater than amount")
    return None


NEGATIVE_ORDER = (
    "a negative order: a returned order is a refund (write kind refund, or leave kind blank "
    "and keep the minus sign)"
)
NEGATIVE_PAYMENT = (
    "a negative payment: riskcli does not import payment reversals; remove the payment it "
    "reverses, or correct the sign"
)


def check_signed_amount(v: Values) -> tuple[str, str] | None:
    """Below 0 is a refund; an order or a payment below 0 is a mistake to be fixed at source."""
    amount, kind = v.get("amount"), v.get("kind")
    if amount is not None and amount < 0 and kind in ("order", "payment"):
        return ("amount", NEGATIVE_ORDER if kind == "order" else NEGATIVE_PAYMENT)
    return None


def signed_transaction(kind: str | None, amount: Decimal) -> tuple[str | None, Decimal]:
    """(kind, amount) as stored: a refund of the absolute amount when the amount is below 0
    (kind refund or blank), an order when the kind is blank and the amount above 0. An order or
    payment below 0 stays as it is (check_signed_amount rejects it)."""
    if amount < 0 and kind in (None, "refund"):
        return "refund", -amount
    if kind is None:
        return "order", amount
    return kind, amount


CROSS_CHECKS: dict[str, tuple[Callable[[Values], tuple[str, str] | None], ...]] = {
    "customers": (check_customer_id_kind,),
    "transactions": (check_signed_amount,),
    "receivables": (
        _not_before("due_date", "issue_date"),
        check_paid_not_above_amount,
        _not_before("paid_date", "issue_date"),
        _not_before("written_off_date", "issue_date"),
    ),
    "credit_reports": (),
    "contracts": (_not_before("end_date", "start_date"),),
    "interactions": (),
    "financials": (),
}


def infer_customer_kind(kind: str | None, national_id: str | None) -> str:
    """A blank kind follows the id: a resident id means individual, anything else company."""
    if kind is not None:
        return kind
    if national_id is not None and is_valid_national_id(national_id):
        return "individual"
    return "company"


# --- models ------------------------------------------------------------------------------------


class Record(BaseModel):
    """Base of every imported record."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    KIND: ClassVar[str]

    @model_validator(mode="after")
    def _cross_checks(self) -> Record:
        values = self.__dict__
        for check in CROSS_CHECKS[self.KIND]:
            problem = check(values)
            if problem is not None:
                raise ValueError(f"{problem[0]}: {problem[1]}")
        return self

    def storage_row(self) -> dict[str, Any]:
        """Canonical storage values: cents for money, ISO text for dates, 0/1 for flags."""
        out: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            out[name] = to_storage(value)
        return out


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


class Customer(Record):
    KIND: ClassVar[str] = "customers"
    customer_id: Annotated[str, _v("customers", "customer_id")]
    name: Annotated[str, _v("customers", "name")]
    kind: Annotated[CustomerKind | None, _v("customers", "kind")] = None
    industry: Annotated[str | None, _v("customers", "industry")] = None
    region: Annotated[str | None, _v("customers", "region")] = None
    phone: Annotated[str | None, _v("customers", "phone")] = None
    email: Annotated[str | None, _v("customers", "email")] = None
    national_id: Annotated[str | None, _v("customers", "national_id")] = None
    registered_date: Annotated[date | None, _v("customers", "registered_date")] = None
    credit_limit: Annotated[Decimal, _v("customers", "credit_limit")] = Decimal("0.00")
    account_owner: Annotated[str | None, _v("customers", "account_owner")] = None
    status: Annotated[CustomerStatus, _v("customers", "status")] = CustomerStatus.ACTIVE
    group_id: Annotated[str | None, _v("customers", "group_id")] = None
    parent_id: Annotated[str | None, _v("customers", "parent_id")] = None

    @model_validator(mode="after")
    def _infer_kind(self) -> Customer:
        if self.kind is None:
            inferred = infer_customer_kind(None, self.national_id)
            object.__setattr__(self, "kind", CustomerKind(inferred))
        return self


class Transaction(Record):
    KIND: ClassVar[str] = "transactions"
    customer_id: Annotated[str, _v("transactions", "customer_id")]
    date: Annotated[date, _v("transactions", "date")]
    amount: Annotated[Decimal, _v("transactions", "amount")]
    txn_id: Annotated[str | None, _v("transactions", "txn_id")] = None
    kind: Annotated[TransactionKind | None, _v("transactions", "kind")] = None

    @model_validator(mode="after")
    def _signed(self) -> Transaction:
        if check_signed_amount(self.__dict__) is None:
            kind, amount = signed_transaction(
                None if self.kind is None else str(self.kind), self.amount
            )
            object.__setattr__(self, "kind", TransactionKind(str(kind)))
            object.__setattr__(self, "amount", amount)
        return self


class Receivable(Record):
    KIND: ClassVar[str] = "receivables"
    invoice_number: Annotated[str, _v("receivables", "invoice_number")]
    customer_id: Annotated[str, _v("receivables", "customer_id")]
    issue_date: Annotated[date, _v("receivables", "issue_date")]
    due_date: Annotated[date, _v("receivables", "due_date")]
    amount: Annotated[Decimal, _v("receivables", "amount")]
    paid_amount: Annotated[Decimal, _v("receivables", "paid_amount")] = Decimal("0.00")
    paid_date: Annotated[date | None, _v("receivables", "paid_date")] = None
    written_off_date: Annotated[date | None, _v("receivables", "written_off_date")] = None

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
    customer_id: Annotated[str, _v("credit_reports", "customer_id")]
    provider: Annotated[str, _v("credit_reports", "provider")]
    report_date: Annotated[date, _v("credit_reports", "report_date")]
    score: Annotated[int | None, _v("credit_reports", "score")] = None
    rating: Annotated[str | None, _v("credit_reports", "rating")] = None
    lawsuit: Annotated[bool, _v("credit_reports", "lawsuit")] = False
    bankruptcy: Annotated[bool, _v("credit_reports", "bankruptcy")] = False
    tax_violation: Annotated[bool, _v("credit_reports", "tax_violation")] = False
    dishonest_debtor: Annotated[bool, _v("credit_reports", "dishonest_debtor")] = False
    other_flag: Annotated[bool, _v("credit_reports", "other_flag")] = False

    @property
    def adverse_flags(self) -> list[str]:
        names = ("lawsuit", "bankruptcy", "tax_violation", "dishonest_debtor", "other_flag")
        return [n for n in names if getattr(self, n)]


class Contract(Record):
    KIND: ClassVar[str] = "contracts"
    contract_number: Annotated[str, _v("contracts", "contract_number")]
    customer_id: Annotated[str, _v("contracts", "customer_id")]
    signed_date: Annotated[date | None, _v("contracts", "signed_date")] = None
    start_date: Annotated[date | None, _v("contracts", "start_date")] = None
    end_date: Annotated[date | None, _v("contracts", "end_date")] = None
    value: Annotated[Decimal, _v("contracts", "value")] = Decimal("0.00")
    status: Annotated[ContractStatus, _v("contracts", "status")] = ContractStatus.ACTIVE


class Interaction(Record):
    KIND: ClassVar[str] = "interactions"
    interaction_id: Annotated[str | None, _v("interactions", "interaction_id")] = None
    customer_id: Annotated[str, _v("interactions", "customer_id")]
    kind: Annotated[InteractionKind, _v("interactions", "kind")]
    date: Annotated[date, _v("interactions", "date")]
    satisfaction: Annotated[int | None, _v("interactions", "satisfaction")] = None
    note: Annotated[str | None, _v("interactions", "note")] = None


class Financials(Record):
    KIND: ClassVar[str] = "financials"
    customer_id: Annotated[str, _v("financials", "customer_id")]
    period: Annotated[str, _v("financials", "period")]
    revenue: Annotated[Decimal | None, _v("financials", "revenue")] = None
    net_income: Annotated[Decimal | None, _v("financials", "net_income")] = None
    total_assets: Annotated[Decimal | None, _v("financials", "total_assets")] = None
    total_liabilities: Annotated[Decimal | None, _v("financials", "total_liabilities")] = None
    current_assets: Annotated[Decimal | None, _v("financials", "current_assets")] = None
    current_liabilities: Annotated[Decimal | None, _v("financials", "current_liabilities")] = None


MODELS: dict[str, type[Record]] = {
    m.KIND: m
    for m in (Customer, Transaction, Receivable, CreditReport, Contract, Interaction, Financials)
}

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
