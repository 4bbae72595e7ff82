"""connectors.build_connectors: one connector per configured system."""

from __future__ import annotations

import pytest

from connectors import (
    Carrier,
    Connectors,
    DouyinConnector,
    H5Connector,
    YouzanConnector,
    ZtoConnector,
    build_connectors,
)
from engine.errors import SettingsError
from engine.settings import load_settings


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


def test_every_channel_can_tell_the_tracking_number_it_holds():
    for cls in (YouzanConnector, DouyinConnector, H5Connector):
        assert cls.can_tell_tracking is True
        assert callable(cls.tracking_of)


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


async def test_carriers_share_one_interface_and_sf_stays(systems):
    hub = build_connectors(systems)
    try:
        assert set(hub.carriers) == {"sf", "zto"}
        assert hub.carriers["sf"] is hub.sf
        assert isinstance(hub.carriers["zto"], ZtoConnector)
        assert {name: c.code for name, c in hub.carriers.items()} == {"sf": "SF", "zto": "ZTO"}
        for carrier in hub.carriers.values():
            assert isinstance(carrier, Carrier)
    finally:
        await hub.aclose()


async def test_the_backup_carrier_is_optional(systems):
    without = {k: v for k, v in systems.items() if k != "zto"}
    defaults_only = {**without, "zto": {"base_url": "http://127.0.0.1:8900", "timeout_s": 5.0}}
    for config in (without, defaults_only):  # load_settings gives every system its defaults
        hub = build_connectors(config)
        try:
            assert set(hub.carriers) == {"sf"}
        finally:
            await hub.aclose()


def test_a_half_configured_backup_carrier_names_what_is_missing(systems):
    broken = {**systems, "zto": {k: v for k, v in systems["zto"].items() if k != "app_secret"}}
    with pytest.raises(SettingsError, match="ORDERHUB_ZTO_APP_SECRET"):
        build_connectors(broken)


def test_the_zto_section_reads_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no orderhub.toml here
    env = {"ORDERHUB_ZTO_APP_KEY": "k", "ORDERHUB_ZTO_APP_SECRET": "s",
           "ORDERHUB_ZTO_ACCOUNT_ID": "a", "ORDERHUB_ZTO_ACCOUNT_PASSWORD": "p"}  # fmt: skip
    settings = load_settings(env=env)
    assert settings.systems["zto"]["app_key"] == "k"
    assert "'account_password': '***'" in repr(settings) and "'app_secret': '***'" in repr(settings)
