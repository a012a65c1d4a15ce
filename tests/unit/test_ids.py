"""National id (ISO 7064 MOD 11-2) and unified social credit code (GB 32100-2015) checksums."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskcli.domain.ids import (
    USCC_ALPHABET,
    id_kind,
    id_problem,
    is_valid_national_id,
    is_valid_uscc,
    national_id_check_char,
    uscc_check_char,
)
from riskcli.services.importing.validate import national_id_mask, uscc_mask


def test_known_national_id_with_x_check() -> None:
    # the GB 11643 worked example
    assert national_id_check_char("11010519491231002") == "X"
    assert is_valid_national_id("11010519491231002X")


def test_national_id_wrong_check_birth_date_or_shape() -> None:
    assert not is_valid_national_id("110105194912310021")  # wrong check digit
    assert not is_valid_national_id("110105194902300025")  # 30 February
    assert not is_valid_national_id("11010518991231002X")  # born before 1900
    assert not is_valid_national_id("01010519491231002X")  # area code starts with 0
    assert not is_valid_national_id("11010519491231002x")  # lower-case x: callers upper-case
    assert not is_valid_national_id("1101051949123100")  # too short


def test_known_uscc() -> None:
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert is_valid_uscc("91350100M000100Y43")
    assert not is_valid_uscc("91350100M000100Y44")
    assert not is_valid_uscc("91350100M000100I43")  # I is not in the alphabet


def test_id_kind() -> None:
    assert id_kind("11010519491231002X") == "national_id"
    assert id_kind("91350100M000100Y43") == "uscc"
    assert id_kind("hello") is None


@given(st.text(alphabet="0123456789", min_size=17, max_size=17).filter(lambda s: s[0] != "0"))
def test_every_computed_check_char_validates_and_others_do_not(first17: str) -> None:
    check = national_id_check_char(first17)
    valid = is_valid_national_id(first17 + check)
    # only the birth date can still make it invalid
    try:
        import datetime

        born = datetime.date(int(first17[6:10]), int(first17[10:12]), int(first17[12:14]))
        plausible = 1900 <= born.year <= 2199
    except ValueError:
        plausible = False
    assert valid == plausible
    for other in "0123456789X":
        if other != check:
            assert not is_valid_national_id(first17 + other)


uscc_body = st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2).flatmap(
    lambda head: st.text(alphabet="0123456789", min_size=6, max_size=6).flatmap(
        lambda mid: st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9).map(
            lambda tail: head + mid + tail
        )
    )
)


@given(uscc_body)
def test_uscc_single_valid_check_char(first17: str) -> None:
    check = uscc_check_char(first17)
    assert is_valid_uscc(first17 + check)
    assert sum(is_valid_uscc(first17 + c) for c in USCC_ALPHABET) == 1


id_like = st.one_of(
    st.text(alphabet="0123456789X", min_size=17, max_size=19),
    st.text(alphabet=USCC_ALPHABET + "IOZSV", min_size=18, max_size=18),
    st.text(max_size=20),
    st.text(alphabet="0123456789", min_size=17, max_size=17).map(
        lambda s: s + national_id_check_char(s)
    ),
    uscc_body.map(lambda s: s + uscc_check_char(s)),
)


@given(st.lists(id_like, max_size=30))
def test_vectorised_checks_agree_with_scalar(values: list[str]) -> None:
    cells = pa.array(values, type=pa.string())
    assert national_id_mask(cells).tolist() == [is_valid_national_id(v) for v in values]
    assert uscc_mask(cells).tolist() == [is_valid_uscc(v) for v in values]


@pytest.mark.parametrize(
    ("value", "kind", "problem"),
    [
        ("110105194912310021", None, "resident id check character should be X, found 1"),
        ("11010519491231002X", None, None),
        ("110105199913400023", None,
         "the birth date in the resident id (characters 7-14) is not a calendar date"),
        ("12345", "individual", "a resident id has 18 characters, not 5"),
        ("91350100M000100Y40", None, "credit code check character should be 3, found 0"),
        ("91350100M000100Y43", "company", None),
        ("11010519491231002X", "company", "credit code check character should be B, found X"),
        ("91350100I000100Y43", None,
         "a unified social credit code uses digits and capitals except I, O, Z, S and V, "
         "with digits in characters 3-8"),
    ],
)  # fmt: skip
def test_a_rejected_id_names_the_failing_check(
    value: str, kind: str | None, problem: str | None
) -> None:
    assert id_problem(value, kind) == problem
