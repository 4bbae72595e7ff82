"""Connectors to the external systems, built from the settings' `systems` sections.

Each connector owns one keep-alive HTTP client (`connectors.http`); `Connectors.aclose`
closes them all. Connectors import nothing of the project but `engine.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from connectors.douyin import DouyinConnector
from connectors.erp import ErpConnector
from connectors.h5 import H5Connector
from connectors.sf import SfConnector
from connectors.wecom import WecomConnector
from connectors.youzan import YouzanConnector
from engine.errors import SettingsError

CHANNEL_CLASSES = {"youzan": YouzanConnector, "douyin": DouyinConnector, "h5": H5Connector}


class ChannelConnector(Protocol):
    """What every sales-channel connector offers.

    `upload_is_idempotent`: whether uploading the same waybill again is harmless. A
    connector where it is not (Youzan) also offers ``async tracking_of(order_id) -> str |
    None``, the tracking number the channel holds, to check before uploading again.
    """

    channel: str
    upload_is_idempotent: bool

    def pull(self, start: datetime, end: datetime) -> AsyncIterator[list[tuple[dict, dict]]]: ...

    async def upload_tracking(
        self, order_id: str, carrier: str, waybill_no: str, lines: list[str] | None = None
    ) -> None: ...

    async def aclose(self) -> None: ...


@dataclass
class Connectors:
    """All connectors of one orderhub process."""

    channels: dict[str, ChannelConnector]
    erp: ErpConnector
    sf: SfConnector
    wecom: WecomConnector

    async def aclose(self) -> None:
        for connector in [*self.channels.values(), self.erp, self.sf, self.wecom]:
            await connector.aclose()


def build_connectors(config: dict[str, dict[str, Any]]) -> Connectors:
    """Connectors for `config` (``load_settings().systems``); channels without a section
    are left out, the ERP, SF and WeCom sections are required."""
    for system in ("erp", "sf", "wecom"):
        if system not in config:
            raise SettingsError(f"no [{system}] section in the settings; add one")
    channels: dict[str, ChannelConnector] = {
        name: cls(config[name]) for name, cls in CHANNEL_CLASSES.items() if name in config
    }
    return Connectors(
        channels=channels,
        erp=ErpConnector(config["erp"]),
        sf=SfConnector(config["sf"]),
        wecom=WecomConnector(config["wecom"]),
    )


__all__ = [
    "ChannelConnector",
    "Connectors",
    "DouyinConnector",
    "ErpConnector",
    "H5Connector",
    "SfConnector",
    "WecomConnector",
    "YouzanConnector",
    "build_connectors",
]
