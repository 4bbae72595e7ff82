"""What the ERP owns and a node cannot decide without: the catalogue and each warehouse's stock.

The ERP sync of a trigger (`validate`'s and `stock_check`'s `prepare`) falls back to the
local copy when the ERP is down. A store that never synced has no copy: an empty catalogue
would make every order ``unknown_sku`` and an empty stock every order ``out_of_stock``,
for good. So a node that needs data never synced, after the ERP failed, ends its step by
waiting for the ERP instead (`waiting_for_erp`, a ``system`` wait on ``erp``).

What ends the wait is a sync that succeeds. `engine.system_waits` wakes the runs once the
ERP's breaker lets a probe through or is closed, and the woken node tries the sync itself
(`Resync`: one call at a time per node; a run that finds one under way waits again without
calling): its call is the breaker's probe, so a down ERP keeps its breaker
open and the runs asleep for each cool-down — nothing wakes them in a loop. Before its call
the node makes the run's work durable (`RunStepContext.durable`): the breaker writes its
state on a connection of its own, which must not wait for the runs' shared transaction. A sync that
succeeds in a later trigger's `prepare` wakes them at once (`engine.ingest`).

Whether data was ever synced is kept as a cursor (``erp/catalogue``, ``erp/stock``) written
with each successful sync; a store synced before those cursors existed counts its rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import exists, select

from engine.errors import ConnectorError
from engine.node import Wait
from engine.store import orders as order_store
from engine.store.models import CatalogueItem, InventoryRow, utcnow

#: test-only switch: False decides on an ERP copy never synced as if it were empty (every
#: order ``unknown_sku`` / ``out_of_stock``), as before (the twin test shows that)
WAIT_WHEN_NEVER_SYNCED = True
#: test-only switch: False leaves the dedup keys recorded before the first catalogue sync as
#: they were (no order could count as an earlier valid one: duplicates are missed)
REKEY_ON_FIRST_SYNC = True
SYSTEM = "erp"
CATALOGUE = "erp/catalogue"
STOCK = "erp/stock"

_catalogue = CatalogueItem.__table__
_inventory = InventoryRow.__table__


def mark_synced(conn: Any, what: str) -> None:
    """Record that `what` (`CATALOGUE` or `STOCK`) was just synced from the ERP."""
    order_store.set_cursor(conn, what, utcnow())


def catalogue_known(conn: Any) -> bool:
    """True once the catalogue was synced from the ERP (even if it was empty)."""
    if order_store.get_cursor(conn, CATALOGUE) is not None:
        return True
    return bool(conn.execute(select(exists().select_from(_catalogue))).scalar())


def stock_known(conn: Any, warehouse: str) -> bool:
    """True once stock was synced from the ERP, or the warehouse has stock rows."""
    if order_store.get_cursor(conn, STOCK) is not None:
        return True
    has_rows = exists().where(_inventory.c.warehouse == warehouse)
    return bool(conn.execute(select(has_rows)).scalar())


def waiting_for_erp(what: str) -> Wait:
    """The wait of a node that needs `what` (e.g. "its catalogue") and the ERP is down."""
    return Wait("system", SYSTEM, reason=f"waiting for the ERP: {what} was never synced")


class Resync:
    """One sync from the ERP at a time (per node instance): a run that finds one under way
    does not call too — it waits for the ERP, and is woken once the ERP is back."""

    def __init__(self) -> None:
        self.failures = 0
        self._busy = False

    def failed(self) -> None:
        """A sync failed (e.g. the trigger's own, in `prepare`)."""
        self.failures += 1

    async def attempt(self, sync: Callable[[], Awaitable[None]]) -> bool:
        """Await `sync` unless another run's is under way; True when it succeeded (`sync`
        itself returns at once when the data is there by now)."""
        if self._busy:
            return False
        self._busy = True
        try:
            await sync()
        except ConnectorError:
            self.failures += 1
            return False
        finally:
            self._busy = False
        return True
