"""Personal data kept to the minimum: citizen ID and phone numbers are masked in free text.

Applied when ticket text is stored (title, description, comments, reasons, triage
answers), so the full numbers never reach the database, the logs or a coordinator's
export. Numbers that only look alike are left alone: IPv4 addresses, dates, times,
ticket numbers (``HKH-2026-00042``) and hexadecimal error codes (``0x0000011b``).
"""

from __future__ import annotations

import re
from typing import Any

MASK = "•"

# Between two digits people type at most a few spaces, dots or dashes ("048 - 095").
_SEP = r"[ .\-\u00a0]{0,3}"
_WORD = r"(?<![0-9])"  # not the tail of a longer number
_END = r"(?![0-9])"
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"  # no leading zero: 048.095.012.345 is an ID

_KEEP = (
    _WORD + r"(?:"
    + _OCTET + r"(?:\." + _OCTET + r"){3}(?::\d{1,5})?(?:/\d{1,2})?"   # IPv4, port or prefix
    + r"|\d{1,2}[./-]\d{1,2}[./-]\d{4}(?:[ T,]{1,2}\d{1,2}[:hg.]\d{2})?"  # 10/03/2026 09:00
    + r"|\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?"             # 2026-03-10 09:00
    + r"|0[xX][0-9A-Fa-f]+"                                          # 0x0000011b
    + r")(?![0-9A-Za-z])"
    + r"|[A-Z]{2,6}-\d{4}-\d{3,6}(?!\d)"                             # HKH-2026-00042
)
# A 12-digit citizen ID (CCCD), possibly written in groups: 048 2 95 012345, 048.095.012.345.
# It opens with the province code 001-096, so it starts with 0: other 12-digit runs
# (a dossier code "H17-260310-0001", an amount "120.000.000.000") are left alone.
_CITIZEN_ID = _WORD + r"0(?:" + _SEP + r"\d){11}" + _END
# Vietnamese phone numbers: 0, +84, 0084 or 84 (also "(+84)"), then a mobile (3/5/7/8/9
# and 8 more digits) or a landline (2 and 9 more digits, e.g. 0236 3821 234).
_PHONE = (r"(?<![0-9+])(?:\(?(?:\+|00)?84\)?" + _SEP + r"|0" + _SEP + r")"
          r"(?:[35789](?:" + _SEP + r"\d){8}|2(?:" + _SEP + r"\d){9})" + _END)
_PATTERN = re.compile(rf"(?P<keep>{_KEEP})|(?P<id>{_CITIZEN_ID})|(?P<phone>{_PHONE})")


def _mask_digits(text: str, keep: int) -> str:
    total = sum(ch.isdigit() for ch in text)
    seen = 0
    out = []
    for ch in text:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > total - keep else MASK)
        else:
            out.append(ch)
    return "".join(out)


def _replace(match: re.Match[str]) -> str:
    if match.group("id"):
        return _mask_digits(match.group(0), 4)
    if match.group("phone"):
        return _mask_digits(match.group(0), 3)
    return match.group(0)


def mask_personal_data(text: str) -> str:
    """Mask citizen ID numbers (keep the last 4 digits) and phone numbers (last 3).

    ``"CCCD 048095012345, ĐT 0905.123.456"`` becomes
    ``"CCCD ••••••••2345, ĐT ••••.•••.456"``.
    """
    if not text:
        return text
    return _PATTERN.sub(_replace, text)


def mask_in(value: Any) -> Any:
    """Mask every string inside a JSON-like value (triage answers)."""
    if isinstance(value, str):
        return mask_personal_data(value)
    if isinstance(value, list):
        return [mask_in(item) for item in value]
    if isinstance(value, dict):
        return {key: mask_in(item) for key, item in value.items()}
    return value
