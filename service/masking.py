"""Masking what a role may not see: a receiver's phone becomes ``138****5678`` everywhere.

`mask_phone` masks a phone field whatever its spelling (``+86 138 1234 5678``, full-width
digits); `mask_phones` finds mobile numbers inside free text and nested data (step details,
errors, queue reasons) and masks each, plus any exact spelling the caller knows of.
`ContactMask` applies both for one role and one order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nodes.rules import normalise_phone

#: A mainland mobile number in text: 11 digits from 1, maybe after +86, maybe spaced.
_MOBILE = re.compile(r"(?<!\d)(?:[+＋]?[8８][6６][ \-]?)?[1１]\d(?:[ \-]?\d){9}(?!\d)")


@dataclass(frozen=True)
class ContactMask:
    """What a role sees of an order's receiver: everything (`full`), or every phone masked."""

    full: bool
    phone: str = ""  # the order's own receiver phone, masked in whatever spelling it has

    def __call__(self, value: Any) -> Any:
        """`value` (text or nested data) with phones masked unless the mask is `full`."""
        return value if self.full else mask_phones(value, [self.phone])

    def phone_field(self, phone: str) -> str:
        return phone if self.full else mask_phone(phone)


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``: the first 3 and last 4 digits, the rest starred."""
    digits = normalise_phone(phone)
    if not digits:
        return phone
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_phones(value: Any, known: Iterable[str] = ()) -> Any:
    """`value` with every phone in it masked (dicts and lists walked, keys kept).

    `known` are spellings to mask wherever they occur even if they do not look like a mobile
    number (the order's own receiver phone, say a landline).
    """
    spellings = [k for k in known if len(normalise_phone(k)) >= 7]
    return _walk(value, spellings)


def _walk(value: Any, known: list[str]) -> Any:
    if isinstance(value, str):
        return _mask_text(value, known)
    if isinstance(value, dict):
        return {key: _walk(item, known) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(item, known) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and _MOBILE.fullmatch(str(value)):
        return mask_phone(str(value))  # a phone some system sent as a number
    return value


def _mask_text(text: str, known: list[str]) -> str:
    for spelling in known:
        text = text.replace(spelling, mask_phone(spelling))
    return _MOBILE.sub(lambda match: mask_phone(match.group()), text)
