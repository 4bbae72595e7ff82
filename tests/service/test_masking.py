"""Phones masked as 138****5678 in fields, free text and nested step details."""

from __future__ import annotations

import pytest

from service.masking import ContactMask, mask_phone, mask_phones


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("021-62345678", "021****5678"),
        ("12345", "*****"),
        ("", ""),
        ("none given", "none given"),
    ],
)
def test_a_phone_field_keeps_its_first_three_and_last_four_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("SF rejected 13812345678: bad address", "SF rejected 138****5678: bad address"),
        ("tel +86 138 1234 5678.", "tel 138****5678."),
        ("tel 8613812345678", "tel 138****5678"),
        ("电话１３８１２３４５６７８", "电话138****5678"),
        ("waybill SF1460000000037", "waybill SF1460000000037"),
        ("order YZ20260110000001", "order YZ20260110000001"),
        ("EYE-004 qty 2 at 2026-01-10T06:37:37", "EYE-004 qty 2 at 2026-01-10T06:37:37"),
    ],
)
def test_mobile_numbers_in_text_are_masked_and_other_numbers_left(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


def test_nested_details_are_walked_and_the_known_spelling_masked_too() -> None:
    detail = {
        "receiver": {"phone": "021 6234 5678", "note": "call 13812345678"},
        "tried": ["13812345678", 13812345678, None, 99999, True],
        "waybill_no": "SF1460000000037",
    }
    assert mask_phones(detail, ["021 6234 5678", "1"]) == {
        "receiver": {"phone": "021****5678", "note": "call 138****5678"},
        "tried": ["138****5678", "138****5678", None, 99999, True],
        "waybill_no": "SF1460000000037",
    }


def test_a_full_mask_changes_nothing() -> None:
    detail = {"note": "call 13812345678"}
    assert ContactMask(True, "13812345678")(detail) is detail
    assert ContactMask(True).phone_field("13812345678") == "13812345678"
    assert ContactMask(False, "13812345678")(detail) == {"note": "call 138****5678"}
