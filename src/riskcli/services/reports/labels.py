"""Human labels for the names in a report (`customers_with_exposure` -> "Customers with
exposure", or 有敞口客户数 when the book's language is Chinese), with the book's currency on
money columns.

The book's settings (`[book]` in riskcli.toml):

    [book]
    language = "zh"      # report labels in Chinese; "en" (the default) in English
    currency = "CNY"     # shown beside every amount's label; the default

A name with no label here reads as itself with spaces (`open_invoices` -> "Open invoices"), so
a new metric never breaks a report. Data keys (JSON keys, CSV headers, XLSX column headers) stay
the snake_case names scripts rely on; only what a person reads is labelled.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "zh")
DEFAULT_CURRENCY = "CNY"

#: name -> (English, Chinese)
LABELS: dict[str, tuple[str, str]] = {
    "customers": ("Customers", "客户数"),
    "active_customers": ("Active customers", "活跃客户数"),
    "customers_with_exposure": ("Customers with exposure", "有敞口客户数"),
    "scored_customers": ("Scored customers", "已评分客户数"),
    "exposure": ("Exposure", "敞口"),
    "exposure_share": ("Share of exposure", "敞口占比"),
    "outstanding": ("Outstanding", "未收余额"),
    "overdue": ("Overdue", "逾期"),
    "overdue_share": ("Overdue share", "逾期占比"),
    "expected_loss": ("Expected loss", "预期损失"),
    "expected_loss_rate": ("Expected loss rate", "预期损失率"),
    "pd": ("PD", "违约概率"),
    "grade": ("Grade", "评级"),
    "tier": ("Tier", "层级"),
    "industry": ("Industry", "行业"),
    "region": ("Region", "地区"),
    "amount": ("Amount", "金额"),
    "amount_share": ("Share of amount", "金额占比"),
    "invoices": ("Invoices", "发票数"),
    "open_invoices": ("Open invoices", "未结发票数"),
    "invoice_share": ("Share of invoices", "发票占比"),
    "customer_share": ("Share of customers", "客户占比"),
    "share": ("Share", "占比"),
    "largest": ("Largest", "最大"),
    "largest_share": ("Largest share", "最大占比"),
    "hhi_customers": ("Herfindahl index (customers)", "赫芬达尔指数（客户）"),
    "hhi_exposure": ("Herfindahl index (exposure)", "赫芬达尔指数（敞口）"),
    "effective_number": ("Effective number", "有效数量"),
    "open_alerts": ("Open alerts", "未处理预警"),
    "severity": ("Severity", "严重程度"),
    "rule": ("Rule", "规则"),
    "bucket": ("Days past due", "逾期天数"),
    "band": ("Band", "区间"),
    "rank": ("Rank", "排名"),
    "customer_id": ("Customer", "客户编号"),
    "name": ("Name", "名称"),
    "metric": ("Metric", "指标"),
    "value": ("Value", "数值"),
    "total": ("Total", "合计"),
    "score": ("Score", "评分"),
    "reasons": ("Reasons", "原因"),
    "recommended_limit": ("Recommended limit", "建议额度"),
    "credit_limit": ("Credit limit", "授信额度"),
    "current_limit": ("Current limit", "当前额度"),
    "utilisation": ("Utilisation", "额度使用率"),
    "as_of": ("As of", "截至"),
    "compare": ("Compared with", "对比日期"),
    "top": ("Top", "前"),
    "generated_at": ("Generated", "生成时间"),
    "report": ("Report", "报告"),
}

#: names whose values are money: their label carries the currency
MONEY = frozenset(
    {"exposure", "outstanding", "overdue", "expected_loss", "amount", "largest", "total",
     "recommended_limit", "credit_limit", "current_limit"}
)  # fmt: skip


def book_settings(config: dict[str, Any] | None) -> tuple[str, str]:
    """(language, currency) from the `[book]` section, with the defaults."""
    book = (config or {}).get("book", {}) if isinstance(config, dict) else {}
    language = str(book.get("language", "en")).lower()
    if language not in LANGUAGES:
        from riskcli.domain.errors import InputError

        raise InputError(f"[book] language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    return language, str(book.get("currency", DEFAULT_CURRENCY))


def label(name: str, language: str = "en", currency: str = "") -> str:
    """The label a person reads for `name`."""
    known = LABELS.get(name)
    if known is not None:
        text = known[1] if language == "zh" else known[0]
    else:
        text = name.replace("_", " ")
        text = text[:1].upper() + text[1:]
    if currency and name in MONEY:
        text += f"（{currency}）" if language == "zh" else f" ({currency})"
    return text
