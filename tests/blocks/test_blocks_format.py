"""Text helpers shared by every builder."""

from __future__ import annotations

import pytest

from bot.blocks.format import lower_first


@pytest.mark.parametrize(
    ("sentence", "continued"),
    [
        ("This coupon has expired.", "this coupon has expired."),
        (
            "A bill number is needed to redeem this coupon.",
            "a bill number is needed to redeem this coupon.",
        ),
        ("OTP required.", "OTP required."),
        ("GOOD100 is redeemed.", "GOOD100 is redeemed."),
        ("I can't tell.", "I can't tell."),
        ("I'm not sure.", "I'm not sure."),
        ("Capillary isn't answering.", "Capillary isn't answering."),
        ("", ""),
    ],
)
def test_lower_first_keeps_names_acronyms_and_i(sentence: str, continued: str) -> None:
    assert lower_first(sentence) == continued
