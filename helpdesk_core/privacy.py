"""Personal data kept to the minimum: citizen IDs, phone numbers and e-mail addresses are
masked in free text.

Applied when ticket text is stored (title, description, comments, reasons, triage
answers, attachment names) and when a health check's message is recorded, so the full
values never reach the database, the logs or a coordinator's export. Numbers that only
look alike are left alone: IPv4 addresses, dates, times, ticket numbers
(``HKH-2026-00042``), dossier codes and hexadecimal error codes (``0x0000011b``).

Digits are recognised in any script: each character is folded on its own (NFKC, and any
Unicode decimal digit to its ASCII value) before matching, so full-width
``０９０５…`` or Arabic-Indic digits are masked like ASCII ones, and the text keeps its
length and its other characters exactly as typed.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

MASK = "•"

# Between two digits people type at most a few separators: "048 - 095", "(0236) 3821",
# "0905_123_456", "0236/3821/234". No-break, thin and other spaces fold to " " (NFKC).
_SEP = r"[ .\-_/()\u2010-\u2015]{0,3}"
_WORD = r"(?<![0-9])"  # not the tail of a longer number
_END = r"(?![0-9])"
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"  # no leading zero: 048.095.012.345 is an ID

_KEEP = (
    _WORD + r"(?:"
    + _OCTET + r"(?:\." + _OCTET + r"){3}(?::\d{1,5})?(?:/\d{1,2})?"   # IPv4, port or prefix
    + r"|\d{1,2}[./-]\d{1,2}[./-]\d{4}(?:[ T,]{1,2}\d{1,2}[:hg.]\d{2})?"  # 10/03/2026 09:00
    + r"|\d{4}[-/]\d{2}[-/]\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?"        # 2026-03-10 09:00
    + r"|0[xX][0-9A-Fa-f]+"                                          # 0x0000011b
    # "0.0.0.0.0000" or "01/02/2026/0012" is a number written with dots, not an address
    + r")(?![0-9A-Za-z]|[.\-_/]\d)"
    + r"|[A-Z]{2,6}-\d{4}-\d{3,6}(?!\d)"                             # HKH-2026-00042
)
# A 12-digit citizen ID (CCCD), possibly written in groups: 048 2 95 012345, 048.095.012.345.
# It opens with the province code 001-096, so it starts with 0: other 12-digit runs
# (a dossier code "H17-260310-0001", an amount "120.000.000.000") are left alone.
_CITIZEN_ID = _WORD + r"0(?:" + _SEP + r"\d){11}" + _END
# Vietnamese phone numbers (national numbering plan since the 2017-2018 renumbering):
# a trunk 0, or +84 / 0084 / 84 (also "(+84)", and "+84 (0)" with the 0 people keep),
# then the national number: a mobile, 3/5/7/8/9 and 8 more digits (10 with the 0), or a
# landline, 2 + area code + subscriber number, 10 digits after the 0 (0236 3821 234,
# 024 3821 1234). A landline one digit short (024 382 1234, as written before 2017 or
# mistyped) is masked too: nobody writes other 10-digit numbers starting 02.
_NATIONAL = r"(?:[35789](?:" + _SEP + r"\d){8}|2(?:" + _SEP + r"\d){8,9})" + _END
_INTERNATIONAL = (r"(?<![0-9+])(?:\+|00)?84\)?" + _SEP + r"(?:0\)?" + _SEP + r")?"
                  + _NATIONAL)
_TRUNK_PHONE = r"(?<![0-9+])0\)?" + _SEP + _NATIONAL
# A match starts at a digit or "+" (an opening parenthesis stays outside), and at one
# place the longest reading wins: +84 numbers (up to 14 digits), then citizen IDs (12),
# then phone numbers with the trunk 0 (10 or 11). So "0084 3 00 00000 0" is one phone
# number, not an ID followed by a stray digit.
_NUMBERS = re.compile(rf"(?P<keep>{_KEEP})|(?P<intl>{_INTERNATIONAL})|(?P<id>{_CITIZEN_ID})"
                      rf"|(?P<phone>{_TRUNK_PHONE})", re.ASCII)
# An e-mail address: the local part is personal, the domain says little (gmail.com,
# danang.gov.vn) and helps staff tell addresses apart. The top-level domain has letters,
# so "user@192.168.1.20" (a device login) is no address.
_EMAIL = re.compile(r"(?<![\w.+-])(?P<local>[\w.+-]+)@(?=(?:[\w-]+\.)+[^\W\d_]{2,}\b)")


@functools.lru_cache(maxsize=4096)
def _fold(ch: str) -> str:
    """One character as the patterns see it: digits in ASCII, full-width forms folded."""
    if ch.isascii():
        return ch
    digit = unicodedata.decimal(ch, None)
    if digit is not None:
        return str(digit)
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 else ch


def _folded(text: str) -> str:
    """The text folded character by character: same length, same positions."""
    return text if text.isascii() else "".join(map(_fold, text))


def _mask_digits(original: str, folded: str, keep: int) -> str:
    total = sum(ch.isdigit() for ch in folded)
    seen = 0
    out = []
    for ch, fold in zip(original, folded):
        if fold.isdigit():
            seen += 1
            out.append(ch if seen > total - keep else MASK)
        else:
            out.append(ch)
    return "".join(out)


# The fewest digits of a number masked: a phone number with its trunk 0 (10, a landline
# one digit short included); +84 numbers have 11, citizen IDs 12. A text with fewer
# (most health-check messages, most titles) is not searched.
_FEWEST_DIGITS = 10
_DROP_DIGITS = str.maketrans("", "", "0123456789")


def _mask_numbers(text: str, folded: str) -> str:
    if len(folded) - len(folded.translate(_DROP_DIGITS)) < _FEWEST_DIGITS:
        return text
    out, at = [], 0
    for match in _NUMBERS.finditer(folded):
        kind = match.lastgroup
        if kind == "keep":
            continue
        start, end = match.span()
        out.append(text[at:start])
        out.append(_mask_digits(text[start:end], folded[start:end],
                                4 if kind == "id" else 3))
        at = end
    out.append(text[at:])
    return "".join(out)


def _mask_emails(text: str, folded: str) -> str:
    out, at = [], 0
    for match in _EMAIL.finditer(folded):
        start, end = match.span("local")
        out.append(text[at:start + 1])
        out.append(MASK * (end - start - 1))
        at = end
    out.append(text[at:])
    return "".join(out)


def mask_personal_data(text: str) -> str:
    """Mask citizen ID numbers (keep the last 4 digits), phone numbers (the last 3) and
    e-mail addresses (the first character and the domain). The length never changes.

    ``"CCCD 048095012345, ĐT 0905.123.456, an@gmail.com"`` becomes
    ``"CCCD ••••••••2345, ĐT ••••.•••.456, a•@gmail.com"``.
    """
    if not text:
        return text
    if "@" in text or "＠" in text or "﹫" in text:
        text = _mask_emails(text, _folded(text))
    return _mask_numbers(text, _folded(text))


def mask_in(value: Any) -> Any:
    """Mask every string inside a JSON-like value (triage answers)."""
    if isinstance(value, str):
        return mask_personal_data(value)
    if isinstance(value, list):
        return [mask_in(item) for item in value]
    if isinstance(value, dict):
        return {key: mask_in(item) for key, item in value.items()}
    return value
