"""Who a customer is on paper: names, phones, emails, resident ids and unified social credit
codes, each unique per customer and valid by its check character."""

from __future__ import annotations

import numpy as np

from riskcli.domain.ids import USCC_ALPHABET
from riskcli.services.synthetic.arrays import BoolArr, Bytes2D, IntArr, choice
from riskcli.services.synthetic.csvbytes import const, date_col, digits, lut
from riskcli.services.synthetic.vocab import (
    BRANDS,
    COMPANY_MAILBOXES,
    COMPANY_SUFFIXES,
    ENGLISH_SUFFIXES,
    GIVEN,
    INDUSTRY_WORDS,
    PERSONAL_DOMAINS,
    SURNAMES,
)

_NID_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_NID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_USCC_CHARS = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ORG_CHECK = np.frombuffer(b"0123456789X0", dtype=np.uint8)  # index 11 - (sum % 11)


def national_ids(area: Bytes2D, birth_days: IntArr, seq: IntArr) -> Bytes2D:
    """18-character resident ids: area (6) + birth date (8) + sequence (3) + MOD 11-2 check."""
    n = len(birth_days)
    ymd = date_col(birth_days)[:, [0, 1, 2, 3, 5, 6, 8, 9]]  # YYYY-MM-DD -> YYYYMMDD
    body = np.hstack([area, ymd, digits(seq, 3, zero_pad=True)])
    total = (body.astype(np.int64) - 48) @ _NID_WEIGHTS
    return np.hstack([body, _NID_CHECK[total % 11].reshape(n, 1)])


def unified_codes(area: Bytes2D, org: IntArr) -> Bytes2D:
    """Unified social credit codes: '91' + area (6) + organisation code (8 + GB 11714 check)
    + GB 32100-2015 check."""
    n = len(org)
    org_digits = digits(org, 8, zero_pad=True)
    org_total = (org_digits.astype(np.int64) - 48) @ _ORG_WEIGHTS
    org_check = _ORG_CHECK[11 - org_total % 11]
    body = np.hstack([const("91", n), area, org_digits, org_check.reshape(n, 1)])
    values = np.searchsorted(_USCC_CHARS, body)  # alphabet is sorted ASCII
    total = values.astype(np.int64) @ _USCC_WEIGHTS
    return np.hstack([body, _USCC_CHARS[(31 - total % 31) % 31].reshape(n, 1)])


def names(
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
    person = np.hstack([lut([s for s, _ in SURNAMES])[surname], lut([g for g, _ in GIVEN])[given]])
    words = [w for ws in INDUSTRY_WORDS for w in ws]
    word_start = np.cumsum([0] + [len(ws) for ws in INDUSTRY_WORDS])[:-1]
    word_count = np.array([len(ws) for ws in INDUSTRY_WORDS])
    word = word_start[industry] + rng.integers(0, 100, n) % word_count[industry]
    chinese = np.hstack(
        [
            lut([c for c, _ in city_flat])[city],
            lut([b for b, _ in BRANDS])[brand],
            lut(words)[word],
            lut(COMPANY_SUFFIXES)[rng.integers(0, len(COMPANY_SUFFIXES), n)],
        ]
    )
    english = np.hstack(
        [
            lut([b.capitalize() for _, b in BRANDS])[brand],
            lut(ENGLISH_SUFFIXES)[rng.integers(0, len(ENGLISH_SUFFIXES), n)],
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


def phones(rng: np.random.Generator, cust_no: IntArr) -> Bytes2D:
    n = len(cust_no)
    prefixes = ("13", "15", "18", "17", "19", "16", "14")
    p = lut(prefixes)[choice(rng, n, [0.3, 0.25, 0.25, 0.08, 0.07, 0.03, 0.02])]
    return np.hstack(
        [
            p,
            digits(rng.integers(0, 10, n), 1),
            digits(_scramble(cust_no, 100_000_000, 13_579_753), 8, zero_pad=True),
        ]
    )


def emails(
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
            lut([p for _, p in SURNAMES])[surname],
            lut([p for _, p in GIVEN])[given],
            digits(cust_no, 8),
            const("@", n),
            lut(PERSONAL_DOMAINS)[rng.integers(0, len(PERSONAL_DOMAINS), n)],
        ]
    )
    corp = np.hstack(
        [
            lut(COMPANY_MAILBOXES)[rng.integers(0, len(COMPANY_MAILBOXES), n)],
            const("@", n),
            lut([p for _, p in BRANDS])[brand],
            digits(cust_no, 8),
            const(".com.cn", n),
        ]
    )
    width = max(person.shape[1], corp.shape[1])
    out = np.zeros((n, width), dtype=np.uint8)
    out[~company, : person.shape[1]] = person[~company]
    out[company, : corp.shape[1]] = corp[company]
    out[rng.random(n) < 0.05] = 0  # some customers never gave an email
    return out


def ids(
    company: BoolArr,
    city: IntArr,
    city_flat: list[tuple[str, str]],
    cust_no: IntArr,
    as_of: int,
) -> Bytes2D:
    area = lut([code for _, code in city_flat])[city]
    # birth day and sequence number from one bijection of the customer number: no two customers
    # share a resident id, at any scale (random draws would collide a hundred times in a million)
    ages = 48 * 365
    k = _scramble(cust_no, ages * 1000, 35_792_468)
    birth = as_of - 22 * 365 - k // 1000
    person = national_ids(area, birth, k % 1000)
    corp = unified_codes(area, _scramble(cust_no, 100_000_000, 24_681_357))
    return np.where(company[:, None], corp, person)
