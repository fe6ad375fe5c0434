"""Masking reaches every form in which people write citizen IDs, phone numbers and e-mail
addresses: groups and separators of any kind, full-width and other Unicode digits, every
mobile prefix, landlines, +84 forms."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk_core.privacy import MASK, mask_personal_data


@pytest.mark.parametrize("text, masked", [
    # landlines: 02 + area code + subscriber number, 11 digits with the 0
    ("(0236) 3821 234", "(••••) •••• 234"),
    ("0236/3821/234", "••••/••••/234"),
    ("(024) 3821 1234", "(•••) •••• •234"),
    ("028.3821.1234", "•••.••••.•234"),
    ("024 382 1234", "••• ••• •234"),  # 10 digits: an 8-digit subscriber number cut short
    ("+84 236 3821 234", "+•• ••• •••• 234"),
    ("+84 (0) 236 3821 234", "+•• (•) ••• •••• 234"),
    # mobiles: 03, 05, 07, 08, 09
    ("0812345678", "•••••••678"),
    ("0845 678 901", "•••• ••• 901"),
    ("035 123 4567", "••• ••• •567"),
    ("0562.123.456", "••••.•••.456"),
    ("0765-123-456", "••••-•••-456"),
    ("+84 (0) 905 123 456", "+•• (•) ••• ••• 456"),
    ("(+84) 0905 123 456", "(+••) •••• ••• 456"),
    ("0084-905-123-456", "••••-•••-•••-456"),
    ("84 905 123 456", "•• ••• ••• 456"),
    ("0905_123_456", "••••_•••_456"),
    ("0905\u202f123\u2009456", "••••\u202f•••\u2009456"),
    ("0905–123–456", "••••–•••–456"),
    # citizen IDs
    ("０４８０９５００１２３４", "••••••••１２３４"),
    ("048_095_001_234", "•••_•••_••1_234"),
    ("048/095/001/234", "•••/•••/••1/234"),
    ("(048) 095 001 234", "(•••) ••• ••1 234"),
    ("٠٤٨٠٩٥٠٠١٢٣٤", "••••••••١٢٣٤"),
    ("ĐT ０９０５ １２３ ４５６", "ĐT •••• ••• ４５６"),
    # e-mail: the first letter and the domain stay
    ("nguyen.van.an@gmail.com", "n••••••••••••@gmail.com"),
    ("Liên hệ: Tran_Thi-B+hd@danang.gov.vn.", "Liên hệ: T••••••••••••@danang.gov.vn."),
    ("ＡＢＣ＠ｇｍａｉｌ．ｃｏｍ", "Ａ••＠ｇｍａｉｌ．ｃｏｍ"),
])
def test_masks_the_forms_that_used_to_escape(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize("text", [
    "01/02/2026", "2026/03/10", "10/03/2026 09:00", "192.168.1.20/24", "0x0000011b",
    "HKH-2026-00042", "Số hồ sơ 000.00.12.H17-260310-0001", "0123456789", "1900 1234",
    "hotline 1022", "in 12_345 bản", "ipp://192.168.1.20:631/ipp/print", "a@b",
    "máy 10.0.0.1", "user@192.168.1.20",
])
def test_still_leaves_ordinary_numbers_alone(text):
    assert mask_personal_data(text) == text


# --- properties: every format, no 7-digit run of the original survives ----------------

def _digits(text: str) -> str:
    """The text's digits as ASCII, whatever script they were written in."""
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch)
        if len(folded) == 1 and folded.isdecimal():
            out.append(str(unicodedata.decimal(folded)))
    return "".join(out)


FULL_WIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}
ARABIC_INDIC = {str(d): chr(0x0660 + d) for d in range(10)}
DEVANAGARI = {str(d): chr(0x0966 + d) for d in range(10)}
SEPARATORS = [" ", ".", "-", "_", "/", "  ", " - ", "\u00a0", "\u2009", "–", ") ", " / "]
SCRIPTS = [None, FULL_WIDTH, ARABIC_INDIC, DEVANAGARI]
BEFORE = ["", "CCCD ", "số: ", "(", "gọi ", "sđt", "ĐT: ", "công dân "]
AFTER = ["", ".", ", ", ")", " ok", " ngày 10/03/2026", " lúc 09:30", " máy 10.0.0.1"]


