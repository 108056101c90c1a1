"""The public surface of the Capillary package is pinned: changing it is a deliberate act."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "bot.capillary.client": {
        "CallObserver",
        "CallRecord",
        "CapillaryClient",
        "auth_from_settings",
        "is_ambiguous",  # the service words a resend that may have gone out
    },
    "bot.capillary.errors": {
        "CapillaryError",
        "CapillaryItemError",
        "CapillaryProtocolError",
        "CapillaryRequestError",
        "CapillaryTransportError",
    },
    "bot.capillary.identifiers": {
        "CustomerId",
        "CustomerKind",
        "InvalidInputError",
        "coupon_code",
        "NATIONAL_DIGITS",
        "looks_like_customer",
        "mask_customer",
        "mask_text",
        "parse_coupon_code",
        "parse_customer",
        "parse_series_id",
        "scrub",
    },
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_exported_members(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) == PUBLIC[module_name]
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name} is exported but missing"


def test_every_module_declares_all() -> None:
    for name in [
        "auth",
        "catalogue",
        "client",
        "envelope",
        "errors",
        "identifiers",
        "models",
        "retry",
    ]:
        module = importlib.import_module(f"bot.capillary.{name}")
        assert isinstance(module.__all__, list)
        for member in module.__all__:
            assert hasattr(module, member)
