"""Map a file's column headers onto the canonical fields of one import kind.

English headers match in any case and with spaces or hyphens for underscores; common Chinese
headers (as exported by Chinese ERPs and Excel sheets) map too. `--map 'source=field'` wins over
both. Columns that map to nothing are reported, never silently used.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from riskcli.domain.errors import InputError, UsageError
from riskcli.domain.models import RULES
from riskcli.domain.values import halfwidth

#: header synonyms shared by every kind (a field only maps when the kind has it)
COMMON: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "客户编号", "客户id", "客户代码", "客户号", "客户编码", "客户账号", "customer",
        "customer_no", "customer_number", "customer_code", "cust_id", "client_id",
        # ERP exports: Kingdee / Yonyou (往来单位编码, 客商编码), SAP (KUNNR, Debitor)
        "external_id", "account", "account_no", "account_number", "customer_account",
        "往来单位编码", "往来单位代码", "客商编码", "客商代码", "往来户编码", "客户档案编码",
        "客户编号id", "kunnr", "debitor", "debtor", "debtor_no", "business_partner", "bp",
    ),
    "name": ("客户名称", "名称", "客户名", "姓名", "公司名称", "企业名称", "单位名称",
             "customer_name", "full_name", "往来单位", "往来单位名称", "客商名称", "客户全称",
             "单位全称", "company_name", "name1"),
    "industry": ("行业", "所属行业", "行业分类", "sector"),
    "region": ("地区", "区域", "省份", "所在地区", "所在地", "城市", "province", "area"),
    "phone": ("联系电话", "电话", "手机", "手机号", "手机号码", "联系方式", "电话号码",
              "mobile", "telephone", "tel", "phone_number"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "邮件地址", "e_mail", "email_address", "mail"),
    "national_id": ("身份证号", "身份证号码", "身份证", "证件号码", "证件号",
                    "统一社会信用代码", "信用代码", "社会信用代码", "id_number", "uscc",
                    "id_card", "tax_id"),
    "registered_date": ("注册日期", "成立日期", "开户日期", "登记日期", "注册时间", "建档日期",
                        "创建日期", "registration_date", "since", "opened", "registered_on",
                        "created_on", "erdat"),
    "credit_limit": ("信用额度", "授信额度", "额度", "赊销额度", "limit"),
    "account_owner": ("客户经理", "负责人", "销售", "业务员", "归属人", "销售代表", "owner",
                      "sales_rep", "account_manager"),
    "status": ("状态", "客户状态", "合同状态"),
    "txn_id": ("交易编号", "交易号", "流水号", "交易流水号", "单号", "交易id", "订单号",
               "transaction_id", "transaction", "txn", "id", "单据编号", "单据号", "凭证号",
               "凭证编号", "document_no", "document_number", "doc_no", "voucher_no", "belnr"),
    "kind": ("类型", "客户类型", "客户性质", "交易类型", "互动类型", "方式", "type", "单据类型",
             "业务类型", "document_type", "doc_type", "transaction_type", "blart"),
    "date": ("日期", "交易日期", "发生日期", "互动日期", "时间", "transaction_date", "txn_date",
             "业务日期", "单据日期", "记账日期", "过账日期", "posting_date", "document_date",
             "budat", "bldat"),
    "amount": ("金额", "交易金额", "发票金额", "应收金额", "价税合计", "本币金额", "含税金额",
               "本位币金额", "amount_lc", "local_amount", "gross_amount", "invoice_amount",
               "dmbtr"),
    "invoice_number": ("发票号", "发票号码", "发票编号", "invoice", "invoice_no", "invoice_id"),
    "issue_date": ("开票日期", "发票日期", "invoice_date", "issued", "业务日期", "单据日期",
                   "billing_date", "document_date", "bldat"),
    "due_date": ("到期日", "到期日期", "应收日期", "账期到期日", "due", "应收款到期日",
                 "收款到期日", "net_due_date", "due_on", "faedt"),
    "paid_amount": ("已付金额", "已收金额", "回款金额", "已回款", "已付款", "paid", "已核销金额",
                    "核销金额", "cleared_amount", "amount_paid"),
    "paid_date": ("付款日期", "回款日期", "收款日期", "payment_date", "clearing_date", "augdt"),
    "written_off_date": ("核销日期", "坏账核销日期", "write_off_date"),
    "provider": ("征信机构", "数据来源", "提供方", "机构", "source", "bureau"),
    "report_date": ("报告日期", "查询日期", "征信日期"),
    "score": ("评分", "信用评分", "分数", "credit_score"),
    "rating": ("评级", "信用评级", "等级", "信用等级", "grade"),
    "lawsuit": ("诉讼", "涉诉", "法律诉讼", "lawsuits", "litigation"),
    "bankruptcy": ("破产", "破产重整"),
    "tax_violation": ("税务违法", "欠税", "税收违法", "tax"),
    "dishonest_debtor": ("失信被执行人", "失信", "失信人", "dishonest"),
    "other_flag": ("其他", "其他风险", "其他不良", "other"),
    "contract_number": ("合同编号", "合同号", "合同id", "contract", "contract_no", "contract_id"),
    "signed_date": ("签订日期", "签约日期", "签署日期", "signed"),
    "start_date": ("开始日期", "生效日期", "起始日期", "start"),
    "end_date": ("结束日期", "终止日期", "截止日期", "到期时间", "end"),
    "value": ("合同金额", "合同价值", "合同总额", "contract_value"),
    "interaction_id": ("互动编号", "记录编号", "沟通编号", "interaction"),
    "satisfaction": ("满意度", "满意度评分", "rating_1_5"),
    "note": ("备注", "内容", "说明", "沟通内容", "notes", "comment", "comments"),
    "period": ("期间", "报告期", "会计期间", "年度", "fiscal_period"),
    "revenue": ("营业收入", "收入", "营收", "销售收入", "sales"),
    "net_income": ("净利润", "净收入", "net_profit", "profit"),
    "total_assets": ("总资产", "资产总额", "资产总计", "assets"),
    "total_liabilities": ("总负债", "负债总额", "负债合计", "liabilities"),
    "current_assets": ("流动资产", "流动资产合计"),
    "current_liabilities": ("流动负债", "流动负债合计"),
}  # fmt: skip

#: per-kind synonyms that would be ambiguous across kinds (a contract's 金额 is its value)
PER_KIND: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "customer_id": ("编号", "id"),
        # customer groups (riskcli.services.limits.groups)
        "group_id": ("集团", "所属集团", "集团编号", "集团名称", "group"),
        "parent_id": ("母公司编号", "母公司", "上级公司", "上级客户", "parent"),
    },
    "contracts": {"value": ("金额", "amount")},
    "interactions": {"interaction_id": ("编号", "id")},
    "receivables": {
        "invoice_number": ("编号", "单据编号", "单据号", "billing_document", "vbeln", "document_no")
    },
    "transactions": {"txn_id": ("编号",)},
}


def normalise_header(text: str) -> str:
    """'Customer ID ' -> 'customer_id'; full-width forms and BOMs folded; Chinese kept."""
    text = halfwidth(text.replace("\ufeff", "")).strip().lower()
    text = re.sub(r"\s*\(.*?\)\s*$", "", text)  # trailing unit: "金额(元)", "amount (CNY)"
    return re.sub(r"[\s\-./]+", "_", text).strip("_")


def synonyms_for(kind: str) -> dict[str, str]:
    """normalised header -> field, for the fields of `kind`."""
    fields = RULES[kind]
    table: dict[str, str] = {}
    for name in fields:
        table[normalise_header(name)] = name
    for name, words in PER_KIND.get(kind, {}).items():
        for word in words:
            table.setdefault(normalise_header(word), name)
    for name, words in COMMON.items():
        if name in fields:
            for word in words:
                table.setdefault(normalise_header(word), name)
    return table


def parse_map_options(options: Iterable[str]) -> dict[str, str]:
    """`--map 'source=field'` (repeatable, or comma-separated) -> {source: field}."""
    out: dict[str, str] = {}
    for option in options:
        for part in option.split(","):
            if not part.strip():
                continue
            source, sep, target = part.partition("=")
            if not sep or not source.strip() or not target.strip():
                raise UsageError(f"--map expects 'source=field', got {part.strip()!r}")
            out[source.strip()] = target.strip()
    return out


@dataclass
class HeaderMap:
    kind: str
    columns: dict[str, str]  # source header -> field
    unknown: list[str] = field(default_factory=list)

    @property
    def fields(self) -> list[str]:
        return list(self.columns.values())


def map_headers(kind: str, headers: Iterable[str], overrides: Mapping[str, str]) -> HeaderMap:
    """Map headers for `kind`; an override naming no field, or two columns on one field, is an
    error, and so is a missing key column."""
    headers = [str(h) for h in headers]
    fields = RULES[kind]
    table = synonyms_for(kind)
    normalised_overrides = {normalise_header(k): v for k, v in overrides.items()}
    columns: dict[str, str] = {}
    unknown: list[str] = []
    for header in headers:
        key = normalise_header(str(header))
        target = overrides.get(str(header)) or normalised_overrides.get(key) or table.get(key)
        if target is None:
            unknown.append(str(header))
            continue
        if target not in fields:
            raise UsageError(
                f"--map target {target!r} is not a {kind} field (fields: {', '.join(fields)})"
            )
        if target in columns.values():
            first = next(s for s, t in columns.items() if t == target)
            raise UsageError(
                f"columns {first!r} and {header!r} both map to {target!r}; use --map to choose"
            )
        columns[str(header)] = target
    mapped = set(columns.values())
    missing = [name for name, rule in fields.items() if rule.required and name not in mapped]
    if missing:
        found = ", ".join(str(h) for h in headers) or "none"
        hint = "use --map 'source=field'"
        guess = closest_column(missing[0], unknown, table)
        if guess is not None:
            hint = f"did you mean {guess!r}? use --map {guess}={missing[0]}"
        raise InputError(
            f"missing required column(s) for {kind}: {', '.join(missing)} (found: {found}); {hint}"
        )
    return HeaderMap(kind, columns, unknown)


def closest_column(field_name: str, candidates: list[str], table: Mapping[str, str]) -> str | None:
    """The file's column most like `field_name` or one of its other names (None when none is
    close): difflib's ratio over the normalised names, a shared word counting too."""
    names = [normalise_header(field_name)] + [k for k, v in table.items() if v == field_name]
    best, score = None, 0.0
    for column in candidates:
        key = normalise_header(column)
        if not key:
            continue
        ratio = max(difflib.SequenceMatcher(None, key, n).ratio() for n in names)
        words = set(re.split(r"_", key)) - {""}
        if any(words & set(n.split("_")) for n in names if "_" in n):
            ratio = max(ratio, 0.6)
        if ratio > score:
            best, score = column, ratio
    return best if score >= 0.5 else None


def find_header_row(kind: str, rows: list[list[str]], overrides: Mapping[str, str]) -> int:
    """Index of the header among `rows` (a file's first rows): the first row naming the most
    fields of `kind` (by name, other name or --map), else the first row that is not blank."""
    table = synonyms_for(kind)
    known = set(table) | {normalise_header(k) for k in overrides}
    best, score = None, 0
    for i, row in enumerate(rows):
        hits = sum(1 for cell in row if normalise_header(str(cell)) in known)
        if hits > score:
            best, score = i, hits
    if best is not None:
        return best
    return next((i for i, row in enumerate(rows) if any(str(c).strip() for c in row)), 0)
