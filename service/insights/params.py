"""The insights' numbers an operations manager edits: params of the order-intake workflow.

They live in `workflows/order_intake.yaml` beside `safety_stock` (the same stock, the same
people), so the editor's params form, versions, diffs, four-eyes approval and the audit log
cover them with nothing added; a workflow of their own would need a source node the engine
requires of every workflow. They are read from the active version of ``order_intake``, else
from the shipped file, else from the defaults below.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from engine.errors import OrderhubError
from engine.loader import load_workflow
from engine.store import Store
from versions.store import get_version

WORKFLOW_ID = "order_intake"
SHIPPED = Path(__file__).resolve().parents[2] / "workflows" / "order_intake.yaml"


@dataclass(frozen=True)
class InsightParams:
    """The hot-SKU rule and the packer rate, with where they were read."""

    hot_sku_growth_pct: float = 20.0
    hot_sku_streak_days: int = 3
    hot_sku_cover_days: float = 7.0
    hot_sku_min_units: int = 5
    hot_sku_reorder_days: int = 14
    packer_orders_per_hour: float = 60.0
    source: str = "defaults"

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def insight_params(store: Store, **overrides: Any) -> InsightParams:
    """The params of the active ``order_intake`` version (or the shipped file), overridden."""
    values: dict[str, Any] = {}
    source = "defaults"
    try:
        version = get_version(store, WORKFLOW_ID)
        values, source = version.workflow().values, version.label
    except OrderhubError:
        if SHIPPED.is_file():
            values, source = load_workflow(SHIPPED).values, str(SHIPPED.name)
    known = {f.name for f in fields(InsightParams)} - {"source"}
    chosen = {k: v for k, v in values.items() if k in known}
    given = {k: v for k, v in overrides.items() if v is not None}
    chosen.update(given)
    return InsightParams(**chosen, source=f"{source}, overridden" if given else source)
