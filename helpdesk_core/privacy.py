"""Personal data kept to the minimum: citizen ID and phone numbers are masked in free text.

Applied when ticket text is stored (title, description, comments, triage answers), so
the full numbers never reach the database, the logs or a coordinator's export.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "•"

# A 12-digit citizen ID (CCCD), possibly written in groups: 048 2 95 012345.
_CITIZEN_ID = re.compile(r"(?<!\d)(?:\d[ .-]?){11}\d(?!\d)")
# Vietnamese phone numbers: 0 or +84 then 9 digits (mobile 03/05/07/08/09, landline 02x).
_PHONE = re.compile(r"(?<![\d+])(?:\+84|0084|0)[ .-]?(?:\d[ .-]?){8}\d(?!\d)")


def _mask_digits(match: re.Match[str], keep: int) -> str:
    text = match.group(0)
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


def mask_personal_data(text: str) -> str:
    """Mask citizen ID numbers (keep the last 4 digits) and phone numbers (last 3)."""
    if not text:
        return text
    text = _CITIZEN_ID.sub(lambda m: _mask_digits(m, 4), text)
    return _PHONE.sub(lambda m: _mask_digits(m, 3), text)


def mask_in(value: Any) -> Any:
    """Mask every string inside a JSON-like value (triage answers)."""
    if isinstance(value, str):
        return mask_personal_data(value)
    if isinstance(value, list):
        return [mask_in(item) for item in value]
    if isinstance(value, dict):
        return {key: mask_in(item) for key, item in value.items()}
    return value
