"""Synthetic customer book: consistent, reproducible, realistic files for every import kind.

One latent risk per customer drives what a credit team would see: weaker balance sheets, shrinking
revenue and orders, younger businesses, riskier industries and regions, lower bureau scores and
adverse flags go with late payments and defaults (an invoice 90+ days past due). A hidden part of
the risk is never observable, so a scorecard learns it well but not perfectly.

Customers are generated in fixed-size chunks, each from its own random stream seeded by
``(seed, chunk)``: memory stays flat at any scale, the same seed gives byte-identical files, and
chunks can be made in parallel processes without changing a byte. Every table is formatted
straight from numpy arrays into fixed-width byte matrices (NUL-padded, the NULs dropped
afterwards), so ten million transactions are written in seconds rather than minutes.

Generated values never contain a comma, a quote or a newline, so the CSV needs no quoting.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from riskcli.domain.errors import InputError, UsageError

IntArr = npt.NDArray[np.int64]
FloatArr = npt.NDArray[np.float64]
BoolArr = npt.NDArray[np.bool_]
Bytes2D = npt.NDArray[np.uint8]

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

# --- vocabularies -------------------------------------------------------------------------------
# (name, risk offset on the latent logit, share of customers)
INDUSTRIES: tuple[tuple[str, float, float], ...] = (
    ("制造业", 0.00, 0.22),
    ("批发零售", 0.15, 0.20),
    ("建筑业", 0.55, 0.09),
    ("信息技术", -0.25, 0.08),
    ("交通运输", 0.10, 0.07),
    ("餐饮住宿", 0.45, 0.06),
    ("房地产", 0.75, 0.04),
    ("农林牧渔", 0.25, 0.05),
    ("医药医疗", -0.35, 0.05),
    ("教育培训", 0.35, 0.04),
    ("能源化工", 0.05, 0.05),
    ("专业服务", -0.15, 0.05),
)
# words used in company names, one list per industry above
INDUSTRY_WORDS: tuple[tuple[str, ...], ...] = (
    ("机械制造", "精密机械", "电子", "五金制品", "塑胶制品"),
    ("贸易", "商贸", "百货", "供应链管理"),
    ("建设工程", "建筑工程", "装饰工程"),
    ("科技", "信息技术", "软件", "网络科技"),
    ("物流", "运输", "货运代理"),
    ("餐饮管理", "酒店管理", "餐饮"),
    ("房地产开发", "置业", "物业管理"),
    ("农业", "生态农业", "牧业"),
    ("医药", "医疗器械", "生物科技"),
    ("教育咨询", "培训", "文化传播"),
    ("化工", "能源", "新材料"),
    ("咨询", "企业管理咨询", "会计服务"),
)
# (region, risk offset, share, ((city, admin code), ...))
REGIONS: tuple[tuple[str, float, float, tuple[tuple[str, str], ...]], ...] = (
    ("华东", -0.15, 0.34, (("上海", "310115"), ("苏州", "320505"), ("杭州", "330106"),
                          ("南京", "320102"), ("宁波", "330203"), ("合肥", "340104"))),
    ("华南", -0.10, 0.20, (("广州", "440106"), ("深圳", "440305"), ("东莞", "441900"),
                          ("佛山", "440604"), ("厦门", "350203"))),
    ("华北", 0.00, 0.15, (("北京", "110105"), ("天津", "120101"), ("石家庄", "130102"),
                         ("济南", "370102"), ("青岛", "370202"))),
    ("华中", 0.05, 0.11, (("武汉", "420106"), ("长沙", "430104"), ("郑州", "410105"))),
    ("西南", 0.10, 0.10, (("成都", "510107"), ("重庆", "500103"), ("昆明", "530102"))),
    ("西北", 0.25, 0.05, (("西安", "610113"), ("兰州", "620102"), ("银川", "640104"))),
    ("东北", 0.30, 0.05, (("沈阳", "210102"), ("大连", "210202"), ("哈尔滨", "230102"))),
)  # fmt: skip
SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("高", "gao"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("邓", "deng"), ("冯", "feng"), ("韩", "han"), ("曹", "cao"),
    ("曾", "zeng"), ("彭", "peng"), ("萧", "xiao"), ("蔡", "cai"), ("潘", "pan"), ("田", "tian"),
)  # fmt: skip
GIVEN = (
    ("伟", "w"), ("芳", "f"), ("娜", "n"), ("敏", "m"), ("静", "j"), ("丽", "l"), ("强", "q"),
    ("磊", "l"), ("军", "j"), ("洋", "y"), ("勇", "y"), ("艳", "y"), ("杰", "j"), ("涛", "t"),
    ("明", "m"), ("超", "c"), ("秀英", "xy"), ("霞", "x"), ("平", "p"), ("刚", "g"), ("桂英", "gy"),
    ("建华", "jh"), ("志强", "zq"), ("晓东", "xd"), ("海燕", "hy"), ("文博", "wb"), ("子涵", "zh"),
    ("欣怡", "xy"), ("浩然", "hr"), ("雨萱", "yx"), ("俊杰", "jj"), ("思远", "sy"),
)  # fmt: skip
BRANDS = (
    ("恒达", "hengda"), ("华信", "huaxin"), ("鑫源", "xinyuan"), ("宏图", "hongtu"),
    ("永盛", "yongsheng"), ("金桥", "jinqiao"), ("瑞丰", "ruifeng"), ("天成", "tiancheng"),
    ("嘉禾", "jiahe"), ("中联", "zhonglian"), ("新锐", "xinrui"), ("博远", "boyuan"),
    ("盛世", "shengshi"), ("远航", "yuanhang"), ("东方", "dongfang"), ("汇通", "huitong"),
    ("德润", "derun"), ("长青", "changqing"), ("正泰", "zhengtai"), ("海纳", "haina"),
    ("立信", "lixin"), ("安泰", "antai"), ("凯旋", "kaixuan"), ("华鼎", "huading"),
    ("同创", "tongchuang"), ("宝丰", "baofeng"), ("富强", "fuqiang"), ("万通", "wantong"),
    ("科达", "keda"), ("联创", "lianchuang"), ("昌盛", "changsheng"), ("隆基", "longji"),
)  # fmt: skip
COMPANY_SUFFIXES = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")
ENGLISH_SUFFIXES = (" Trading Co. Ltd.", " Technology Co. Ltd.", " Industrial Ltd.")
PERSONAL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com")
COMPANY_MAILBOXES = ("finance", "info", "sales", "caiwu", "admin")
ACCOUNT_OWNERS = (
    "王丽", "李强", "张敏", "刘洋", "陈静", "杨磊", "黄伟", "赵娜", "吴杰", "周芳", "徐涛", "孙超",
    "马俊", "朱琳", "胡斌", "郭婷", "何平", "林峰", "Kevin Zhang", "Lisa Wang", "Tom Li",
    "Amy Chen",
)  # fmt: skip
COMPANY_PROVIDERS = ("企查查", "天眼查", "中诚信", "Dun & Bradstreet")
PERSON_PROVIDERS = ("百行征信", "朴道征信")
RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")
RATING_CUTS = (780, 730, 680, 630, 580, 520)  # score >= cut[i] -> RATINGS[i]
INTERACTION_KINDS = ("call", "email", "visit", "survey", "complaint")
NOTES: tuple[tuple[str, ...], ...] = (
    ("电话回访", "催收提醒电话", "确认下月订单", "Follow-up call", "询问付款进度"),
    ("发送对账单", "报价邮件", "Invoice sent by email", "发送合同草案"),
    ("季度拜访", "年度业务回顾", "Site visit with CFO", "新品推介"),
    ("满意度调查", "NPS survey", "年度客户调研"),
    ("投诉：发货延迟", "投诉：质量问题", "投诉：发票错误", "Complaint: late delivery"),
)  # fmt: skip

_NID_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_NID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_CHARS = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ORG_CHECK = np.frombuffer(b"0123456789X0", dtype=np.uint8)  # index 11 - (sum % 11)
_POW10 = np.array([10**k for k in range(1, 19)], dtype=np.int64)
_EPOCH = date(1970, 1, 1)


# --- configuration and results ---------------------------------------------------------------


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


@dataclass
class GenerateSummary:
    """Counts of what was written, plus the shares a credit analyst would check first."""

    out_dir: Path
    as_of: date
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    prospects: int = 0
    late_payers: int = 0  # at least one invoice paid or still open 31+ days past due
    defaulters: int = 0  # at least one invoice 91+ days past due (paid that late or still open)
    seconds: float = 0.0

    def as_rows(self) -> list[dict[str, object]]:
        n = max(self.rows.get("customers", 0), 1)
        out: list[dict[str, object]] = [
            {"item": f"{name}.csv", "value": count} for name, count in self.rows.items()
        ]
        out += [
            {"item": "prospects (no transactions)", "value": f"{self.prospects / n:.1%}"},
            {"item": "late payers (31+ days past due)", "value": f"{self.late_payers / n:.1%}"},
            {"item": "defaulters (91+ days past due)", "value": f"{self.defaulters / n:.1%}"},
        ]
        return out


@dataclass
class _Chunk:
    data: dict[str, bytes]
    rows: dict[str, int]
    prospects: int
    late_payers: int
    defaulters: int


# --- byte-matrix formatting -------------------------------------------------------------------


def _lut(values: Sequence[str]) -> Bytes2D:
    """A lookup table: one NUL-padded UTF-8 row per string."""
    encoded = [v.encode() for v in values]
    out = np.zeros((len(encoded), max(1, *(len(e) for e in encoded))), dtype=np.uint8)
    for i, e in enumerate(encoded):
        out[i, : len(e)] = np.frombuffer(e, dtype=np.uint8)
    return out


def _const(text: str, n: int) -> Bytes2D:
    return np.broadcast_to(_lut([text])[0], (n, len(text.encode())))


def _digits(values: IntArr, width: int, *, zero_pad: bool = False) -> Bytes2D:
    """Non-negative integers as right-aligned ASCII digits (leading NULs unless zero_pad)."""
    n = len(values)
    out = np.empty((n, width), dtype=np.uint8)
    if n and int(values.max()) >= 10**width:
        raise ValueError("value too wide")
    x = values.astype(np.int64, copy=True)
    for j in range(width - 1, -1, -1):
        out[:, j] = 48 + x % 10
        x //= 10
    if not zero_pad:
        ndig = 1 + np.searchsorted(_POW10, values, side="right")
        out[np.arange(width)[None, :] < (width - ndig)[:, None]] = 0
    return out


def _int_col(values: IntArr, missing: BoolArr | None = None) -> Bytes2D:
    """Integers, possibly negative; blank where missing."""
    neg = values < 0
    mag = np.abs(values)
    width = len(str(int(mag.max()))) if mag.size else 1
    out = np.hstack([np.where(neg, ord("-"), 0).astype(np.uint8)[:, None], _digits(mag, width)])
    if missing is not None:
        out[missing] = 0
    return out


def _money_col(cents: IntArr, missing: BoolArr | None = None) -> Bytes2D:
    """Exact amounts from integer cents: -1234.50; blank where missing."""
    neg = cents < 0
    mag = np.abs(cents)
    width = len(str(int(mag.max() // 100))) if mag.size else 1
    out = np.hstack(
        [
            np.where(neg, ord("-"), 0).astype(np.uint8)[:, None],
            _digits(mag // 100, width),
            np.full((mag.shape[0], 1), ord("."), dtype=np.uint8),
            _digits(mag % 100, 2, zero_pad=True),
        ]
    )
    if missing is not None:
        out[missing] = 0
    return out


def _date_col(days: IntArr, missing: BoolArr | None = None) -> Bytes2D:
    """ISO dates from days since 1970-01-01; blank where missing."""
    n = len(days)
    use = days[~missing] if missing is not None and missing.any() else days
    if use.size == 0:
        return np.zeros((n, 1), dtype=np.uint8)
    lo, hi = int(use.min()), int(use.max())
    lut = np.arange(lo, hi + 1).astype("datetime64[D]").astype("S10")
    table = lut.view(np.uint8).reshape(-1, 10)
    idx = np.clip(days - lo, 0, hi - lo)
    out = table[idx]
    if missing is not None:
        out[missing] = 0
    return out


def _id_col(prefix: str, numbers: IntArr, width: int) -> Bytes2D:
    return np.hstack([_const(prefix, numbers.shape[0]), _digits(numbers, width, zero_pad=True)])


def _rows(columns: Sequence[Bytes2D]) -> bytes:
    """Join columns with commas and rows with newlines, dropping the NUL padding."""
    n = columns[0].shape[0]
    if n == 0:
        return b""
    comma = np.full((n, 1), ord(","), dtype=np.uint8)
    newline = np.full((n, 1), ord("\n"), dtype=np.uint8)
    parts: list[Bytes2D] = []
    for i, col in enumerate(columns):
        parts.append(col)
        parts.append(newline if i == len(columns) - 1 else comma)
    flat = np.hstack(parts).reshape(-1)
    kept: bytes = flat[flat != 0].tobytes()  # a mask beats bytes.replace on scattered NULs
    return kept


def header(kind: str) -> bytes:
    return (",".join(COLUMNS[kind]) + "\n").encode()


# --- identity numbers -------------------------------------------------------------------------


def national_ids(area: Bytes2D, birth_days: IntArr, seq: IntArr) -> Bytes2D:
    """18-character resident ids: area (6) + birth date (8) + sequence (3) + MOD 11-2 check."""
    n = len(birth_days)
    ymd = _date_col(birth_days)[:, [0, 1, 2, 3, 5, 6, 8, 9]]  # YYYY-MM-DD -> YYYYMMDD
    body = np.hstack([area, ymd, _digits(seq, 3, zero_pad=True)])
    total = (body.astype(np.int64) - 48) @ _NID_WEIGHTS
    return np.hstack([body, _NID_CHECK[total % 11].reshape(n, 1)])


def unified_codes(area: Bytes2D, org: IntArr) -> Bytes2D:
    """Unified social credit codes: '91' + area (6) + organisation code (8 + GB 11714 check)
    + GB 32100-2015 check."""
    n = len(org)
    org_digits = _digits(org, 8, zero_pad=True)
    org_total = (org_digits.astype(np.int64) - 48) @ _ORG_WEIGHTS
    org_check = _ORG_CHECK[11 - org_total % 11]
    body = np.hstack([_const("91", n), area, org_digits, org_check.reshape(n, 1)])
    values = np.searchsorted(_USCC_CHARS, body)  # alphabet is sorted ASCII
    total = values.astype(np.int64) @ _USCC_WEIGHTS
    return np.hstack([body, _USCC_CHARS[(31 - total % 31) % 31].reshape(n, 1)])


# --- the generator ----------------------------------------------------------------------------


def _sigmoid(x: FloatArr) -> FloatArr:
    return 1.0 / (1.0 + np.exp(-x))


def _day(d: date) -> int:
    return (d - _EPOCH).days


def _expand(counts: IntArr) -> tuple[IntArr, IntArr]:
    """For per-customer counts: the customer index of each row and the row's rank within it."""
    owner = np.repeat(np.arange(counts.shape[0], dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(owner.shape[0], dtype=np.int64) - starts[owner]
    return owner, rank


def _choice(rng: np.random.Generator, n: int, shares: Sequence[float]) -> IntArr:
    p = np.asarray(shares, dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").astype(np.int64)


def _round_to(cents: FloatArr, step_cents: int) -> IntArr:
    return (np.round(cents / step_cents) * step_cents).astype(np.int64)


def generate_chunk(config: SyntheticConfig, chunk: int) -> _Chunk:
    """Customers [chunk*CHUNK, ...) and everything that refers to them, as CSV bytes per file."""
    first = chunk * CHUNK
    n = min(CHUNK, config.customers - first)
    rng = np.random.default_rng([config.seed, chunk])
    as_of = _day(config.as_of)
    w0 = as_of - HISTORY_DAYS
    cust_no = np.arange(first + 1, first + n + 1, dtype=np.int64)
    cust_id = _id_col("C", cust_no, 8)

    # -- who they are ------------------------------------------------------------------------
    company = rng.random(n) < 0.68
    industry = _choice(rng, n, [s for _, _, s in INDUSTRIES])
    region = _choice(rng, n, [s for _, _, s, _ in REGIONS])
    city_of_region = rng.integers(0, 6, n)
    city_flat: list[tuple[str, str]] = []
    region_city_start = np.zeros(len(REGIONS), dtype=np.int64)
    region_city_count = np.zeros(len(REGIONS), dtype=np.int64)
    for r, (_, _, _, cities) in enumerate(REGIONS):
        region_city_start[r] = len(city_flat)
        region_city_count[r] = len(cities)
        city_flat.extend(cities)
    city = region_city_start[region] + city_of_region % region_city_count[region]
    years = np.where(
        company, rng.lognormal(np.log(8.0), 0.75, n), rng.lognormal(np.log(4.0), 0.7, n)
    )
    years = np.clip(years, 0.3, 45.0)

    # -- observable drivers of risk ------------------------------------------------------------
    debt_ratio = 0.08 + 0.9 * rng.beta(2.5, 2.5, n)
    current_ratio = rng.lognormal(np.log(1.4), 0.35, n)
    growth = rng.normal(0.05, 0.15, n)
    order_trend = 0.5 * growth + rng.normal(-0.02, 0.12, n)
    use_propensity = rng.beta(2.0, 3.0, n)
    ind_risk = np.array([r for _, r, _ in INDUSTRIES])[industry]
    reg_risk = np.array([r for _, r, _, _ in REGIONS])[region]
    observable = (
        ind_risk
        + reg_risk
        - 0.40 * np.log(years / 8.0)
        - 1.6 * order_trend
        + 1.6 * (use_propensity - 0.4)
        + np.where(
            company,
            2.6 * (debt_ratio - 0.53) - 1.0 * np.log(current_ratio / 1.4) - 2.2 * (growth - 0.05),
            0.35 * rng.normal(0.0, 1.0, n),  # individuals have no statements to read
        )
    )
    hidden = rng.normal(0.0, 1.0, n)
    risk = (observable / 0.95 + 0.75 * hidden) / 1.25  # ~N(0, 1), about 64% of it observable
    pd_ = _sigmoid(-3.35 + 1.35 * risk)

    # -- lifecycle pattern ---------------------------------------------------------------------
    # 0 prospect, 1 new, 2 active, 3 at risk, 4 dormant, 5 churned, 6 won back
    pattern = _choice(rng, n, [0.06, 0.05, 0.52, 0.08, 0.09, 0.13, 0.07])
    reg_day = (as_of - years * 365.25).astype(np.int64)
    person_new = (~company) & ((pattern == 0) | (pattern == 1))
    reg_day = np.where(person_new, as_of - rng.integers(20, 200, n), reg_day)
    s0 = np.maximum(w0, reg_day + 7)
    room = np.maximum(as_of - 120 - s0, 0)
    a1 = s0 + np.minimum(rng.exponential(160.0, n), room).astype(np.int64)
    b1 = as_of - rng.exponential(20.0, n).astype(np.int64)
    a2 = np.full(n, -1, dtype=np.int64)
    b2 = np.full(n, -1, dtype=np.int64)
    m = pattern == 1
    a1[m] = as_of - rng.integers(5, 91, int(m.sum()))
    b1[m] = np.maximum(a1[m], as_of - rng.integers(0, 10, int(m.sum())))
    m = pattern == 3
    b1[m] = as_of - rng.integers(60, 180, int(m.sum()))
    m = pattern == 4
    b1[m] = as_of - rng.integers(180, 365, int(m.sum()))
    m = pattern == 5
    b1[m] = as_of - rng.integers(365, HISTORY_DAYS - 60, int(m.sum()))
    a1[m] = s0[m] + (rng.random(int(m.sum())) * np.maximum(b1[m] - s0[m], 0) * 0.6).astype(np.int64)
    m = pattern == 6
    k = int(m.sum())
    b1[m] = a1[m] + rng.integers(60, 400, k)
    a2[m] = b1[m] + rng.integers(200, 450, k)
    b2[m] = as_of - rng.integers(0, 30, k)
    fits = a2 < as_of - 30
    a2[m & ~fits], b2[m & ~fits] = -1, -1
    a1 = np.minimum(np.maximum(a1, s0), as_of - 1)  # never before registration
    b1 = np.clip(b1, a1, as_of)
    prospect = pattern == 0

    # defaulters: drawn from their probability, default day early enough to be 90+ days late
    terms = np.where(
        company,
        np.array([30, 45, 60, 90])[_choice(rng, n, [0.4, 0.2, 0.3, 0.1])],
        np.array([7, 15, 30])[_choice(rng, n, [0.3, 0.3, 0.4])],
    )
    last_active = np.where(a2 >= 0, b2, b1)
    latest_default = np.minimum(last_active, as_of - 92 - terms)
    can_default = (~prospect) & (latest_default > a1 + 30)
    defaulter = can_default & (rng.random(n) < pd_)
    t_def = a1 + 30 + (rng.random(n) * np.maximum(latest_default - a1 - 30, 0)).astype(np.int64)
    t_def = np.where(defaulter, t_def, as_of + 10_000)
    b1 = np.where(defaulter, np.minimum(b1, t_def), b1)
    second = (a2 >= 0) & (a2 < t_def)
    a2 = np.where(second, a2, -1)
    b2 = np.where(second, np.minimum(b2, t_def), -1)

    # -- value: Pareto-like order size, frequency rising with size -----------------------------
    size = np.where(
        company,
        np.minimum(6_000.0 * (1.0 + rng.pareto(1.6, n)), 1_500_000.0),
        np.minimum(400.0 * (1.0 + rng.pareto(2.0, n)), 50_000.0),
    )
    span = (b1 - a1 + 1) + np.where(a2 >= 0, b2 - a2 + 1, 0)
    freq_weight = np.clip((size / np.where(company, 6_000.0, 400.0)) ** 0.3, 1.0, 8.0)
    freq_weight = freq_weight * rng.lognormal(-0.125, 0.5, n)
    k_orders = max(config.transactions_per_customer / 1.95 / 0.94 - 1.0, 0.0)
    lam = k_orders * freq_weight / 1.25 * (span / 620.0)
    n_orders = np.where(prospect, 0, 1 + rng.poisson(np.minimum(lam, MAX_ORDERS_PER_CUSTOMER)))
    if config.transactions_per_customer == 0:
        n_orders[:] = 0
    n_orders = n_orders + (defaulter & (n_orders > 0))  # the order that is never paid
    owner, rank = _expand(n_orders)
    len1 = (b1 - a1 + 1)[owner]
    u = (rng.random(owner.shape[0]) * span[owner]).astype(np.int64)
    order_day = np.where(u < len1, a1[owner] + u, a2[owner] + (u - len1))
    is_default_order = defaulter[owner] & (rank == n_orders[owner] - 1)
    order_day = np.where(is_default_order, t_def[owner], order_day)
    # the first and last regular orders mark the ends of the active period
    regular = (n_orders - defaulter)[owner]
    ends = np.where(a2 >= 0, b2, b1)[owner]
    order_day = np.where((regular >= 2) & (rank == 0), a1[owner], order_day)
    order_day = np.where((regular >= 2) & (rank == regular - 1), ends, order_day)
    order_day = np.minimum(order_day, as_of)
    order = np.lexsort((order_day, owner))
    owner, order_day, is_default_order = owner[order], order_day[order], is_default_order[order]
    amount = (
        size[owner]
        * rng.lognormal(-0.18, 0.6, owner.shape[0])
        * np.exp(order_trend[owner] * (order_day - as_of) / 365.0)
        * np.where(is_default_order, 2.0, 1.0)
    )
    cents = np.where(
        rng.random(owner.shape[0]) < 0.7, _round_to(amount * 100, 100), _round_to(amount * 100, 1)
    )
    cents = np.maximum(cents, 100)
    n_orders = np.bincount(owner, minlength=n).astype(np.int64)

    # -- invoices: one per order, paid early, on time, late, partly or never -------------------
    risk_o = risk[owner]
    due = order_day + terms[owner]
    late_p = _sigmoid(1.35 * risk_o - 1.4 + 0.6 * rng.normal(0.0, 1.0, n)[owner])
    late_mean = 7.0 + 16.0 * _sigmoid(risk_o)
    near_default = order_day >= t_def[owner] - 150
    late_p = np.where(near_default, np.maximum(late_p, 0.5), late_p)
    late_mean = np.where(near_default, late_mean + 20.0, late_mean)
    late = rng.random(owner.shape[0]) < late_p
    delay = np.where(
        late,
        1 + rng.exponential(late_mean),
        -rng.random(owner.shape[0]) * terms[owner] * 0.5,
    ).astype(np.int64)
    too_late = delay > 85
    delay[too_late] = 31 + rng.integers(0, 55, int(too_late.sum()))
    paid_day = due + delay
    paid_cents = cents.copy()
    # defaulted: invoices issued from shortly before the default day stay (mostly) unpaid
    gone = order_day >= t_def[owner] - 25
    partial_default = gone & (rng.random(owner.shape[0]) < 0.2)
    paid_cents[gone] = 0
    paid_cents[partial_default] = _round_to(
        cents[partial_default] * rng.uniform(0.1, 0.6, int(partial_default.sum())), 100
    )
    paid_day[gone] = due[gone] + rng.integers(10, 120, int(gone.sum()))
    # distress near the as-of date: partial payments on recent invoices of risky customers
    recent = (~gone) & (due > as_of - 75)
    partial = recent & (rng.random(owner.shape[0]) < 0.25 * _sigmoid(2.0 * risk_o - 2.0))
    paid_cents[partial] = _round_to(cents[partial] * rng.uniform(0.3, 0.9, int(partial.sum())), 100)
    paid_day[partial] = due[partial] + rng.integers(0, 20, int(partial.sum()))
    paid_cents = np.minimum(paid_cents, cents)
    future = paid_day > as_of
    paid_cents[future] = 0
    unpaid = paid_cents == 0
    paid_day = np.maximum(paid_day, order_day)
    open_cents = cents - paid_cents
    dpd = np.where(open_cents > 0, as_of - due, paid_day - due)
    late_payer = np.bincount(owner, weights=(dpd > 30), minlength=n) > 0
    is_defaulted = np.bincount(owner, weights=(dpd > 90), minlength=n) > 0

    # -- transactions: orders, payments, refunds -----------------------------------------------
    refund = (rng.random(owner.shape[0]) < 0.03) & (~is_default_order)
    refund_day = order_day + rng.integers(3, 41, owner.shape[0])
    refund &= refund_day <= as_of
    refund_cents = _round_to(cents * rng.uniform(0.05, 1.0, owner.shape[0]), 100)
    refund_cents = np.clip(refund_cents, 100, cents)
    t_owner = np.concatenate([owner, owner[~unpaid], owner[refund]])
    t_day = np.concatenate([order_day, paid_day[~unpaid], refund_day[refund]])
    t_kind = np.concatenate(
        [
            np.zeros(owner.shape[0], np.int64),
            np.ones(int((~unpaid).sum()), np.int64),
            np.full(int(refund.sum()), 2, np.int64),
        ]
    )
    t_cents = np.concatenate([cents, paid_cents[~unpaid], refund_cents[refund]])
    t_order = np.lexsort((t_kind, t_day, t_owner))
    t_owner, t_day, t_kind, t_cents = (
        t_owner[t_order],
        t_day[t_order],
        t_kind[t_order],
        t_cents[t_order],
    )
    _, t_rank = _expand(np.bincount(t_owner, minlength=n).astype(np.int64))
    transactions = _rows(
        [
            _id_col("T", cust_no[t_owner] * 10_000 + t_rank + 1, 12),
            cust_id[t_owner],
            _lut(["order", "payment", "refund"])[t_kind],
            _date_col(t_day),
            _money_col(t_cents),
        ]
    )
    receivables = _rows(
        [
            _id_col("INV", cust_no[owner] * 10_000 + rank + 1, 12),
            cust_id[owner],
            _date_col(order_day),
            _date_col(due),
            _money_col(cents),
            _money_col(paid_cents),
            _date_col(paid_day, unpaid),
        ]
    )

    # -- customers -----------------------------------------------------------------------------
    annual_volume = np.bincount(owner, weights=cents, minlength=n) / np.maximum(span, 90) * 365
    # a limit covers the open invoices of the payment terms plus headroom; customers who like to
    # buy up to their limit (use_propensity) get less headroom
    monthly = np.where(n_orders > 0, annual_volume, size * 100 * 4) / 12
    need = np.maximum(monthly * (terms / 30 + 1.0), size * 100 * 1.5)
    headroom = np.exp(0.75 - 1.5 * (use_propensity - 0.4) + rng.normal(0.0, 0.25, n))
    step = np.where(company, 1_000_000, 100_000)  # 10,000 or 1,000 yuan
    credit_limit = np.maximum(_round_to(need * headroom, 1) // step * step, step)
    surname = rng.integers(0, len(SURNAMES), n)
    given = rng.integers(0, len(GIVEN), n)
    brand = rng.integers(0, len(BRANDS), n)
    status = np.zeros(n, dtype=np.int64)  # active
    status[is_defaulted & (rng.random(n) < 0.6)] = 1  # suspended
    status[(pattern == 5) & (rng.random(n) < 0.35)] = 2  # closed
    status[(status == 0) & (rng.random(n) < 0.01)] = 1
    customers = _rows(
        [
            cust_id,
            _names(rng, company, industry, city, city_flat, surname, given, brand),
            _lut(["company", "individual"])[np.where(company, 0, 1)],
            _lut([name for name, _, _ in INDUSTRIES])[industry],
            _lut([name for name, _, _, _ in REGIONS])[region],
            _phones(rng, cust_no),
            _emails(rng, company, cust_no, surname, given, brand),
            _ids(company, city, city_flat, cust_no, as_of),
            _date_col(reg_day),
            _money_col(credit_limit),
            _lut(ACCOUNT_OWNERS)[rng.integers(0, len(ACCOUNT_OWNERS), n)],
            _lut(["active", "suspended", "closed"])[status],
        ]
    )

    reports = _credit_reports(rng, cust_id, company, risk, defaulter, t_def, reg_day, as_of)
    contracts = _contracts(
        rng,
        cust_no,
        cust_id,
        company,
        prospect,
        a1,
        last_active,
        annual_volume,
        t_def,
        reg_day,
        as_of,
    )
    interactions = _interactions(rng, cust_no, cust_id, company, risk, pattern, a1, reg_day, as_of)
    financials = _financials(
        rng,
        cust_id,
        company,
        annual_volume,
        size,
        debt_ratio,
        current_ratio,
        growth,
        risk,
        reg_day,
        as_of,
    )

    data = {
        "customers": customers,
        "transactions": transactions,
        "receivables": receivables,
        "credit_reports": reports[0],
        "contracts": contracts[0],
        "interactions": interactions[0],
        "financials": financials[0],
    }
    rows = {
        "customers": n,
        "transactions": int(t_owner.shape[0]),
        "receivables": int(owner.shape[0]),
        "credit_reports": reports[1],
        "contracts": contracts[1],
        "interactions": interactions[1],
        "financials": financials[1],
    }
    return _Chunk(
        data=data,
        rows=rows,
        prospects=int((n_orders == 0).sum()),
        late_payers=int(late_payer.sum()),
        defaulters=int(is_defaulted.sum()),
    )


def _names(
    rng: np.random.Generator,
    company: BoolArr,
    industry: IntArr,
    city: IntArr,
    city_flat: list[tuple[str, str]],
    surname: IntArr,
    given: IntArr,
    brand: IntArr,
) -> Bytes2D:
    n = len(company)
    person = np.hstack(
        [_lut([s for s, _ in SURNAMES])[surname], _lut([g for g, _ in GIVEN])[given]]
    )
    words = [w for ws in INDUSTRY_WORDS for w in ws]
    word_start = np.cumsum([0] + [len(ws) for ws in INDUSTRY_WORDS])[:-1]
    word_count = np.array([len(ws) for ws in INDUSTRY_WORDS])
    word = word_start[industry] + rng.integers(0, 100, n) % word_count[industry]
    chinese = np.hstack(
        [
            _lut([c for c, _ in city_flat])[city],
            _lut([b for b, _ in BRANDS])[brand],
            _lut(words)[word],
            _lut(COMPANY_SUFFIXES)[rng.integers(0, len(COMPANY_SUFFIXES), n)],
        ]
    )
    english = np.hstack(
        [
            _lut([b.capitalize() for _, b in BRANDS])[brand],
            _lut(ENGLISH_SUFFIXES)[rng.integers(0, len(ENGLISH_SUFFIXES), n)],
        ]
    )
    width = max(person.shape[1], chinese.shape[1], english.shape[1])
    out = np.zeros((n, width), dtype=np.uint8)
    out[:, : person.shape[1]] = person
    use_english = company & (rng.random(n) < 0.05)
    use_chinese = company & ~use_english
    out[use_chinese, : chinese.shape[1]] = chinese[use_chinese]
    out[use_chinese, chinese.shape[1] :] = 0
    out[use_english, : english.shape[1]] = english[use_english]
    out[use_english, english.shape[1] :] = 0
    return out


def _scramble(cust_no: IntArr, modulus: int, salt: int) -> IntArr:
    """A bijection of customer numbers onto [0, modulus): distinct customers, distinct values."""
    return (cust_no * 7_919_123 + salt) % modulus


def _phones(rng: np.random.Generator, cust_no: IntArr) -> Bytes2D:
    n = len(cust_no)
    prefixes = ("13", "15", "18", "17", "19", "16", "14")
    p = _lut(prefixes)[_choice(rng, n, [0.3, 0.25, 0.25, 0.08, 0.07, 0.03, 0.02])]
    return np.hstack(
        [
            p,
            _digits(rng.integers(0, 10, n), 1),
            _digits(_scramble(cust_no, 100_000_000, 13_579_753), 8, zero_pad=True),
        ]
    )


def _emails(
    rng: np.random.Generator,
    company: BoolArr,
    cust_no: IntArr,
    surname: IntArr,
    given: IntArr,
    brand: IntArr,
) -> Bytes2D:
    """Addresses spelled from the customer's own name (pinyin) or company brand."""
    n = len(company)
    person = np.hstack(
        [
            _lut([p for _, p in SURNAMES])[surname],
            _lut([p for _, p in GIVEN])[given],
            _digits(cust_no, 8),
            _const("@", n),
            _lut(PERSONAL_DOMAINS)[rng.integers(0, len(PERSONAL_DOMAINS), n)],
        ]
    )
    corp = np.hstack(
        [
            _lut(COMPANY_MAILBOXES)[rng.integers(0, len(COMPANY_MAILBOXES), n)],
            _const("@", n),
            _lut([p for _, p in BRANDS])[brand],
            _digits(cust_no, 8),
            _const(".com.cn", n),
        ]
    )
    width = max(person.shape[1], corp.shape[1])
    out = np.zeros((n, width), dtype=np.uint8)
    out[~company, : person.shape[1]] = person[~company]
    out[company, : corp.shape[1]] = corp[company]
    out[rng.random(n) < 0.05] = 0  # some customers never gave an email
    return out


def _ids(
    company: BoolArr,
    city: IntArr,
    city_flat: list[tuple[str, str]],
    cust_no: IntArr,
    as_of: int,
) -> Bytes2D:
    area = _lut([code for _, code in city_flat])[city]
    # birth day and sequence number from one bijection of the customer number: no two customers
    # share a resident id, at any scale (random draws would collide a hundred times in a million)
    ages = 48 * 365
    k = _scramble(cust_no, ages * 1000, 35_792_468)
    birth = as_of - 22 * 365 - k // 1000
    person = national_ids(area, birth, k % 1000)
    corp = unified_codes(area, _scramble(cust_no, 100_000_000, 24_681_357))
    return np.where(company[:, None], corp, person)


def _credit_reports(
    rng: np.random.Generator,
    cust_id: Bytes2D,
    company: BoolArr,
    risk: FloatArr,
    defaulter: BoolArr,
    t_def: IntArr,
    reg_day: IntArr,
    as_of: int,
) -> tuple[bytes, int]:
    n = len(company)
    count = np.where(
        company,
        _choice(rng, n, [0.15, 0.35, 0.3, 0.2]),
        _choice(rng, n, [0.45, 0.4, 0.15]),
    )
    count = np.minimum(count, 1 + (as_of - reg_day) // 365)  # none before registration
    owner, rank = _expand(count)
    back = count[owner] - 1 - rank  # 0 = latest report
    day = as_of - rng.integers(0, 330, n)[owner] - back * 365 - rng.integers(-45, 45, owner.size)
    # one report per provider and day: a customer's reports are kept a day apart at least
    # (clipping to registration and as-of day could otherwise put two on one day)
    day = np.clip(day, reg_day[owner] + rank, as_of - back)
    after = defaulter[owner] & (day > t_def[owner])
    # the bureau sees most of the risk, including part a scorecard cannot see elsewhere
    bureau = 0.8 * risk + 0.6 * rng.normal(0.0, 1.0, n)
    score = 660 - 70 * bureau[owner] + rng.normal(0.0, 15.0, owner.size) - 50 * after
    score = np.clip(np.round(score), 300, 900).astype(np.int64)
    rating = np.searchsorted(-np.array(RATING_CUTS), -score, side="right")
    r = risk[owner]
    flags = [
        rng.random(owner.size) < _sigmoid(-3.3 + 1.1 * r + 1.5 * after),  # lawsuit
        rng.random(owner.size) < 0.0005 + 0.07 * after,  # bankruptcy
        rng.random(owner.size) < _sigmoid(-4.6 + 0.9 * r),  # tax violation
        rng.random(owner.size) < _sigmoid(-6.0 + 1.0 * r) + 0.15 * after,  # dishonest debtor
        rng.random(owner.size) < 0.01,  # other
    ]
    provider = np.where(
        company,
        rng.integers(0, len(COMPANY_PROVIDERS), n),
        len(COMPANY_PROVIDERS) + rng.integers(0, len(PERSON_PROVIDERS), n),
    )
    zero_one = _lut(["0", "1"])
    data = _rows(
        [
            cust_id[owner],
            _lut(COMPANY_PROVIDERS + PERSON_PROVIDERS)[provider[owner]],
            _date_col(day),
            _digits(score, 3),
            _lut(RATINGS)[rating],
            *(zero_one[f.astype(np.int64)] for f in flags),
        ]
    )
    return data, int(owner.size)


def _contracts(
    rng: np.random.Generator,
    cust_no: IntArr,
    cust_id: Bytes2D,
    company: BoolArr,
    prospect: BoolArr,
    a1: IntArr,
    last_active: IntArr,
    annual_volume: FloatArr,
    t_def: IntArr,
    reg_day: IntArr,
    as_of: int,
) -> tuple[bytes, int]:
    n = len(company)
    count = np.where(company, _choice(rng, n, [0.25, 0.45, 0.2, 0.1]), _choice(rng, n, [0.7, 0.3]))
    count = np.where(prospect, (rng.random(n) < 0.1).astype(np.int64), count)
    owner, rank = _expand(count)
    k = owner.size
    lo = np.maximum(np.minimum(a1[owner] - 30, as_of - 40), reg_day[owner])
    hi = np.maximum(lo + 1, np.minimum(last_active[owner], as_of - 10))
    signed = lo + (rng.random(k) * (hi - lo)).astype(np.int64)
    draft = prospect[owner] | (rng.random(k) < 0.02)
    signed = np.where(draft, as_of - rng.integers(0, 20, k), signed)
    start = signed + rng.integers(0, 21, k) + np.where(draft, 20, 0)
    years = np.array([1, 2, 3])[_choice(rng, k, [0.5, 0.3, 0.2])]
    end = start + years * 365 - 1
    # a renewal wave: some live contracts end within the next three months
    soon_end = as_of + rng.integers(5, 91, k)
    soon_start = soon_end - years * 365 + 1
    soon_signed = soon_start - rng.integers(0, 21, k)
    soon = (~draft) & (end >= as_of) & (rng.random(k) < 0.2) & (soon_signed >= reg_day[owner])
    signed = np.where(soon, soon_signed, signed)
    start = np.where(soon, soon_start, start)
    end = np.where(soon, soon_end, end)
    order = np.lexsort((signed, owner))
    owner, signed, start, end, years, draft = (
        owner[order],
        signed[order],
        start[order],
        end[order],
        years[order],
        draft[order],
    )
    # 0 draft, 1 active, 2 amended, 3 terminated, 4 expired
    status = np.where(end < as_of, 4, 1)
    status = np.where((status == 4) & (rng.random(k) < 0.15), 3, status)
    defaulted_live = (status == 1) & (t_def[owner] < as_of) & (rng.random(k) < 0.5)
    status = np.where(defaulted_live, 3, status)
    status = np.where((status == 1) & (rng.random(k) < 0.1), 2, status)
    status = np.where(draft, 0, status)
    volume = np.maximum(annual_volume[owner], 5_000_000.0)
    value = _round_to(volume * years * rng.uniform(0.6, 1.4, k), 10_000)
    data = _rows(
        [
            _id_col("HT", cust_no[owner] * 100 + rank + 1, 10),
            cust_id[owner],
            _date_col(signed),
            _date_col(start),
            _date_col(end),
            _money_col(value),
            _lut(["draft", "active", "amended", "terminated", "expired"])[status],
        ]
    )
    return data, int(k)


def _interactions(
    rng: np.random.Generator,
    cust_no: IntArr,
    cust_id: Bytes2D,
    company: BoolArr,
    risk: FloatArr,
    pattern: IntArr,
    a1: IntArr,
    reg_day: IntArr,
    as_of: int,
) -> tuple[bytes, int]:
    count = np.minimum(rng.poisson(np.where(company, 2.6, 1.2)), 30).astype(np.int64)
    owner, rank = _expand(count)
    k = owner.size
    churny = np.isin(pattern, (3, 4, 5))[owner]
    complaint_share = 0.06 + 0.06 * _sigmoid(risk[owner]) + 0.06 * churny
    shares = np.stack(
        [
            np.full(k, 0.36),
            np.full(k, 0.26),
            np.where(company[owner], 0.16, 0.04),
            np.full(k, 0.14),
            complaint_share,
        ],
        axis=1,
    )
    cum = np.cumsum(shares / shares.sum(axis=1, keepdims=True), axis=1)
    kind = (rng.random(k)[:, None] > cum).sum(axis=1).astype(np.int64)
    kind = np.minimum(kind, 4)
    start = np.maximum(np.minimum(a1[owner], reg_day[owner]), as_of - HISTORY_DAYS) - 30
    start = np.minimum(start, as_of - 1)
    day = start + (rng.random(k) * (as_of - start)).astype(np.int64)
    day = np.maximum(day, reg_day[owner])
    day = np.minimum(day, as_of)
    order = np.lexsort((day, owner))
    owner, kind, day, churny = owner[order], kind[order], day[order], churny[order]
    mood = 4.1 - 0.45 * risk[owner] - 0.6 * churny + rng.normal(0.0, 0.8, k)
    mood = np.where(kind == 4, mood - 2.0, mood)
    satisfaction = np.clip(np.round(mood), 1, 5).astype(np.int64)
    rated = (kind == 3) | (kind == 4) | ((kind != 1) & (rng.random(k) < 0.4))
    note_flat = [note for notes in NOTES for note in notes]
    note_start = np.cumsum([0] + [len(x) for x in NOTES])[:-1]
    note_count = np.array([len(x) for x in NOTES])
    note = note_start[kind] + rng.integers(0, 100, k) % note_count[kind]
    data = _rows(
        [
            _id_col("IX", cust_no[owner] * 100 + rank + 1, 10),
            cust_id[owner],
            _lut(INTERACTION_KINDS)[kind],
            _date_col(day),
            _digits(satisfaction, 1) * rated[:, None],
            _lut(note_flat)[note],
        ]
    )
    return data, int(k)


def _financials(
    rng: np.random.Generator,
    cust_id: Bytes2D,
    company: BoolArr,
    annual_volume: FloatArr,
    size: FloatArr,
    debt_ratio: FloatArr,
    current_ratio: FloatArr,
    growth: FloatArr,
    risk: FloatArr,
    reg_day: IntArr,
    as_of: int,
) -> tuple[bytes, int]:
    n = len(company)
    has = company & (rng.random(n) < 0.9)
    as_of_date = np.datetime64(as_of, "D").astype(object)
    last_year = as_of_date.year - 1 if as_of_date.month >= 5 else as_of_date.year - 2
    periods = np.where(has, np.where(rng.random(n) < 0.8, 3, 2), 0)
    reg_year = reg_day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    periods = np.clip(np.minimum(periods, last_year - reg_year + 1), 0, None)
    owner, rank = _expand(periods)
    k = owner.size
    back = periods[owner] - 1 - rank  # 0 = latest year
    year = last_year - back
    # revenue: we are one supplier among several; the oldest period grows into the latest
    base = np.maximum(annual_volume, size * 100 * 6) * rng.uniform(3.0, 15.0, n)
    revenue = base[owner] * np.exp(-growth[owner] * back + rng.normal(0.0, 0.04, k))
    assets = revenue * rng.lognormal(np.log(0.9), 0.4, n)[owner]
    dr = np.clip(
        debt_ratio[owner] + rng.normal(0.0, 0.03, k) + 0.02 * back * risk[owner], 0.05, 1.3
    )
    liabilities = assets * dr
    current_liabilities = liabilities * rng.uniform(0.45, 0.9, n)[owner]
    cr = current_ratio[owner] * np.exp(rng.normal(0.0, 0.05, k))
    current_assets = np.minimum(current_liabilities * cr, assets * 0.95)
    margin = rng.normal(0.06, 0.04, n)[owner] - 0.03 * risk[owner] + rng.normal(0.0, 0.015, k)
    net_income = revenue * margin

    def money(x: FloatArr) -> Bytes2D:
        return _money_col(_round_to(x, 100))

    data = _rows(
        [
            cust_id[owner],
            _digits(year.astype(np.int64), 4),
            money(revenue),
            money(net_income),
            money(assets),
            money(liabilities),
            money(current_assets),
            money(current_liabilities),
        ]
    )
    return data, int(k)


# --- orchestration ----------------------------------------------------------------------------


def _chunks(config: SyntheticConfig, workers: int) -> Iterator[_Chunk]:
    total = (config.customers + CHUNK - 1) // CHUNK
    if workers <= 1 or total == 1:
        for i in range(total):
            yield generate_chunk(config, i)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending = []
        for i in range(total):
            pending.append(pool.submit(generate_chunk, config, i))
            if len(pending) > workers:  # keep at most workers+1 chunks in flight: flat memory
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()


def existing_outputs(out_dir: Path) -> list[str]:
    return [f"{name}.csv" for name in FILES if (out_dir / f"{name}.csv").exists()]


def generate(
    out_dir: Path,
    config: SyntheticConfig,
    *,
    force: bool = False,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> GenerateSummary:
    """Write the seven CSV files into out_dir; progress(customers_done) after each chunk."""
    import time

    config.check()
    started = time.perf_counter()
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir} exists and is not a folder")
    clash = existing_outputs(out_dir) if out_dir.exists() else []
    if clash and not force:
        raise InputError(f"{out_dir} already holds {', '.join(clash)} (use --force to replace)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out_dir}: {exc.strerror}") from None
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if config.customers > 2 * CHUNK else 1
    summary = GenerateSummary(out_dir=out_dir, as_of=config.as_of, seed=config.seed)
    summary.rows = dict.fromkeys(FILES, 0)
    tmp = {name: out_dir / f".{name}.csv.partial" for name in FILES}
    handles = {}
    try:
        for name in FILES:
            handles[name] = open(tmp[name], "wb")  # noqa: SIM115 - closed in finally
            handles[name].write(header(name))
        done = 0
        for part in _chunks(config, workers):
            for name in FILES:
                handles[name].write(part.data[name])
                summary.rows[name] += part.rows[name]
            summary.prospects += part.prospects
            summary.late_payers += part.late_payers
            summary.defaulters += part.defaulters
            done += part.rows["customers"]
            if progress is not None:
                progress(done)
        for fh in handles.values():
            fh.close()
        for name in FILES:
            os.replace(tmp[name], out_dir / f"{name}.csv")
    except OSError as exc:
        raise InputError(f"cannot write into {out_dir}: {exc.strerror}") from None
    finally:
        for fh in handles.values():
            fh.close()
        for path in tmp.values():
            path.unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - started
    return summary
