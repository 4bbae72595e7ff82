"""Connectors to the external systems, built from the settings' `systems` sections.

Each connector owns one keep-alive HTTP client (`connectors.http`); `Connectors.aclose`
closes them all. Connectors import nothing of the project but `engine.errors`.
Carriers (SF, ZTO) share one interface, `Carrier`; `Connectors.carriers` holds every one
configured, by settings section name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from connectors.after_sales import AfterSalesConnector
from connectors.breaker import BreakerBook, CircuitBreaker
from connectors.douyin import DouyinConnector
from connectors.douyin_aftersale import DouyinAfterSales
from connectors.erp import ErpConnector
from connectors.erp_returns import ErpReturns
from connectors.h5 import H5Connector
from connectors.h5_aftersales import H5AfterSales
from connectors.sf import SfConnector
from connectors.sf_returns import SfReturns
from connectors.wecom import WecomConnector
from connectors.youzan import YouzanConnector
from connectors.youzan_refunds import YouzanAfterSales
from connectors.zto import ZtoConnector
from engine.errors import SettingsError

CHANNEL_CLASSES = {"youzan": YouzanConnector, "douyin": DouyinConnector, "h5": H5Connector}
AFTER_SALES_CLASSES = {"youzan": YouzanAfterSales, "douyin": DouyinAfterSales, "h5": H5AfterSales}
#: optional carriers, built when their section carries credentials (SF is required)
BACKUP_CARRIERS = {"zto": (ZtoConnector, ("app_key", "app_secret", "account_id"))}


@runtime_checkable
class Carrier(Protocol):
    """What every carrier connector offers the waybill node.

    `code`: the carrier code uploaded to the channels with the waybill number ("SF",
    "ZTO"). `create_order` returns the waybill number, creating the carrier's order once per
    `key` (a repeat, a timeout or an outage is reconciled by asking the carrier by the key
    first); `search_order` asks the carrier for the waybill made under `key` (None: none).
    """

    code: str

    async def create_order(self, key: str, order: dict, sender: dict) -> str: ...

    async def search_order(self, key: str) -> str | None: ...

    async def aclose(self) -> None: ...


class ChannelConnector(Protocol):
    """What every sales-channel connector offers.

    `can_tell_tracking`: whether the connector offers ``async tracking_of(order_id) -> str |
    None``, the tracking number the channel holds for the order (the last one; None before
    any; `Rejected` for an order the channel does not have). Every channel today can
    (Youzan, Douyin, the H5 mall); the waybill node asks it before an interrupted upload is
    sent again (`nodes.waybill`), and commits the result of an upload to a channel that
    cannot at once.
    """

    channel: str
    can_tell_tracking: bool

    def pull(self, start: datetime, end: datetime) -> AsyncIterator[list[tuple[dict, dict]]]: ...

    async def upload_tracking(
        self, order_id: str, carrier: str, waybill_no: str, lines: list[str] | None = None
    ) -> None: ...

    async def aclose(self) -> None: ...


@dataclass
class Connectors:
    """All connectors of one orderhub process.

    `carriers`: every configured carrier by section name ("sf" always, "zto" when its
    section is set); `sf` is ``carriers["sf"]``."""

    channels: dict[str, ChannelConnector]
    erp: ErpConnector
    sf: SfConnector
    wecom: WecomConnector
    carriers: dict[str, Carrier] = field(default_factory=dict)
    after_sales: dict[str, AfterSalesConnector] = field(default_factory=dict)
    sf_returns: SfReturns | None = None
    erp_returns: ErpReturns | None = None

    def __post_init__(self) -> None:
        self.carriers = {"sf": self.sf, **self.carriers}

    def systems(self) -> dict[str, Any]:
        """Every connector by system name (channels, erp, carriers, wecom)."""
        return {**self.channels, "erp": self.erp, **self.carriers, "wecom": self.wecom}

    def share_breakers(self, book: BreakerBook) -> None:
        """Keep every connector's breaker in `book` (the store's, shared by every process)."""
        extra = [*self.after_sales.values(), self.sf_returns, self.erp_returns]
        for connector in [*self.systems().values(), *extra]:
            http = getattr(connector, "_http", None)
            if http is not None:
                http.breaker.book = book

    def breaker(self, system: str) -> CircuitBreaker:
        """The breaker of `system`'s connector (KeyError when none is configured)."""
        return self.systems()[system]._http.breaker

    async def aclose(self) -> None:
        carriers = [c for c in self.carriers.values() if c is not self.sf]
        extra = [*self.after_sales.values(), self.sf_returns, self.erp_returns]
        for connector in [*self.channels.values(), self.erp, self.sf, *carriers, self.wecom]:
            await connector.aclose()
        for connector in extra:
            if connector is not None:
                await connector.aclose()


def build_connectors(config: dict[str, dict[str, Any]]) -> Connectors:
    """Connectors for `config` (``load_settings().systems``); channels without a section
    are left out, the ERP, SF and WeCom sections are required, a backup carrier's section
    ([zto]) is optional: it is built when the section carries any of its credentials."""
    for system in ("erp", "sf", "wecom"):
        if system not in config:
            raise SettingsError(f"no [{system}] section in the settings; add one")
    channels: dict[str, ChannelConnector] = {
        name: cls(config[name]) for name, cls in CHANNEL_CLASSES.items() if name in config
    }
    carriers: dict[str, Carrier] = {
        name: cls(config[name])
        for name, (cls, credentials) in BACKUP_CARRIERS.items()
        if any(config.get(name, {}).get(key) for key in credentials)
    }
    return Connectors(
        channels=channels,
        erp=ErpConnector(config["erp"]),
        sf=SfConnector(config["sf"]),
        wecom=WecomConnector(config["wecom"]),
        carriers=carriers,
        after_sales={
            name: cls(config[name]) for name, cls in AFTER_SALES_CLASSES.items() if name in config
        },
        sf_returns=SfReturns(config["sf"]),
        erp_returns=ErpReturns(config["erp"]),
    )


__all__ = [
    "Carrier",
    "ChannelConnector",
    "Connectors",
    "DouyinConnector",
    "ErpConnector",
    "H5Connector",
    "SfConnector",
    "WecomConnector",
    "YouzanConnector",
    "ZtoConnector",
    "build_connectors",
]
