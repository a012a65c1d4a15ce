"""Masking never leaks the hidden characters."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from riskcli.domain.pii import PiiKind, mask


def test_examples() -> None:
    assert mask("13812341234", PiiKind.PHONE) == "138****1234"
    assert mask("zhang.san@example.com", PiiKind.EMAIL) == "z***@example.com"
    assert mask("11010519491231002X", PiiKind.NATIONAL_ID) == "1101**********002X"
    assert mask(None, PiiKind.PHONE) is None


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_phone_hides_the_middle(phone: str) -> None:
    masked = str(mask(phone, PiiKind.PHONE))
    assert len(masked) == len(phone)
    assert masked[3:7] == "****"
    assert masked[:3] == phone[:3] and masked[-4:] == phone[-4:]


@given(st.text(alphabet="0123456789X", min_size=15, max_size=18))
def test_national_id_shows_at_most_eight_characters(nid: str) -> None:
    masked = str(mask(nid, PiiKind.NATIONAL_ID))
    assert len(masked) == len(nid)
    assert sum(ch != "*" for ch in masked) <= 8
    for i, ch in enumerate(masked):
        assert ch == "*" or ch == nid[i]


@given(st.emails())
def test_email_keeps_only_first_letter_of_local_part(email: str) -> None:
    local, _, domain = email.partition("@")
    masked = str(mask(email, PiiKind.EMAIL))
    assert masked.endswith("@" + domain)
    assert masked.split("@")[0] == local[:1] + "***"
