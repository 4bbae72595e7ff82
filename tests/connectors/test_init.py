"""connectors.build_connectors: one connector per configured system."""

from __future__ import annotations

import pytest

from connectors import (
    Connectors,
    DouyinConnector,
    H5Connector,
    YouzanConnector,
    build_connectors,
)
from engine.errors import SettingsError


async def test_builds_every_connector(systems):
    hub = build_connectors(systems)
    try:
        assert isinstance(hub, Connectors)
        assert {name: type(c) for name, c in hub.channels.items()} == {
            "youzan": YouzanConnector,
            "douyin": DouyinConnector,
            "h5": H5Connector,
        }
        assert all(name == c.channel for name, c in hub.channels.items())
    finally:
        await hub.aclose()


def test_only_youzan_says_uploading_again_is_not_harmless():
    classes = {YouzanConnector: False, DouyinConnector: True, H5Connector: True}
    assert {cls: cls.upload_is_idempotent for cls in classes} == classes
    assert callable(YouzanConnector.tracking_of)


async def test_channel_without_section_is_left_out(systems):
    hub = build_connectors({k: v for k, v in systems.items() if k != "h5"})
    try:
        assert set(hub.channels) == {"youzan", "douyin"}
    finally:
        await hub.aclose()


@pytest.mark.parametrize(
    ("system", "key"), [("sf", "check_word"), ("douyin", "app_secret"), ("erp", "password")]
)
def test_missing_credential_names_the_setting(systems, system, key):
    broken = {**systems, system: {k: v for k, v in systems[system].items() if k != key}}
    with pytest.raises(SettingsError) as err:
        build_connectors(broken)
    assert f"ORDERHUB_{system.upper()}_{key.upper()}" in str(err.value)


def test_missing_required_section(systems):
    with pytest.raises(SettingsError, match=r"\[sf\]"):
        build_connectors({k: v for k, v in systems.items() if k != "sf"})