def _write(number: str, groups: list[int], sep: str, script: dict | None) -> str:
    parts, at = [], 0
    for size in groups:
        if at < len(number):
            parts.append(number[at:at + size])
            at += size
    if at < len(number):
        parts.append(number[at:])
    text = sep.join(parts)
    return "".join(script.get(ch, ch) for ch in text) if script else text


@st.composite
def grouping(draw) -> list[int]:
    return draw(st.lists(st.integers(1, 5), min_size=1, max_size=6))


def _check(text: str, before: str, after: str, original: str, keep: int) -> None:
    masked = mask_personal_data(before + text + after)
    assert len(masked) == len(before + text + after)
    # Only the promised last digits of the number survive, and the context's own digits:
    # no run of 7 digits (or 5) of the original is left.
    assert _digits(masked) == original[-keep:] + _digits(after), (text, masked)


@settings(max_examples=300, deadline=None)
@given(body=st.text("0123456789", min_size=11, max_size=11), groups=grouping(),
       sep=st.sampled_from(SEPARATORS), script=st.sampled_from(SCRIPTS),
       before=st.sampled_from(BEFORE), after=st.sampled_from(AFTER))
def test_any_citizen_id_keeps_only_its_last_four_digits(body, groups, sep, script, before,
                                                         after):
    number = "0" + body
    _check(_write(number, groups, sep, script), before, after, number, 4)


@st.composite
def phone_number(draw) -> tuple[str, str]:
    """(national significant number, how it is written before the groups)."""
    kind = draw(st.sampled_from(["mobile", "landline", "landline_short"]))
    if kind == "mobile":
        nsn = draw(st.sampled_from("35789")) + draw(st.text("0123456789", min_size=8,
                                                             max_size=8))
    else:
        size = 9 if kind == "landline" else 8
        nsn = "2" + draw(st.text("0123456789", min_size=size, max_size=size))
    prefix = draw(st.sampled_from(["0", "+84 ", "+84", "+84 (0) ", "(+84) ", "(+84) 0",
                                   "0084 ", "0084", "84 ", "+84-", "(0)"]))
    return nsn, prefix


@settings(max_examples=400, deadline=None)
@given(phone=phone_number(), groups=grouping(), sep=st.sampled_from(SEPARATORS),
       script=st.sampled_from(SCRIPTS), before=st.sampled_from(BEFORE),
       after=st.sampled_from(AFTER))
def test_any_phone_number_keeps_only_its_last_three_digits(phone, groups, sep, script,
                                                           before, after):
    nsn, prefix = phone
    if prefix == "(0)" and before == "(":
        before = ""
    written = _write(nsn, groups, sep, script)
    prefix = "".join(script.get(ch, ch) for ch in prefix) if script else prefix
    text = prefix + written
    masked = mask_personal_data(before + text + after)
    assert len(masked) == len(before + text + after)
    assert _digits(masked) == nsn[-3:] + _digits(after), (before + text + after, masked)


@settings(max_examples=200, deadline=None)
@given(local=st.from_regex(r"[a-z][a-z0-9._+-]{1,20}", fullmatch=True),
       domain=st.sampled_from(["gmail.com", "danang.gov.vn", "yahoo.com.vn", "duytan.edu.vn"]),
       before=st.sampled_from(["", "email: ", "(", "gửi ", "<", "ĐT 0905123456, "]),
       after=st.sampled_from(AFTER))
def test_any_email_address_keeps_its_first_letter_and_domain(local, domain, before, after):
    masked = mask_personal_data(f"{before}{local}@{domain}{after}")
    hidden = local[0] + MASK * (len(local) - 1)
    assert masked == f"{mask_personal_data(before)}{hidden}@{domain}{after}"


def test_the_last_digits_are_the_only_digits_left():
    assert re.sub(r"\D", "", mask_personal_data("+84 (0) 905 123 456")) == "456"
